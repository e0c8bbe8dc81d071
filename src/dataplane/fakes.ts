// Fakes of every dataplane port. Each records an operation log (assert on it,
// not on private fields) and can be told to fail its next call. The route
// table, neighbours, sysctls and links keep real in-memory state; nft/iptables/ipset
// return whatever listing the test set (the dataplane caches its own view
// after a successful write, so listings matter only when it reads back).

import { DataplaneError } from './errors.js';
import type { Clock, Conntrack, ExecResult, Exec, HostInterface, HostInterfaces, Ipset, IptablesFamily, IptablesRestore, Link, LinkNotice, Links, Neighbor, Neighbors, Nft, Route, RouteTable, Sysctl } from './ports.js';

class FailSwitch {
  readonly log: string[] = [];
  /** Shared across the fakes of one fakePorts(), to assert on ordering between tools. */
  journal: string[] | undefined;
  private pending: string[] = [];
  protected record(entry: string): void {
    this.log.push(entry);
    this.journal?.push(`${this.constructor.name.replace(/^Fake/, '').toLowerCase()} ${entry}`);
  }
  /** The next call whose name contains `what` (any call when omitted) throws. */
  failNext(what = ''): void {
    this.pending.push(what);
  }
  private sticky: string | undefined;
  /** Every call whose name contains `what` fails until failAlways(undefined). */
  failAlways(what: string | undefined): void {
    this.sticky = what;
  }
  protected check(call: string): void {
    if (this.sticky !== undefined && call.includes(this.sticky)) throw new DataplaneError(call, 'injected failure (sticky)');
    const i = this.pending.findIndex((p) => call.includes(p));
    if (i === -1) return;
    this.pending.splice(i, 1);
    throw new DataplaneError(call, 'injected failure');
  }
}

export class FakeExec extends FailSwitch implements Exec {
  constructor(private readonly reply: (argv: string[]) => ExecResult = () => ({ code: 0, stdout: '', stderr: '' })) {
    super();
  }
  async run(argv: string[]): Promise<ExecResult> {
    this.record(argv.join(' '));
    try {
      this.check(argv.join(' '));
    } catch (e) {
      return { code: 1, stdout: '', stderr: String(e) };
    }
    return this.reply(argv);
  }
}

export class FakeNft extends FailSwitch implements Nft {
  listing = '';
  async listTable(): Promise<string> {
    this.record('list');
    this.check('list');
    return this.listing;
  }
  async apply(script: string): Promise<void> {
    this.record(`apply ${script}`);
    this.check(`apply ${script}`);
  }
}

export class FakeIptables extends FailSwitch implements IptablesRestore {
  listing: Record<IptablesFamily, string> = { 4: '', 6: '' };
  async save(family: IptablesFamily): Promise<string> {
    this.record(`save ${family}`);
    this.check(`save ${family}`);
    return this.listing[family];
  }
  async restore(family: IptablesFamily, text: string): Promise<void> {
    this.record(`restore ${family} ${text}`);
    this.check(`restore ${family} ${text}`);
  }
}

export class FakeIpset extends FailSwitch implements Ipset {
  listing = '';
  async save(): Promise<string> {
    this.record('save');
    this.check('save');
    return this.listing;
  }
  async restore(text: string): Promise<void> {
    this.record(`restore ${text}`);
    this.check(`restore ${text}`);
  }
}

export class FakeRouteTable extends FailSwitch implements RouteTable {
  readonly routes = new Map<string, Route>();
  /** Interfaces that exist; a route to any other fails like the kernel would. */
  devices = new Set<string>();
  async list(family: 4 | 6): Promise<Route[]> {
    this.record(`list ${family}`);
    this.check(`list ${family}`);
    return [...this.routes.values()].filter((r) => r.family === family);
  }
  async replace(routes: Route[]) {
    const failed: { route: Route; error: string }[] = [];
    for (const r of routes) {
      this.record(`replace ${r.dst} dev ${r.dev}`);
      try {
        this.check(`replace ${r.dst}`);
        if (!this.devices.has(r.dev)) throw new Error(`Cannot find device "${r.dev}"`);
        this.routes.set(r.dst, r);
      } catch (e) {
        failed.push({ route: r, error: String(e) });
      }
    }
    return { failed };
  }
  async remove(routes: Route[]) {
    for (const r of routes) {
      this.record(`remove ${r.dst} dev ${r.dev}`);
      this.routes.delete(r.dst);
    }
    return { failed: [] };
  }
}

