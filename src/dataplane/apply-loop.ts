// The one place that writes the kernel. An explicit state machine:
//
//   waiting-for-sync --inSync--> scheduled --timer--> applying --> idle
//        idle --kick--> scheduled (throttled like Felix: a burst of APPLY_BURST rounds at once, then one per minIntervalMs)
//        applying --kick--> applying (dirty; another round follows)
//        applying --a failure that could leave traffic open--> failed (terminal, loud)
//        any --stop--> stopped (terminal; the dataplane stays in place)
//
// A round compiles the managers' desired state, then: policy (sets before the
// rules that use them, deletions after, one batch per backend), routes,
// static neighbours, sysctls, conntrack flushes. The kernel is read back on the first round and
// after any failure (mark), only differences are written, and objects we own
// but no longer want are deleted (sweep): correct state is never flushed.
// Policy rounds are incremental (desired-objects.ts): only the chains and sets
// that changed since they were last confirmed in the kernel are diffed and
// written. A full reconcile (read back, compare every object, sweep) runs on
// the first round, after any failure, every fullReconcileIntervalMs
// (FelixConfiguration nftablesRefreshInterval / iptablesRefreshInterval) and
// on demand (reconcileNow).
// A failed object is retried with exponential backoff while the others go on
// (failure-tracker.ts). Routes, neighbours, sysctls and conntrack flushes are
// host-setup.ts; the host's interface addresses for host endpoints are
// host-interface-listing.ts. After the first round whose policy is fully in
// place, the other backend's objects are removed (retire, backend-cleanup.ts).

import type { DataplaneConfig } from '../rules/model.js';
import { CompileCache, compileRuleset } from '../rules/compile-endpoints.js';
import { chainNames, isOurSet } from '../rules/names.js';
import { DesiredObjects, type DesiredRound } from './desired-objects.js';
import { DataplaneFatalError } from './errors.js';
import type { DataplaneManagers } from './managers.js';
import { modelFromCalc } from './model-from-calc.js';
import type { PolicyBackend } from './policy-backend.js';
import { BackendRetirement, type BackendCleanup } from './backend-cleanup.js';
import { FailureTracker, objectRef, policyObject, type Backoff, type FailureKind, type LogFn, type ObjectRef, type ObjectStatus } from './failure-tracker.js';
import { HostInterfaceListing } from './host-interface-listing.js';
import { HostSetup } from './host-setup.js';
import type { Clock, Conntrack, HostInterfaces, Links, Neighbors, RouteTable, Sysctl } from './ports.js';

export type { FailureKind, LogFn, ObjectRef, ObjectStatus } from './failure-tracker.js';
export type ApplyLoopState = 'waiting-for-sync' | 'idle' | 'scheduled' | 'applying' | 'stopped' | 'failed';

export interface ApplyLoopOptions {
  managers: DataplaneManagers;
  backend: PolicyBackend;
  /** close(), when present, ends the ports' long-lived processes once the loop has stopped. */
  ports: { routes: RouteTable; neighbors: Neighbors; sysctl: Sysctl; conntrack: Conntrack; links: Links; hostInterfaces?: HostInterfaces; close?(): void };
  clock: Clock;
  config: DataplaneConfig;
  /**
   * The throttle's refill interval: after a burst of APPLY_BURST rounds, one
   * round per this (coalescing update storms); a change after a quiet spell
   * is applied at once.
   */
  minIntervalMs?: number;
  backoff?: Backoff;
  onFatal?: (err: DataplaneFatalError) => void;
  log?: LogFn;
  /** While host endpoints exist, the host's interface addresses are re-read this often (expectedIPs resolution). Default 10 s. */
  hostInterfaceRefreshMs?: number;
  /** The other policy backend, whose objects of ours go once this backend's policy is in place. */
  retire?: BackendCleanup;
  /** Full policy reconcile (read back, compare everything, sweep) this often; 0 = only on start, failure and reconcileNow(). Default 90 s. */
  fullReconcileIntervalMs?: number;
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
  /** Rounds that compared every policy object with the kernel read back (first round, failures, timer, on demand). */
  fullReconciles: number;
  /** Policy objects (chains, sets) the last round compared with its view of the kernel: all of them in a full reconcile, else only the dirty ones. */
  lastRoundObjects: number;
}

