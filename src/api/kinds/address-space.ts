// AddressSpace (calico-ts extension, issue 12): a tenant "instance" whose
// IPv4 addresses may overlap other tenants'. Its endpoints' IPv4 traffic is
// translated statelessly to IPv6 inside `prefix` (RFC 6052 /96) at the source
// host and back at the destination (docs/design/xlat.md). `services` maps
// IPv4 addresses of the tenant's view to IPv6 services (DC-SIIT, RFC 7757).
// Only rules intrinsic to one space live here; overlap with other spaces and
// pools is checked where both are seen (src/xlat/space-view.ts).
import { cidrContainsIP, cidrOverlaps, formatCIDR, parseCIDR, tryParseCIDR, tryParseCIDRWithIP, tryParseIP } from '../../base/ip.js';
import { describe, list, obj, type Check, type KindSchema } from '../validate.js';
import { ipAddress } from '../values.js';

export interface AddressSpaceService {
  /** The address the tenant's workloads use (in their IPv4 view). */
  ipv4: string;
  /** The IPv6 service it stands for. */
  ipv6: string;
}

export interface AddressSpaceSpec {
  /** IPv6 /96 (RFC 6052): a translated address is prefix | IPv4. */
  prefix: string;
  services?: AddressSpaceService[];
}

const FORBIDDEN_PREFIXES: [string, string][] = [
  ['64:ff9b::/96', "RFC 6052's well-known prefix is only for global IPv4 addresses, never a tenant's own range: use a prefix of your network, e.g. 2001:db8:64:1::/96"],
  ['fe80::/10', 'link-local addresses are not routed'],
  ['ff00::/8', 'multicast addresses cannot be a translation prefix'],
  ['::/8', 'reserved (includes the unspecified, loopback and IPv4-mapped addresses)'],
];

/** The /96: masked, RFC 6052's u-octet (bits 64-71) zero, not a reserved range. */
const xlatPrefix: Check<string> = (v, at) => {
  const parsed = typeof v === 'string' ? tryParseCIDRWithIP(v) : undefined;
  if (!parsed || parsed.cidr.family !== 6) {
    at.add(`${describe(v)} is not an IPv6 CIDR: the prefix is an IPv6 /96 such as "2001:db8:64:1::/96" (the tenant's IPv4 address fills the last 32 bits)`);
    return v as string;
  }
  const c = parsed.cidr;
  if (c.prefixLength !== 96) {
    at.add(`"${v}" is a /${c.prefixLength}: an address space's prefix must be a /96 (RFC 6052 /96 format: IPv4 in the last 32 bits), e.g. "${formatCIDR({ ...c, prefixLength: 96, address: c.address & ~((1n << 32n) - 1n) })}"`);
    return v as string;
  }
  if (parsed.hadHostBits) {
    at.add(`"${v}" has bits set in its last 32 bits (where the IPv4 address goes): did you mean "${formatCIDR(c)}"?`);
    return v as string;
  }
  if (((c.address >> 56n) & 0xffn) !== 0n) {
    at.add(`"${v}" sets bits 64-71, RFC 6052's reserved u-octet, which must be zero: choose a prefix with 0 in the fifth group's first byte, e.g. "2001:db8:64:1::/96"`);
    return v as string;
  }
  for (const [bad, why] of FORBIDDEN_PREFIXES) {
    if (cidrOverlaps(parseCIDR(bad), c)) {
      at.add(`"${v}" is inside ${bad}: ${why}`);
      return v as string;
    }
  }
  return formatCIDR(c);
};

const serviceIPv4: Check<string> = (v, at) => {
  const out = ipAddress(4)(v, at);
  const ip = tryParseIP(out);
  if (ip && (ip.value >> 28n === 0xen || ip.value === 0xffffffffn || ip.value === 0n)) {
    at.add(`"${out}" is a multicast, broadcast or unspecified address: a mapped service needs a unicast IPv4 address`);
  }
  return out;
};

export const addressSpaceSchema: KindSchema<AddressSpaceSpec> = {
  spec: () =>
    obj<AddressSpaceSpec>(
      {
        prefix: xlatPrefix,
        services: list(obj<AddressSpaceService>({ ipv4: serviceIPv4, ipv6: ipAddress(6) }, { required: ['ipv4', 'ipv6'] }), { maxItems: 4096 }),
      },
      {
        required: ['prefix'],
        refine: (s, at) => {
          const prefix = typeof s.prefix === 'string' ? tryParseCIDR(s.prefix) : undefined;
          const seen4 = new Map<string, number>();
          const seen6 = new Map<string, number>();
          (s.services ?? []).forEach((svc, i) => {
            const item = at.field('services').item(i);
            const v6 = tryParseIP(svc.ipv6 ?? '');
            if (prefix && v6 && cidrContainsIP(prefix, v6)) {
              item.field('ipv6').add(`"${svc.ipv6}" is inside this space's own prefix ${s.prefix}: a service is outside the space (map it to its real IPv6 address)`);
            }
            if (v6 && (v6.value >> 118n === 0x3fan || v6.value >> 120n === 0xffn)) item.field('ipv6').add(`"${svc.ipv6}" is link-local or multicast: a service needs a routable IPv6 address`);
            const d4 = seen4.get(svc.ipv4);
            if (d4 !== undefined) item.field('ipv4').add(`"${svc.ipv4}" is already mapped by services[${d4}]: each IPv4 address maps to one service`);
            else seen4.set(svc.ipv4, i);
            const d6 = seen6.get(svc.ipv6);
            if (d6 !== undefined) item.field('ipv6').add(`"${svc.ipv6}" is already mapped by services[${d6}]: each service has one IPv4 address in a space (replies need one source)`);
            else seen6.set(svc.ipv6, i);
          });
        },
      },
    ),
};
