// The network configuration on stdin, read the way Calico's plugins read it
// (cni-plugin/pkg/types NetConf). Every field Calico knows is listed in
// CALICO_FIELDS (config-fields.ts) with what calico-ts does with it: honoured, refused (error 2,
// the message names the field, its value and the fix) or ignored (no security
// meaning; one log line). A field nobody knows is refused, so a typo in a
// security setting never passes silently. Pure: env and file contents come in.
import { tryParseCIDR, tryParseIP } from '../base/ip.js';
import { datastoreConfigFromEnv, type DatastoreConfig } from '../datastore/config.js';
import { CalicoError } from '../base/errors.js';
import { CNI_CODES, CniError, SUPPORTED_VERSIONS, type CniDns } from './protocol.js';
import { CALICO_FIELDS, CALICO_IPAM_FIELDS } from './config-fields.js';
import { parseSpaceConf, podAnnotations } from './address-space.js';

export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  hostIP?: string;
}

export interface NamedPort {
  name: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  port: number;
}

export interface IpamConf {
  type: string;
  assignIpv4: boolean;
  assignIpv6: boolean;
  ipv4Pools: string[];
  ipv6Pools: string[];
}

export interface NodeNameConf {
  nodename?: string;
  /** Tried in order; the first that exists is read. */
  nodenameFiles: string[];
  nodenameFileOptional: boolean;
  /** Deprecated `hostname` field. */
  hostnameField?: string;
}

export interface Attachment {
  containerID: string;
  ifname: string;
}

export interface NetConf {
  cniVersion: string;
  name: string;
  type: string;
  ipam: IpamConf;
  datastore: DatastoreConfig;
  node: NodeNameConf;
  /** Undefined: the MTU file, else the kernel's default. */
  mtu?: number;
  requireMtuFile: boolean;
  numQueues: number;
  logLevel: 'debug' | 'info' | 'warning' | 'error';
  logFilePath?: string;
  allowIpForwarding: boolean;
  /** Container routes (destinations); undefined: the default routes. */
  routes?: string[];
  includeDefaultRoutes: boolean;
  readinessGates: string[];
  policySetupTimeoutSeconds: number;
  endpointStatusDir: string;
  dns: CniDns;
  portMappings: PortMapping[];
  labels: Record<string, string>;
  /** Specific addresses asked for (args.cni.ips, or CNI_ARGS IP when there are none). */
  ips: string[];
  /** The address space of the attachment (calico-ts extension, docs/xlat.md); undefined: none. */
  addressSpace?: string;
  /** Addresses bypassing IPAM (pod annotation cni.projectcalico.org/ipAddrsNoIpam); empty: IPAM assigns. */
  ipAddrsNoIpam: string[];
  namedPorts: NamedPort[];
  prevResult?: unknown;
  validAttachments?: Attachment[];
  /** Log lines about ignored fields, printed once the logger exists. */
  notes: string[];
  /** The configuration as given, for a delegated IPAM plugin (it gets the whole of it). */
  raw: Record<string, unknown>;
}

export const DEFAULT_NODENAME_FILE = '/var/lib/calico/nodename';
/** Where calico-ts's calico-node writes it (<CALICO_RUN_DIR>/nodename with the default run dir). */
export const RUN_DIR_NODENAME_FILE = '/var/run/calico/nodename';
export const MTU_FILE = '/var/lib/calico/mtu';
export const DEFAULT_ENDPOINT_STATUS_DIR = '/var/run/calico/endpoint-status';

const RULES = new Map(CALICO_FIELDS.map((r) => [r.field, r]));

const unsupported = (field: string, value: unknown, fix: string): CniError =>
  new CniError(CNI_CODES.unsupportedField, `network configuration: unsupported field ${field}=${JSON.stringify(value)}: ${fix}`);
const invalid = (msg: string): CniError => new CniError(CNI_CODES.invalidConfig, `network configuration: ${msg}`);

