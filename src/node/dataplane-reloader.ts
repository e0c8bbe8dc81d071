// Live FelixConfiguration for the dataplane: an in-process restart of the
// dataplane only, the way Felix restarts itself on a config change but
// without stopping the datastore watch, the calc graph or BGP.
//
//   settings change --(quiet for settleMs: a burst is one rebuild)--> rebuild:
//     1. build the new dataplane from the new settings (no I/O; if it throws,
//        the current one keeps running),
//     2. stop the current one gracefully (a round in flight finishes; the
//        kernel state stays, so no packet is dropped),
//     3. feed the new one the calc graph's whole current state; its first
//        round reads the kernel back and writes only what differs (mark and
//        sweep), and after a backend switch removes the old backend's objects
//        once its own policy is in place.
//   A change arriving during a rebuild is applied by one more rebuild after it.
//
// The reloader is itself a Dataplane: the agent feeds it calc batches as
// before. Batches arriving while the old dataplane stops are not lost: the
// graph's state (step 3) already contains them.
import type { CalcUpdate } from '../calc/output.js';
import type { ApplyMetrics, FailureKind } from '../dataplane/apply-loop.js';
import type { Clock } from '../dataplane/ports.js';
import type { FelixSettings } from './config.js';
import type { Dataplane, DataplaneStatus } from './dataplane.js';
import type { Logger } from './log.js';

export interface DataplaneReloaderOptions {
  make(settings: FelixSettings): Dataplane;
  /** What the dataplane is built from; a settings change that leaves it equal needs no rebuild. */
  key(settings: FelixSettings): string;
  /** The calc graph's whole current state as one batch (with inSync once in sync). */
  currentState(): CalcUpdate[];
  clock: Clock;
  log: Logger;
  /** Quiet period after the last change before rebuilding. Default 500 ms. */
  settleMs?: number;
}

type Totals = Pick<ApplyMetrics, 'rounds' | 'resyncs' | 'interfaceRefreshes' | 'routeRefreshes' | 'retiredObjects'> & { failures: Record<string, number> };

const emptyTotals = (): Totals => ({ rounds: 0, resyncs: 0, interfaceRefreshes: 0, routeRefreshes: 0, retiredObjects: 0, failures: {} });

export class DataplaneReloader implements Dataplane {
  private current: Dataplane | undefined;
  private currentKey = '';
  private pending: FelixSettings | undefined;
  private timer: unknown;
  private rebuilding: Promise<void> | undefined;
  private stopped = false;
  /** The kernel was programmed by an earlier generation (readiness holds across a rebuild). */
  private programmedBefore = false;
  /** Counters of earlier generations, so the metrics stay monotonic. */
  private readonly earlier: Totals = emptyTotals();
  readonly counters = { rebuilds: 0, rebuildFailures: 0 };

  constructor(private readonly opts: DataplaneReloaderOptions) {}

  /** Builds the first dataplane. */
  start(settings: FelixSettings): void {
    if (this.current) throw new Error('dataplane reloader: already started');
    this.current = this.opts.make(settings);
    this.currentKey = this.opts.key(settings);
  }

  apply(updates: CalcUpdate[]): void {
    if (this.rebuilding || this.stopped) return; // in the graph's state, which the next dataplane starts from
    this.current?.apply(updates);
  }

  /** The effective settings changed; rebuilds (after the settle delay) if the dataplane's part of them did. */
  settingsChanged(settings: FelixSettings): void {
    if (this.stopped) return;
    this.pending = settings;
    if (this.rebuilding) return; // picked up when the rebuild in progress ends
    if (this.timer !== undefined) this.opts.clock.clearTimer(this.timer);
    this.timer = this.opts.clock.setTimer(this.opts.settleMs ?? 500, () => {
      this.timer = undefined;
      this.rebuilding = this.rebuild().finally(() => {
        this.rebuilding = undefined;
        if (this.pending && !this.stopped) this.settingsChanged(this.pending);
      });
    });
  }

  /** Resolves when no rebuild is due or running (tests). */
  async settled(): Promise<void> {
    while (this.rebuilding) await this.rebuilding;
  }

  private async rebuild(): Promise<void> {
    const settings = this.pending!;
    this.pending = undefined;
    const key = this.opts.key(settings);
    if (key === this.currentKey || this.stopped) return;
    let next: Dataplane;
    try {
      next = this.opts.make(settings);
    } catch (err) {
      this.counters.rebuildFailures++;
      this.opts.log.error('cannot build a dataplane from the new FelixConfiguration; the current one keeps running', { error: err as Error });
      return;
    }
    const old = this.current!;
    const before = old.status();
    this.programmedBefore = this.programmedBefore || before.programmed;
    await old.stop();
    this.addEarlier(old.status().metrics);
    if (this.stopped) return;
    this.current = next;
    this.currentKey = key;
    this.counters.rebuilds++;
    const state = this.opts.currentState();
    next.apply(state);
    this.opts.log.info('dataplane rebuilt from the new FelixConfiguration; its first round reconciles with the kernel', { rebuilds: this.counters.rebuilds, updates: state.length });
  }

  private addEarlier(m: ApplyMetrics | undefined): void {
    if (!m) return;
    this.earlier.rounds += m.rounds;
    this.earlier.resyncs += m.resyncs;
    this.earlier.interfaceRefreshes += m.interfaceRefreshes;
    this.earlier.routeRefreshes += m.routeRefreshes;
    this.earlier.retiredObjects += m.retiredObjects;
    for (const [k, n] of Object.entries(m.failures)) this.earlier.failures[k] = (this.earlier.failures[k] ?? 0) + n;
  }

  /** To the dataplane running now (a rebuild's first round is a full reconcile anyway). */
  reconcileNow(): void {
    this.current?.reconcileNow?.();
  }

  status(): DataplaneStatus {
    const s = this.current?.status() ?? { state: 'not-started', healthy: true, programmed: false, pendingFailures: 0 };
    const out: DataplaneStatus = { ...s, programmed: s.programmed || this.programmedBefore };
    if (this.rebuilding) out.state = 'rebuilding';
    const m = s.metrics;
    if (m) {
      const failures = { ...m.failures } as Record<FailureKind, number>;
      for (const [k, n] of Object.entries(this.earlier.failures)) failures[k as FailureKind] = (failures[k as FailureKind] ?? 0) + n;
      out.metrics = {
        ...m,
        rounds: m.rounds + this.earlier.rounds,
        resyncs: m.resyncs + this.earlier.resyncs,
        interfaceRefreshes: m.interfaceRefreshes + this.earlier.interfaceRefreshes,
        routeRefreshes: m.routeRefreshes + this.earlier.routeRefreshes,
        retiredObjects: m.retiredObjects + this.earlier.retiredObjects,
        failures,
      };
    }
    return out;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.opts.clock.clearTimer(this.timer);
    this.timer = undefined;
    await this.settled();
    await this.current?.stop();
  }
}
