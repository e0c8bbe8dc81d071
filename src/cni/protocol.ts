// The CNI protocol as the calico and calico-ipam plugins speak it (CNI spec
// 1.0/1.1): the CNI_* environment, the network configuration on stdin, the
// result and error JSON on stdout. Pure: callers pass env and stdin text in.
import { isIP } from 'node:net';

/** Error codes the CNI spec reserves (0-99); 100+ are ours. */
export const CNI_CODES = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnvironment: 4,
  ioFailure: 5,
  decodeFailure: 6,
  invalidConfig: 7,
  tryAgainLater: 11,
  /** calico-ts: CHECK found the container's networking differs from prevResult. */
  checkFailed: 100,
} as const;

/** A failure the plugin reports as the spec's error JSON; `code` says which. */
export class CniError extends Error {
  readonly code: number;
  readonly details: string;
  constructor(code: number, msg: string, details = '') {
    super(msg);
    this.name = 'CniError';
    this.code = code;
    this.details = details;
  }
}

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';

export interface CniEnv {
  command: CniCommand;
  containerID: string;
  netns: string;
  ifName: string;
  /** CNI_ARGS as key/value pairs (`K8S_POD_NAME=a;K8S_POD_NAMESPACE=b`). */
  args: Record<string, string>;
  path: string[];
}

const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const IFNAME_BAD = /[/:\s]/;

/** Reads and checks the CNI_* variables the command needs (spec: error 4 when one is missing or malformed). */
export function parseCniEnv(env: Record<string, string | undefined>): CniEnv {
  const bad = (msg: string): CniError => new CniError(CNI_CODES.invalidEnvironment, msg);
  const command = env.CNI_COMMAND ?? '';
  if (!['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'].includes(command)) {
    throw bad(`CNI_COMMAND='${command}' is not a CNI command; set it to ADD, DEL, CHECK or VERSION`);
  }
  const cmd = command as CniCommand;
  const path = (env.CNI_PATH ?? '').split(':').filter(Boolean);
  const base: CniEnv = { command: cmd, containerID: '', netns: '', ifName: '', args: {}, path };
  if (cmd === 'VERSION' || cmd === 'STATUS' || cmd === 'GC') return base;
  const containerID = env.CNI_CONTAINERID ?? '';
  if (!containerID) throw bad('CNI_CONTAINERID is not set; the runtime must name the container');
  if (!CONTAINER_ID.test(containerID)) throw bad(`CNI_CONTAINERID='${containerID}' must be letters, digits, '_', '.', '-', starting with a letter or digit`);
  const netns = env.CNI_NETNS ?? '';
  // DEL may come after the namespace is gone: the spec lets CNI_NETNS be empty then.
  if (!netns && cmd !== 'DEL') throw bad(`CNI_NETNS is not set; ${cmd} needs the container's network namespace path`);
  const ifName = env.CNI_IFNAME ?? '';
  if (!ifName) throw bad('CNI_IFNAME is not set; name the interface to create inside the container (e.g. eth0)');
  if (ifName.length > 15 || IFNAME_BAD.test(ifName) || ifName === '.' || ifName === '..') {
    throw bad(`CNI_IFNAME='${ifName}' is not a valid interface name (at most 15 characters, no '/', ':' or spaces)`);
  }
  return { command: cmd, containerID, netns, ifName, args: parseCniArgs(env.CNI_ARGS ?? ''), path };
}

