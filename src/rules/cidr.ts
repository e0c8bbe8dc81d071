// Canonical text forms of addresses, CIDRs and set members, matching what
// `nft list` and `ipset save` print, so desired and read-back state compare
// as strings.

import { ValidationError } from '../base/errors.js';
import { bitsOf, firstAddress, formatIP, tryParseCIDROrIP } from '../base/ip.js';
import { ipVersionOf } from '../calc/output.js';

/** The calc graph's `ipVersionOf`, under the name the compiler and the managers use. */
export const familyOf = ipVersionOf;

/**
 * "10.0.0.5/24" -> "10.0.0.0/24", "10.0.0.1/32" -> "10.0.0.1", "2001:DB8:0::1/128" -> "2001:db8::1".
 * Throws ValidationError for text that is not an address or CIDR.
 */
export function canonicalCidr(text: string): string {
  const c = tryParseCIDROrIP(text.trim());
  if (!c) throw new ValidationError([{ path: '', message: `'${text}' is not a CIDR` }]);
  const a = formatIP(firstAddress(c));
  return c.prefixLength === bitsOf(c.family) ? a : `${a}/${c.prefixLength}`;
}

export function prefixLength(cidr: string): number {
  const slash = cidr.indexOf('/');
  return slash === -1 ? (cidr.includes(':') ? 128 : 32) : Number(cidr.slice(slash + 1));
}

/** "80-80" -> "80", "80-90" stays. */
export function portText(first: number, last: number): string {
  return first === last ? String(first) : `${first}-${last}`;
}