function isObj(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** Reads one field with a type check; the helpers below build on it. */
class Reader {
  constructor(private readonly c: Record<string, unknown>, private readonly prefix = '') {}
  has(k: string): boolean {
    return this.c[k] !== undefined && this.c[k] !== null;
  }
  str(k: string): string | undefined {
    const v = this.c[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw invalid(`'${this.prefix}${k}' must be a string, got ${JSON.stringify(v)}`);
    return v;
  }
  bool(k: string, dflt: boolean): boolean {
    const v = this.c[k];
    if (v === undefined || v === null) return dflt;
    // Calico writes some booleans as strings ("true"); accept both spellings.
    if (v === true || v === 'true') return true;
    if (v === false || v === 'false') return false;
    throw invalid(`'${this.prefix}${k}' must be true or false, got ${JSON.stringify(v)}`);
  }
  int(k: string, opts: { min: number; max: number }): number | undefined {
    const v = this.c[k];
    if (v === undefined || v === null || v === 0) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < opts.min || v > opts.max) throw invalid(`'${this.prefix}${k}' must be an integer from ${opts.min} to ${opts.max}, got ${JSON.stringify(v)}`);
    return v;
  }
  strings(k: string): string[] {
    const v = this.c[k];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '')) throw invalid(`'${this.prefix}${k}' must be a list of strings`);
    return v as string[];
  }
}

/** Fields whose value decides whether they are accepted; called only when present. */
function checkConditional(c: Record<string, unknown>, notes: string[]): void {
  const r = new Reader(c);
  const mode = r.str('mode');
  if (mode) throw unsupported('mode', mode, RULES.get('mode')!.note);
  const ds = r.str('datastore_type');
  if (ds !== undefined && ds !== '' && ds !== 'etcdv3') {
    throw unsupported('datastore_type', ds, 'calico-ts stores everything in etcd: set datastore_type to etcdv3 (or leave it out) and give etcd_endpoints');
  }
  for (const k of ['etcd_discovery_srv', 'etcd_scheme', 'etcd_authority']) {
    const v = r.str(k);
    if (v) throw unsupported(k, v, RULES.get(k)!.note);
  }
  if (isObj(c.policy)) {
    const type = new Reader(c.policy, 'policy.').str('type') ?? '';
    if (type !== '') throw unsupported('policy.type', type, RULES.get('policy')!.note);
    if (Object.keys(c.policy).some((k) => k !== 'type')) notes.push('policy.k8s_* settings are ignored: there is no Kubernetes client');
  } else if (c.policy !== undefined) throw invalid(`'policy' must be an object`);
  if (isObj(c.feature_control)) {
    const f = new Reader(c.feature_control, 'feature_control.');
    // ip_addrs_no_ipam is honoured (src/cni/address-space.ts); floating IPs are not implemented.
    f.bool('ip_addrs_no_ipam', false);
    if (f.bool('floating_ips', false)) throw unsupported('feature_control.floating_ips', true, 'floating IPs (cni.projectcalico.org/floatingIPs) are not supported; set it to false');
    const extra = Object.keys(c.feature_control).filter((k) => !['ip_addrs_no_ipam', 'floating_ips'].includes(k));
    if (extra.length) throw unsupported(`feature_control.${extra[0]}`, c.feature_control[extra[0]!], 'not a feature Calico knows (ip_addrs_no_ipam, floating_ips)');
  } else if (c.feature_control !== undefined) throw invalid(`'feature_control' must be an object`);
  if (c.dataplane_options !== undefined && !(isObj(c.dataplane_options) && Object.keys(c.dataplane_options).length === 0)) {
    throw unsupported('dataplane_options', c.dataplane_options, RULES.get('dataplane_options')!.note);
  }
  const device = r.str('device_type') ?? '';
  if (device === 'netkit') notes.push('device_type netkit: using a veth pair (as Calico does where netkit is not available)');
  else if (device !== '' && device !== 'veth') throw unsupported('device_type', device, 'supported: "veth" (or "netkit", which falls back to veth)');
  if (r.bool('ipMasq', false)) throw unsupported('ipMasq', true, RULES.get('ipMasq')!.note);
}