export function parseCniArgs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(';').filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new CniError(CNI_CODES.invalidEnvironment, `CNI_ARGS: '${part}' is not KEY=VALUE`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

export interface IpamConf {
  type: string;
  assignIpv4: boolean;
  assignIpv6: boolean;
  ipv4Pools: string[];
  ipv6Pools: string[];
}

export interface NetConf {
  cniVersion: string;
  name: string;
  type: string;
  ipam: IpamConf;
  etcdEndpoints: string[];
  etcdCertFile?: string;
  etcdKeyFile?: string;
  etcdCACertFile?: string;
  nodename?: string;
  mtu: number;
  logLevel: string;
  /** Fields we accept and knowingly do nothing with (reported on stderr). */
  ignored: string[];
  /** The previous result (CHECK, DEL) as given, unparsed. */
  prevResult?: unknown;
}

export const DEFAULT_MTU = 1500;

/** Fields Calico's plugin reads that calico-ts accepts but does not act on. */
const IGNORED_FIELDS = ['log_file_path', 'log_file_max_size', 'log_file_max_age', 'log_file_max_count', 'feature_control', 'container_settings', 'capabilities', 'runtimeConfig', 'args', 'policy', 'kubernetes', 'num_queues'];
const KNOWN_FIELDS = ['cniVersion', 'name', 'type', 'ipam', 'etcd_endpoints', 'etcd_cert_file', 'etcd_key_file', 'etcd_ca_cert_file', 'datastore_type', 'nodename', 'mtu', 'log_level', 'prevResult', 'nodename_file_optional', ...IGNORED_FIELDS];
const REFUSED_FIELDS: Record<string, string> = {
  etcd_scheme: 'write the scheme into etcd_endpoints (https://host:2379)',
  etcd_authority: 'use etcd_endpoints',
  etcd_key: 'inline PEM is not supported; use etcd_key_file',
  etcd_cert: 'inline PEM is not supported; use etcd_cert_file',
  etcd_ca_cert: 'inline PEM is not supported; use etcd_ca_cert_file',
  ipam_args: 'not supported',
  nodename_file: 'give nodename in the config',
  windows_use_single_network: 'Windows is not supported',
  vxlan_mac_prefix: 'VXLAN is not supported',
  vxlan_vni: 'VXLAN is not supported',
};

/** Parses stdin's network configuration; `plugin` says which plugin reads it (calico or calico-ipam). */
export function parseNetConf(text: string, plugin: 'calico' | 'calico-ipam'): NetConf {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CniError(CNI_CODES.decodeFailure, `network configuration on stdin is not JSON: ${(err as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new CniError(CNI_CODES.decodeFailure, 'network configuration on stdin must be a JSON object');
  const c = raw as Record<string, unknown>;
  const invalid = (msg: string): CniError => new CniError(CNI_CODES.invalidConfig, msg);
  const str = (k: string, required: boolean): string | undefined => {
    const v = c[k];
    if (v === undefined) {
      if (required) throw invalid(`network configuration: '${k}' is required`);
      return undefined;
    }
    if (typeof v !== 'string') throw invalid(`network configuration: '${k}' must be a string`);
    return v;
  };
  const cniVersion = str('cniVersion', true)!;
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(cniVersion)) {
    throw new CniError(CNI_CODES.incompatibleVersion, `cniVersion ${cniVersion} is not supported; supported: ${SUPPORTED_VERSIONS.join(', ')}`);
  }
  const name = str('name', true)!;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw invalid(`network configuration: name '${name}' must be letters, digits, '_', '.', '-'`);
  const type = str('type', true)!;
  // calico-ipam is also run as a delegate of other plugins: only `calico` insists on its own type.
  if (plugin === 'calico' && type !== 'calico') throw invalid(`network configuration: type '${type}' is not 'calico'`);
  for (const k of Object.keys(c)) {
    const why = REFUSED_FIELDS[k];
    if (why !== undefined) throw new CniError(CNI_CODES.unsupportedField, `network configuration: '${k}' is not supported by calico-ts: ${why}`);
    if (plugin === 'calico' && !KNOWN_FIELDS.includes(k)) throw new CniError(CNI_CODES.unsupportedField, `network configuration: '${k}' is not a field calico-ts knows (known: ${KNOWN_FIELDS.join(', ')})`);
  }
  const ds = str('datastore_type', false);
  if (ds !== undefined && ds !== 'etcdv3') {
    throw new CniError(CNI_CODES.unsupportedField, `network configuration: datastore_type '${ds}' is not supported; calico-ts stores everything in etcd: set datastore_type to etcdv3 (or leave it out) and give etcd_endpoints`);
  }
  const endpoints = (str('etcd_endpoints', false) ?? 'http://127.0.0.1:2379').split(',').map((s) => s.trim()).filter(Boolean);
  for (const e of endpoints) {
    if (!/^https?:\/\/[^/]+\/?$/.test(e)) throw invalid(`network configuration: etcd_endpoints entry '${e}' must look like http://127.0.0.1:2379`);
  }
  const certFile = str('etcd_cert_file', false);
  const keyFile = str('etcd_key_file', false);
  if (!!certFile !== !!keyFile) throw invalid('network configuration: etcd_cert_file and etcd_key_file must be given together');
  let mtu = DEFAULT_MTU;
  if (c.mtu !== undefined) {
    if (typeof c.mtu !== 'number' || !Number.isInteger(c.mtu) || c.mtu < 68 || c.mtu > 65535) throw invalid(`network configuration: mtu ${JSON.stringify(c.mtu)} must be an integer from 68 to 65535`);
    mtu = c.mtu;
  }
  const logLevel = (str('log_level', false) ?? 'info').toLowerCase();
  if (!['debug', 'info', 'warning', 'warn', 'error', 'fatal', 'panic', 'none'].includes(logLevel)) throw invalid(`network configuration: log_level '${logLevel}' must be one of debug, info, warning, error`);
  const ipam = parseIpamConf(c.ipam, plugin, type);
  const conf: NetConf = {
    cniVersion,
    name,
    type,
    ipam,
    etcdEndpoints: endpoints,
    mtu,
    logLevel,
    ignored: Object.keys(c).filter((k) => IGNORED_FIELDS.includes(k)),
  };
  const nodename = str('nodename', false);
  if (nodename) conf.nodename = nodename;
  if (certFile) conf.etcdCertFile = certFile;
  if (keyFile) conf.etcdKeyFile = keyFile;
  const ca = str('etcd_ca_cert_file', false);
  if (ca) conf.etcdCACertFile = ca;
  if (c.prevResult !== undefined) conf.prevResult = c.prevResult;
  return conf;
}

function parseIpamConf(v: unknown, plugin: 'calico' | 'calico-ipam', type: string): IpamConf {
  const invalid = (msg: string): CniError => new CniError(CNI_CODES.invalidConfig, msg);
  if (v === undefined && plugin === 'calico-ipam' && type === 'calico-ipam') v = { type: 'calico-ipam' };
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw invalid("network configuration: 'ipam' is required, e.g. {\"type\": \"calico-ipam\"}");
  const i = v as Record<string, unknown>;
  if (i.type !== 'calico-ipam') throw new CniError(CNI_CODES.unsupportedField, `network configuration: ipam.type '${String(i.type)}' is not supported; calico-ts assigns addresses with calico-ipam only`);
  for (const k of Object.keys(i)) {
    if (!['type', 'assign_ipv4', 'assign_ipv6', 'ipv4_pools', 'ipv6_pools'].includes(k)) throw new CniError(CNI_CODES.unsupportedField, `network configuration: ipam.${k} is not supported (known: type, assign_ipv4, assign_ipv6, ipv4_pools, ipv6_pools)`);
  }
  // Calico writes these booleans as strings ("true"); accept both.
  const bool = (k: string, dflt: boolean): boolean => {
    const x = i[k];
    if (x === undefined) return dflt;
    if (x === true || x === 'true') return true;
    if (x === false || x === 'false') return false;
    throw invalid(`network configuration: ipam.${k} must be "true" or "false"`);
  };
  const pools = (k: string, family: 4 | 6): string[] => {
    const x = i[k];
    if (x === undefined) return [];
    if (!Array.isArray(x) || x.some((p) => typeof p !== 'string' || p === '')) throw invalid(`network configuration: ipam.${k} must be a list of pool names or CIDRs`);
    for (const p of x as string[]) {
      const slash = p.indexOf('/');
      if (slash > 0 && isIP(p.slice(0, slash)) !== 0 && isIP(p.slice(0, slash)) !== family) throw invalid(`network configuration: ipam.${k} entry '${p}' is not an IPv${family} CIDR`);
    }
    return x as string[];
  };
  const conf: IpamConf = { type: 'calico-ipam', assignIpv4: bool('assign_ipv4', true), assignIpv6: bool('assign_ipv6', false), ipv4Pools: pools('ipv4_pools', 4), ipv6Pools: pools('ipv6_pools', 6) };
  if (!conf.assignIpv4 && !conf.assignIpv6) throw invalid('network configuration: ipam assigns no address (assign_ipv4 and assign_ipv6 are both false)');
  return conf;
}

/** Kubernetes pod identity from CNI_ARGS, when the runtime is Kubernetes. */
export function podFromArgs(args: Record<string, string>): { namespace: string; name: string } | undefined {
  const namespace = args.K8S_POD_NAMESPACE;
  const name = args.K8S_POD_NAME;
  if (namespace && name) return { namespace, name };
  return undefined;
}

// ---- results ----

export interface CniInterface {
  name: string;
  mac?: string;
  sandbox?: string;
  mtu?: number;
}
export interface CniIp {
  /** Only in results before 1.0.0. */
  version?: '4' | '6';
  address: string;
  gateway?: string;
  interface?: number;
}
export interface CniRoute {
  dst: string;
  gw?: string;
}
export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips: CniIp[];
  routes?: CniRoute[];
  dns: Record<string, unknown>;
}

export function versionResult(cniVersion: string): object {
  return { cniVersion, supportedVersions: [...SUPPORTED_VERSIONS] };
}

export function errorResult(cniVersion: string, err: CniError): object {
  return { cniVersion, code: err.code, msg: err.message, ...(err.details ? { details: err.details } : {}) };
}

/** Reads the addresses out of a prevResult (CHECK): `ips[].address`. */
export function prevResultIps(prev: unknown): string[] {
  if (!prev || typeof prev !== 'object') throw new CniError(CNI_CODES.invalidConfig, 'CHECK needs prevResult in the network configuration');
  const ips = (prev as { ips?: unknown }).ips;
  if (!Array.isArray(ips)) throw new CniError(CNI_CODES.decodeFailure, 'prevResult.ips must be a list');
  return ips.map((ip, n) => {
    const a = (ip as { address?: unknown })?.address;
    if (typeof a !== 'string') throw new CniError(CNI_CODES.decodeFailure, `prevResult.ips[${n}].address must be a string`);
    return a;
  });
}
