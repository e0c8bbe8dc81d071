// The CNI protocol as the calico and calico-ipam plugins speak it (CNI spec
// 1.0/1.1): the CNI_* environment, the result, error and VERSION JSON. The
// network configuration is config.ts's. Pure: callers pass env and text in.
import { CalicoError } from '../base/errors.js';

/** Error codes: the spec's (0-99) and ours (100+). */
export const CNI_CODES = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnvironment: 4,
  ioFailure: 5,
  decodeFailure: 6,
  invalidConfig: 7,
  tryAgainLater: 11,
  /** STATUS: cannot service ADD. */
  notAvailable: 50,
  /** STATUS: cannot service ADD, and existing containers may have limited connectivity. */
  limitedConnectivity: 51,
  /** Calico's own: a bad command-line flag, or `-t` could not reach the datastore. */
  calicoGeneric: 100,
  /** calico-ts: CHECK found the container's networking differs from prevResult. */
  checkFailed: 101,
  /** calico-ts: ADD found an interface named CNI_IFNAME in the container that is not ours. */
  interfaceExists: 102,
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

/** Compares two semantic versions (x.y.z): negative, 0 or positive. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';

/** The first version of the spec with each command (a config older than that cannot ask for it). */
export const COMMAND_SINCE: Record<CniCommand, string> = { ADD: '0.1.0', DEL: '0.1.0', VERSION: '0.2.0', CHECK: '0.4.0', GC: '1.1.0', STATUS: '1.1.0' };

export interface CniEnv {
  command: CniCommand;
  containerID: string;
  netns: string;
  ifName: string;
  /** CNI_ARGS as key/value pairs (`K8S_POD_NAME=a;K8S_POD_NAMESPACE=b`). */
  args: Record<string, string>;
  path: string[];
}

/** Turns any failure into the CniError the plugin prints: retryable datastore trouble is 11, bad input 7, the rest 5. */
export function toCniError(err: unknown): CniError {
  if (err instanceof CniError) return err;
  if (err instanceof CalicoError) {
    if ((err.kind === 'unavailable' || err.kind === 'conflict') && err.retryable) return new CniError(CNI_CODES.tryAgainLater, err.message);
    if (err.kind === 'validation' || err.kind === 'invalid-argument' || err.kind === 'not-found') return new CniError(CNI_CODES.invalidConfig, err.message);
  }
  return new CniError(CNI_CODES.ioFailure, err instanceof Error ? err.message : String(err));
}

const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const IFNAME_BAD = /[/:\s]/;

/** Reads and checks the CNI_* variables the command needs (spec: error 4 naming the variable). */
export function parseCniEnv(env: Record<string, string | undefined>): CniEnv {
  const bad = (msg: string): CniError => new CniError(CNI_CODES.invalidEnvironment, msg);
  const command = env.CNI_COMMAND ?? '';
  if (!(command in COMMAND_SINCE)) throw bad(`CNI_COMMAND='${command}' is not a CNI command; set it to ADD, DEL, CHECK, GC, STATUS or VERSION`);
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

/** `K=V;K2=V2`. Unknown keys are kept and ignored later (Calico always adds IgnoreUnknown=1). */
export function parseCniArgs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(';').filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new CniError(CNI_CODES.invalidEnvironment, `CNI_ARGS: '${part}' is not KEY=VALUE`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

/** Kubernetes pod identity from CNI_ARGS, when the runtime is Kubernetes. */
export function podFromArgs(args: Record<string, string>): { namespace: string; name: string } | undefined {
  const namespace = args.K8S_POD_NAMESPACE;
  const name = args.K8S_POD_NAME;
  if (namespace && name) return { namespace, name };
  return undefined;
}

// ---- results ----

export interface CniDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

export interface CniInterface {
  name: string;
  mac?: string;
  mtu?: number;
  sandbox?: string;
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
  dns: CniDns;
}

export function versionResult(cniVersion: string): object {
  return { cniVersion, supportedVersions: [...SUPPORTED_VERSIONS] };
}

export function errorResult(cniVersion: string, err: CniError): object {
  return { cniVersion, code: err.code, msg: err.message, ...(err.details ? { details: err.details } : {}) };
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Reads a result (a prevResult, or a delegate's stdout) into our shape, any
 * version from 0.3.0 on. Unknown fields are dropped; malformed ones are error 6.
 */
export function parseResult(v: unknown, what: string): CniResult {
  const bad = (msg: string): CniError => new CniError(CNI_CODES.decodeFailure, `${what}: ${msg}`);
  if (!isObj(v)) throw bad('must be a JSON object');
  const out: CniResult = { cniVersion: typeof v.cniVersion === 'string' ? v.cniVersion : '', ips: [], dns: {} };
  if (v.interfaces !== undefined) {
    if (!Array.isArray(v.interfaces)) throw bad('interfaces must be a list');
    out.interfaces = v.interfaces.map((i, n) => {
      if (!isObj(i) || typeof i.name !== 'string') throw bad(`interfaces[${n}].name must be a string`);
      const itf: CniInterface = { name: i.name };
      if (typeof i.mac === 'string' && i.mac) itf.mac = i.mac;
      if (typeof i.mtu === 'number' && i.mtu) itf.mtu = i.mtu;
      if (typeof i.sandbox === 'string' && i.sandbox) itf.sandbox = i.sandbox;
      return itf;
    });
  }
  if (v.ips !== undefined) {
    if (!Array.isArray(v.ips)) throw bad('ips must be a list');
    out.ips = v.ips.map((ip, n) => {
      if (!isObj(ip) || typeof ip.address !== 'string') throw bad(`ips[${n}].address must be a string`);
      const o: CniIp = { address: ip.address };
      if (typeof ip.gateway === 'string' && ip.gateway) o.gateway = ip.gateway;
      if (typeof ip.interface === 'number') o.interface = ip.interface;
      return o;
    });
  }
  if (v.routes !== undefined) {
    if (!Array.isArray(v.routes)) throw bad('routes must be a list');
    out.routes = v.routes.map((r, n) => {
      if (!isObj(r) || typeof r.dst !== 'string') throw bad(`routes[${n}].dst must be a string`);
      return { dst: r.dst, ...(typeof r.gw === 'string' && r.gw ? { gw: r.gw } : {}) };
    });
  }
  if (isObj(v.dns)) {
    const d = v.dns;
    const list = (x: unknown): string[] | undefined => (Array.isArray(x) && x.every((s) => typeof s === 'string') && x.length ? (x as string[]) : undefined);
    const ns = list(d.nameservers);
    const search = list(d.search);
    const options = list(d.options);
    if (ns) out.dns.nameservers = ns;
    if (typeof d.domain === 'string' && d.domain) out.dns.domain = d.domain;
    if (search) out.dns.search = search;
    if (options) out.dns.options = options;
  }
  return out;
}

/** A result as the requested version writes it: 0.x results carry `ips[].version` (dropped in 1.0.0). */
export function encodeResult(r: CniResult, cniVersion: string): CniResult {
  const legacy = cniVersion.startsWith('0.');
  return {
    ...r,
    cniVersion,
    ips: r.ips.map(({ version: _v, ...ip }) => (legacy ? { version: ip.address.includes(':') ? '6' : '4', ...ip } : ip)),
  };
}