/** The datastore: fields of the config first, then the variables calicoctl reads (ETCD_ENDPOINTS ...). */
function datastoreFrom(c: Record<string, unknown>, env: Record<string, string | undefined>): DatastoreConfig {
  const r = new Reader(c);
  const merged: Record<string, string | undefined> = { ...env, DATASTORE_TYPE: 'etcdv3' };
  const pick = (field: string, variable: string): void => {
    const v = r.str(field);
    if (v) merged[variable] = v;
  };
  pick('etcd_endpoints', 'ETCD_ENDPOINTS');
  pick('etcd_cert_file', 'ETCD_CERT_FILE');
  pick('etcd_key_file', 'ETCD_KEY_FILE');
  pick('etcd_ca_cert_file', 'ETCD_CA_CERT_FILE');
  try {
    const ds = datastoreConfigFromEnv(merged);
    return { ...ds, source: 'CNI network configuration (etcd_*) / environment (ETCD_*)' };
  } catch (err) {
    if (err instanceof CalicoError) throw invalid(err.message);
    throw err;
  }
}

function parseIpam(v: unknown, plugin: 'calico' | 'calico-ipam', type: string, notes: string[]): { ipam: IpamConf; routes?: string[] } {
  if (v === undefined && plugin === 'calico-ipam' && type === 'calico-ipam') v = { type: 'calico-ipam' };
  if (!isObj(v)) throw invalid(`'ipam' is required, e.g. {"type": "calico-ipam"}`);
  const r = new Reader(v, 'ipam.');
  const ipamType = r.str('type');
  if (!ipamType) throw invalid(`'ipam.type' is required (calico-ipam, or another IPAM plugin in CNI_PATH)`);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(ipamType)) throw invalid(`ipam.type '${ipamType}' is not a plugin name`);
  const ipam: IpamConf = { type: ipamType, assignIpv4: true, assignIpv6: false, ipv4Pools: [], ipv6Pools: [] };
  let routes: string[] | undefined;
  if (v.routes !== undefined) {
    if (!Array.isArray(v.routes) || v.routes.some((x) => !isObj(x) || typeof x.dst !== 'string')) throw invalid(`'ipam.routes' must be a list of {"dst": "<cidr>"}`);
    routes = (v.routes as { dst: string }[]).map((x) => x.dst);
    for (const d of routes) if (!isCidr(d)) throw invalid(`ipam.routes entry '${d}' is not a CIDR`);
  }
  // Another IPAM plugin reads its own fields from the whole configuration.
  if (ipamType !== 'calico-ipam') return { ipam, ...(routes ? { routes } : {}) };
  for (const k of Object.keys(v)) {
    if (!CALICO_IPAM_FIELDS.some((f) => f.field === `ipam.${k}`)) {
      throw unsupported(`ipam.${k}`, v[k], `not a calico-ipam field (known: ${CALICO_IPAM_FIELDS.map((f) => f.field.slice(5)).join(', ')})`);
    }
  }
  if (r.has('subnet')) notes.push(`ipam.subnet is ignored: calico-ipam takes addresses from IP pools`);
  ipam.assignIpv4 = r.bool('assign_ipv4', true);
  ipam.assignIpv6 = r.bool('assign_ipv6', false);
  const pools = (k: string, family: 4 | 6): string[] => {
    const list = r.strings(k);
    for (const p of list) {
      const slash = p.indexOf('/');
      const fam = slash > 0 ? isIP(p.slice(0, slash)) : 0;
      if (fam !== 0 && fam !== family) throw invalid(`ipam.${k} entry '${p}' is not an IPv${family} CIDR`);
    }
    return list;
  };
  ipam.ipv4Pools = pools('ipv4_pools', 4);
  ipam.ipv6Pools = pools('ipv6_pools', 6);
  return { ipam, ...(routes ? { routes } : {}) };
}

