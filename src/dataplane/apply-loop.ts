// The one place that writes the kernel. An explicit state machine:
//
//   waiting-for-sync --inSync--> scheduled --timer--> applying --> idle
//        idle --kick--> scheduled (throttled: at most one round per minIntervalMs)
//        applying --kick--> applying (dirty; another round follows)
//        applying --a failure that could leave traffic open--> failed (terminal, loud)
//        any --stop--> stopped (terminal; the dataplane stays in place)
//
// A round compiles the managers' desired state, then: policy (sets before the
// rules that use them, deletions after, one batch per backend), routes,
// static neighbours, sysctls, conntrack flushes. The kernel is read back on the first round and
// after any failure (mark), only differences are written, and objects we own
// but no longer want are deleted (sweep): correct state is never flushed.
// A failed object is retried with exponential backoff while the others go on.
// The views of routes and neighbours are dropped and read again when asked
// (refreshKernelViews: Felix's routeRefreshInterval), and the entries on an
// interface are forgotten when it appears, comes up or is re-created
// (interfacesChanged), so they are written again. After the first round whose
// policy is fully in place, the other backend's objects are removed (retire).

import type { DataplaneConfig } from '../rules/model.js';
import { CompileCache, compileRuleset } from '../rules/compile-endpoints.js';
import { isOurSet } from '../rules/names.js';
import type { Ruleset } from '../rules/ir.js';
import { DataplaneFatalError } from './errors.js';
import type { DataplaneManagers } from './managers.js';
import { modelFromCalc } from './model-from-calc.js';
import type { PolicyBackend } from './policy-backend.js';
import type { BackendCleanup } from './backend-cleanup.js';
import type { Clock, Conntrack, HostInterface, HostInterfaces, Links, Neighbor, Neighbors, Route, RouteTable, Sysctl } from './ports.js';

export type ApplyLoopState = 'waiting-for-sync' | 'idle' | 'scheduled' | 'applying' | 'stopped' | 'failed';
export type FailureKind = 'policy' | 'route' | 'neighbor' | 'sysctl' | 'conntrack' | 'cleanup';
export type LogFn = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface ApplyLoopOptions {
  managers: DataplaneManagers;
  backend: PolicyBackend;
  ports: { routes: RouteTable; neighbors: Neighbors; sysctl: Sysctl; conntrack: Conntrack; links: Links; hostInterfaces?: HostInterfaces };
  clock: Clock;
  config: DataplaneConfig;
  /** Minimum time between the starts of two rounds (coalesces bursts). */
  minIntervalMs?: number;
  backoff?: { initialMs: number; maxMs: number; maxPolicyAttempts: number };
  onFatal?: (err: DataplaneFatalError) => void;
  log?: LogFn;
  /** While host endpoints exist, the host's interface addresses are re-read this often (expectedIPs resolution). Default 10 s. */
  hostInterfaceRefreshMs?: number;
  /** The other policy backend, whose objects of ours go once this backend's policy is in place. */
  retire?: BackendCleanup;
}

export interface ApplyMetrics {
  rounds: number;
  resyncs: number;
  lastRoundMs: number;
  roundDurationsMs: number[];
  failures: Record<FailureKind, number>;
  endpoints: number;
  policies: number;
  /** Interfaces whose routes, neighbours and sysctls were re-applied because they appeared, came up or were re-created. */
  interfaceRefreshes: number;
  /** Times the route and neighbour views were dropped and read back (routeRefreshInterval). */
  routeRefreshes: number;
  /** Removals of the other backend's objects (per nft table, iptables family, ipset batch), after a backend switch. */
  retiredObjects: number;
}

interface Failure {
  kind: FailureKind;
  attempts: number;
  retryAt: number;
  error: string;
}

const TRANSITIONS: Record<ApplyLoopState, ApplyLoopState[]> = {
  'waiting-for-sync': ['scheduled', 'stopped'],
  idle: ['scheduled', 'stopped'],
  scheduled: ['applying', 'stopped'],
  applying: ['idle', 'scheduled', 'failed', 'stopped'],
  stopped: [],
  failed: ['stopped'],
};

