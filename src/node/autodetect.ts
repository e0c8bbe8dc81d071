// Node address autodetection, the way calico/node does it
// (node/pkg/lifecycle/startup/autodetection). Pure: the interface list and the
// kernel's route lookup are passed in (host.ts reads them with `ip -j`, in the
// agent's own network namespace). Every result carries its reason, which the
// agent logs; nothing is ever guessed.
//
// Methods (IP_AUTODETECTION_METHOD / IP6_AUTODETECTION_METHOD):
//   first-found            every interface except Calico's default exclusions
//   interface=<re>,<re>    only interfaces whose name matches one regex
//   skip-interface=<re>,.. the default exclusions plus these regexes
//   cidr=<cidr>,<cidr>     the first address inside one of the CIDRs
//   can-reach=<ip|name>    the source address the kernel picks to reach it
//   kubernetes-internal-ip refused: there is no Kubernetes Node to read
// Regexes are Calico's: comma-separated (spaces around commas ignored),
// unanchored (`eth0` also matches `veth0abc`), joined as `(a)|(b)`.
// Interfaces are tried in calico/node's order: highest interface index first
// (it walks the kernel's list backwards), each interface's addresses in the
// kernel's order; only global unicast addresses count.
import { cidrContainsIP, formatIP, tryParseCIDR, tryParseIP } from '../base/ip.js';
import type { CIDR, IPFamily } from '../base/ip.js';

export interface HostAddress {
  iface: string;
  /** Kernel interface index; orders interfaces as calico/node does. Without it, list order stands in. */
  ifindex?: number;
  /** Plain address. */
  address: string;
  prefixLength: number;
  family: IPFamily;
  internal?: boolean;
}

export type AutodetectionMethod =
  | { kind: 'first-found' }
  | { kind: 'interface'; patterns: string[] }
  | { kind: 'skip-interface'; patterns: string[] }
  | { kind: 'cidr'; cidrs: string[] }
  | { kind: 'can-reach'; destination: string }
  | { kind: 'kubernetes-internal-ip' };

export type AddressChoice = { ok: true; cidr: string; reason: string } | { ok: false; reason: string };

/** The kernel's answer to "which source address would reach this?" (`ip route get`); no packet is sent. */
export interface ReachLookup {
  /** Resolves a name (for this family) and returns the preferred source address, or throws with the kernel's reason. */
  sourceFor(destination: string, family: IPFamily): Promise<string>;
}

/** calico/node's DEFAULT_INTERFACES_TO_EXCLUDE (Linux): container bridges, our own veths, tunnels, loopback. */
export const DEFAULT_INTERFACES_TO_EXCLUDE = [
  '^docker.*', '^cbr.*', '^dummy.*', '^podman.*', '^virbr.*', '^lxcbr.*', '^veth.*', '^lo', '^br-.*',
  '^cali.*', '^tunl.*', '^flannel.*', '^kube-ipvs.*', '^cni.*', '^vxlan\\.calico.*', '^vxlan-v6\\.calico.*',
  '^wireguard\\.cali.*', '^wg-v6\\.cali.*', '^nodelocaldns.*',
];

const METHODS_HELP = 'first-found, interface=<regex,...>, skip-interface=<regex,...>, cidr=<cidr,...> or can-reach=<address or name>';

/** Calico splits lists on commas with any spaces around them. */
const splitList = (text: string): string[] => text.split(/\s*,\s*/);

/**
 * Reads one autodetection method. `variable` names the environment variable in
 * messages; `family` lets can-reach refuse an address of the other family.
 */
