// In-memory KVStore with etcd v3 semantics, for unit tests and the fake side of
// the datastore port. What it promises is what etcd does (and the conformance
// suite checks both): one global revision counter bumped by every write; per
// key create/mod revision and version; CAS on mod revision / "absent"; history
// kept until compact(rev), so a watch can start in the past and one that starts
// before the compaction point gets CompactedError; events of one revision
// delivered together, in order, asynchronously (never inside the writer's call).
// Faults are injected the way a fake port should allow: failNext(op, err) and
// simulateOutage()/endOutage() (watches report 'reconnecting' and resume from
// where they were, like the etcd backend does after a restart).
import { AlreadyExistsError, CalicoError, CompactedError, ConflictError, NotFoundError, UnavailableError } from '../base/errors.js';
import type { KVEvent, KVList, KVPair, KVStore, KVWatch, KVWatchHandlers } from './kv.js';

export type MemoryKVOp = 'get' | 'list' | 'create' | 'update' | 'delete' | 'revision' | 'watch';

interface HistoryEntry {
  revision: number;
  events: KVEvent[];
}

interface MemoryWatcher {
  prefix: string;
  /** Next revision to deliver; everything before it has been delivered. */
  next: number;
  handlers: KVWatchHandlers;
  cancelled: boolean;
  /** Reported 'reconnecting' during an outage; reports 'connected' once it ends. */
  disconnected: boolean;
}

export class MemoryKV implements KVStore {
  private rev = 1; // etcd's revision of an empty store
  private compacted = 0;
  private readonly data = new Map<string, KVPair>();
  private history: HistoryEntry[] = [];
  /** Per key, every version since the compaction point (kv undefined = deleted): for reads in the past. */
  private readonly versions = new Map<string, { revision: number; kv?: KVPair }[]>();
  private readonly watchers = new Set<MemoryWatcher>();
  private readonly failures: { op: MemoryKVOp; error: Error }[] = [];
  private outage = false;
  private watchesPaused = false;
  private flushQueued = false;
  private closed = false;
  /** Every call, in order (`create /calico/...`), for tests that assert on what was done. */
  readonly log: string[] = [];

  /** The next call of `op` throws `error` (queued: several calls fail in order). */
  failNext(op: MemoryKVOp, error: Error = new UnavailableError('injected failure')): void {
    this.failures.push({ op, error });
  }

  /** Every call throws UnavailableError and watches stall (reporting 'reconnecting') until endOutage(). */
  simulateOutage(): void {
    this.outage = true;
    for (const w of this.watchers) {
      if (!w.cancelled && !w.disconnected) {
        w.disconnected = true;
        w.handlers.onStatus?.('reconnecting');
      }
    }
  }

  /**
   * Watches stall (reporting 'reconnecting') while writes go on, as when the watcher's
   * connection is cut but the store is up; healWatches() resumes them from where they were.
   */
  partitionWatches(): void {
    this.watchesPaused = true;
    for (const w of this.watchers) {
      if (!w.cancelled && !w.disconnected) {
        w.disconnected = true;
        w.handlers.onStatus?.('reconnecting');
      }
    }
  }

  healWatches(): void {
    this.watchesPaused = false;
    this.scheduleFlush();
  }

  endOutage(): void {
    this.outage = false;
    this.scheduleFlush();
  }

  /** Drop history before `revision` (etcd: compaction). A watch needing it then gets CompactedError. */
  async compact(revision?: number): Promise<number> {
    const at = revision ?? this.rev;
    if (at > this.rev) throw new CalicoError('invalid-argument', `cannot compact to future revision ${at} (current ${this.rev})`);
    if (at <= this.compacted) throw new CalicoError('invalid-argument', `revision ${at} is already compacted`);
    this.compacted = at;
    this.history = this.history.filter((h) => h.revision >= at);
    for (const [key, versions] of this.versions) {
      // Keep the version in force at `at` and everything after it; a deletion in force is forgotten.
      let keepFrom = 0;
      versions.forEach((v, i) => v.revision <= at && (keepFrom = i));
      const kept = versions.slice(keepFrom);
      if (kept.length === 1 && !kept[0]!.kv) this.versions.delete(key);
      else this.versions.set(key, kept);
    }
    this.scheduleFlush();
    return at;
  }

  async get(key: string): Promise<KVPair | undefined> {
    this.enter('get', key);
    const kv = this.data.get(key);
    return kv && { ...kv };
  }

