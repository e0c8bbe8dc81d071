// The thin end of datastore configuration: reads the config file and the
// certificate files, and builds the Datastore. Everything else is in config.ts.
import { existsSync, readFileSync } from 'node:fs';
import { CalicoError } from '../base/errors.js';
import { DEFAULT_CONFIG_FILE, datastoreConfigFromEnv, parseCalicoAPIConfig, type DatastoreConfig } from './config.js';
import type { Datastore } from './datastore.js';
import { EtcdKV, type EtcdTls } from './etcd-kv.js';
import { MemoryKV } from './memory-kv.js';
import { ResourceStore, type ResourceStoreOptions } from './resource-store.js';

/**
 * calicoctl's rule: `--config FILE` must exist and is used alone; without it the
 * default file is used if present, else the environment.
 */
export function loadDatastoreConfig(opts: { configFile?: string; env?: Record<string, string | undefined> } = {}): DatastoreConfig {
  const path = opts.configFile ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  if (path === undefined) return datastoreConfigFromEnv(opts.env ?? process.env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CalicoError('invalid-argument', `cannot read datastore config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseCalicoAPIConfig(text, path);
}

function readPem(file: string | undefined, inline: string | undefined, what: string, source: string): string | undefined {
  if (file === undefined) return inline;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CalicoError('invalid-argument', `${source}: cannot read ${what} ${file}: ${(err as Error).message}`, { cause: err });
  }
}

export interface OpenDatastoreOptions extends ResourceStoreOptions {
  requestTimeoutMs?: number;
}

/** A Datastore for `config`: etcd (the real one) or, for tests, a fresh in-memory store. */
export function openDatastore(config: DatastoreConfig, opts: OpenDatastoreOptions = {}): Datastore {
  const { requestTimeoutMs, ...storeOpts } = opts;
  if (config.datastoreType === 'memory') return new ResourceStore(new MemoryKV(), storeOpts);
  const tls: EtcdTls = {};
  const ca = readPem(config.etcdCACertFile, config.etcdCACert, 'CA certificate', config.source);
  const cert = readPem(config.etcdCertFile, config.etcdCert, 'client certificate', config.source);
  const key = readPem(config.etcdKeyFile, config.etcdKey, 'client key', config.source);
  if (ca) tls.ca = ca;
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  const kv = new EtcdKV({
    endpoints: config.etcdEndpoints,
    tls,
    ...(config.etcdUsername !== undefined && { username: config.etcdUsername, password: config.etcdPassword ?? '' }),
    ...(requestTimeoutMs !== undefined && { requestTimeoutMs }),
  });
  return new ResourceStore(kv, storeOpts);
}
