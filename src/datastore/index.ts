// The datastore's public surface: what other subsystems import.
export type { Datastore, ListOptions, ListResult, WatchEvent, WatchHandlers, WatchOptions, ResourceWatch } from './datastore.js';
export type { KVStore, KVPair, KVList, KVEvent, KVWatch, KVWatchHandlers } from './kv.js';
export { ResourceStore, encodeResource, decodeResource, type ResourceStoreOptions } from './resource-store.js';
export { MemoryKV, type MemoryKVOp } from './memory-kv.js';
export { EtcdKV, type EtcdKVOptions, type EtcdTls } from './etcd-kv.js';
export { RESOURCES_PREFIX, resourceKeyPath, kindPrefix, parseResourceKey } from './keys.js';
export { datastoreConfigFromEnv, parseCalicoAPIConfig, DEFAULT_CONFIG_FILE, DEFAULT_ETCD_ENDPOINT, type DatastoreConfig } from './config.js';
export { loadDatastoreConfig, openDatastore, type OpenDatastoreOptions } from './open-datastore.js';