  async list(prefix: string, opts: { revision?: number } = {}): Promise<KVList> {
    this.enter('list', prefix);
    const at = opts.revision ?? this.rev;
    if (at < this.compacted) throw new CompactedError(at, this.compacted);
    if (at > this.rev) throw new CalicoError('invalid-argument', `revision ${at} is in the future (current ${this.rev})`);
    const pairs = at === this.rev ? [...this.data.values()] : this.stateAt(at);
    return {
      pairs: pairs.filter((kv) => kv.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((kv) => ({ ...kv })),
      revision: at,
    };
  }

  async create(key: string, value: string): Promise<KVPair> {
    this.enter('create', key);
    if (this.data.has(key)) throw new AlreadyExistsError(key);
    const rev = ++this.rev;
    const kv: KVPair = { key, value, createRevision: rev, modRevision: rev, version: 1 };
    this.commit(key, { type: 'put', kv });
    return { ...kv };
  }

  async update(key: string, value: string, opts: { modRevision?: number } = {}): Promise<KVPair> {
    this.enter('update', key);
    const current = this.check(key, opts.modRevision);
    const rev = ++this.rev;
    const kv: KVPair = { key, value, createRevision: current.createRevision, modRevision: rev, version: current.version + 1 };
    this.commit(key, { type: 'put', kv });
    return { ...kv };
  }

  async delete(key: string, opts: { modRevision?: number } = {}): Promise<KVPair> {
    this.enter('delete', key);
    const current = this.check(key, opts.modRevision);
    const rev = ++this.rev;
    this.commit(key, { type: 'delete', key, modRevision: rev, prev: { ...current } });
    return { ...current };
  }

  watch(prefix: string, fromRevision: number, handlers: KVWatchHandlers): KVWatch {
    this.enter('watch', `${prefix} from ${fromRevision}`);
    const w: MemoryWatcher = {
      prefix,
      next: fromRevision > 0 ? fromRevision : this.rev + 1,
      handlers,
      cancelled: false,
      disconnected: this.outage || this.watchesPaused,
    };
    this.watchers.add(w);
    if (w.disconnected) queueMicrotask(() => !w.cancelled && handlers.onStatus?.('reconnecting'));
    this.scheduleFlush();
    return {
      cancel: () => {
        w.cancelled = true;
        this.watchers.delete(w);
      },
    };
  }

  async revision(): Promise<number> {
    this.enter('revision', '');
    return this.rev;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.watchers) w.cancelled = true;
    this.watchers.clear();
  }

  /** Records the call and applies injected faults. */
  private enter(op: MemoryKVOp, what: string): void {
    this.log.push(what ? `${op} ${what}` : op);
    if (this.closed) throw new CalicoError('invalid-argument', 'memory KV store is closed');
    const i = this.failures.findIndex((f) => f.op === op);
    if (i !== -1) {
      const [failure] = this.failures.splice(i, 1);
      throw failure!.error;
    }
    if (this.outage && op !== 'watch') throw new UnavailableError(`memory KV store: simulated outage (${op})`);
  }

  /** The current pair, if `modRevision` (when given) still matches. */
  private check(key: string, modRevision: number | undefined): KVPair {
    const current = this.data.get(key);
    if (!current) throw new NotFoundError(key);
    if (modRevision !== undefined && current.modRevision !== modRevision) throw new ConflictError<KVPair>(key, { ...current });
    return current;
  }

  private commit(key: string, event: KVEvent): void {
    if (event.type === 'put') this.data.set(key, event.kv);
    else this.data.delete(key);
    this.history.push({ revision: this.rev, events: [event] });
    const versions = this.versions.get(key) ?? [];
    versions.push(event.type === 'put' ? { revision: this.rev, kv: event.kv } : { revision: this.rev });
    this.versions.set(key, versions);
    this.scheduleFlush();
  }

  /** The state as it was at `revision`: for each key, its last version at or before it. */
  private stateAt(revision: number): KVPair[] {
    const state: KVPair[] = [];
    for (const versions of this.versions.values()) {
      let last: { revision: number; kv?: KVPair } | undefined;
      for (const v of versions) if (v.revision <= revision) last = v;
      if (last?.kv) state.push(last.kv);
    }
    return state;
  }

  private scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    // A microtask: after the writer's call has returned its promise, never inside it.
    queueMicrotask(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.outage || this.watchesPaused) return;
    for (const w of [...this.watchers]) {
      if (w.cancelled) continue;
      if (w.disconnected) {
        w.disconnected = false;
        w.handlers.onStatus?.('connected');
      }
      if (w.next < this.compacted) {
        w.cancelled = true;
        this.watchers.delete(w);
        w.handlers.onError(new CompactedError(w.next, this.compacted));
        continue;
      }
      for (const h of this.history) {
        if (w.cancelled) break;
        if (h.revision < w.next) continue;
        w.next = h.revision + 1;
        const events = h.events.filter((e) => (e.type === 'put' ? e.kv.key : e.key).startsWith(w.prefix));
        if (events.length > 0) w.handlers.onEvents(events.map(copyEvent), h.revision);
      }
      if (w.next <= this.rev) w.next = this.rev + 1;
    }
  }
}

function copyEvent(e: KVEvent): KVEvent {
  if (e.type === 'put') return { type: 'put', kv: { ...e.kv } };
  const copy: KVEvent = { type: 'delete', key: e.key, modRevision: e.modRevision };
  if (e.prev) copy.prev = { ...e.prev };
  return copy;
}
