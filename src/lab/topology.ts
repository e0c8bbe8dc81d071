// The lab's topology file: a data center described in YAML, validated with
// errors that name the field and the fix, and filled with defaults. Pure.
//
//   name: demo
//   racks:
//     - name: rack1
//       tor: true                 # a ToR router (BIRD) per rack, eBGP to the border; false = flat segment, node mesh
//       hosts: [host1, host2]
//   routeReflectors: []          # hosts that act as route reflectors (flat racks only)
//   pools:
//     - { name: private, cidr: 198.19.0.0/16, natOutgoing: true }
//     - { name: public,  cidr: 198.51.100.0/24 }
//   workloads:
//     - { name: web-1, host: host1, namespace: prod, labels: { app: web } }
//   resources: [policies.yaml]  # applied after the workloads exist (paths relative to the file)
//   addressSpaces:               # tenants with overlapping IPv4 (address-spaces.ts, docs/xlat.md)
//     - { name: tenant-a, prefix: "2001:db8:64:1::/96" }
//   (a workload joins one with  addressSpace: tenant-a, ip: 198.51.100.1)
import { ValidationError, type FieldIssue } from '../base/errors.js';
import { parseAddressSpaces, parseSpaceMembership, type LabAddressSpace, type LabSpaceMembership } from './address-spaces.js';
import { parseCIDR, tryParseCIDR, tryParseIP, cidrOverlaps, cidrContains, cidrContainsIP, type CIDR } from '../base/ip.js';

export interface LabHost {
  name: string;
  rack: string;
  /** Index of the host inside its rack, from 0. */
  index: number;
  routeReflector: boolean;
}

export interface LabRack {
  name: string;
  index: number;
  tor: boolean;
  asNumber: number;
  hosts: LabHost[];
}

export interface LabPool {
  name: string;
  cidr: string;
  natOutgoing: boolean;
  blockSize: number;
}

export interface LabWorkload {
  name: string;
  host: string;
  namespace: string;
  labels: Record<string, string>;
  /** Fixed addresses; empty = from IPAM. */
  addresses: string[];
  /** Pools to take addresses from (names); empty = IPAM's choice. */
  pools: string[];
  /** Named ports the WorkloadEndpoint declares (policy can match them by name). */
  ports: { name: string; protocol: 'TCP' | 'UDP' | 'SCTP'; port: number }[];
  /** A container runtime that starts it (else a plain namespace given its network by the CNI plugin). */
  runtime?: LabRuntime;
  /** Its address space and tenant address (address-spaces.ts); absent: an ordinary workload. */
  space?: LabSpaceMembership;
}

export const LAB_RUNTIMES = ['podman', 'containerd', 'docker'] as const;
export type LabRuntime = (typeof LAB_RUNTIMES)[number];