export function parseAutodetectionMethod(text: string, opts: { variable: string; family: IPFamily }): { ok: true; method: AutodetectionMethod } | { ok: false; message: string } {
  const { variable, family } = opts;
  const bad = (message: string) => ({ ok: false as const, message });
  if (text === '' || text === 'first-found') return { ok: true, method: { kind: 'first-found' } };
  const regexList = (prefix: string, kind: 'interface' | 'skip-interface') => {
    const patterns = splitList(text.slice(prefix.length).trim());
    for (const p of patterns) {
      if (p === '') return bad(`"${text}" has an empty regular expression (an empty one would match every interface): give ${prefix}<regex>[,<regex>...]`);
      try {
        new RegExp(p);
      } catch (err) {
        return bad(`"${p}" in ${variable}=${text} is not a valid regular expression (${(err as Error).message})`);
      }
    }
    return { ok: true as const, method: { kind, patterns } };
  };
  if (text.startsWith('interface=')) return regexList('interface=', 'interface');
  if (text.startsWith('cidr=')) {
    const cidrs = splitList(text.slice('cidr='.length).trim());
    for (const c of cidrs) {
      if (!tryParseCIDR(c)) return bad(`"${c}" in ${variable}=${text} is not a CIDR: give cidr=<address>/<prefix>[,...], e.g. cidr=${family === 4 ? '192.0.2.0/24' : '2001:db8::/64'}`);
    }
    return { ok: true, method: { kind: 'cidr', cidrs } };
  }
  if (text.startsWith('can-reach=')) {
    const destination = text.slice('can-reach='.length).trim();
    const ip = tryParseIP(destination);
    if (ip && ip.family !== family) return bad(`can-reach=${destination} is an IPv${ip.family} address but ${variable} detects the IPv${family} address: give an IPv${family} address or a name`);
    if (!ip && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?\.?$/.test(destination)) {
      return bad(`"${destination}" in ${variable}=${text} is neither an IP address nor a host name: give can-reach=<address or name>`);
    }
    return { ok: true, method: { kind: 'can-reach', destination } };
  }
  if (text.startsWith('skip-interface=')) return regexList('skip-interface=', 'skip-interface');
  if (text.startsWith('kubernetes-internal-ip')) return { ok: true, method: { kind: 'kubernetes-internal-ip' } };
  return bad(`"${text}" is not an autodetection method: use ${METHODS_HELP} (the names are case-sensitive)`);
}

export function describeMethod(m: AutodetectionMethod): string {
  switch (m.kind) {
    case 'first-found':
    case 'kubernetes-internal-ip':
      return m.kind;
    case 'interface':
    case 'skip-interface':
      return `${m.kind}=${m.patterns.join(',')}`;
    case 'cidr':
      return `cidr=${m.cidrs.join(',')}`;
    case 'can-reach':
      return `can-reach=${m.destination}`;
  }
}

interface HostInterface {
  name: string;
  addresses: HostAddress[];
}

/** Interfaces in calico/node's order: highest index first; addresses in the order given. */
function interfacesInCalicoOrder(addresses: HostAddress[]): HostInterface[] {
  const byName = new Map<string, HostInterface & { index: number; seen: number }>();
  addresses.forEach((a, i) => {
    let entry = byName.get(a.iface);
    if (!entry) byName.set(a.iface, (entry = { name: a.iface, addresses: [], index: a.ifindex ?? Number.NaN, seen: i }));
    entry.addresses.push(a);
  });
  const list = [...byName.values()];
  const indexed = list.every((e) => Number.isFinite(e.index));
  list.sort((x, y) => (indexed ? y.index - x.index : y.seen - x.seen));
  return list;
}

const combined = (patterns: string[]): RegExp | undefined => (patterns.length ? new RegExp(`(${patterns.join(')|(')})`) : undefined);

/** Go's net.IP.IsGlobalUnicast: not unspecified, loopback, multicast, link-local or the IPv4 broadcast. */
export function isGlobalUnicast(address: string): boolean {
  const ip = tryParseIP(address);
  if (!ip) return false;
  if (ip.family === 4) {
    const v = ip.value;
    const first = Number(v >> 24n);
    if (v === 0n || v === 0xffffffffn || first === 127 || (first >= 224 && first <= 239)) return false;
    return !(first === 169 && Number((v >> 16n) & 0xffn) === 254);
  }
  const v = ip.value;
  if (v === 0n || v === 1n) return false;
  const top16 = Number(v >> 112n);
  if (top16 >> 8 === 0xff) return false; // ff00::/8 multicast
  return (top16 & 0xffc0) !== 0xfe80; // fe80::/10 link-local
}