/** Order for applying objects one by one: sets, then callees before callers, deletions last. */
function rank(name: string, desired: Ruleset): number {
  if (isOurSet(name)) return desired.sets.some((s) => s.name === name) ? 0 : 9;
  // nft dispatch maps: after the endpoint chains they point at, before the chains using them.
  if (/-dispatch-map\d*$/.test(name)) return 3;
  if (!desired.chains.some((c) => c.name === name) && !name.startsWith('base-')) return 8;
  if (/^cali-[pr][io]-/.test(name)) return 1;
  if (/^cali-(fw|tw|th|fh|thu|fhu|thd|thf|fhf)-/.test(name)) return 2;
  if (name.endsWith('-dispatch')) return 3.5;
  if (name === 'cali-wl-to-host') return 4;
  if (name.startsWith('base-')) return 6;
  return 5;
}

export class ApplyLoop {
  private stateValue: ApplyLoopState = 'waiting-for-sync';
  private timer: unknown;
  private dueAt = Infinity;
  private scheduledForRetryOnly = false;
  private stopping = false;
  private dirty = false;
  private needRead = true;
  private routesView: Map<string, Route> | undefined;
  private neighborsView: Map<string, Neighbor> | undefined;
  private readonly failures = new Map<string, Failure>();
  private readonly sysctlDone = new Set<string>();
  private hostSysctlsDone = false;
  private pendingFlushes = new Set<string>();
  private lastStart = -Infinity;
  private round: Promise<void> | undefined;
  private waiters: (() => void)[] = [];
  private readonly compileCache = new CompileCache();
  private hostInterfaces: HostInterface[] | undefined;
  private hostInterfacesStale = true;
  private hostInterfacesTimer: unknown;
  /** Interfaces reported new/up/re-created since the last round started; handled at the start of the next. */
  private staleInterfaces = new Set<string>();
  private refreshViews = false;
  private retireAttempts = 0;
  private retired = false;
  readonly metrics: ApplyMetrics = { rounds: 0, resyncs: 0, lastRoundMs: 0, roundDurationsMs: [], failures: { policy: 0, route: 0, neighbor: 0, sysctl: 0, conntrack: 0, cleanup: 0 }, endpoints: 0, policies: 0,
    interfaceRefreshes: 0, routeRefreshes: 0, retiredObjects: 0 };
  private readonly minIntervalMs: number;
  private readonly backoff: { initialMs: number; maxMs: number; maxPolicyAttempts: number };
  private readonly log: LogFn;

  constructor(private readonly opts: ApplyLoopOptions) {
    this.minIntervalMs = opts.minIntervalMs ?? 100;
    this.backoff = opts.backoff ?? { initialMs: 200, maxMs: 10_000, maxPolicyAttempts: 5 };
    this.log = opts.log ?? (() => undefined);
  }

  get state(): ApplyLoopState {
    return this.stateValue;
  }

  /** Pending failures (object -> attempts), for status and tests. */
  failing(): Map<string, { kind: FailureKind; attempts: number }> {
    return new Map([...this.failures].map(([k, f]) => [k, { kind: f.kind, attempts: f.attempts }]));
  }

