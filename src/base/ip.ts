// IPv4 / IPv6 addresses and CIDRs as bigints. Pure: no I/O, no dependencies.
// Both families share one representation so IPAM, routes and validation can
// do arithmetic (contains, overlap, nth address, block splitting) without
// caring which family they hold; the family travels with the value because
// 0.0.0.1 and ::1 are the same bigint.
import { CalicoError } from './errors.js';

export type IPFamily = 4 | 6;

export interface IPAddress {
  readonly family: IPFamily;
  readonly value: bigint;
}

/** A network: `address` always has its host bits cleared. */
export interface CIDR {
  readonly family: IPFamily;
  readonly address: bigint;
  readonly prefixLength: number;
}

/** Thrown by the parse functions; `kind` is 'invalid-argument' so callers can branch without reading text. */
export class IPParseError extends CalicoError {
  readonly input: string;
  constructor(input: string, what: string) {
    super('invalid-argument', `"${input}" is not a valid ${what}`);
    this.name = 'IPParseError';
    this.input = input;
  }
}

export const bitsOf = (family: IPFamily): number => (family === 4 ? 32 : 128);
const MAX = { 4: (1n << 32n) - 1n, 6: (1n << 128n) - 1n } as const;
const maxOf = (family: IPFamily): bigint => MAX[family];

function parseV4Value(text: string): bigint | undefined {
  // Plain numbers first and one BigInt at the end: BigInt arithmetic allocates.
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i === text.length ? 46 : text.charCodeAt(i);
    if (c === 46) {
      // Leading zeros are rejected: "010" is octal to some parsers and decimal to others.
      if (digits === 0 || part > 255 || (digits > 1 && text.charCodeAt(i - digits) === 48)) return undefined;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      if (i < text.length) dots++;
    } else if (c >= 48 && c <= 57) {
      if (++digits > 3) return undefined;
      part = part * 10 + (c - 48);
    } else return undefined;
  }
  return dots === 3 ? BigInt(value) : undefined;
}

const hexDigit = (c: number): number =>
  c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;

function parseV6Value(text: string): bigint | undefined {
  const n = text.length;
  if (n < 2 || n > 45) return undefined;
  const groups: number[] = [];
  let gap = -1; // index in `groups` where "::" stands
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return undefined;
    gap = 0;
    i = 2;
  }
  while (i < n) {
    let j = i;
    let v = 0;
    for (let d; j < n && (d = hexDigit(text.charCodeAt(j))) !== -1; j++) v = v * 16 + d;
    if (j < n && text.charCodeAt(j) === 46) {
      // An embedded dotted quad (::ffff:192.0.2.1) is the last two groups.
      const tail = parseV4Value(text.slice(i));
      if (tail === undefined) return undefined;
      const t = Number(tail);
      groups.push(Math.floor(t / 65536), t % 65536);
      i = n;
      break;
    }
    if (j === i || j - i > 4) return undefined;
    groups.push(v);
    if (j === n) break;
    if (text.charCodeAt(j) !== 58) return undefined;
    if (text.charCodeAt(j + 1) === 58) {
      if (gap !== -1) return undefined;
      gap = groups.length;
      j += 2;
    } else {
      j += 1;
      if (j === n) return undefined; // trailing single ":"
    }
    i = j;
  }
  if (gap === -1 ? groups.length !== 8 : groups.length > 7) return undefined;
  if (gap !== -1) groups.splice(gap, 0, ...Array<number>(8 - groups.length).fill(0));
  // One BigInt from the 32 hex digits: cheaper than eight shifts of BigInts.
  return BigInt('0x' + groups.map((g) => g.toString(16).padStart(4, '0')).join(''));
}

/** Parses an IPv4 or IPv6 address; undefined if it is not one. Zones (`%eth0`) are not addresses here. */
export function tryParseIP(text: string): IPAddress | undefined {
  if (typeof text !== 'string') return undefined;
  if (text.includes(':')) {
    const v = parseV6Value(text);
    return v === undefined ? undefined : { family: 6, value: v };
  }
  const v = parseV4Value(text);
  return v === undefined ? undefined : { family: 4, value: v };
}

export function parseIP(text: string): IPAddress {
  const ip = tryParseIP(text);
  if (!ip) throw new IPParseError(text, 'IP address');
  return ip;
}

function formatV4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
}