export class FakeNeighbors extends FailSwitch implements Neighbors {
  /** By address. */
  readonly entries = new Map<string, Neighbor>();
  /** Interfaces that exist; an entry on any other fails like the kernel would. */
  devices = new Set<string>();
  async list(family: 4 | 6): Promise<Neighbor[]> {
    this.record(`list ${family}`);
    this.check(`list ${family}`);
    return [...this.entries.values()].filter((n) => n.family === family);
  }
  async replace(entries: Neighbor[]) {
    const failed: { entry: Neighbor; error: string }[] = [];
    for (const n of entries) {
      this.record(`replace ${n.ip} lladdr ${n.mac} dev ${n.dev}`);
      try {
        this.check(`replace ${n.ip}`);
        if (!this.devices.has(n.dev)) throw new Error(`Cannot find device "${n.dev}"`);
        this.entries.set(n.ip, n);
      } catch (e) {
        failed.push({ entry: n, error: String(e) });
      }
    }
    return { failed };
  }
  async remove(entries: Neighbor[]) {
    for (const n of entries) {
      this.record(`remove ${n.ip} dev ${n.dev}`);
      this.entries.delete(n.ip);
    }
    return { failed: [] };
  }
}

export class FakeSysctl extends FailSwitch implements Sysctl {
  readonly values = new Map<string, string>();
  /** When set, per-interface keys of any other interface fail, as /proc/sys would. */
  devices: Set<string> | undefined;
  async write(values: Record<string, string>) {
    const failed: string[] = [];
    for (const [k, v] of Object.entries(values)) {
      this.record(`${k}=${v}`);
      try {
        this.check(k);
        const iface = /^net\.ipv[46]\.(?:conf|neigh)\.([^.]+)\./.exec(k)?.[1];
        if (this.devices && iface && iface !== 'all' && iface !== 'default' && !this.devices.has(iface)) throw new Error(`no interface ${iface}`);
        this.values.set(k, v);
      } catch {
        failed.push(k);
      }
    }
    return { failed };
  }
  async read(key: string) {
    return this.values.get(key);
  }
}

export class FakeConntrack extends FailSwitch implements Conntrack {
  async flushAddress(ip: string): Promise<void> {
    this.record(`flush ${ip}`);
    this.check(ip);
  }
}

export class FakeLinks extends FailSwitch implements Links {
  links: Link[] = [];
  private subscribers = new Set<{ onChange(notice?: LinkNotice): void; onFailed(error: string): void }>();
  /** Number of list() calls, for tests of the interface monitor. */
  lists = 0;
  async list(): Promise<Link[]> {
    this.lists++;
    this.check('list');
    return this.links.map((l) => ({ ...l }));
  }
  subscribe(handlers: { onChange(notice?: LinkNotice): void; onFailed(error: string): void }): { stop(): void } {
    this.record('subscribe');
    this.subscribers.add(handlers);
    return { stop: () => void this.subscribers.delete(handlers) };
  }
  get subscriptions(): number {
    return this.subscribers.size;
  }
  /** Tells every subscriber that links changed (as the kernel's link notifications would). */
  notify(notice?: LinkNotice): void {
    for (const s of [...this.subscribers]) s.onChange(notice);
  }
  /** Sets a link's admin state and notifies, like `ip link set X down|up`. */
  setUp(name: string, up: boolean): void {
    const link = this.links.find((l) => l.name === name);
    if (!link) throw new Error(`fake links: no link ${name}`);
    link.up = up;
    this.notify({ name, index: link.index, up, deleted: false });
  }
  /** Ends every subscription with an error (the monitor process died). */
  breakSubscriptions(error = 'monitor exited'): void {
    const subs = [...this.subscribers];
    this.subscribers.clear();
    for (const s of subs) s.onFailed(error);
  }
  /** Deletes and re-creates a link with the same name: a new index, like the kernel gives it. */
  recreate(name: string, opts: { up?: boolean } = {}): void {
    const max = Math.max(0, ...this.links.map((l) => l.index));
    this.links = [...this.links.filter((l) => l.name !== name), { name, index: max + 1, up: opts.up ?? true }];
  }
}

export class FakeHostInterfaces extends FailSwitch implements HostInterfaces {
  interfaces: HostInterface[] = [];
  async list(): Promise<HostInterface[]> {
    this.record('list');
    this.check('list');
    return this.interfaces.map((i) => ({ name: i.name, addresses: [...i.addresses] }));
  }
}

/** A clock whose time only moves when the test says so. */
export class FakeClock implements Clock {
  private t = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimer(ms: number, fn: () => void): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimer(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  pendingTimers(): number {
    return this.timers.size;
  }
  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
  }
}

export function fakePorts() {
  const journal: string[] = [];
  const ports = {
    nft: new FakeNft(),
    iptables: new FakeIptables(),
    ipset: new FakeIpset(),
    routes: new FakeRouteTable(),
    neighbors: new FakeNeighbors(),
    sysctl: new FakeSysctl(),
    conntrack: new FakeConntrack(),
    links: new FakeLinks(),
    hostInterfaces: new FakeHostInterfaces(),
  };
  for (const p of Object.values(ports)) p.journal = journal;
  ports.sysctl.devices = ports.routes.devices;
  ports.neighbors.devices = ports.routes.devices;
  return { ...ports, journal };
}
