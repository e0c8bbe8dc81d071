// Canonical text forms of addresses, CIDRs and set members, matching what
// `nft list` and `ipset save` print, so desired and read-back state compare
// as strings.

import { ValidationError } from '../base/errors.js';
import type { IpVersion } from './model.js';

export function familyOf(addrOrCidr: string): IpVersion {
  return addrOrCidr.includes(':') ? 6 : 4;
}

function parseV4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : NaN));
  return out.every((n) => n >= 0 && n <= 255) ? out : undefined;
}

function parseV6(text: string): number[] | undefined {
  // Returns 8 groups of 16 bits; an embedded IPv4 tail becomes two groups first.
  let head = text;
  if (head.includes('.')) {
    const at = head.lastIndexOf(':');
    const v4 = parseV4(head.slice(at + 1));
    if (!v4) return undefined;
    head = `${head.slice(0, at + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string): number[] =>
    s === '' ? [] : s.split(':').map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : NaN));
  const a = parse(halves[0]!);
  const b = halves.length === 2 ? parse(halves[1]!) : [];
  if (a.some(Number.isNaN) || b.some(Number.isNaN)) return undefined;
  if (halves.length === 1 && a.length !== 8) return undefined;
  if (a.length + b.length > (halves.length === 2 ? 7 : 8)) return undefined;
  const zeros = Array(8 - a.length - b.length).fill(0) as number[];
  return [...a, ...zeros, ...b];
}

function formatV6(groups: number[]): string {
  // RFC 5952: compress the longest run (>= 2) of zero groups, leftmost first.
  let bestAt = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestAt === -1) return hex.join(':');
  return hex.slice(0, bestAt).join(':') + '::' + hex.slice(bestAt + bestLen).join(':');
}

function bitsOf(groups: number[], width: number): bigint {
  return groups.reduce((acc, g) => (acc << BigInt(width)) | BigInt(g), 0n);
}

/**
 * "10.0.0.5/24" -> "10.0.0.0/24", "10.0.0.1/32" -> "10.0.0.1", "2001:DB8:0::1/128" -> "2001:db8::1".
 * Throws ValidationError for text that is not an address or CIDR.
 */
export function canonicalCidr(text: string): string {
  const [addr, lenText, extra] = text.trim().split('/');
  if (extra !== undefined || !addr) throw new ValidationError([{ path: '', message: `'${text}' is not a CIDR` }]);
  const v6 = addr.includes(':');
  const groups = v6 ? parseV6(addr) : parseV4(addr);
  const max = v6 ? 128 : 32;
  const len = lenText === undefined ? max : /^\d+$/.test(lenText) ? Number(lenText) : NaN;
  if (!groups || !(len >= 0 && len <= max)) throw new ValidationError([{ path: '', message: `'${text}' is not a CIDR` }]);
  const width = v6 ? 16 : 8;
  let bits = bitsOf(groups, width);
  const mask = len === 0 ? 0n : ((1n << BigInt(len)) - 1n) << BigInt(max - len);
  bits &= mask;
  const out: number[] = [];
  const n = v6 ? 8 : 4;
  for (let i = n - 1; i >= 0; i--) out[i] = Number((bits >> BigInt((n - 1 - i) * width)) & BigInt((1 << width) - 1));
  const a = v6 ? formatV6(out) : out.join('.');
  return len === max ? a : `${a}/${len}`;
}

export function prefixLength(cidr: string): number {
  const slash = cidr.indexOf('/');
  return slash === -1 ? (cidr.includes(':') ? 128 : 32) : Number(cidr.slice(slash + 1));
}

/** "80-80" -> "80", "80-90" stays. */
export function portText(first: number, last: number): string {
  return first === last ? String(first) : `${first}-${last}`;
}