/** RFC 5952: lower case, no leading zeros, the longest run (>1) of zero groups as `::`. */
function formatV6(value: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return hex.slice(0, bestStart).join(':') + '::' + hex.slice(bestStart + bestLen).join(':');
}

export function formatIP(ip: IPAddress): string {
  return ip.family === 4 ? formatV4(ip.value) : formatV6(ip.value);
}

const MASKS: Record<IPFamily, bigint[]> = { 4: [], 6: [] };
for (const family of [4, 6] as const) {
  const bits = bitsOf(family);
  for (let len = 0; len <= bits; len++) {
    MASKS[family].push(len === 0 ? 0n : (maxOf(family) >> BigInt(bits - len)) << BigInt(bits - len));
  }
}

/** Mask with the top `prefixLength` bits set. */
export function prefixMask(family: IPFamily, prefixLength: number): bigint {
  const m = MASKS[family][prefixLength];
  if (m === undefined) throw new RangeError(`prefix length ${prefixLength} is out of range for IPv${family}`);
  return m;
}

export interface ParsedCIDR {
  /** The network, host bits cleared. */
  cidr: CIDR;
  /** The address exactly as written (host bits kept), e.g. a node's `192.0.2.5/24`. */
  ip: IPAddress;
  /** True when the written address had host bits set (`192.0.2.5/24`). */
  hadHostBits: boolean;
}

/** Parses `addr/len`; undefined if malformed. Keeps what was written alongside the masked network. */
export function tryParseCIDRWithIP(text: string): ParsedCIDR | undefined {
  if (typeof text !== 'string') return undefined;
  const slash = text.indexOf('/');
  if (slash === -1) return undefined;
  const ip = tryParseIP(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (!ip || !/^(0|[1-9][0-9]{0,2})$/.test(lenText)) return undefined;
  const prefixLength = Number(lenText);
  if (prefixLength > bitsOf(ip.family)) return undefined;
  const address = ip.value & prefixMask(ip.family, prefixLength);
  return { cidr: { family: ip.family, address, prefixLength }, ip, hadHostBits: address !== ip.value };
}

/** Parses `addr/len`, clearing host bits (`192.0.2.5/24` -> 192.0.2.0/24). Undefined if malformed. */
export function tryParseCIDR(text: string): CIDR | undefined {
  return tryParseCIDRWithIP(text)?.cidr;
}

export function parseCIDR(text: string): CIDR {
  const c = tryParseCIDR(text);
  if (!c) throw new IPParseError(text, 'CIDR');
  return c;
}

/** Accepts a CIDR or a bare address (a bare address is a /32 or /128), as Calico does for nets. */
export function tryParseCIDROrIP(text: string): CIDR | undefined {
  if (typeof text !== 'string') return undefined;
  if (text.includes('/')) return tryParseCIDR(text);
  const ip = tryParseIP(text);
  return ip ? hostCIDR(ip) : undefined;
}

/**
 * Like tryParseCIDROrIP, but a network must be written exactly: undefined when the
 * address has host bits set (`192.0.2.5/24`), as for pool, block and route prefixes.
 */
export function tryParseStrictCIDROrIP(text: string): CIDR | undefined {
  if (typeof text !== 'string') return undefined;
  if (!text.includes('/')) return tryParseCIDROrIP(text);
  const parsed = tryParseCIDRWithIP(text);
  return parsed && !parsed.hadHostBits ? parsed.cidr : undefined;
}

export function parseCIDROrIP(text: string): CIDR {
  const c = tryParseCIDROrIP(text);
  if (!c) throw new IPParseError(text, 'IP address or CIDR');
  return c;
}

/** The single-address network of `ip` (/32 or /128). */
export function hostCIDR(ip: IPAddress): CIDR {
  return { family: ip.family, address: ip.value, prefixLength: bitsOf(ip.family) };
}

export function makeCIDR(ip: IPAddress, prefixLength: number): CIDR {
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > bitsOf(ip.family)) {
    throw new IPParseError(`${formatIP(ip)}/${prefixLength}`, 'CIDR');
  }
  return { family: ip.family, address: ip.value & prefixMask(ip.family, prefixLength), prefixLength };
}

export function formatCIDR(c: CIDR): string {
  return `${formatIP({ family: c.family, value: c.address })}/${c.prefixLength}`;
}

/** Canonical text of a CIDR string (masked, RFC 5952), or undefined if it does not parse. */
export function normalizeCIDR(text: string): string | undefined {
  const c = tryParseCIDR(text);
  return c ? formatCIDR(c) : undefined;
}

