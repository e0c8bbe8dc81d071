// The host side of the workload interfaces, written by the apply loop after
// policy in each round: routes, static neighbours, sysctls, conntrack flushes.
// Routes and neighbours are mark-and-sweep: ours (protocol 80) are read once
// into a view, only entries that differ are written, ours no longer wanted are
// deleted. The views are dropped and read again when asked (refreshKernelViews:
// Felix's routeRefreshInterval), and the entries on an interface that appeared,
// came up or was re-created are forgotten (interfacesChanged), so they are
// written again. A failed object backs off through the loop's FailureTracker
// while the others go on; none of these failures is fatal.

import type { EndpointManager } from './managers.js';
import { objectRef, type FailureTracker, type LogFn } from './failure-tracker.js';
import type { Conntrack, Links, Neighbor, Neighbors, Route, RouteTable, Sysctl } from './ports.js';

export interface HostSetupOptions {
  endpoints: EndpointManager;
  ports: { routes: RouteTable; neighbors: Neighbors; sysctl: Sysctl; conntrack: Conntrack; links: Links };
  failures: Pick<FailureTracker, 'inBackoff' | 'recordFailure' | 'clear' | 'refs'>;
  /** The apply loop's metrics object; the refresh counters are counted into it. */
  metrics: { interfaceRefreshes: number; routeRefreshes: number };
  log: LogFn;
}

export class HostSetup {
  private routesView: Map<string, Route> | undefined;
  private neighborsView: Map<string, Neighbor> | undefined;
  private readonly sysctlDone = new Set<string>();
  private hostSysctlsDone = false;
  private pendingFlushes = new Set<string>();
  /** Interfaces reported new/up/re-created since the last round started; handled at the start of the next. */
  private staleInterfaces = new Set<string>();
  private refreshViews = false;

  constructor(private readonly opts: HostSetupOptions) {}

  /** Records the interfaces that are ours among `names`; true if there was one (a round should follow). */
  interfacesChanged(names: string[]): boolean {
    const ours = new Set(this.opts.endpoints.interfaces());
    const relevant = names.filter((n) => ours.has(n));
    for (const n of relevant) this.staleInterfaces.add(n);
    return relevant.length > 0;
  }

  /** The route and neighbour views are dropped at the start of the next round. */
  refreshKernelViews(): void {
    this.refreshViews = true;
  }

  /** At the start of a round, before anything awaits: apply what refreshKernelViews and interfacesChanged asked for. */
  forgetStale(): void {
    const failures = this.opts.failures;
    if (this.refreshViews) {
      this.refreshViews = false;
      this.routesView = undefined;
      this.neighborsView = undefined;
      this.opts.metrics.routeRefreshes++;
    }
    if (this.staleInterfaces.size === 0) return;
    const stale = this.staleInterfaces;
    this.staleInterfaces = new Set();
    this.opts.metrics.interfaceRefreshes += stale.size;
    for (const [k, r] of this.routesView ?? []) if (stale.has(r.dev)) this.routesView!.delete(k);
    for (const [k, n] of this.neighborsView ?? []) if (stale.has(n.dev)) this.neighborsView!.delete(k);
    // Objects waiting out a backoff because the interface was missing or down: try now.
    const refs = [
      ...this.opts.endpoints.desiredRoutes().filter((r) => stale.has(r.dev)).map((r) => objectRef('route', r.dst)),
      ...this.opts.endpoints.desiredNeighbors().filter((n) => stale.has(n.dev)).map((n) => objectRef('neighbor', n.ip)),
      ...[...stale].map((i) => objectRef('sysctl', i)),
    ];
    for (const ref of refs) failures.clear(ref);
    for (const i of stale) this.sysctlDone.delete(i);
    this.opts.log('info', 'interfaces appeared, came up or were re-created; re-applying their routes, neighbours and sysctls', { interfaces: [...stale].sort() });
  }

  /** Conntrack entries of removed (or renumbered) endpoints' addresses; flushed by syncConntrack, after their policy is gone. */
  takeFlushes(): void {
    for (const ip of this.opts.endpoints.takeFlushes()) this.pendingFlushes.add(ip);
  }

  async syncRoutes(): Promise<void> {
    const { routes } = this.opts.ports;
    const failures = this.opts.failures;
    if (!this.routesView) {
      try {
        this.routesView = new Map([...(await routes.list(4)), ...(await routes.list(6))].map((r) => [r.dst, r]));
        failures.clear(objectRef('routes-read'));
      } catch (err) {
        failures.recordFailure(objectRef('routes-read'), err);
        return;
      }
    }
    const view = this.routesView;
    const desired = new Map(this.opts.endpoints.desiredRoutes().map((r) => [r.dst, r]));
    const toRemove = [...view.values()].filter((r) => desired.get(r.dst)?.dev !== r.dev);
    const toReplace = [...desired.values()].filter((r) => view.get(r.dst)?.dev !== r.dev && !failures.inBackoff(objectRef('route', r.dst)));
    for (const ref of failures.refs(['route'])) if (!desired.has(ref.name)) failures.clear(ref);
    if (toRemove.length) {
      const { failed } = await routes.remove(toRemove);
      const bad = new Set(failed.map((f) => f.route.dst));
      for (const r of toRemove) if (!bad.has(r.dst)) view.delete(r.dst);
    }
    if (toReplace.length) {
      const { failed } = await routes.replace(toReplace);
      const bad = new Map(failed.map((f) => [f.route.dst, f.error]));
      for (const r of toReplace) {
        if (bad.has(r.dst)) failures.recordFailure(objectRef('route', r.dst), bad.get(r.dst));
        else {
          view.set(r.dst, r);
          failures.clear(objectRef('route', r.dst));
        }
      }
    }
  }