/** Address family of an address, 0 when it is none. */
const isIP = (s: string): 0 | 4 | 6 => tryParseIP(s)?.family ?? 0;
const isCidr = (s: string): boolean => tryParseCIDR(s) !== undefined;

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;
function protocolOf(v: unknown, at: string): 'TCP' | 'UDP' | 'SCTP' {
  const p = typeof v === 'string' ? v.toUpperCase() : v === undefined ? 'TCP' : '';
  if (!(PROTOCOLS as readonly string[]).includes(p)) throw invalid(`${at}.protocol must be tcp, udp or sctp, got ${JSON.stringify(v)}`);
  return p as 'TCP' | 'UDP' | 'SCTP';
}
const port = (v: unknown, at: string): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) throw invalid(`${at} must be a port number (1-65535), got ${JSON.stringify(v)}`);
  return v;
};

function parseRuntimeConfig(v: unknown): { portMappings: PortMapping[]; dns?: CniDns } {
  if (v === undefined) return { portMappings: [] };
  if (!isObj(v)) throw invalid(`'runtimeConfig' must be an object`);
  const out: { portMappings: PortMapping[]; dns?: CniDns } = { portMappings: [] };
  const pm = v.portMappings;
  if (pm !== undefined) {
    if (!Array.isArray(pm)) throw invalid(`'runtimeConfig.portMappings' must be a list`);
    pm.forEach((m, i) => {
      const at = `runtimeConfig.portMappings[${i}]`;
      if (!isObj(m)) throw invalid(`${at} must be an object {hostPort, containerPort, protocol}`);
      const mapping: PortMapping = { hostPort: port(m.hostPort, `${at}.hostPort`), containerPort: port(m.containerPort, `${at}.containerPort`), protocol: protocolOf(m.protocol, at) };
      if (typeof m.hostIP === 'string' && m.hostIP !== '') {
        if (isIP(m.hostIP) === 0) throw invalid(`${at}.hostIP '${m.hostIP}' is not an address`);
        mapping.hostIP = m.hostIP;
      }
      out.portMappings.push(mapping);
    });
  }
  if (isObj(v.dns)) {
    const d = new Reader(v.dns, 'runtimeConfig.dns.');
    const dns: CniDns = {};
    if (d.strings('servers').length) dns.nameservers = d.strings('servers');
    if (d.str('domain')) dns.domain = d.str('domain')!;
    if (d.strings('searches').length) dns.search = d.strings('searches');
    if (d.strings('options').length) dns.options = d.strings('options');
    out.dns = dns;
  }
  return out;
}