/** calico/node's FilteredEnumeration: include/exclude interface regexes, optional CIDR filter. */
function filteredEnumeration(addresses: HostAddress[], opts: { family: IPFamily; include?: string[]; exclude?: string[]; cidrs?: CIDR[] }): { iface: string; cidr: string } | { error: string } {
  const include = combined(opts.include ?? []);
  const exclude = combined(opts.exclude ?? []);
  const ifaces = interfacesInCalicoOrder(addresses).filter((i) => (!include || include.test(i.name)) && !(exclude && exclude.test(i.name)));
  if (ifaces.length === 0) return { error: 'no valid host interfaces found' };
  for (const i of ifaces) {
    for (const a of i.addresses) {
      if (a.family !== opts.family || !isGlobalUnicast(a.address)) continue;
      const ip = tryParseIP(a.address)!;
      if (opts.cidrs?.length && !opts.cidrs.some((c) => cidrContainsIP(c, ip))) continue;
      return { iface: i.name, cidr: `${formatIP(ip)}/${a.prefixLength}` };
    }
  }
  return { error: `no valid IPv${opts.family} addresses found on the host interfaces` };
}

/** The interface address (with its prefix) equal to `address`, from every interface (no exclusions), as calico/node looks it up. */
export function localCIDROf(addresses: HostAddress[], address: string): { iface: string; cidr: string } | undefined {
  const ip = tryParseIP(address);
  if (!ip) return undefined;
  for (const i of interfacesInCalicoOrder(addresses)) {
    for (const a of i.addresses) {
      const other = tryParseIP(a.address);
      if (other && other.family === ip.family && other.value === ip.value) return { iface: i.name, cidr: `${formatIP(ip)}/${a.prefixLength}` };
    }
  }
  return undefined;
}

/** Detects the node's address of one family with one method. */
export async function detectNodeAddress(addresses: HostAddress[], opts: { family: IPFamily; method: AutodetectionMethod; reach?: ReachLookup }): Promise<AddressChoice> {
  const { family, method } = opts;
  const name = describeMethod(method);
  const fromEnumeration = (r: ReturnType<typeof filteredEnumeration>, why: string): AddressChoice =>
    'error' in r ? { ok: false, reason: `autodetection method ${name}: ${r.error}` } : { ok: true, cidr: r.cidr, reason: `autodetection method ${name}: ${why}, interface ${r.iface}` };
  switch (method.kind) {
    case 'first-found':
      return fromEnumeration(filteredEnumeration(addresses, { family, exclude: DEFAULT_INTERFACES_TO_EXCLUDE }), 'first global unicast address (loopback, container and tunnel interfaces skipped)');
    case 'interface':
      return fromEnumeration(filteredEnumeration(addresses, { family, include: method.patterns }), 'first address on a matching interface');
    case 'skip-interface':
      return fromEnumeration(filteredEnumeration(addresses, { family, exclude: [...DEFAULT_INTERFACES_TO_EXCLUDE, ...method.patterns] }), 'first address on an interface not skipped');
    case 'cidr':
      return fromEnumeration(filteredEnumeration(addresses, { family, cidrs: method.cidrs.map((c) => tryParseCIDR(c)!) }), 'first address inside the CIDRs');
    case 'can-reach': {
      if (!opts.reach) return { ok: false, reason: `autodetection method ${name}: no route lookup available` };
      let source: string;
      try {
        source = await opts.reach.sourceFor(method.destination, family);
      } catch (err) {
        return { ok: false, reason: `autodetection method ${name}: cannot reach ${method.destination}: ${(err as Error).message}` };
      }
      const local = localCIDROf(addresses, source);
      if (!local) return { ok: false, reason: `autodetection method ${name}: the kernel's source address ${source} does not match any address on the local interfaces` };
      return { ok: true, cidr: local.cidr, reason: `autodetection method ${name}: the kernel routes to ${method.destination} from ${source}, interface ${local.iface}` };
    }
    case 'kubernetes-internal-ip':
      return { ok: false, reason: 'autodetection method kubernetes-internal-ip needs the Kubernetes Node resource, and calico-ts does not run with Kubernetes: use first-found, interface=, skip-interface=, cidr= or can-reach=' };
  }
}
