// The IPAM face of src/base/ip.ts: parse errors become ValidationErrors with a
// field path (what the IPAM API reports), and pool/block vocabulary sits on top
// of the generic subnet arithmetic. All address math lives in base/ip.ts.
import { ValidationError } from '../base/errors.js';
import {
  bitsOf,
  formatCIDR,
  formatIP,
  tryParseCIDRWithIP,
  tryParseIP,
  type CIDR,
  type IPAddress,
} from '../base/ip.js';

function bad(path: string, message: string): ValidationError {
  return new ValidationError([{ path, message }]);
}

/** Parses an IPv4 or IPv6 address (surrounding blanks ignored); undefined when it is neither. */
export function tryParseIp(text: string): IPAddress | undefined {
  return tryParseIP(text.trim());
}

export function parseIp(text: string, path = 'ip'): IPAddress {
  const ip = tryParseIp(text);
  if (!ip) throw bad(path, `'${text}' is not an IPv4 or IPv6 address`);
  return ip;
}

/** Canonical text of an address (IPv6 compressed, lower case). */
export function canonicalIp(text: string): string {
  return formatIP(parseIp(text));
}

/** Parses `a.b.c.d/n` or `x::/n`. With `strict`, host bits must be zero (pool and block CIDRs). */
export function parseCidr(text: string, opts: { path?: string; strict?: boolean } = {}): CIDR {
  const path = opts.path ?? 'cidr';
  const slash = text.indexOf('/');
  if (slash < 0) throw bad(path, `'${text}' is not a CIDR (expected address/prefix-length)`);
  const parsed = tryParseCIDRWithIP(text);
  if (!parsed) {
    const ip = tryParseIP(text.slice(0, slash));
    if (!ip) throw bad(path, `'${text}' is not a CIDR: bad address`);
    throw bad(path, `'${text}' is not a CIDR: prefix length must be 0-${bitsOf(ip.family)}`);
  }
  if (opts.strict && parsed.hadHostBits) {
    throw bad(path, `'${text}' has host bits set; did you mean ${formatCIDR(parsed.cidr)}?`);
  }
  return parsed.cidr;
}

/** Canonical text of a CIDR, host bits cleared. */
export function canonicalCidr(text: string): string {
  return formatCIDR(parseCidr(text));
}

/** Number of `/blockSize` blocks in `pool`. */
export function blockCount(pool: CIDR, blockSize: number): bigint {
  return 1n << BigInt(blockSize - pool.prefixLength);
}

/** The i-th `/blockSize` block of `pool`, in address order. */
export function nthBlock(pool: CIDR, at: { blockSize: number; index: bigint }): CIDR {
  const step = 1n << BigInt(bitsOf(pool.family) - at.blockSize);
  return { family: pool.family, address: pool.address + at.index * step, prefixLength: at.blockSize };
}