function parseDns(v: unknown): CniDns {
  if (v === undefined) return {};
  if (!isObj(v)) throw invalid(`'dns' must be an object`);
  const d = new Reader(v, 'dns.');
  const dns: CniDns = {};
  const ns = d.strings('nameservers');
  for (const s of ns) if (isIP(s) === 0) throw invalid(`dns.nameservers entry '${s}' is not an address`);
  if (ns.length) dns.nameservers = ns;
  if (d.str('domain')) dns.domain = d.str('domain')!;
  if (d.strings('search').length) dns.search = d.strings('search');
  if (d.strings('options').length) dns.options = d.strings('options');
  return dns;
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** Labels, addresses and named ports from `args` (the CNI conventions, Mesos' labels, and our own named ports). */
function parseArgs(v: unknown): { labels: Record<string, string>; ips: string[]; namedPorts: NamedPort[] } {
  const out = { labels: {} as Record<string, string>, ips: [] as string[], namedPorts: [] as NamedPort[] };
  if (v === undefined) return out;
  if (!isObj(v)) throw invalid(`'args' must be an object`);
  const addLabel = (key: unknown, value: unknown, at: string): void => {
    if (typeof key !== 'string' || !LABEL_KEY.test(key)) throw invalid(`${at}.key ${JSON.stringify(key)} is not a label name`);
    const val = value === undefined ? '' : String(value);
    if (!LABEL_VALUE.test(val)) throw invalid(`${at}.value ${JSON.stringify(value)} is not a label value (up to 63 letters, digits, '-', '_', '.')`);
    if (key.startsWith('projectcalico.org/')) throw invalid(`${at}.key '${key}' is reserved: calico-ts sets projectcalico.org/* labels itself`);
    out.labels[key] = val;
  };
  const cni = v.cni;
  if (isObj(cni)) {
    if (cni.labels !== undefined) {
      if (!Array.isArray(cni.labels)) throw invalid(`'args.cni.labels' must be a list of {"key", "value"}`);
      cni.labels.forEach((l, i) => addLabel(isObj(l) ? l.key : undefined, isObj(l) ? l.value : undefined, `args.cni.labels[${i}]`));
    }
    for (const ip of new Reader(cni, 'args.cni.').strings('ips')) {
      const bare = ip.split('/')[0]!;
      if (isIP(bare) === 0) throw invalid(`args.cni.ips entry '${ip}' is not an address`);
      out.ips.push(bare);
    }
  }
  const mesos = v['org.apache.mesos'];
  const mesosLabels = isObj(mesos) && isObj(mesos.network_info) && isObj(mesos.network_info.labels) ? mesos.network_info.labels.labels : undefined;
  if (Array.isArray(mesosLabels)) mesosLabels.forEach((l, i) => addLabel(isObj(l) ? l.key : undefined, isObj(l) ? l.value : undefined, `args["org.apache.mesos"].network_info.labels.labels[${i}]`));
  const ours = v['projectcalico.org'];
  if (isObj(ours) && ours.ports !== undefined) {
    if (!Array.isArray(ours.ports)) throw invalid(`'args["projectcalico.org"].ports' must be a list of {name, protocol, port}`);
    ours.ports.forEach((p, i) => {
      const at = `args["projectcalico.org"].ports[${i}]`;
      if (!isObj(p) || typeof p.name !== 'string' || !/^[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$/.test(p.name)) throw invalid(`${at}.name must be a port name such as "http"`);
      out.namedPorts.push({ name: p.name, protocol: protocolOf(p.protocol, at), port: port(p.port, `${at}.port`) });
    });
  }
  return out;
}

function parseAttachments(v: unknown): Attachment[] {
  if (!Array.isArray(v)) throw invalid(`'cni.dev/valid-attachments' must be a list of {containerID, ifname}`);
  return v.map((a, i) => {
    if (!isObj(a) || typeof a.containerID !== 'string' || typeof a.ifname !== 'string') throw invalid(`cni.dev/valid-attachments[${i}] must be {"containerID": "...", "ifname": "..."}`);
    return { containerID: a.containerID, ifname: a.ifname };
  });
}

/**
 * Parses stdin's network configuration. `plugin` says who reads it: calico
 * insists on its own type and refuses unknown fields; calico-ipam is also run
 * as a delegate with another plugin's configuration, so it reads only its own.
 */
export function parseNetConf(text: string, opts: { plugin: 'calico' | 'calico-ipam'; env?: Record<string, string | undefined> }): NetConf {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CniError(CNI_CODES.decodeFailure, `network configuration on stdin is not JSON: ${(err as Error).message}`);
  }
  if (!isObj(parsed)) throw new CniError(CNI_CODES.decodeFailure, 'network configuration on stdin must be a JSON object');
  const c = parsed;
  const r = new Reader(c);
  const cniVersion = r.str('cniVersion');
  if (!cniVersion) throw invalid(`'cniVersion' is required`);
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(cniVersion)) {
    throw new CniError(CNI_CODES.incompatibleVersion, `cniVersion ${cniVersion} is not supported; supported: ${SUPPORTED_VERSIONS.join(', ')}`);
  }
  const name = r.str('name');
  if (!name) throw invalid(`'name' is required`);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw invalid(`name '${name}' must start with a letter or digit, then letters, digits, '_', '.', '-'`);
  const type = r.str('type');
  if (!type) throw invalid(`'type' is required`);
  if (opts.plugin === 'calico' && type !== 'calico') throw invalid(`type '${type}' is not 'calico'`);
  const notes: string[] = [];
  if (opts.plugin === 'calico') {
    for (const k of Object.keys(c)) {
      const rule = RULES.get(k);
      if (!rule && !k.startsWith('cni.dev/')) throw unsupported(k, c[k], `not a field of Calico's plugin (see docs/cni.md for the list)`);
      if (rule?.status === 'ignored' && c[k] !== undefined && c[k] !== null && c[k] !== '' && k !== 'capabilities') notes.push(`${k} is ignored: ${rule.note}`);
    }
    checkConditional(c, notes);
  }
  const { ipam, routes } = parseIpam(c.ipam, opts.plugin, type, notes);
  const logLevelRaw = (r.str('log_level') ?? 'info').toLowerCase();
  const logLevel = logLevelRaw === 'warn' ? 'warning' : logLevelRaw;
  if (!['debug', 'info', 'warning', 'error'].includes(logLevel)) throw invalid(`log_level '${logLevelRaw}' must be debug, info, warning or error`);
  const cs = isObj(c.container_settings) ? new Reader(c.container_settings, 'container_settings.') : undefined;
  if (c.container_settings !== undefined && !cs) throw invalid(`'container_settings' must be an object`);
  const timeout = c.policy_setup_timeout_seconds;
  if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 0)) {
    throw invalid(`policy_setup_timeout_seconds must be a whole number of seconds >= 0, got ${JSON.stringify(timeout)}`);
  }
  const gates = r.strings('readiness_gates');
  for (const g of gates) {
    if (!/^https?:\/\/[^\s]+$/.test(g)) throw invalid(`readiness_gates entry '${g}' is not an http(s) URL`);
  }
  const runtime = parseRuntimeConfig(c.runtimeConfig ?? c.RuntimeConfig);
  const args = parseArgs(c.args);
  const featureControl = isObj(c.feature_control) ? new Reader(c.feature_control, 'feature_control.') : undefined;
  const space = parseSpaceConf({
    addressSpaceField: opts.plugin === 'calico' ? c.address_space : undefined,
    annotations: opts.plugin === 'calico' ? podAnnotations(c.runtimeConfig ?? c.RuntimeConfig) : {},
    noIpamEnabled: featureControl?.bool('ip_addrs_no_ipam', false) ?? false,
    requestedIps: args.ips,
  });
  if (space.addressSpace !== undefined && r.int('mtu', { min: 68, max: 65535 }) === undefined) {
    notes.push(`address space "${space.addressSpace}": no mtu set; translation adds 20 bytes, so give the workload the fabric MTU - 20 (e.g. "mtu": 1480 on a 1500 fabric) or large packets pay a path-MTU round trip`);
  }
  if (ipam.type === 'calico-ipam' && !ipam.assignIpv4 && !ipam.assignIpv6 && args.ips.length === 0 && space.ipAddrsNoIpam.length === 0) {
    throw invalid('ipam assigns no address (assign_ipv4 and assign_ipv6 are both false, and args.cni.ips asks for none)');
  }
  const conf: NetConf = {
    cniVersion,
    name,
    type,
    ipam,
    datastore: datastoreFrom(c, opts.env ?? {}),
    node: { nodenameFiles: r.str('nodename_file') ? [r.str('nodename_file')!] : [DEFAULT_NODENAME_FILE, RUN_DIR_NODENAME_FILE], nodenameFileOptional: r.bool('nodename_file_optional', false) },
    requireMtuFile: r.bool('require_mtu_file', false),
    numQueues: r.int('num_queues', { min: 1, max: 1024 }) ?? 1,
    logLevel: logLevel as NetConf['logLevel'],
    allowIpForwarding: cs ? cs.bool('allow_ip_forwarding', false) : false,
    includeDefaultRoutes: r.bool('include_default_routes', false),
    readinessGates: gates,
    policySetupTimeoutSeconds: (timeout as number | undefined) ?? 0,
    endpointStatusDir: r.str('endpoint_status_dir') || DEFAULT_ENDPOINT_STATUS_DIR,
    dns: { ...parseDns(c.dns), ...(runtime.dns ?? {}) },
    portMappings: runtime.portMappings,
    labels: args.labels,
    ips: args.ips,
    ...(space.addressSpace !== undefined ? { addressSpace: space.addressSpace } : {}),
    ipAddrsNoIpam: space.ipAddrsNoIpam,
    namedPorts: args.namedPorts,
    notes,
    raw: c,
  };
  const mtu = r.int('mtu', { min: 68, max: 65535 });
  if (mtu !== undefined) conf.mtu = mtu;
  if (routes) conf.routes = routes;
  const nodename = r.str('nodename');
  if (nodename) conf.node.nodename = nodename;
  const hostnameField = r.str('hostname');
  if (hostnameField) conf.node.hostnameField = hostnameField;
  const logFile = r.str('log_file_path');
  if (logFile) conf.logFilePath = logFile;
  if (c.prevResult !== undefined) conf.prevResult = c.prevResult;
  if (c['cni.dev/valid-attachments'] !== undefined) conf.validAttachments = parseAttachments(c['cni.dev/valid-attachments']);
  return conf;
}