export interface Topology {
  name: string;
  /** Prefix of every namespace and process the lab creates; `down` removes everything with it. */
  prefix: string;
  clusterAS: number;
  borderAS: number;
  racks: LabRack[];
  hosts: LabHost[];
  pools: LabPool[];
  workloads: LabWorkload[];
  resources: string[];
  /** Tenants with overlapping IPv4 (docs/xlat.md); created at `up` as AddressSpace resources. */
  addressSpaces: LabAddressSpace[];
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/;
const K8S_NAME = /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads a topology document (already parsed from YAML). `source` names the file in errors. */
export function parseTopology(doc: unknown, source = 'topology'): Topology {
  const issues: FieldIssue[] = [];
  const bad = (path: string, message: string): void => void issues.push({ path, message });
  const known = (o: Obj, path: string, fields: string[]): void => {
    for (const k of Object.keys(o)) {
      if (!fields.includes(k)) bad(path ? `${path}.${k}` : k, `unknown field; valid fields: ${fields.join(', ')}`);
    }
  };
  if (!isObj(doc)) throw new ValidationError([{ path: '', message: 'a topology is a YAML mapping (name, racks, pools, workloads)' }], source);
  known(doc, '', ['name', 'prefix', 'clusterAS', 'borderAS', 'racks', 'routeReflectors', 'pools', 'addressSpaces', 'workloads', 'resources']);

  const name = typeof doc.name === 'string' ? doc.name : 'lab';
  if (!NAME.test(name)) bad('name', `"${name}" must be 1-15 lower-case letters, digits or '-'`);
  const prefix = typeof doc.prefix === 'string' ? doc.prefix : `cts-${name}-`;
  if (!/^[a-z0-9-]{2,20}$/.test(prefix)) bad('prefix', 'must be 2-20 lower-case letters, digits or "-"');
  const clusterAS = asNumber(doc.clusterAS ?? 64512, 'clusterAS', bad);
  const borderAS = asNumber(doc.borderAS ?? 65000, 'borderAS', bad);

  const racks: LabRack[] = [];
  const hosts: LabHost[] = [];
  if (!Array.isArray(doc.racks) || doc.racks.length === 0) bad('racks', 'need at least one rack: racks: [{name: rack1, hosts: [host1]}]');
  const rrNames = Array.isArray(doc.routeReflectors) ? doc.routeReflectors.map(String) : [];
  if (doc.routeReflectors !== undefined && !Array.isArray(doc.routeReflectors)) bad('routeReflectors', 'must be a list of host names');
  (Array.isArray(doc.racks) ? doc.racks : []).forEach((r: unknown, ri) => {
    const path = `racks[${ri}]`;
    if (!isObj(r)) return bad(path, 'must be a mapping with name and hosts');
    known(r, path, ['name', 'tor', 'asNumber', 'hosts']);
    const rackName = typeof r.name === 'string' ? r.name : `rack${ri + 1}`;
    if (!NAME.test(rackName)) bad(`${path}.name`, `"${rackName}" must be 1-15 lower-case letters, digits or '-'`);
    if (racks.some((x) => x.name === rackName)) bad(`${path}.name`, `duplicate rack name "${rackName}"`);
    const tor = r.tor === undefined ? true : r.tor === true;
    if (r.tor !== undefined && typeof r.tor !== 'boolean') bad(`${path}.tor`, 'must be true or false');
    const rackAS = r.asNumber === undefined ? (tor ? 65001 + ri : clusterAS) : asNumber(r.asNumber, `${path}.asNumber`, bad);
    const rack: LabRack = { name: rackName, index: ri, tor, asNumber: rackAS, hosts: [] };
    if (!Array.isArray(r.hosts) || r.hosts.length === 0) bad(`${path}.hosts`, 'need at least one host name');
    (Array.isArray(r.hosts) ? r.hosts : []).forEach((h: unknown, hi) => {
      const hostName = isObj(h) ? String(h.name) : String(h);
      if (!NAME.test(hostName)) bad(`${path}.hosts[${hi}]`, `"${hostName}" must be 1-15 lower-case letters, digits or '-'`);
      if (hosts.some((x) => x.name === hostName)) bad(`${path}.hosts[${hi}]`, `duplicate host name "${hostName}"`);
      if (hi >= 200) bad(`${path}.hosts[${hi}]`, 'at most 200 hosts per rack');
      const host: LabHost = { name: hostName, rack: rackName, index: hi, routeReflector: rrNames.includes(hostName) };
      rack.hosts.push(host);
      hosts.push(host);
    });
    racks.push(rack);
  });
  if (racks.length > 40) bad('racks', 'at most 40 racks');
  if (racks.length > 1 && racks.some((r) => r.tor !== racks[0]!.tor)) {
    bad('racks', 'all racks must agree on "tor": either every rack has a ToR router or none has');
  }
  rrNames.forEach((n, i) => {
    const h = hosts.find((x) => x.name === n);
    if (!h) bad(`routeReflectors[${i}]`, `no host named "${n}"`);
    else if (racks.find((r) => r.name === h.rack)?.tor) bad(`routeReflectors[${i}]`, `host "${n}" is in a rack with a ToR, which reflects routes itself; route reflectors are for flat racks`);
  });

  const pools: LabPool[] = [];
  const poolDocs = doc.pools === undefined ? DEFAULT_POOLS : doc.pools;
  if (!Array.isArray(poolDocs)) bad('pools', 'must be a list of {name, cidr, natOutgoing}');
  (Array.isArray(poolDocs) ? poolDocs : []).forEach((p: unknown, pi) => {
    const path = `pools[${pi}]`;
    if (!isObj(p)) return bad(path, 'must be a mapping {name, cidr, natOutgoing}');
    known(p, path, ['name', 'cidr', 'natOutgoing', 'blockSize']);
    const poolName = String(p.name ?? `pool-${pi}`);
    if (!K8S_NAME.test(poolName)) bad(`${path}.name`, `"${poolName}" is not a valid resource name`);
    const cidr = typeof p.cidr === 'string' ? tryParseCIDR(p.cidr) : undefined;
    if (!cidr) return bad(`${path}.cidr`, `${JSON.stringify(p.cidr)} is not a CIDR such as 198.19.0.0/16 or 2001:db8:ca1c::/48`);
    if (!inLabRanges(cidr)) bad(`${path}.cidr`, `${p.cidr} is outside the ranges the lab may give workloads: 198.19.0.0/16, 192.0.2.0/24, 198.51.100.0/24 or 2001:db8::/32 outside 2001:db8:18::/48 and 2001:db8:203::/48`);
    const blockSize = p.blockSize === undefined ? (cidr.family === 4 ? 26 : 122) : Number(p.blockSize);
    if (!Number.isInteger(blockSize) || blockSize < cidr.prefixLength || blockSize > (cidr.family === 4 ? 32 : 128)) {
      bad(`${path}.blockSize`, `must be between ${cidr.prefixLength} and ${cidr.family === 4 ? 32 : 128}`);
    }
    for (const other of pools) {
      if (cidrOverlaps(parseCIDR(other.cidr), cidr)) bad(`${path}.cidr`, `overlaps pool "${other.name}" (${other.cidr})`);
    }
    pools.push({ name: poolName, cidr: String(p.cidr), natOutgoing: p.natOutgoing === true, blockSize });
  });

  const addressSpaces = parseAddressSpaces(doc.addressSpaces, { bad, pools });
  const spaceAddresses = new Map<string, string>();

  const workloads: LabWorkload[] = [];
  const wlDocs = doc.workloads ?? [];
  if (!Array.isArray(wlDocs)) bad('workloads', 'must be a list of {name, host, namespace, labels}');
  (Array.isArray(wlDocs) ? wlDocs : []).forEach((w: unknown, wi) => {
    const path = `workloads[${wi}]`;
    if (!isObj(w)) return bad(path, 'must be a mapping {name, host, namespace, labels}');
    known(w, path, ['name', 'host', 'namespace', 'labels', 'addresses', 'pools', 'ports', 'runtime', 'addressSpace', 'ip']);
    const space = parseSpaceMembership(w, { path, bad, spaces: addressSpaces, taken: spaceAddresses });
    const runtime = w.runtime === undefined ? undefined : String(w.runtime);
    if (runtime !== undefined && !(LAB_RUNTIMES as readonly string[]).includes(runtime)) bad(`${path}.runtime`, `"${runtime}" is not a runtime the lab runs: ${LAB_RUNTIMES.join(', ')} (or leave it out for a plain namespace)`);
    // Runtimes pass no pod identity: their endpoints are plain CNI (or libnetwork) ones in namespace default.
    if (runtime !== undefined && w.namespace !== undefined && String(w.namespace) !== 'default') bad(`${path}.namespace`, `a ${runtime} workload's WorkloadEndpoint is a plain container's, in namespace default: remove namespace`);
    if (runtime === 'docker') {
      for (const f of ['labels', 'addresses', 'pools', 'ports'] as const) {
        if (w[f] !== undefined) bad(`${path}.${f}`, `calico-libnetwork takes no ${f} from the lab: remove ${f}, or use runtime podman or containerd`);
      }
    }
    const wlName = String(w.name ?? '');
    if (!NAME.test(wlName)) bad(`${path}.name`, `"${wlName}" must be 1-15 lower-case letters, digits or '-'`);
    if (workloads.some((x) => x.name === wlName)) bad(`${path}.name`, `duplicate workload name "${wlName}"`);
    const host = String(w.host ?? '');
    if (!hosts.some((h) => h.name === host)) bad(`${path}.host`, `no host named "${host}"; hosts: ${hosts.map((h) => h.name).join(', ')}`);
    const namespace = String(w.namespace ?? 'default');
    if (!K8S_NAME.test(namespace)) bad(`${path}.namespace`, `"${namespace}" is not a valid namespace name`);
    const labels: Record<string, string> = {};
    if (w.labels !== undefined && !isObj(w.labels)) bad(`${path}.labels`, 'must be a mapping of label names to values');
    for (const [k, v] of Object.entries(isObj(w.labels) ? w.labels : {})) labels[k] = String(v);
    const addresses = Array.isArray(w.addresses) ? w.addresses.map(String) : [];
    addresses.forEach((a, ai) => {
      const ip = tryParseIP(a);
      if (!ip) bad(`${path}.addresses[${ai}]`, `"${a}" is not an IP address`);
      // The CNI plugin takes even fixed addresses from IPAM: they must be in a pool.
      else if (!pools.some((p) => { const c = tryParseCIDR(p.cidr); return c !== undefined && cidrContainsIP(c, ip); })) {
        bad(`${path}.addresses[${ai}]`, `"${a}" is in none of the pools (${pools.map((p) => p.cidr).join(', ')}); the CNI plugin assigns fixed addresses from IPAM pools`);
      }
    });
    const poolNames = Array.isArray(w.pools) ? w.pools.map(String) : [];
    poolNames.forEach((p, pi) => {
      if (!pools.some((x) => x.name === p)) bad(`${path}.pools[${pi}]`, `no pool named "${p}"`);
    });
    const ports: LabWorkload['ports'] = [];
    if (w.ports !== undefined && !Array.isArray(w.ports)) bad(`${path}.ports`, 'must be a list of {name, protocol, port}');
    (Array.isArray(w.ports) ? w.ports : []).forEach((p: unknown, pi: number) => {
      const o = isObj(p) ? p : {};
      const protocol = String(o.protocol ?? 'TCP').toUpperCase();
      const port = Number(o.port);
      if (typeof o.name !== 'string' || !/^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/.test(o.name)) bad(`${path}.ports[${pi}].name`, 'must be a port name such as "http" (lower-case, up to 15 characters)');
      if (!['TCP', 'UDP', 'SCTP'].includes(protocol)) bad(`${path}.ports[${pi}].protocol`, 'must be TCP, UDP or SCTP');
      if (!Number.isInteger(port) || port < 1 || port > 65535) bad(`${path}.ports[${pi}].port`, 'must be a port number 1-65535');
      ports.push({ name: String(o.name), protocol: protocol as 'TCP' | 'UDP' | 'SCTP', port });
    });
    workloads.push({ name: wlName, host, namespace, labels, addresses, pools: poolNames, ports, ...(runtime ? { runtime: runtime as LabRuntime } : {}), ...(space ? { space } : {}) });
  });

  const resources = Array.isArray(doc.resources) ? doc.resources.map(String) : [];
  if (doc.resources !== undefined && !Array.isArray(doc.resources)) bad('resources', 'must be a list of file paths');

  if (issues.length) throw new ValidationError(issues, source);
  return { name, prefix, clusterAS, borderAS, racks, hosts, pools, workloads, resources, addressSpaces };
}

const DEFAULT_POOLS = [
  { name: 'private', cidr: '198.19.0.0/16', natOutgoing: true },
  { name: 'public', cidr: '198.51.100.0/24', natOutgoing: false },
  { name: 'ipv6', cidr: '2001:db8:ca1c::/48', natOutgoing: false },
];

// 198.18.0.0/16 is the lab's own fabric (links, hosts, routers); pools live elsewhere.
const POOL_RANGES = ['198.19.0.0/16', '192.0.2.0/24', '198.51.100.0/24', '2001:db8::/32'].map(parseCIDR);
const FABRIC = ['198.18.0.0/16', '2001:db8:18::/48', '2001:db8:203::/48'].map(parseCIDR);

function inLabRanges(cidr: CIDR): boolean {
  return POOL_RANGES.some((range) => cidrContains(range, cidr)) && !FABRIC.some((f) => cidrOverlaps(f, cidr));
}

function asNumber(v: unknown, path: string, bad: (p: string, m: string) => void): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 4294967295) {
    bad(path, `${JSON.stringify(v)} is not an AS number (1-4294967295)`);
    return 0;
  }
  return n;
}
