// The syncer: one datastore watch feeding the calc graph. Each delivered batch
// is recorded into the graph and flushed immediately into one CalcUpdate batch
// for the sink (the dataplane records it; its own apply loop throttles).
// Kinds the graph does not consume (FelixConfiguration, Node ...) can ride on
// the same watch and are handed to `onOtherEvents`, so the agent keeps one
// datastore connection. Pure apart from the Datastore port it is given.
import type { ResourceKind } from '../api/kinds.js';
import type { Datastore, ResourceWatch, WatchEvent } from '../datastore/datastore.js';
import { CALC_KINDS } from './graph.js';
import type { CalcGraph } from './graph.js';
import type { CalcUpdate } from './output.js';

export type SyncerStatus = 'starting' | 'connected' | 'reconnecting' | 'resyncing' | 'in-sync' | 'stopped';

export interface CalcSyncerOptions {
  datastore: Datastore;
  graph: CalcGraph;
  /** Receives every non-empty batch, in order. */
  sink(updates: CalcUpdate[]): void;
  /** Extra kinds to watch for the caller (not fed to the graph). */
  otherKinds?: ResourceKind[];
  onOtherEvents?(events: WatchEvent[]): void;
  /** Rewrites every delivered batch first (address spaces: src/xlat/space-view.ts); what it returns is what the graph, tap and others see. */
  transform?(events: WatchEvent[]): WatchEvent[];
  /** Sees every delivered batch (all kinds) before it is routed, e.g. for the BGP inputs. */
  tap?(events: WatchEvent[]): void;
  onStatus?(status: SyncerStatus): void;
}

const CALC_KIND_SET = new Set<string>(CALC_KINDS);

const kindOf = (ev: WatchEvent): string => (ev.type === 'deleted' ? ev.key.kind : ev.resource.kind);

export class CalcSyncer {
  private watch: ResourceWatch | undefined;
  private statusValue: SyncerStatus = 'starting';
  private inSyncSeen = false;
  /** Counters for metrics. */
  readonly counters = { batches: 0, events: 0, updatesOut: 0, resyncs: 0 };

  constructor(private readonly opts: CalcSyncerOptions) {}

  get status(): SyncerStatus {
    return this.statusValue;
  }

  /** True once the initial state has been delivered (stays true across reconnects: the dataplane keeps its state). */
  get inSync(): boolean {
    return this.inSyncSeen;
  }

  start(): void {
    if (this.watch) throw new Error('calc syncer: already started');
    const kinds = [...CALC_KINDS, ...(this.opts.otherKinds ?? [])] as ResourceKind[];
    this.watch = this.opts.datastore.watch(
      { kinds },
      {
        onEvents: (events) => this.deliver(events),
        onInSync: () => {
          this.opts.graph.onInSync();
          this.inSyncSeen = true;
          this.setStatus('in-sync');
          this.emit();
        },
        onStatus: (s) => {
          if (s === 'resyncing') this.counters.resyncs++;
          this.setStatus(s === 'connected' && this.inSyncSeen ? 'in-sync' : s);
        },
      },
    );
  }

  stop(): void {
    this.watch?.stop();
    this.watch = undefined;
    this.setStatus('stopped');
  }

  private deliver(delivered: WatchEvent[]): void {
    const events = this.opts.transform ? this.opts.transform(delivered) : delivered;
    this.counters.batches++;
    this.counters.events += events.length;
    this.opts.tap?.(events);
    const calc: WatchEvent[] = [];
    const other: WatchEvent[] = [];
    for (const ev of events) (CALC_KIND_SET.has(kindOf(ev)) ? calc : other).push(ev);
    if (calc.length) this.opts.graph.onEvents(calc);
    if (other.length) this.opts.onOtherEvents?.(other);
    this.emit();
  }

  private emit(): void {
    const updates = this.opts.graph.flush();
    if (updates.length === 0) return;
    this.counters.updatesOut += updates.length;
    this.opts.sink(updates);
  }

  private setStatus(s: SyncerStatus): void {
    if (this.statusValue === s) return;
    this.statusValue = s;
    this.opts.onStatus?.(s);
  }
}
