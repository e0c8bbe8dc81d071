// List-then-watch over several kinds, on any KVStore. The I/O half; the rules
// that keep it lossless and duplicate-free live in watch-sync.ts.
//   1. list every kind's prefix at ONE revision R (the first list fixes R, the
//      others read at R), deliver the differences (at start: everything, as
//      'added'), onInSync();
//   2. watch from R+1: one watch on the narrowest prefix covering the kinds;
//   3. connection blips are resumed inside the KV backend from the last revision
//      it delivered; a compaction (or a backend that gave up) means: re-list,
//      emit only the differences, onInSync() again, and watch on.
import { isCalicoError } from '../base/errors.js';
import type { ResourceKind } from '../api/kinds.js';
import { KIND_INFO } from '../api/kinds.js';
import type { Resource, ResourceKey } from '../api/resource.js';
import type { KVEvent, KVPair, KVStore, KVWatch } from './kv.js';
import type { ResourceWatch, WatchEvent, WatchHandlers, WatchOptions } from './datastore.js';
import { RESOURCES_PREFIX, kindPrefix, parseResourceKey } from './keys.js';
import { KnownRevisions, WatcherStateMachine, type KeyChange, type WatcherState } from './watch-sync.js';

/** Timers, injectable so retry/backoff are testable without sleeping. */
export interface WatchTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: WatchTimers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof globalThis.setTimeout>),
};

export interface ResourceWatcherOptions extends WatchOptions {
  kv: KVStore;
  handlers: WatchHandlers;
  /** Stored value -> resource (resourceVersion filled in); throw for garbage. */
  decode(kv: KVPair, key: ResourceKey): Resource;
  timers?: WatchTimers;
  /** Backoff between failed lists: doubles from initialMs up to maxMs. Default 100 ms .. 5 s. */
  backoff?: { initialMs: number; maxMs: number };
  /** A stored value that does not decode is skipped (and reported here) rather than stopping the watch. */
  onDecodeError?(key: string, err: unknown): void;
}

export class ResourceWatcher implements ResourceWatch {
  private readonly machine = new WatcherStateMachine();
  private readonly known = new KnownRevisions();
  private readonly kinds: Set<ResourceKind>;
  private readonly timers: WatchTimers;
  private kvWatch: KVWatch | undefined;
  private retryTimer: unknown;
  private failures = 0;

  constructor(private readonly opts: ResourceWatcherOptions) {
    this.kinds = new Set(opts.kinds);
    this.timers = opts.timers ?? realTimers;
  }

  get state(): WatcherState {
    return this.machine.state;
  }

  /** States entered so far (idle, listing, watching, resyncing, ..., stopped). */
  get stateHistory(): readonly WatcherState[] {
    return this.machine.history;
  }

  start(): this {
    this.machine.move('listing');
    void this.list();
    return this;
  }

  stop(): void {
    if (this.machine.state === 'stopped') return;
    this.machine.move('stopped');
    this.kvWatch?.cancel();
    this.kvWatch = undefined;
    if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
  }

  private async list(): Promise<void> {
    let revision: number | undefined;
    const pairs: KVPair[] = [];
    try {
      for (const kind of this.kinds) {
        const prefixOpts = this.opts.namespace !== undefined && KIND_INFO[kind].namespaced ? { namespace: this.opts.namespace } : {};
        const result = await this.opts.kv.list(kindPrefix(kind, prefixOpts), revision === undefined ? {} : { revision });
        if (this.stopped()) return;
        revision ??= result.revision;
        for (const kv of result.pairs) if (this.wanted(kv.key)) pairs.push(kv);
      }
      revision ??= await this.opts.kv.revision();
    } catch (err) {
      if (this.stopped()) return;
      // A compaction between our lists only means "list again now"; anything else backs off.
      this.retryList(isCalicoError(err, 'compacted') ? 0 : this.nextBackoff());
      return;
    }
    if (this.stopped()) return;
    this.failures = 0;
    const events = this.toWatchEvents(this.known.reconcile(pairs, revision));
    if (events.length > 0 || this.machine.state === 'listing') this.opts.handlers.onEvents(events);
    if (this.stopped()) return;
    this.machine.move('watching');
    this.opts.handlers.onStatus?.('connected');
    this.opts.handlers.onInSync();
    if (this.stopped()) return;
    this.watchFrom(revision + 1);
  }

  private watchFrom(revision: number): void {
    this.kvWatch = this.opts.kv.watch(this.watchPrefix(), revision, {
      onEvents: (events, rev) => this.onKVEvents(events, rev),
      onError: () => this.resync(),
      onStatus: (status) => {
        if (!this.stopped()) this.opts.handlers.onStatus?.(status);
      },
    });
  }

  private onKVEvents(events: KVEvent[], revision: number): void {
    if (this.machine.state !== 'watching') return;
    const relevant = events.filter((e) => this.wanted(e.type === 'put' ? e.kv.key : e.key));
    const out = this.toWatchEvents(this.known.apply(relevant, revision));
    if (out.length > 0) this.opts.handlers.onEvents(out);
  }

  /** The watch ended for good (compacted, or the backend gave up): re-list and emit differences. */
  private resync(): void {
    if (this.machine.state !== 'watching') return;
    this.kvWatch?.cancel();
    this.kvWatch = undefined;
    this.machine.move('resyncing');
    this.opts.handlers.onStatus?.('resyncing');
    void this.list();
  }

  private retryList(delayMs: number): void {
    this.machine.move(this.machine.state === 'listing' ? 'listing' : 'resyncing');
    this.opts.handlers.onStatus?.(this.machine.state === 'listing' ? 'reconnecting' : 'resyncing');
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped()) void this.list();
    }, delayMs);
  }

  private nextBackoff(): number {
    const { initialMs, maxMs } = this.opts.backoff ?? { initialMs: 100, maxMs: 5000 };
    this.failures++;
    return Math.min(maxMs, initialMs * 2 ** (this.failures - 1));
  }

  private stopped(): boolean {
    return this.machine.state === 'stopped';
  }

  /** One kind: watch just its prefix (and namespace); several: the common resources prefix, filtered. */
  private watchPrefix(): string {
    if (this.kinds.size !== 1) return RESOURCES_PREFIX;
    const [kind] = [...this.kinds] as [ResourceKind];
    return kindPrefix(kind, this.opts.namespace !== undefined && KIND_INFO[kind].namespaced ? { namespace: this.opts.namespace } : {});
  }

  private wanted(path: string): boolean {
    const key = parseResourceKey(path);
    if (!key || !this.kinds.has(key.kind)) return false;
    return this.opts.namespace === undefined || !KIND_INFO[key.kind].namespaced || key.namespace === this.opts.namespace;
  }

  private toWatchEvents(changes: KeyChange[]): WatchEvent[] {
    const out: WatchEvent[] = [];
    for (const c of changes) {
      const key = parseResourceKey(c.type === 'deleted' ? c.key : c.kv.key)!;
      if (c.type === 'deleted') {
        const previous = c.prev && this.decode(c.prev, key);
        out.push(previous ? { type: 'deleted', key, previous } : { type: 'deleted', key });
        continue;
      }
      const resource = this.decode(c.kv, key);
      if (resource) out.push({ type: c.type, resource });
    }
    return out;
  }

  private decode(kv: KVPair, key: ResourceKey): Resource | undefined {
    try {
      return this.opts.decode(kv, key);
    } catch (err) {
      this.opts.onDecodeError?.(kv.key, err);
      return undefined;
    }
  }
}