  private to(next: ApplyLoopState): void {
    if (!TRANSITIONS[this.stateValue].includes(next)) throw new Error(`apply loop: illegal transition ${this.stateValue} -> ${next}`);
    this.stateValue = next;
    if (next !== 'applying' && next !== 'scheduled') this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Managers recorded something (or the datastore came in sync): schedule a round. */
  kick(): void {
    this.dirty = true;
    if (this.stateValue === 'waiting-for-sync' && !this.opts.managers.inSync) return;
    if (this.stateValue === 'applying' || this.stateValue === 'stopped' || this.stateValue === 'failed') return;
    this.schedule(Math.max(0, this.lastStart + this.minIntervalMs - this.opts.clock.now()));
  }

  private schedule(delayMs: number, forRetry = false): void {
    if (this.stopping) return;
    const at = this.opts.clock.now() + delayMs;
    this.scheduledForRetryOnly = forRetry && (this.stateValue !== 'scheduled' || this.scheduledForRetryOnly);
    if (this.stateValue === 'scheduled' && at >= this.dueAt) return;
    if (this.timer !== undefined) this.opts.clock.clearTimer(this.timer);
    if (this.stateValue !== 'scheduled') this.to('scheduled');
    this.dueAt = at;
    this.timer = this.opts.clock.setTimer(delayMs, () => {
      this.timer = undefined;
      this.dueAt = Infinity;
      this.round = this.runRound().finally(() => (this.round = undefined));
    });
  }

  /**
   * Interfaces that appeared, came up or were re-created (a new index): the
   * kernel holds none of our routes or neighbours on them and their sysctls
   * are the defaults, whatever our views say. Forgotten at the start of the
   * next round (not now: a round in flight may still record a write it made
   * on the old interface), which is scheduled if any of them is ours.
   */
  interfacesChanged(names: string[]): void {
    const ours = new Set(this.opts.managers.endpoints.interfaces());
    const relevant = names.filter((n) => ours.has(n));
    if (relevant.length === 0) return;
    for (const n of relevant) this.staleInterfaces.add(n);
    this.kick();
  }

  /** Drop the route and neighbour views and read them back in the next round (mark-and-sweep again). */
  refreshKernelViews(): void {
    this.refreshViews = true;
    this.kick();
  }

  /** Stops the loop; what is in the kernel stays (graceful shutdown never tears the dataplane down). */
  async stop(): Promise<void> {
    // No new round may start once stopping: a round in flight finishes, nothing follows it.
    this.stopping = true;
    if (this.timer !== undefined) this.opts.clock.clearTimer(this.timer);
    this.timer = undefined;
    while (this.round) await this.round;
    if (this.timer !== undefined) this.opts.clock.clearTimer(this.timer);
    this.timer = undefined;
    if (this.hostInterfacesTimer !== undefined) this.opts.clock.clearTimer(this.hostInterfacesTimer);
    this.hostInterfacesTimer = undefined;
    if (this.stateValue !== 'stopped') this.to('stopped');
  }

  /** Resolves when no round is running or due for new changes (retries may still be pending; see failing()). */
  async settled(): Promise<void> {
    for (;;) {
      if (this.round) {
        await this.round;
        continue;
      }
      const busy = (this.stateValue === 'scheduled' && !this.scheduledForRetryOnly) || this.stateValue === 'applying';
      if (!busy) return;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Resolves when the current round (if any) has finished. For tests with a fake clock. */
  async roundFinished(): Promise<void> {
    while (this.round) await this.round;
  }

  private async runRound(): Promise<void> {
    this.to('applying');
    const clock = this.opts.clock;
    const start = clock.now();
    this.lastStart = start;
    this.dirty = false;
    const managers = this.opts.managers;
    try {
      // First, before anything awaits: an interface reported after this point is handled by the next round.
      this.forgetStale();
      await this.refreshHostInterfaces();
      const desired = compileRuleset(modelFromCalc(managers.snapshot(), this.opts.config, this.hostInterfaces), this.compileCache);
      managers.clearChanged();
      this.metrics.endpoints = managers.endpoints.workloads.size + managers.endpoints.hosts.size;
      this.metrics.policies = managers.policy.policies.size;
      for (const ip of managers.endpoints.takeFlushes()) this.pendingFlushes.add(ip);
      // Policy before routes: a new workload becomes reachable only once its chains exist.
      await this.syncPolicy(desired);
      await this.retireOtherBackend();
      await this.syncRoutes();
      await this.syncNeighbors();
      await this.syncSysctls();
      await this.syncConntrack();
    } catch (err) {
      if (err instanceof DataplaneFatalError) {
        this.log('error', 'dataplane apply failed in a way that could leave traffic open; stopping', { error: err.message });
        this.to('failed');
        this.opts.onFatal?.(err);
        return;
      }
      throw err;
    } finally {
      this.metrics.rounds++;
      this.metrics.lastRoundMs = clock.now() - start;
      this.metrics.roundDurationsMs.push(this.metrics.lastRoundMs);
      if (this.metrics.roundDurationsMs.length > 1000) this.metrics.roundDurationsMs.shift();
    }
    if ((this.stateValue as ApplyLoopState) === 'stopped') return;
    this.to('idle');
    if (this.dirty) this.kick();
    else if (this.failures.size) {
      const next = Math.min(...[...this.failures.values()].map((f) => f.retryAt));
      this.schedule(Math.max(0, next - clock.now()), true);
    }
  }

  /**
   * Host endpoints are resolved against the host's interface addresses
   * (expectedIPs): read them when host endpoints exist and the last reading
   * is stale, and mark them stale again every hostInterfaceRefreshMs (a
   * round whose model did not change writes nothing). A failed read keeps
   * the previous listing and is retried at the next refresh.
   */
  private async refreshHostInterfaces(): Promise<void> {
    const port = this.opts.ports.hostInterfaces;
    if (!port || this.opts.managers.endpoints.hosts.size === 0) return;
    if (this.hostInterfacesStale) {
      try {
        this.hostInterfaces = await port.list();
        this.hostInterfacesStale = false;
      } catch (err) {
        this.log('warn', 'reading host interface addresses failed; keeping the previous listing', { error: err instanceof Error ? err.message : String(err) });
      }
    }
    if (this.hostInterfacesTimer === undefined && !this.stopping) {
      this.hostInterfacesTimer = this.opts.clock.setTimer(this.opts.hostInterfaceRefreshMs ?? 10_000, () => {
        this.hostInterfacesTimer = undefined;
        this.hostInterfacesStale = true;
        this.kick();
      });
    }
  }

  private forgetStale(): void {
    if (this.refreshViews) {
      this.refreshViews = false;
      this.routesView = undefined;
      this.neighborsView = undefined;
      this.metrics.routeRefreshes++;
    }
    if (this.staleInterfaces.size === 0) return;
    const stale = this.staleInterfaces;
    this.staleInterfaces = new Set();
    this.metrics.interfaceRefreshes += stale.size;
    for (const [k, r] of this.routesView ?? []) if (stale.has(r.dev)) this.routesView!.delete(k);
    for (const [k, n] of this.neighborsView ?? []) if (stale.has(n.dev)) this.neighborsView!.delete(k);
    // Objects waiting out a backoff because the interface was missing or down: try now.
    const keys = [
      ...this.opts.managers.endpoints.desiredRoutes().filter((r) => stale.has(r.dev)).map((r) => `route:${r.dst}`),
      ...this.opts.managers.endpoints.desiredNeighbors().filter((n) => stale.has(n.dev)).map((n) => `neighbor:${n.ip}`),
      ...[...stale].map((i) => `sysctl:${i}`),
    ];
    for (const key of keys) this.failures.delete(key);
    for (const i of stale) this.sysctlDone.delete(i);
    this.log('info', 'interfaces appeared, came up or were re-created; re-applying their routes, neighbours and sysctls', { interfaces: [...stale].sort() });
  }

  /** Once per loop, after a round that left no policy object failing: the other backend's objects go. */
  private async retireOtherBackend(): Promise<void> {
    const retire = this.opts.retire;
    if (!retire || this.retired || this.needRead || [...this.failures.values()].some((f) => f.kind === 'policy')) return;
    if (this.inBackoff('cleanup')) return;
    try {
      const removed = await retire.removeAll();
      this.retired = true;
      this.failures.delete('cleanup');
      this.metrics.retiredObjects += removed.length;
      if (removed.length) this.log('info', `removed the ${retire.name} backend's objects (this agent runs ${this.opts.backend.name})`, { removed });
    } catch (err) {
      // Not fatal: leftover rules of the old backend filter next to the new ones (a packet must pass both),
      // they do not open anything. Retried a few times, then left for the operator.
      this.retireAttempts++;
      if (this.retireAttempts >= this.backoff.maxPolicyAttempts) {
        this.retired = true;
        this.failures.delete('cleanup');
        this.metrics.failures.cleanup++;
        this.log('error', `could not remove the ${retire.name} backend's objects; giving up (remove them by hand)`, { error: err instanceof Error ? err.message : String(err), attempts: this.retireAttempts });
        return;
      }
      this.recordFailure('cleanup', 'cleanup', err);
    }
  }

  private inBackoff(key: string): boolean {
    const f = this.failures.get(key);
    return f !== undefined && f.retryAt > this.opts.clock.now();
  }

  private recordFailure(key: string, kind: FailureKind, err: unknown): void {
    const prev = this.failures.get(key);
    const attempts = (prev?.attempts ?? 0) + 1;
    const delay = Math.min(this.backoff.initialMs * 2 ** (attempts - 1), this.backoff.maxMs);
    const error = err instanceof Error ? err.message : String(err);
    this.failures.set(key, { kind, attempts, retryAt: this.opts.clock.now() + delay, error });
    this.metrics.failures[kind]++;
    this.log('warn', 'dataplane object failed; will retry', { object: key, kind, attempts, retryInMs: delay, error });
    if (kind === 'policy' && attempts >= this.backoff.maxPolicyAttempts) {
      // A chain or set we cannot write may be the one that should deny: running on would be running open.
      throw new DataplaneFatalError(`${this.opts.backend.name} object ${key} failed ${attempts} times: ${error}`, err);
    }
  }

  private async read(): Promise<void> {
    try {
      await this.opts.backend.read();
      this.needRead = false;
      this.metrics.resyncs++;
      this.failures.delete('kernel-read');
    } catch (err) {
      this.recordFailure('kernel-read', 'policy', err);
      throw new ReadFailed();
    }
  }

  private async syncPolicy(desired: Ruleset): Promise<void> {
    const backend = this.opts.backend;
    try {
      if (this.needRead) await this.read();
      const differing = new Set(backend.diff(desired));
      // An object that is right by now (written along with another, e.g. in the batch creating the table) is no longer failing.
      for (const [k, f] of this.failures) if (f.kind === 'policy' && k !== 'kernel-read' && !differing.has(k)) this.failures.delete(k);
      const changes = [...differing].filter((n) => !this.inBackoff(n));
      if (changes.length === 0) return;
      try {
        await backend.write(desired, (n) => !this.inBackoff(n));
        for (const n of changes) this.failures.delete(n);
        return;
      } catch (err) {
        this.log('warn', 'dataplane batch failed; applying objects one by one', { backend: backend.name, error: String(err) });
      }
      // The batch was refused: read back, then apply each object alone so one bad object cannot block the rest.
      this.needRead = true;
      await this.read();
      const pending = backend.diff(desired).filter((n) => !this.inBackoff(n)).sort((a, b) => rank(a, desired) - rank(b, desired) || (a < b ? -1 : 1));
      for (const name of pending) {
        try {
          await backend.write(desired, (n) => n === name);
          this.failures.delete(name);
        } catch (err) {
          this.recordFailure(name, 'policy', err);
          this.needRead = true;
          await this.read();
        }
      }
    } catch (err) {
      if (err instanceof ReadFailed) return;
      if (err instanceof DataplaneFatalError) throw err;
      // Anything else (e.g. a rule the backend cannot render, thrown by diff) is
      // deterministic: retrying cannot help, and carrying on would keep the old,
      // possibly more permissive rules in the kernel forever.
      const message = err instanceof Error ? err.message : String(err);
      throw new DataplaneFatalError(`${backend.name} cannot apply the desired policy: ${message}`, err);
    }
  }

  private async syncRoutes(): Promise<void> {
    const routes = this.opts.ports.routes;
    if (!this.routesView) {
      try {
        this.routesView = new Map([...(await routes.list(4)), ...(await routes.list(6))].map((r) => [r.dst, r]));
        this.failures.delete('routes-read');
      } catch (err) {
        this.recordFailure('routes-read', 'route', err);
        return;
      }
    }
    const view = this.routesView;
    const desired = new Map(this.opts.managers.endpoints.desiredRoutes().map((r) => [r.dst, r]));
    const toRemove = [...view.values()].filter((r) => desired.get(r.dst)?.dev !== r.dev);
    const toReplace = [...desired.values()].filter((r) => view.get(r.dst)?.dev !== r.dev && !this.inBackoff(`route:${r.dst}`));
    for (const key of [...this.failures.keys()]) if (key.startsWith('route:') && !desired.has(key.slice(6))) this.failures.delete(key);
    if (toRemove.length) {
      const { failed } = await routes.remove(toRemove);
      const bad = new Set(failed.map((f) => f.route.dst));
      for (const r of toRemove) if (!bad.has(r.dst)) view.delete(r.dst);
    }
    if (toReplace.length) {
      const { failed } = await routes.replace(toReplace);
      const bad = new Map(failed.map((f) => [f.route.dst, f.error]));
      for (const r of toReplace) {
        if (bad.has(r.dst)) this.recordFailure(`route:${r.dst}`, 'route', bad.get(r.dst));
        else {
          view.set(r.dst, r);
          this.failures.delete(`route:${r.dst}`);
        }
      }
    }
  }

  /** Same mark-and-sweep as routes: read ours once, write only entries that differ, delete ours no longer wanted. */
  private async syncNeighbors(): Promise<void> {
    const neighbors = this.opts.ports.neighbors;
    if (!this.neighborsView) {
      try {
        this.neighborsView = new Map([...(await neighbors.list(4)), ...(await neighbors.list(6))].map((n) => [n.ip, n]));
        this.failures.delete('neighbors-read');
      } catch (err) {
        this.recordFailure('neighbors-read', 'neighbor', err);
        return;
      }
    }
    const view = this.neighborsView;
    const desired = new Map(this.opts.managers.endpoints.desiredNeighbors().map((n) => [n.ip, n]));
    const same = (a: Neighbor | undefined, b: Neighbor) => a !== undefined && a.dev === b.dev && a.mac === b.mac;
    // An entry on another device is deleted first (replace would add a second one beside it).
    const toRemove = [...view.values()].filter((n) => desired.get(n.ip)?.dev !== n.dev);
    const toReplace = [...desired.values()].filter((n) => !same(view.get(n.ip), n) && !this.inBackoff(`neighbor:${n.ip}`));
    for (const key of [...this.failures.keys()]) if (key.startsWith('neighbor:') && !desired.has(key.slice(9))) this.failures.delete(key);
    if (toRemove.length) {
      const { failed } = await neighbors.remove(toRemove);
      const bad = new Set(failed.map((f) => f.entry.ip));
      for (const n of toRemove) if (!bad.has(n.ip)) view.delete(n.ip);
    }
    if (toReplace.length) {
      const { failed } = await neighbors.replace(toReplace);
      const bad = new Map(failed.map((f) => [f.entry.ip, f.error]));
      for (const n of toReplace) {
        if (bad.has(n.ip)) this.recordFailure(`neighbor:${n.ip}`, 'neighbor', bad.get(n.ip));
        else {
          view.set(n.ip, n);
          this.failures.delete(`neighbor:${n.ip}`);
        }
      }
    }
  }

  private async syncSysctls(): Promise<void> {
    const sysctl = this.opts.ports.sysctl;
    if (!this.hostSysctlsDone) {
      const { failed } = await sysctl.write({ 'net.ipv4.ip_forward': '1', 'net.ipv6.conf.all.forwarding': '1' });
      if (failed.length) this.recordFailure('sysctl:host', 'sysctl', failed.join(', '));
      else {
        this.hostSysctlsDone = true;
        this.failures.delete('sysctl:host');
      }
    }
    const wanted = new Set(this.opts.managers.endpoints.interfaces());
    for (const i of [...this.sysctlDone]) if (!wanted.has(i)) this.sysctlDone.delete(i);
    for (const key of [...this.failures.keys()]) if (key.startsWith('sysctl:') && key !== 'sysctl:host' && !wanted.has(key.slice(7))) this.failures.delete(key);
    const pending = [...wanted].filter((i) => !this.sysctlDone.has(i) && !this.inBackoff(`sysctl:${i}`));
    if (pending.length === 0) return;
    // Many pending (first sync): one link listing avoids writing for interfaces not there yet.
    // A few (steady state): just write; a missing interface fails its own keys.
    const present = pending.length > 8 ? new Set((await this.opts.ports.links.list()).map((l) => l.name)) : new Set(pending);
    const values: Record<string, string> = {};
    const ready: string[] = [];
    for (const i of pending) {
      if (!present.has(i)) {
        this.recordFailure(`sysctl:${i}`, 'sysctl', `interface ${i} does not exist yet`);
        continue;
      }
      ready.push(i);
      Object.assign(values, interfaceSysctls(i));
    }
    const { failed } = await sysctl.write(values);
    const badIfaces = new Set(failed.map((k) => ready.find((i) => k.includes(`.${i}.`))).filter((x): x is string => !!x));
    for (const i of ready) {
      if (badIfaces.has(i)) this.recordFailure(`sysctl:${i}`, 'sysctl', 'sysctl write failed');
      else {
        this.sysctlDone.add(i);
        this.failures.delete(`sysctl:${i}`);
      }
    }
  }

  private async syncConntrack(): Promise<void> {
    for (const ip of [...this.pendingFlushes]) {
      if (this.inBackoff(`conntrack:${ip}`)) continue;
      try {
        await this.opts.ports.conntrack.flushAddress(ip);
        this.pendingFlushes.delete(ip);
        this.failures.delete(`conntrack:${ip}`);
      } catch (err) {
        this.recordFailure(`conntrack:${ip}`, 'conntrack', err);
      }
    }
  }
}

class ReadFailed extends Error {}

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
