// Address spaces in the lab's topology file (docs/xlat.md): tenants whose
// IPv4 ranges may overlap, each with an IPv6 /96 translation prefix. Pure.
//
//   addressSpaces:
//     - { name: tenant-a, prefix: "2001:db8:64:1::/96" }
//     - { name: tenant-b, prefix: "2001:db8:64:2::/96" }
//   workloads:
//     - { name: a1, host: host1, addressSpace: tenant-a, ip: 198.51.100.1 }
//     - { name: b1, host: host1, addressSpace: tenant-b, ip: 198.51.100.1 }   # the same address, another tenant
//
// A space workload's address is the tenant's own: it is given here (`ip`) and
// reaches the CNI plugin as Calico's ipAddrsNoIpam annotation, never from a pool.
import { ValidationError } from '../base/errors.js';
import { cidrContains, cidrContainsIP, cidrOverlaps, parseCIDR, tryParseIP } from '../base/ip.js';
import { validateResource } from '../api/index.js';
import { API_VERSION } from '../api/kinds.js';
import type { Resource } from '../api/resource.js';

export interface LabAddressSpace {
  name: string;
  /** The IPv6 /96 translation prefix (normalised by the AddressSpace validation). */
  prefix: string;
  services: { ipv4: string; ipv6: string }[];
}

/** A workload's place in a space: the space and its one IPv4 address there. */
export interface LabSpaceMembership {
  name: string;
  ip: string;
}

type Obj = Record<string, unknown>;
type Bad = (path: string, message: string) => void;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Where the lab lets tenants' IPv4 addresses live (the project's test ranges outside the fabric's 198.18.0.0/16). */
const SPACE_IPV4_RANGES = ['198.19.0.0/16', '192.0.2.0/24', '198.51.100.0/24'].map(parseCIDR);
/** Translation prefixes: inside the documentation /32, away from the fabric's and the internet's IPv6. */
const PREFIX_RANGE = parseCIDR('2001:db8::/32');
const FABRIC6 = ['2001:db8:18::/48', '2001:db8:203::/48'].map(parseCIDR);

export function addressSpaceResource(s: LabAddressSpace): Resource {
  return { apiVersion: API_VERSION, kind: 'AddressSpace', metadata: { name: s.name }, spec: { prefix: s.prefix, ...(s.services.length ? { services: s.services } : {}) } };
}

/** `addressSpaces:` of a topology; each entry is checked as the AddressSpace resource it becomes. */
export function parseAddressSpaces(v: unknown, opts: { bad: Bad; pools: { name: string; cidr: string }[] }): LabAddressSpace[] {
  const { bad } = opts;
  const out: LabAddressSpace[] = [];
  if (v === undefined) return out;
  if (!Array.isArray(v)) {
    bad('addressSpaces', 'must be a list of {name, prefix}, e.g. [{name: tenant-a, prefix: "2001:db8:64:1::/96"}]');
    return out;
  }
  v.forEach((s: unknown, i) => {
    const path = `addressSpaces[${i}]`;
    if (!isObj(s)) return bad(path, 'must be a mapping {name, prefix, services}');
    for (const k of Object.keys(s)) if (!['name', 'prefix', 'services'].includes(k)) bad(`${path}.${k}`, 'unknown field; valid fields: name, prefix, services');
    const name = String(s.name ?? '');
    let resource: Resource;
    try {
      resource = validateResource({ apiVersion: API_VERSION, kind: 'AddressSpace', metadata: { name }, spec: { prefix: s.prefix, ...(s.services !== undefined ? { services: s.services } : {}) } });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      // The resource's own messages, at the topology's paths (metadata.name -> name, spec.prefix -> prefix).
      for (const issue of err.issues) bad(`${path}.${issue.path.replace(/^metadata\./, '').replace(/^spec\./, '')}`, issue.message);
      return;
    }
    const spec = resource.spec as { prefix: string; services?: { ipv4: string; ipv6: string }[] };
    const prefix = parseCIDR(spec.prefix);
    if (!cidrContains(PREFIX_RANGE, prefix) || FABRIC6.some((f) => cidrOverlaps(f, prefix))) {
      bad(`${path}.prefix`, `${spec.prefix} is outside the lab's translation range: use a /96 in 2001:db8::/32 outside 2001:db8:18::/48 and 2001:db8:203::/48, e.g. 2001:db8:64:${i + 1}::/96`);
    }
    if (out.some((o) => o.name === name)) bad(`${path}.name`, `duplicate address space name "${name}"`);
    const clash = out.find((o) => cidrOverlaps(parseCIDR(o.prefix), prefix));
    if (clash) bad(`${path}.prefix`, `overlaps address space "${clash.name}" (${clash.prefix}): each space needs its own /96`);
    const pool = opts.pools.find((p) => cidrOverlaps(parseCIDR(p.cidr), prefix));
    if (pool) bad(`${path}.prefix`, `overlaps pool "${pool.name}" (${pool.cidr}): calico-node would ignore the space`);
    out.push({ name, prefix: spec.prefix, services: spec.services ?? [] });
  });
  return out;
}

/**
 * A workload's `addressSpace` and `ip`. Both or neither; a space workload is
 * a plain namespace (no runtime) with no pools or IPAM addresses. Returns
 * undefined for a workload outside any space.
 */
export function parseSpaceMembership(w: Obj, opts: { path: string; bad: Bad; spaces: LabAddressSpace[]; taken: Map<string, string> }): LabSpaceMembership | undefined {
  const { path, bad } = opts;
  if (w.addressSpace === undefined && w.ip === undefined) return undefined;
  if (w.addressSpace === undefined) {
    bad(`${path}.ip`, 'is the address of a workload in an address space: add addressSpace, or give a pool address with addresses: [...]');
    return undefined;
  }
  const name = String(w.addressSpace);
  if (!opts.spaces.some((s) => s.name === name)) {
    bad(`${path}.addressSpace`, `no address space named "${name}"; declare it under addressSpaces (known: ${opts.spaces.map((s) => s.name).join(', ') || 'none'})`);
  }
  for (const f of ['addresses', 'pools', 'runtime'] as const) {
    if (w[f] !== undefined) bad(`${path}.${f}`, `a workload in address space "${name}" has one tenant address (ip) and is a plain namespace: remove ${f}`);
  }
  if (w.ip === undefined) {
    bad(`${path}.ip`, `is required in address space "${name}": the tenant's own IPv4 address, e.g. ip: 198.51.100.1 (no pool hands out a space's addresses)`);
    return undefined;
  }
  const ip = String(w.ip);
  const parsed = tryParseIP(ip);
  if (!parsed || parsed.family !== 4) {
    bad(`${path}.ip`, `"${ip}" is not an IPv4 address: a workload in an address space has one IPv4 address (its IPv6 form comes from the space's prefix)`);
    return undefined;
  }
  if (!SPACE_IPV4_RANGES.some((r) => cidrContainsIP(r, parsed))) bad(`${path}.ip`, `"${ip}" is outside the ranges the lab may give workloads: 198.19.0.0/16, 192.0.2.0/24, 198.51.100.0/24`);
  const key = `${name} ${ip}`;
  const holder = opts.taken.get(key);
  if (holder) bad(`${path}.ip`, `"${ip}" is already workload "${holder}"'s in address space "${name}" (the same address is fine in another space)`);
  opts.taken.set(key, String(w.name ?? ''));
  return { name, ip };
}
