// The seams between the dataplane's decisions and the kernel. Each port has a
// real Linux driver in ./linux/ (which only ever acts inside the network
// namespace it was given) and a fake in ./fakes.ts that records an operation
// log and can be told to fail its next call.

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Exec {
  /** Runs argv (no shell); never throws for a non-zero exit, returns it. */
  run(argv: string[], opts?: { input?: string }): Promise<ExecResult>;
  /** Starts a long-running argv (e.g. `ip -o monitor link`) and hands over its stdout line by line until stop(). Optional: without it there are no event streams. */
  stream?(argv: string[], handlers: { onLine(line: string): void; onExit(code: number, stderr: string): void }): { stop(): void };
  /**
   * Starts a long-running argv that reads commands on stdin (`nft -i`, `ip -batch -`);
   * its stdout and stderr arrive merged, in the order it wrote them. Optional:
   * without it every command is its own process.
   */
  interactive?(argv: string[], handlers: { onOutput(chunk: string): void; onExit(code: number): void }): InteractiveProcess;
}

/** A process started by Exec.interactive. */
export interface InteractiveProcess {
  write(text: string): void;
  /** Whether it keeps this process alive: only while a caller waits on it, so an idle one never holds up exit. */
  hold(on: boolean): void;
  /** Closes its stdin and ends it. */
  stop(): void;
}

/** nftables: our one table. */
export interface Nft {
  /** `nft list table inet calico` text; '' when the table does not exist. */
  listTable(): Promise<string>;
  /** Applies a script as ONE transaction (`nft -f -`). Throws DataplaneError on failure. */
  apply(script: string): Promise<void>;
}

export type IptablesFamily = 4 | 6;

export interface IptablesRestore {
  /** iptables-save (all tables) of one family. */
  save(family: IptablesFamily): Promise<string>;
  /** iptables-restore --noflush of one family. */
  restore(family: IptablesFamily, text: string): Promise<void>;
}

export interface Ipset {
  /** `ipset save` text (all sets; the caller filters its own). */
  save(): Promise<string>;
  /** `ipset restore` of a script. */
  restore(text: string): Promise<void>;
}

export interface Route {
  /** Canonical destination: "198.18.1.2" (host route) or "198.18.0.0/26". */
  dst: string;
  dev: string;
  family: 4 | 6;
}

export interface RouteTable {
  /** Routes in the main table with our protocol number. */
  list(family: 4 | 6): Promise<Route[]>;
  /** `ip route replace <dst> dev <dev> scope link proto <ours>` for each, in one batch; returns the routes that failed. */
  replace(routes: Route[]): Promise<{ failed: { route: Route; error: string }[] }>;
  remove(routes: Route[]): Promise<{ failed: { route: Route; error: string }[] }>;
}

/** A static neighbour (ARP/NDP) entry for a local workload address. */
export interface Neighbor {
  ip: string;
  /** Lower-case, colon-separated. */
  mac: string;
  dev: string;
  family: 4 | 6;
}

export interface Neighbors {
  /** PERMANENT neighbour entries tagged with our protocol number. */
  list(family: 4 | 6): Promise<Neighbor[]>;
  /** `ip neigh replace <ip> lladdr <mac> dev <dev> nud permanent proto <ours>` for each; returns the entries that failed. */
  replace(entries: Neighbor[]): Promise<{ failed: { entry: Neighbor; error: string }[] }>;
  remove(entries: Neighbor[]): Promise<{ failed: { entry: Neighbor; error: string }[] }>;
}

export interface Sysctl {
  /** Writes each key (dotted form, e.g. net.ipv4.conf.caliX.proxy_arp); returns the keys that failed. */
  write(values: Record<string, string>): Promise<{ failed: string[] }>;
  read(key: string): Promise<string | undefined>;
}

export interface Conntrack {
  /** Deletes conntrack entries whose source or destination is `ip`. */
  flushAddress(ip: string): Promise<void>;
}

export interface Link {
  name: string;
  index: number;
  up: boolean;
}

/** What one link notification said, when the driver could read it. */
export interface LinkNotice {
  name: string;
  index: number;
  /** Administratively up (the `UP` flag). */
  up: boolean;
  deleted: boolean;
}

export interface Links {
  list(): Promise<Link[]>;
  /**
   * Reports that links changed (added, deleted, renamed, up/down) until stop().
   * The caller lists again on onChange; the notice, when present, matters
   * for states a later listing cannot show (a link that went down and came
   * back up in between). onFailed: the subscription ended on its own.
   */
  subscribe(handlers: { onChange(notice?: LinkNotice): void; onFailed(error: string): void }): { stop(): void };
}

/** A host interface and the addresses on it (plain addresses, no prefix length). */
export interface HostInterface {
  name: string;
  addresses: string[];
}

/** The host's interfaces with their addresses: resolves host endpoints given by expectedIPs only. */
export interface HostInterfaces {
  list(): Promise<HostInterface[]>;
}

/** The injected clock: the only source of time and timers in the dataplane. */
export interface Clock {
  now(): number;
  setTimer(ms: number, fn: () => void): unknown;
  clearTimer(handle: unknown): void;
}

export interface DataplanePorts {
  nft: Nft;
  iptables: IptablesRestore;
  ipset: Ipset;
  routes: RouteTable;
  neighbors: Neighbors;
  sysctl: Sysctl;
  conntrack: Conntrack;
  links: Links;
  hostInterfaces: HostInterfaces;
  /** Ends long-lived processes the drivers keep (a later call starts them again). */
  close?(): void;
}