/**
 * The node name, in Calico's order: `nodename`, the nodename file, the
 * deprecated `hostname`, the host's name. Unless `nodename_file_optional`,
 * the file must exist, as in Calico: it is how a node says calico-node has
 * run there, so no workload starts on a host the agent has never seen.
 */
export function resolveNodeName(node: NodeNameConf, host: { readFile(path: string): string | undefined; hostname: string }): string {
  let fromFile: string | undefined;
  for (const f of node.nodenameFiles) if ((fromFile = host.readFile(f)) !== undefined) break;
  if (fromFile === undefined && !node.nodenameFileOptional) {
    throw new CniError(
      CNI_CODES.tryAgainLater,
      `${node.nodenameFiles.join(' (or ')}${node.nodenameFiles.length > 1 ? ')' : ''} does not exist: check that calico-node has started on this host (it writes <CALICO_RUN_DIR>/nodename; point nodename_file at it), or set "nodename_file_optional": true and "nodename"`,
    );
  }
  const name = node.nodename || fromFile?.trim() || node.hostnameField || host.hostname;
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) throw invalid(`node name '${name}' is not a valid Node name (lower-case letters, digits, '-' and '.')`);
  return name;
}

/** The MTU: the config's, else the MTU file's (calico-node may write it), else the kernel default. */
export function resolveMtu(conf: Pick<NetConf, 'mtu' | 'requireMtuFile'>, readFile: (path: string) => string | undefined): number | undefined {
  if (conf.mtu !== undefined) return conf.mtu;
  const text = readFile(MTU_FILE);
  if (text === undefined) {
    if (conf.requireMtuFile) throw invalid(`require_mtu_file is true but ${MTU_FILE} does not exist; set mtu or write the file`);
    return undefined;
  }
  const n = Number(text.trim());
  if (!Number.isInteger(n) || n < 68 || n > 65535) throw invalid(`${MTU_FILE} holds '${text.trim()}', not an MTU`);
  return n;
}
