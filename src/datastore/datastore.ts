// The resource datastore: typed v3 resources on top of a KVStore.
// Keys: /calico/resources/v3/projectcalico.org/<plural>/[<namespace>/]<name>, JSON values.
// Every write validates first (nothing invalid is stored) and is a CAS:
// create = "absent", update/delete = "mod revision is what the caller read"
// (metadata.resourceVersion), unless the caller omits resourceVersion.
import type { Resource, ResourceKey } from '../api/resource.js';
import type { ResourceKind } from '../api/kinds.js';

export interface ListOptions {
  kind: ResourceKind;
  /** Namespaced kinds: only this namespace. Omitted: all namespaces. */
  namespace?: string;
  /** Only names starting with this. */
  namePrefix?: string;
}

export interface ListResult {
  items: Resource[];
  /** Store revision the list is consistent at. */
  revision: string;
}

export type WatchEvent =
  | { type: 'added' | 'modified'; resource: Resource }
  | { type: 'deleted'; key: ResourceKey; previous?: Resource };

export interface WatchHandlers {
  /** Events in store order. The first batch after start (or after a re-list) is the full current state as `added`. */
  onEvents(events: WatchEvent[]): void;
  /** Called once the initial list has been delivered, and again after any re-list has been reconciled. */
  onInSync(): void;
  /** Connection trouble and recovery, for logs and readiness; the watch keeps trying on its own. */
  onStatus?(status: 'connected' | 'reconnecting' | 'resyncing'): void;
}

export interface WatchOptions {
  kinds: ResourceKind[];
  namespace?: string;
}

export interface ResourceWatch {
  stop(): void;
}

export interface Datastore {
  get(key: ResourceKey): Promise<Resource>;
  list(opts: ListOptions): Promise<ListResult>;
  create(resource: Resource): Promise<Resource>;
  update(resource: Resource): Promise<Resource>;
  delete(key: ResourceKey, opts?: { resourceVersion?: string }): Promise<Resource>;
  /**
   * List-then-watch over several kinds. Survives datastore restarts (resumes from the
   * last revision seen) and compaction (re-lists and emits only the differences), so
   * a consumer never loses or sees a duplicate update.
   */
  watch(opts: WatchOptions, handlers: WatchHandlers): ResourceWatch;
  /** The KV store underneath, for IPAM and other non-resource keys. */
  readonly kv: import('./kv.js').KVStore;
  close(): Promise<void>;
}
