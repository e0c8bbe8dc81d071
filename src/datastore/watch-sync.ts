// The pure half of list-then-watch: what the consumer has been told (key ->
// mod revision) and the watcher's state machine. No I/O, no timers, so the
// rules that make a watch lossless and duplicate-free are unit-tested directly:
//   - a watch batch at or below the last applied revision is a replay: dropped;
//   - a put whose mod revision is not newer than what the consumer has: dropped;
//   - a delete of a key the consumer never had: dropped;
//   - after a re-list, only differences are emitted (deleted / modified / added).
import { CalicoError } from '../base/errors.js';
import type { KVEvent, KVPair } from './kv.js';

export type KeyChange =
  | { type: 'added' | 'modified'; kv: KVPair }
  | { type: 'deleted'; key: string; prev?: KVPair };

export class KnownRevisions {
  private readonly known = new Map<string, number>();
  private applied = 0;

  /** The store revision the consumer's view is at. */
  get revision(): number {
    return this.applied;
  }

  get size(): number {
    return this.known.size;
  }

  has(key: string): boolean {
    return this.known.has(key);
  }

  /**
   * The full state at `revision` (a list). Returns what changed versus what the consumer
   * has: deletions first, then additions and modifications, each in key order.
   */
  reconcile(pairs: readonly KVPair[], revision: number): KeyChange[] {
    const seen = new Set<string>();
    const upserts: KeyChange[] = [];
    for (const kv of [...pairs].sort((a, b) => compareKeys(a.key, b.key))) {
      seen.add(kv.key);
      const had = this.known.get(kv.key);
      if (had === undefined) upserts.push({ type: 'added', kv });
      else if (had !== kv.modRevision) upserts.push({ type: 'modified', kv });
      this.known.set(kv.key, kv.modRevision);
    }
    const deletes: KeyChange[] = [];
    for (const key of [...this.known.keys()].sort(compareKeys)) {
      if (!seen.has(key)) {
        deletes.push({ type: 'deleted', key });
        this.known.delete(key);
      }
    }
    this.applied = revision;
    return [...deletes, ...upserts];
  }

  /** One revision's watch events; duplicates and stale events are dropped (see file comment). */
  apply(events: readonly KVEvent[], revision: number): KeyChange[] {
    if (revision <= this.applied) return [];
    this.applied = revision;
    const changes: KeyChange[] = [];
    for (const e of events) {
      if (e.type === 'put') {
        const had = this.known.get(e.kv.key);
        if (had !== undefined && e.kv.modRevision <= had) continue;
        this.known.set(e.kv.key, e.kv.modRevision);
        changes.push({ type: had === undefined ? 'added' : 'modified', kv: e.kv });
      } else {
        if (!this.known.has(e.key)) continue;
        this.known.delete(e.key);
        changes.push(e.prev ? { type: 'deleted', key: e.key, prev: e.prev } : { type: 'deleted', key: e.key });
      }
    }
    return changes;
  }
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * idle -> listing -> watching; on compaction or a watch that gave up: watching ->
 * resyncing -> watching. listing/resyncing may repeat (a failed list is retried).
 * Any state -> stopped, which is final.
 */
export type WatcherState = 'idle' | 'listing' | 'watching' | 'resyncing' | 'stopped';

const TRANSITIONS: Record<WatcherState, readonly WatcherState[]> = {
  idle: ['listing', 'stopped'],
  listing: ['listing', 'watching', 'stopped'],
  watching: ['resyncing', 'stopped'],
  resyncing: ['resyncing', 'watching', 'stopped'],
  stopped: [],
};

export class WatcherStateMachine {
  private current: WatcherState = 'idle';
  /** Every state entered, for tests and debugging. */
  readonly history: WatcherState[] = ['idle'];

  get state(): WatcherState {
    return this.current;
  }

  canMove(to: WatcherState): boolean {
    return TRANSITIONS[this.current].includes(to);
  }

  /** Throws on an illegal transition: it means a bug in the watcher, never a datastore condition. */
  move(to: WatcherState): void {
    if (!this.canMove(to)) throw new CalicoError('internal', `watcher: illegal transition ${this.current} -> ${to}`);
    this.current = to;
    this.history.push(to);
  }
}
