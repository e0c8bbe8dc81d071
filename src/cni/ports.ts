// What the CNI plugins reach: IPAM, resources in the datastore, the kernel
// (veth, addresses, routes), other plugins in CNI_PATH, and a few host
// facilities (files, HTTP, time). Real implementations live in drivers.ts
// and linux-network.ts; fakes.ts records one op log and can fail a chosen call.
import type { Resource } from '../api/resource.js';
import type { ContainerPlan } from './plan.js';

export interface CniIpam {
  /** Addresses the handle holds now (bare IPs). */
  ipsByHandle(handleId: string): Promise<string[]>;
  autoAssign(req: { handleId: string; host: string; num4: number; num6: number; pools4: string[]; pools6: string[]; attrs: Record<string, string> }): Promise<string[]>;
  /** Specific addresses (args.cni.ips, CNI_ARGS IP); all or nothing. */
  assignIps(req: { ips: string[]; handleId: string; host: string; attrs: Record<string, string> }): Promise<void>;
  /** Idempotent: an unknown handle is fine. */
  releaseByHandle(handleId: string): Promise<void>;
  /** Handles with addresses whose node attribute is `node`: handle -> its addresses there. */
  handlesOnNode(node: string): Promise<Map<string, string[]>>;
  /** Whether `node` could get the addresses an ADD asks for now; the reason when not. */
  canAssign(req: { host: string; num4: number; num6: number; pools4: string[]; pools6: string[] }): Promise<{ ok: true } | { ok: false; reason: string }>;
}

export interface CniEndpoints {
  get(namespace: string, name: string): Promise<Resource | undefined>;
  /** Create, or replace the spec, labels and annotations of the one that is there. */
  put(wep: Resource): Promise<void>;
  /** Idempotent. */
  delete(namespace: string, name: string): Promise<void>;
  listOnNode(node: string): Promise<Resource[]>;
}

export interface CniCluster {
  /** Creates the profile unless one of that name exists (never updates it). */
  ensureProfile(profile: Resource): Promise<'created' | 'exists'>;
  /** ClusterInformation default's datastoreReady; undefined when there is none yet. */
  datastoreReady(): Promise<boolean | undefined>;
  nodeExists(node: string): Promise<boolean>;
  addressSpaceExists(name: string): Promise<boolean>;
}

export interface LinkState {
  ifindex: number;
  /** The veth peer's ifindex (in the other namespace). */
  peerIfindex?: number;
  mac: string;
  mtu: number;
  up: boolean;
  /** Global-scope addresses, CIDR form. */
  addresses: string[];
}

export interface CniNetwork {
  netnsExists(netns: string): Promise<boolean>;
  hostLink(name: string): Promise<LinkState | undefined>;
  containerLink(netns: string, ifName: string): Promise<LinkState | undefined>;
  /** Routes via `ifName` in the container: destination and gateway. */
  containerRoutes(netns: string, ifName: string): Promise<{ dst: string; gw?: string }[]>;
  /** The veth pair: `plan.ifName` inside `plan.netns`, `plan.hostIf` here. */
  createVeth(plan: ContainerPlan): Promise<void>;
  /** Host side: MAC ee:ee:ee:ee:ee:ee, DAD off, up. */
  configureHostSide(plan: ContainerPlan): Promise<void>;
  /** Container side: sysctls, addresses, up, routes. Returns its MAC. */
  configureContainerSide(plan: ContainerPlan): Promise<string>;
  /** Idempotent: deleting one end of a veth deletes both. */
  deleteHostLink(name: string): Promise<void>;
  /** Idempotent; a missing namespace is fine. */
  deleteContainerLink(netns: string, ifName: string): Promise<void>;
}

/** Runs another plugin (a delegated IPAM) found in CNI_PATH with our environment and a command. */
export interface PluginExec {
  run(type: string, opts: { command: string; stdin: string; path: string[] }): Promise<{ exitCode: number; stdout: string; stderr: string }>;
}

export interface CniHost {
  hostname: string;
  readFile(path: string): string | undefined;
  /** Polls for a file until it exists or the time is up. */
  waitForFile(path: string, timeoutMs: number): Promise<boolean>;
  /** Polls a URL until it answers 2xx/3xx or the time is up. */
  httpReady(url: string, opts: { intervalMs: number; timeoutMs: number }): Promise<boolean>;
}

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

export interface CniPorts {
  ipam: CniIpam;
  endpoints: CniEndpoints;
  cluster: CniCluster;
  network: CniNetwork;
  plugins: PluginExec;
  host: CniHost;
  /** One line per event on stderr (stdout is the protocol's). */
  log: (level: LogLevel, msg: string) => void;
}
