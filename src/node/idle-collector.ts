// Young-generation collections once the agent goes quiet after a burst of work.
//
// Why: V8 sizes the young generation by allocation pressure and shrinks it
// again only at a collection that sees a low allocation rate (under ~1 KB/ms
// over its last >= 5 s window). A burst such as the initial sync of 10k
// endpoints grows it to its maximum (2 x 16 MiB semi-spaces with node 20's
// defaults), and an idle agent allocates too little to trigger any collection
// at all: ~30 MiB of resident memory held for nothing. A smaller
// --max-semi-space-size would cap it for good but slows every burst (more
// scavenges, more promotion).
// So, once quiet: one young-generation collection (it closes V8's allocation
// window on the burst), then, still quiet `settleMs` later, another, which sees
// the low rate and gives the young generation back. Each is a scavenge of an
// almost empty young generation: a few ms, while nothing is waiting. (A full
// collection instead costs ~40 ms at 10k endpoints and returns ~2 MiB more.)
// The collector is injected (bin/calico-node runs node with --expose-gc; main.ts
// passes globalThis.gc), so this stays testable with a fake clock.
import type { Clock } from '../dataplane/ports.js';

export interface IdleCollectorOptions {
  clock: Clock;
  /** Runs one young-generation collection (globalThis.gc({ type: 'minor' }) with --expose-gc). */
  collectYoung(): void;
  /** Quiet time after the last work before the first collection. Default 2 s. */
  quietMs?: number;
  /** Quiet time between the two collections (> V8's 5 s allocation-rate window). Default 6 s. */
  settleMs?: number;
  /** Work (datastore events) since the last settled pair below which none is worth it. Default 1,000. */
  minWork?: number;
  /** Told once the second collection ran (for the log). */
  onSettled?(work: number): void;
}

export class IdleCollector {
  private work = 0;
  private timer: unknown;
  private stopped = false;
  private readonly quietMs: number;
  private readonly settleMs: number;
  private readonly minWork: number;

  constructor(private readonly opts: IdleCollectorOptions) {
    this.quietMs = opts.quietMs ?? 2_000;
    this.settleMs = opts.settleMs ?? 6_000;
    this.minWork = opts.minWork ?? 1_000;
  }

  /** Records `units` of work; once enough has accumulated, (re)starts the quiet period. */
  noteWork(units: number): void {
    if (this.stopped) return;
    this.work += units;
    if (this.work < this.minWork) return;
    this.arm(this.quietMs, () => {
      this.opts.collectYoung();
      this.arm(this.settleMs, () => this.settle());
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.opts.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  private arm(ms: number, fn: () => void): void {
    if (this.timer !== undefined) this.opts.clock.clearTimer(this.timer);
    this.timer = this.opts.clock.setTimer(ms, () => {
      this.timer = undefined;
      fn();
    });
  }

  private settle(): void {
    const work = this.work;
    this.work = 0;
    this.opts.collectYoung();
    this.opts.onSettled?.(work);
  }
}