/** Canonical text of an address string, or undefined if it does not parse. */
export function normalizeIP(text: string): string | undefined {
  const ip = tryParseIP(text);
  return ip ? formatIP(ip) : undefined;
}

export function firstAddress(c: CIDR): IPAddress {
  return { family: c.family, value: c.address };
}

export function lastAddress(c: CIDR): IPAddress {
  return { family: c.family, value: c.address | (maxOf(c.family) ^ prefixMask(c.family, c.prefixLength)) };
}

/** Number of addresses in the network. */
export function cidrSize(c: CIDR): bigint {
  return 1n << BigInt(bitsOf(c.family) - c.prefixLength);
}

/** The n-th address of the network (0 = network address); throws past the end. */
export function nthAddress(c: CIDR, n: bigint | number): IPAddress {
  const i = BigInt(n);
  if (i < 0n || i >= cidrSize(c)) throw new RangeError(`address index ${i} outside ${formatCIDR(c)}`);
  return { family: c.family, value: c.address + i };
}

/** Offset of `ip` inside `c`, or undefined when it is not inside. */
export function addressIndex(c: CIDR, ip: IPAddress): bigint | undefined {
  return cidrContainsIP(c, ip) ? ip.value - c.address : undefined;
}

export function cidrContainsIP(c: CIDR, ip: IPAddress): boolean {
  return c.family === ip.family && (ip.value & prefixMask(c.family, c.prefixLength)) === c.address;
}

/** True when `inner` lies entirely inside `outer` (equal counts). */
export function cidrContains(outer: CIDR, inner: CIDR): boolean {
  return (
    outer.family === inner.family &&
    outer.prefixLength <= inner.prefixLength &&
    (inner.address & prefixMask(outer.family, outer.prefixLength)) === outer.address
  );
}

export function cidrOverlaps(a: CIDR, b: CIDR): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

export function cidrEquals(a: CIDR, b: CIDR): boolean {
  return a.family === b.family && a.prefixLength === b.prefixLength && a.address === b.address;
}

export function ipEquals(a: IPAddress, b: IPAddress): boolean {
  return a.family === b.family && a.value === b.value;
}

/** Total order: IPv4 before IPv6, then by value. For sorting. */
export function compareIP(a: IPAddress, b: IPAddress): number {
  if (a.family !== b.family) return a.family - b.family;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/** Total order: family, then network address, then shorter prefix first. */
export function compareCIDR(a: CIDR, b: CIDR): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.address !== b.address) return a.address < b.address ? -1 : 1;
  return a.prefixLength - b.prefixLength;
}

/** `ip + delta`; throws when the result leaves the family's address space. */
export function addToIP(ip: IPAddress, delta: bigint | number): IPAddress {
  const value = ip.value + BigInt(delta);
  if (value < 0n || value > maxOf(ip.family)) throw new RangeError(`${formatIP(ip)} + ${delta} is out of range`);
  return { family: ip.family, value };
}

/**
 * Splits `c` into its sub-networks of `prefixLength` (e.g. a pool into IPAM blocks).
 * Lazy, because a /64 holds 2^58 /122 blocks.
 */
export function* subnets(c: CIDR, prefixLength: number): Generator<CIDR> {
  if (prefixLength < c.prefixLength || prefixLength > bitsOf(c.family)) {
    throw new RangeError(`cannot split ${formatCIDR(c)} into /${prefixLength}`);
  }
  const step = 1n << BigInt(bitsOf(c.family) - prefixLength);
  const end = c.address + cidrSize(c);
  for (let a = c.address; a < end; a += step) yield { family: c.family, address: a, prefixLength };
}

/** The sub-network of `prefixLength` inside `c` that holds `ip` (e.g. the IPAM block of an address). */
export function enclosingSubnet(ip: IPAddress, prefixLength: number): CIDR {
  return makeCIDR(ip, prefixLength);
}

export const isIPv4 = (text: string): boolean => tryParseIP(text)?.family === 4;
export const isIPv6 = (text: string): boolean => tryParseIP(text)?.family === 6;

/** 48-bit MAC in colon form; accepts `-` separators and upper case, returns canonical lower-case colon form. */
export function normalizeMAC(text: string): string | undefined {
  if (typeof text !== 'string' || !/^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/.test(text)) return undefined;
  return text.toLowerCase().replace(/-/g, ':');
}
