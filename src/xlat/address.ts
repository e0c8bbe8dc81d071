// RFC 6052 /96 address math for address spaces: an IPv4 address in a space
// is `prefix | ipv4`; decoding finds the space whose /96 holds an IPv6
// address. Pure.
import { cidrContainsIP, formatCIDR, formatIP, parseIP, tryParseCIDR, tryParseIP, type CIDR, type IPAddress } from '../base/ip.js';

export const XLAT_PREFIX_LENGTH = 96;
/** RFC 6052's well-known prefix: only for global IPv4, so never a tenant's space. */
export const WELL_KNOWN_PREFIX = '64:ff9b::/96';
/** RFC 7600: the source of translated ICMP errors from outside a space. */
export const IPV4_DUMMY = '192.0.0.8';

/** The space's translated form of an IPv4 address. */
export function embed(prefix: CIDR, ipv4: IPAddress): IPAddress {
  if (prefix.family !== 6 || prefix.prefixLength !== XLAT_PREFIX_LENGTH || ipv4.family !== 4) {
    throw new TypeError(`embed needs an IPv6 /96 and an IPv4 address (got ${formatCIDR(prefix)}, ${formatIP(ipv4)})`);
  }
  return { family: 6, value: prefix.address | ipv4.value };
}

/** `198.18.5.0/24` in space `2001:db8:64:7::/96` -> `2001:db8:64:7::c612:500/120`. */
export function embedCIDR(prefix: CIDR, ipv4: CIDR): CIDR {
  return { family: 6, address: embed(prefix, { family: 4, value: ipv4.address }).value, prefixLength: XLAT_PREFIX_LENGTH + ipv4.prefixLength };
}

export function extract(ipv6: IPAddress): IPAddress {
  return { family: 4, value: ipv6.value & 0xffffffffn };
}

export interface SpacePrefix {
  name: string;
  prefix: string;
}

export interface Decoded {
  space: string;
  ipv4: string;
}

/** Which space an IPv6 address belongs to, and its IPv4 address; undefined when none holds it. */
export function decode(spaces: SpacePrefix[], ipv6Text: string): Decoded | undefined {
  const ip = tryParseIP(ipv6Text);
  if (!ip || ip.family !== 6) return undefined;
  for (const s of spaces) {
    const c = tryParseCIDR(s.prefix);
    if (c && cidrContainsIP(c, ip)) return { space: s.name, ipv4: formatIP(extract(ip)) };
  }
  return undefined;
}

/** Translated form of an IPv4 address or CIDR text in a space prefix. */
export function encodeText(prefixText: string, ipv4Text: string): string {
  const prefix = tryParseCIDR(prefixText);
  if (!prefix) throw new TypeError(`'${prefixText}' is not a prefix`);
  if (ipv4Text.includes('/')) {
    const c = tryParseCIDR(ipv4Text);
    if (!c || c.family !== 4) throw new TypeError(`'${ipv4Text}' is not an IPv4 CIDR`);
    return formatCIDR(embedCIDR(prefix, c));
  }
  return formatIP(embed(prefix, parseIP(ipv4Text)));
}