const TRANSITIONS: Record<ApplyLoopState, ApplyLoopState[]> = {
  'waiting-for-sync': ['scheduled', 'stopped'],
  idle: ['scheduled', 'stopped'],
  scheduled: ['applying', 'stopped'],
  applying: ['idle', 'scheduled', 'failed', 'stopped'],
  stopped: [],
  failed: ['stopped'],
};

/**
 * Rounds that may start back to back before the throttle holds them to one
 * per minIntervalMs: Felix's apply throttle (10 tokens, one more per 100 ms).
 * Each round applies everything pending, so a storm of updates still costs
 * one round per interval, while a lone change is applied at once.
 */
export const APPLY_BURST = 10;

/** Order for applying objects one by one: sets, then callees before callers, deletions last. */
function rank(name: string, desired: { sets: Set<string>; chains: Set<string> }): number {
  if (isOurSet(name)) return desired.sets.has(name) ? 0 : 9;
  // nft dispatch maps: after the endpoint chains they point at, before the chains using them.
  if (/-dispatch-map\d*$/.test(name)) return 3;
  if (!desired.chains.has(name) && !name.startsWith('base-')) return 8;
  // Merged rules' verdict chains, then the merged tier chains and profile chains that go to them.
  if (name === chainNames.allow || name === chainNames.pass) return 0.5;
  // Dispatch chains (with their verdict maps, which go with them) after the endpoint chains; checked first, as "cali-to-hep-*-dispatch" looks like a tier chain.
  if (name.endsWith('-dispatch')) return 3.5;
  if (/^cali-[rt][io]-/.test(name)) return 1;
  if (/^cali-(fw|tw|th|fh|thu|fhu|thd|thf|fhf)-/.test(name)) return 2;
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
  /** Throttle tokens (a leaky bucket, as Felix's apply throttle) and when they were last counted. */
  private tokens = APPLY_BURST;
  private tokensAt = 0;
  private round: Promise<void> | undefined;
  private waiters: (() => void)[] = [];
  private readonly compileCache = new CompileCache();
  private readonly desiredObjects = new DesiredObjects();
  private fullReconcileDue = true;
  private fullReconcileTimer: unknown;
  readonly metrics: ApplyMetrics = { rounds: 0, resyncs: 0, lastRoundMs: 0, roundDurationsMs: [], failures: { policy: 0, route: 0, neighbor: 0, sysctl: 0, conntrack: 0, cleanup: 0 }, endpoints: 0, policies: 0,
    interfaceRefreshes: 0, routeRefreshes: 0, retiredObjects: 0, fullReconciles: 0, lastRoundObjects: 0 };
  private readonly minIntervalMs: number;
  private readonly log: LogFn;
  private readonly failures: FailureTracker;
  private readonly host: HostSetup;
  private readonly hostInterfaces: HostInterfaceListing;
  private readonly retirement: BackendRetirement;

  constructor(private readonly opts: ApplyLoopOptions) {
    this.minIntervalMs = opts.minIntervalMs ?? 100;
    const backoff = opts.backoff ?? { initialMs: 200, maxMs: 10_000, maxPolicyAttempts: 5 };
    this.log = opts.log ?? (() => undefined);
    const log = this.log;
    const { clock, managers, ports } = opts;
    const metrics = this.metrics;
    this.failures = new FailureTracker({ clock, backoff, metrics, log, backendName: opts.backend.name });
    this.host = new HostSetup({ endpoints: managers.endpoints, ports, failures: this.failures, metrics, log });
    this.hostInterfaces = new HostInterfaceListing({ port: ports.hostInterfaces, clock, refreshMs: opts.hostInterfaceRefreshMs, onStale: () => this.kick(), log });
    this.retirement = new BackendRetirement({ cleanup: opts.retire, running: opts.backend.name, failures: this.failures, maxAttempts: backoff.maxPolicyAttempts, metrics, log });
  }

  get state(): ApplyLoopState {
    return this.stateValue;
  }

  /** Pending failures (object label -> kind, attempts), for status and tests. */
  failing(): Map<string, { kind: FailureKind; attempts: number }> {
    return this.failures.snapshot();
  }

  /**
   * Per-object status: each failing object (typed reference, attempts, last
   * error, since, next retry) and the policy objects that changed but are not
   * confirmed in the kernel yet (written next round, or waiting out a backoff).
   */
  objectStatus(): { failing: ObjectStatus[]; pending: ObjectRef[] } {
    return { failing: this.failures.statuses(), pending: [...this.desiredObjects.pending()].sort().map(object) };
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
    this.schedule(this.throttleDelay());
  }

  private refill(now: number): number {
    this.tokens = Math.min(APPLY_BURST, this.tokens + (now - this.tokensAt) / this.minIntervalMs);
    this.tokensAt = now;
    return this.tokens;
  }

  /** 0 while a token is left; else until the next one. */
  private throttleDelay(): number {
    const tokens = this.refill(this.opts.clock.now());
    return tokens >= 1 ? 0 : (1 - tokens) * this.minIntervalMs;
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
    if (this.host.interfacesChanged(names)) this.kick();
  }

  /** Drop the route and neighbour views and read them back in the next round (mark-and-sweep again). */
  refreshKernelViews(): void {
    this.host.refreshKernelViews();
    this.kick();
  }

  /**
   * On demand (calico-node: SIGHUP): the next round reads every kernel view
   * back and reconciles all of it, policy objects, routes and neighbours.
   */
  reconcileNow(): void {
    this.fullReconcileDue = true;
    this.refreshKernelViews();
  }

  /** The next round compares every policy object with the kernel read back (the periodic full reconcile). */
  private fullReconcileAfter(ms: number): void {
    if (this.fullReconcileTimer !== undefined) this.opts.clock.clearTimer(this.fullReconcileTimer);
    this.fullReconcileTimer = undefined;
    if (ms <= 0 || this.stopping) return;
    this.fullReconcileTimer = this.opts.clock.setTimer(ms, () => {
      this.fullReconcileTimer = undefined;
      this.fullReconcileDue = true;
      this.kick();
    });
    // The periodic reconcile alone never keeps the process alive (a real timer handle can be unref'd; a fake one has no such method).
    (this.fullReconcileTimer as { unref?: () => void } | undefined)?.unref?.();
  }

  /** Stops the loop; what is in the kernel stays (graceful shutdown never tears the dataplane down). */
  async stop(): Promise<void> {
    // No new round may start once stopping: a round in flight finishes, nothing follows it.
    this.stopping = true;
    this.fullReconcileAfter(0);
    this.hostInterfaces.stop();
    if (this.timer !== undefined) this.opts.clock.clearTimer(this.timer);
    this.timer = undefined;
    while (this.round) await this.round;
    if (this.timer !== undefined) this.opts.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.opts.ports.close?.();
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
    this.refill(start);
    this.tokens -= 1;
    this.dirty = false;
    const managers = this.opts.managers;
    try {
      // First, before anything awaits: an interface reported after this point is handled by the next round.
      this.host.forgetStale();
      await this.hostInterfaces.refresh(managers.endpoints.hosts.size > 0);
      const compiled = compileRuleset(modelFromCalc(managers.view(), this.opts.config, this.hostInterfaces.current), { cache: this.compileCache, backend: this.opts.backend.name });
      const desired = this.desiredObjects.next(compiled);
      managers.clearChanged();
      this.metrics.endpoints = managers.endpoints.workloads.size + managers.endpoints.hosts.size;
      this.metrics.policies = managers.policy.policies.size;
      this.host.takeFlushes();
      // Policy before routes: a new workload becomes reachable only once its chains exist.
      // Its neighbour entry and interface sysctls do not make it reachable (and its own
      // packets meet the dispatch chain's drop until its chains exist), so they go in
      // alongside: a new workload waits for the longer of the two paths, not the sum
      // (`ip neigh` lists every link first: ~20 ms with 1,500 workloads).
      await settledAll([
        (async () => {
          await this.syncPolicy(desired);
          await this.retirement.retireIfDue(!this.needRead && !this.failures.has('policy'));
          await this.host.syncRoutes();
        })(),
        this.host.syncNeighbors(),
        this.host.syncSysctls(),
      ]);
      await this.host.syncConntrack();
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
    else {
      const next = this.failures.nextRetryAt();
      if (next !== undefined) this.schedule(Math.max(0, next - clock.now()), true);
    }
  }

  private async read(): Promise<void> {
    try {
      await this.opts.backend.read();
      this.needRead = false;
      this.metrics.resyncs++;
      this.failures.clear(objectRef('kernel-read'));
    } catch (err) {
      this.failures.recordFailure(objectRef('kernel-read'), err);
      throw new ReadFailed();
    }
  }

  /**
   * Policy objects: a full reconcile (read back, compare all, sweep) when
   * due, else only the dirty objects, compared with the backend's view
   * (which follows every successful write) and written as one batch.
   */
  private async syncPolicy(round: DesiredRound): Promise<void> {
    const backend = this.opts.backend;
    try {
      const full = this.needRead || this.fullReconcileDue;
      if (full) {
        this.fullReconcileDue = false;
        await this.read();
        this.metrics.fullReconciles++;
        this.fullReconcileAfter(this.opts.fullReconcileIntervalMs ?? 90_000);
      }
      // A copy: the live dirty set shrinks as objects are confirmed below.
      const scope = new Set(round.dirty);
      const inScope = full ? () => true : (n: string) => scope.has(n);
      const desired = full ? round.ruleset : this.desiredObjects.subset(scope);
      this.metrics.lastRoundObjects = full ? round.ruleset.chains.length + round.ruleset.sets.length : scope.size;
      const differing = new Set(backend.diff(desired, full ? undefined : inScope, this.desiredObjects));
      // An object that is right by now (written along with another, e.g. in the batch creating the table) is no longer failing.
      for (const ref of this.failures.refs(['chain', 'set', 'map'])) if (inScope(ref.name) && !differing.has(ref.name)) this.failures.clear(ref);
      const changes = [...differing].filter((n) => !this.failures.inBackoff(object(n)));
      const waiting = [...differing].filter((n) => this.failures.inBackoff(object(n)));
      const confirm = () => (full ? this.desiredObjects.allSynced(waiting) : this.desiredObjects.synced([...scope].filter((n) => !waiting.includes(n))));
      if (changes.length === 0) return confirm();
      try {
        await backend.write(desired, (n) => inScope(n) && !this.failures.inBackoff(object(n)), this.desiredObjects);
        for (const n of changes) this.failures.clear(object(n));
        return confirm();
      } catch (err) {
        this.log('warn', 'dataplane batch failed; applying objects one by one', { backend: backend.name, error: String(err) });
      }
      // The batch was refused: read back, then apply each object alone so one bad object cannot block the rest.
      this.needRead = true;
      await this.read();
      const all = round.ruleset;
      const names = { sets: new Set(all.sets.map((x) => x.name)), chains: new Set(all.chains.map((x) => x.name)) };
      const differAll = backend.diff(all, undefined, this.desiredObjects);
      const pending = differAll.filter((n) => !this.failures.inBackoff(object(n))).sort((a, b) => rank(a, names) - rank(b, names) || (a < b ? -1 : 1));
      const left = new Set(differAll.filter((n) => this.failures.inBackoff(object(n))));
      for (const name of pending) {
        try {
          await backend.write(all, (n) => n === name, this.desiredObjects);
          this.failures.clear(object(name));
        } catch (err) {
          left.add(name);
          this.failures.recordFailure(object(name), err);
          this.needRead = true;
          await this.read();
        }
      }
      // Everything was compared with a fresh read; what failed stays dirty (and the next round, after the failure, is full anyway).
      this.desiredObjects.allSynced(left);
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
}

class ReadFailed extends Error {}

/** Waits for all, then throws the first failure: nothing is left running behind a failed round. */
async function settledAll(work: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(work);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}

/** A policy backend's object name as a typed reference. */
const object = (name: string): ObjectRef => policyObject(name, isOurSet);