  /** Same mark-and-sweep as routes: read ours once, write only entries that differ, delete ours no longer wanted. */
  async syncNeighbors(): Promise<void> {
    const { neighbors } = this.opts.ports;
    const failures = this.opts.failures;
    if (!this.neighborsView) {
      try {
        this.neighborsView = new Map([...(await neighbors.list(4)), ...(await neighbors.list(6))].map((n) => [n.ip, n]));
        failures.clear(objectRef('neighbors-read'));
      } catch (err) {
        failures.recordFailure(objectRef('neighbors-read'), err);
        return;
      }
    }
    const view = this.neighborsView;
    const desired = new Map(this.opts.endpoints.desiredNeighbors().map((n) => [n.ip, n]));
    const same = (a: Neighbor | undefined, b: Neighbor) => a !== undefined && a.dev === b.dev && a.mac === b.mac;
    // An entry on another device is deleted first (replace would add a second one beside it).
    const toRemove = [...view.values()].filter((n) => desired.get(n.ip)?.dev !== n.dev);
    const toReplace = [...desired.values()].filter((n) => !same(view.get(n.ip), n) && !failures.inBackoff(objectRef('neighbor', n.ip)));
    for (const ref of failures.refs(['neighbor'])) if (!desired.has(ref.name)) failures.clear(ref);
    if (toRemove.length) {
      const { failed } = await neighbors.remove(toRemove);
      const bad = new Set(failed.map((f) => f.entry.ip));
      for (const n of toRemove) if (!bad.has(n.ip)) view.delete(n.ip);
    }
    if (toReplace.length) {
      const { failed } = await neighbors.replace(toReplace);
      const bad = new Map(failed.map((f) => [f.entry.ip, f.error]));
      for (const n of toReplace) {
        if (bad.has(n.ip)) failures.recordFailure(objectRef('neighbor', n.ip), bad.get(n.ip));
        else {
          view.set(n.ip, n);
          failures.clear(objectRef('neighbor', n.ip));
        }
      }
    }
  }

  async syncSysctls(): Promise<void> {
    const { sysctl } = this.opts.ports;
    const failures = this.opts.failures;
    if (!this.hostSysctlsDone) {
      const { failed } = await sysctl.write({ 'net.ipv4.ip_forward': '1', 'net.ipv6.conf.all.forwarding': '1' });
      if (failed.length) failures.recordFailure(objectRef('sysctl', 'host'), failed.join(', '));
      else {
        this.hostSysctlsDone = true;
        failures.clear(objectRef('sysctl', 'host'));
      }
    }
    const wanted = new Set(this.opts.endpoints.interfaces());
    for (const i of [...this.sysctlDone]) if (!wanted.has(i)) this.sysctlDone.delete(i);
    for (const ref of failures.refs(['sysctl'])) if (ref.name !== 'host' && !wanted.has(ref.name)) failures.clear(ref);
    const pending = [...wanted].filter((i) => !this.sysctlDone.has(i) && !failures.inBackoff(objectRef('sysctl', i)));
    if (pending.length === 0) return;
    // Many pending (first sync): one link listing avoids writing for interfaces not there yet.
    // A few (steady state): just write; a missing interface fails its own keys.
    const present = pending.length > 8 ? new Set((await this.opts.ports.links.list()).map((l) => l.name)) : new Set(pending);
    const values: Record<string, string> = {};
    const ready: string[] = [];
    for (const i of pending) {
      if (!present.has(i)) {
        failures.recordFailure(objectRef('sysctl', i), `interface ${i} does not exist yet`);
        continue;
      }
      ready.push(i);
      Object.assign(values, interfaceSysctls(i));
    }
    const { failed } = await sysctl.write(values);
    const badIfaces = new Set(failed.map((k) => ready.find((i) => k.includes(`.${i}.`))).filter((x): x is string => !!x));
    for (const i of ready) {
      if (badIfaces.has(i)) failures.recordFailure(objectRef('sysctl', i), 'sysctl write failed');
      else {
        this.sysctlDone.add(i);
        failures.clear(objectRef('sysctl', i));
      }
    }
  }

  async syncConntrack(): Promise<void> {
    const failures = this.opts.failures;
    for (const ip of [...this.pendingFlushes]) {
      if (failures.inBackoff(objectRef('conntrack', ip))) continue;
      try {
        await this.opts.ports.conntrack.flushAddress(ip);
        this.pendingFlushes.delete(ip);
        failures.clear(objectRef('conntrack', ip));
      } catch (err) {
        failures.recordFailure(objectRef('conntrack', ip), err);
      }
    }
  }
}

/** Per workload interface (DESIGN.md §4): the host answers ARP for the gateway at once, forwards, and checks the reverse path. */
export function interfaceSysctls(iface: string): Record<string, string> {
  return {
    [`net.ipv4.conf.${iface}.proxy_arp`]: '1',
    [`net.ipv4.neigh.${iface}.proxy_delay`]: '0',
    [`net.ipv4.conf.${iface}.forwarding`]: '1',
    [`net.ipv4.conf.${iface}.rp_filter`]: '1',
    [`net.ipv6.conf.${iface}.proxy_ndp`]: '1',
    [`net.ipv6.conf.${iface}.accept_ra`]: '0',
    [`net.ipv6.conf.${iface}.forwarding`]: '1',
  };
}
