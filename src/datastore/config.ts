// Datastore connection settings, read the way Calico's tools read them:
//   - environment: DATASTORE_TYPE, ETCD_ENDPOINTS (comma list), ETCD_USERNAME,
//     ETCD_PASSWORD, ETCD_CA_CERT_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE;
//   - the calicoctl config file (YAML, kind CalicoAPIConfig; spec fields
//     datastoreType, etcdEndpoints, etcdUsername, etcdPassword, etcdCACertFile,
//     etcdCertFile, etcdKeyFile, and inline PEM etcdCACert, etcdCert, etcdKey).
// Precedence as calicoctl: a config file, when there is one, is the whole
// configuration; otherwise the environment. Pure: callers pass the text / env in
// (open-datastore.ts reads the file).
import { createRequire } from 'node:module';
import { CalicoError } from '../base/errors.js';

/**
 * The YAML parser, loaded when a config file is read: most callers (the CNI
 * plugin on every ADD, calico-node) configure from the environment, and
 * loading the parser costs tens of milliseconds of start-up.
 */
const parseYaml = (text: string): unknown => (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text);

export type DatastoreType = 'etcdv3' | 'memory';

export interface DatastoreConfig {
  /** `memory` is for tests only: a fresh, empty, process-local store. */
  datastoreType: DatastoreType;
  etcdEndpoints: string[];
  etcdUsername?: string;
  etcdPassword?: string;
  etcdCACertFile?: string;
  etcdCertFile?: string;
  etcdKeyFile?: string;
  /** Inline PEM (config file only), used when the *File variant is absent. */
  etcdCACert?: string;
  etcdCert?: string;
  etcdKey?: string;
  /** `environment` or the config file's path: error messages name it. */
  source: string;
}

export const DEFAULT_ETCD_ENDPOINT = 'http://127.0.0.1:2379';
export const DEFAULT_CONFIG_FILE = '/etc/calico/calicoctl.cfg';

const fail = (source: string, message: string): CalicoError => new CalicoError('invalid-argument', `${source}: ${message}`);

function datastoreType(value: string | undefined, field: string, source: string): DatastoreType {
  const v = (value ?? '').trim();
  if (v === '' || v === 'etcdv3') return 'etcdv3';
  if (v === 'memory') return 'memory';
  if (v === 'kubernetes') {
    throw fail(source, `${field}=kubernetes is not supported: calico-ts stores resources in etcd only; set ${field}=etcdv3 and ETCD_ENDPOINTS`);
  }
  throw fail(source, `${field}='${v}' is not a datastore type; use etcdv3`);
}

function endpoints(value: string | undefined, field: string, source: string): string[] {
  const list = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) return [DEFAULT_ETCD_ENDPOINT];
  for (const e of list) {
    let url: URL;
    try {
      url = new URL(e);
    } catch {
      throw fail(source, `${field}: '${e}' is not a URL; write it like ${DEFAULT_ETCD_ENDPOINT}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw fail(source, `${field}: '${e}' must start with http:// or https://`);
  }
  return list;
}

function finish(config: DatastoreConfig): DatastoreConfig {
  const hasCert = !!(config.etcdCertFile || config.etcdCert);
  const hasKey = !!(config.etcdKeyFile || config.etcdKey);
  if (hasCert !== hasKey) throw fail(config.source, 'a client certificate and its key must be given together (etcd cert file and key file)');
  if (config.etcdPassword !== undefined && config.etcdUsername === undefined) throw fail(config.source, 'an etcd password is set without a username');
  for (const k of Object.keys(config) as (keyof DatastoreConfig)[]) if (config[k] === undefined || config[k] === '') delete config[k];
  return config;
}

const opt = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export function datastoreConfigFromEnv(env: Record<string, string | undefined>): DatastoreConfig {
  const source = 'environment';
  const config: DatastoreConfig = {
    datastoreType: datastoreType(env.DATASTORE_TYPE, 'DATASTORE_TYPE', source),
    etcdEndpoints: endpoints(env.ETCD_ENDPOINTS, 'ETCD_ENDPOINTS', source),
    source,
  };
  const set = (k: keyof DatastoreConfig, v: string | undefined): void => {
    if (v) (config as unknown as Record<string, string>)[k] = v;
  };
  set('etcdUsername', opt(env.ETCD_USERNAME));
  set('etcdPassword', opt(env.ETCD_PASSWORD));
  set('etcdCACertFile', opt(env.ETCD_CA_CERT_FILE));
  set('etcdCertFile', opt(env.ETCD_CERT_FILE));
  set('etcdKeyFile', opt(env.ETCD_KEY_FILE));
  return finish(config);
}

/** Parses a calicoctl config file (`apiVersion: projectcalico.org/v3`, `kind: CalicoAPIConfig`). */
export function parseCalicoAPIConfig(text: string, source: string): DatastoreConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new CalicoError('invalid-argument', `${source}: not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  if (!doc || typeof doc !== 'object') throw fail(source, 'expected a CalicoAPIConfig document');
  const d = doc as { apiVersion?: unknown; kind?: unknown; spec?: Record<string, unknown> };
  if (d.kind !== 'CalicoAPIConfig') throw fail(source, `kind must be CalicoAPIConfig (got '${String(d.kind)}')`);
  if (d.apiVersion !== 'projectcalico.org/v3') throw fail(source, `apiVersion must be projectcalico.org/v3 (got '${String(d.apiVersion)}')`);
  const spec = d.spec ?? {};
  if (typeof spec !== 'object') throw fail(source, 'spec must be a mapping');
  const known = ['datastoreType', 'etcdEndpoints', 'etcdUsername', 'etcdPassword', 'etcdCACertFile', 'etcdCertFile', 'etcdKeyFile', 'etcdCACert', 'etcdCert', 'etcdKey'];
  for (const k of Object.keys(spec)) {
    if (!known.includes(k)) throw fail(source, `spec.${k} is not a known field (known: ${known.join(', ')})`);
    if (typeof spec[k] !== 'string') throw fail(source, `spec.${k} must be a string`);
  }
  const config: DatastoreConfig = {
    datastoreType: datastoreType(opt(spec.datastoreType), 'spec.datastoreType', source),
    etcdEndpoints: endpoints(opt(spec.etcdEndpoints), 'spec.etcdEndpoints', source),
    source,
  };
  for (const k of known.slice(2)) {
    const v = opt(spec[k]);
    if (v) (config as unknown as Record<string, string>)[k] = v;
  }
  return finish(config);
}
