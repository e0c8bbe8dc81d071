// The key-value port: the smallest surface of etcd v3 the project needs.
// Two implementations share these exact semantics (and one conformance suite):
//   etcd-kv.ts   the real one (etcd v3 JSON gateway over HTTP/HTTPS)
//   memory-kv.ts for unit tests (revisions, CAS, compaction and watch like etcd)
// Resource storage (datastore.ts) and IPAM (/calico/ipam/v2/...) both sit on it.

export interface KVPair {
  key: string;
  value: string;
  /** Revision of the store when this key was last written. CAS compares on it. */
  modRevision: number;
  createRevision: number;
  /** Number of writes since the key was created (1 on create). */
  version: number;
}

export interface KVList {
  pairs: KVPair[];
  /** Store revision the list is consistent at; a watch from revision+1 continues it exactly. */
  revision: number;
}

export type KVEvent =
  | { type: 'put'; kv: KVPair }
  | { type: 'delete'; key: string; /** revision of the deletion */ modRevision: number; prev?: KVPair };

export interface KVWatchHandlers {
  /** Events of one store revision arrive together, in revision order, never twice. */
  onEvents(events: KVEvent[], revision: number): void;
  /**
   * The watch ended and will not resume by itself: `compacted` (the start revision is
   * gone: re-list) or `unavailable` after the backend gave up. Connection blips are
   * retried inside the backend and are not reported here, except through onStatus.
   */
  onError(err: Error): void;
  /** Optional: connection state changes, for logs and readiness. */
  onStatus?(status: 'connected' | 'reconnecting'): void;
}

export interface KVWatch {
  cancel(): void;
}

export interface KVStore {
  get(key: string): Promise<KVPair | undefined>;
  /**
   * All keys starting with `prefix`, sorted by key. With `revision`, as the store was at
   * that revision (throws CompactedError if it is gone): lets a caller read several
   * prefixes at one consistent revision.
   */
  list(prefix: string, opts?: { revision?: number }): Promise<KVList>;
  /** Create only if absent (etcd: version == 0). Throws AlreadyExistsError. */
  create(key: string, value: string): Promise<KVPair>;
  /**
   * Replace an existing key. With `modRevision`, only if it is still that revision
   * (throws ConflictError carrying the current pair). Throws NotFoundError if absent.
   */
  update(key: string, value: string, opts?: { modRevision?: number }): Promise<KVPair>;
  /** Delete; with `modRevision`, only if unchanged. Returns the deleted pair. Throws NotFoundError / ConflictError. */
  delete(key: string, opts?: { modRevision?: number }): Promise<KVPair>;
  /** Watch keys under `prefix` for revisions >= fromRevision (0: from the next write on). */
  watch(prefix: string, fromRevision: number, handlers: KVWatchHandlers): KVWatch;
  /** Current store revision. */
  revision(): Promise<number>;
  close(): Promise<void>;
}
