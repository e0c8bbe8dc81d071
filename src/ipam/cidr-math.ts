// Address and CIDR arithmetic IPAM needs, on bigints so IPv4 and IPv6 share one code path.
// Kept inside ipam/ so the allocator does not wait on, or couple to, src/base/ip.ts;
// everything here is pure and total (bad input throws ValidationError).
import { ValidationError } from '../base/errors.js';

export type IpFamily = 4 | 6;

export interface Cidr {
  family: IpFamily;
  /** Network address (host bits zero). */
  base: bigint;
  prefix: number;
}

export const familyBits = (family: IpFamily): number => (family === 4 ? 32 : 128);

function bad(path: string, message: string): ValidationError {
  return new ValidationError([{ path, message }]);
}

function parseV4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    value = (value << 8n) | BigInt(Number(p));
  }
  return value;
}

function parseV6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const items = s.split(':');
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (item.includes('.') && i === items.length - 1) {
        const v4 = parseV4(item);
        if (v4 === undefined) return undefined;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(item)) {
        out.push(parseInt(item, 16));
      } else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** Parses an IPv4 or IPv6 address; undefined when it is neither. */
export function tryParseIp(text: string): { family: IpFamily; value: bigint } | undefined {
  const t = text.trim();
  if (t.includes(':')) {
    const v = parseV6(t);
    return v === undefined ? undefined : { family: 6, value: v };
  }
  const v = parseV4(t);
  return v === undefined ? undefined : { family: 4, value: v };
}

export function parseIp(text: string, path = 'ip'): { family: IpFamily; value: bigint } {
  const ip = tryParseIp(text);
  if (!ip) throw bad(path, `'${text}' is not an IPv4 or IPv6 address`);
  return ip;
}

export function formatIp(family: IpFamily, value: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (length >= 2) of zero groups, the first one on ties.
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`;
}

/** Canonical text of an address (IPv6 compressed, lower case). */
export function canonicalIp(text: string): string {
  const ip = parseIp(text);
  return formatIp(ip.family, ip.value);
}

/** Parses `a.b.c.d/n` or `x::/n`. With `strict`, host bits must be zero (pool and block CIDRs). */
export function parseCidr(text: string, opts: { path?: string; strict?: boolean } = {}): Cidr {
  const path = opts.path ?? 'cidr';
  const slash = text.indexOf('/');
  if (slash < 0) throw bad(path, `'${text}' is not a CIDR (expected address/prefix-length)`);
  const ip = tryParseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!ip) throw bad(path, `'${text}' is not a CIDR: bad address`);
  const bits = familyBits(ip.family);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
    throw bad(path, `'${text}' is not a CIDR: prefix length must be 0-${bits}`);
  }
  const prefix = Number(prefixText);
  const base = ip.value & prefixMask(ip.family, prefix);
  if (opts.strict && base !== ip.value) {
    throw bad(path, `'${text}' has host bits set; did you mean ${formatIp(ip.family, base)}/${prefix}?`);
  }
  return { family: ip.family, base, prefix };
}

export function prefixMask(family: IpFamily, prefix: number): bigint {
  const bits = familyBits(family);
  const all = (1n << BigInt(bits)) - 1n;
  return all ^ ((1n << BigInt(bits - prefix)) - 1n);
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.family, cidr.base)}/${cidr.prefix}`;
}

/** Canonical text of a CIDR, host bits cleared. */
export function canonicalCidr(text: string): string {
  return formatCidr(parseCidr(text));
}

export function cidrSize(cidr: Cidr): bigint {
  return 1n << BigInt(familyBits(cidr.family) - cidr.prefix);
}

export function cidrContainsIp(cidr: Cidr, ip: { family: IpFamily; value: bigint }): boolean {
  return cidr.family === ip.family && (ip.value & prefixMask(cidr.family, cidr.prefix)) === cidr.base;
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const p = Math.min(a.prefix, b.prefix);
  const m = prefixMask(a.family, p);
  return (a.base & m) === (b.base & m);
}

/** The `/blockSize` inside `pool` that holds `ip` (the caller checked the pool contains it). */
export function enclosingBlock(ip: { family: IpFamily; value: bigint }, blockSize: number): Cidr {
  return { family: ip.family, base: ip.value & prefixMask(ip.family, blockSize), prefix: blockSize };
}

/** Number of `/blockSize` blocks in `pool`. */
export function blockCount(pool: Cidr, blockSize: number): bigint {
  return 1n << BigInt(blockSize - pool.prefix);
}

/** The i-th `/blockSize` block of `pool`, in address order. */
export function nthBlock(pool: Cidr, at: { blockSize: number; index: bigint }): Cidr {
  const { blockSize, index: i } = at;
  const step = 1n << BigInt(familyBits(pool.family) - blockSize);
  return { family: pool.family, base: pool.base + i * step, prefix: blockSize };
}
