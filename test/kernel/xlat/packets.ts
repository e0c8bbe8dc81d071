// Test support: builds and parses Ethernet/IPv4/IPv6/TCP/UDP/ICMP frames with
// checksums computed from scratch (RFC 1071 over the whole message), written
// independently of the translator's incremental arithmetic, so a wrong
// incremental update shows up as a checksum mismatch here.
import { formatIP, parseIP } from '../../../src/base/ip.js';

export const ETH_IP = 0x0800;
export const ETH_IP6 = 0x86dd;

export function sum16(buf: Uint8Array, seed = 0): number {
  let s = seed;
  for (let i = 0; i + 1 < buf.length; i += 2) s += (buf[i]! << 8) | buf[i + 1]!;
  if (buf.length % 2) s += buf[buf.length - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}
export const checksum = (buf: Uint8Array, seed = 0): number => ~sum16(buf, seed) & 0xffff;

export function addrBytes(text: string): Uint8Array {
  const ip = parseIP(text);
  const n = ip.family === 4 ? 4 : 16;
  const out = new Uint8Array(n);
  let v = ip.value;
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}
export function addrText(b: Uint8Array): string {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return formatIP({ family: b.length === 4 ? 4 : 6, value: v });
}

const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
const u16 = (v: number) => new Uint8Array([(v >> 8) & 0xff, v & 0xff]);
const u32 = (v: number) => new Uint8Array([(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);

export interface L4 {
  proto: number; // 6, 17, 1 or 58 (the builder puts the right one per family)
  /** TCP/UDP: ports; ICMP: type/code/rest (4 bytes as number). */
  sport?: number;
  dport?: number;
  type?: number;
  code?: number;
  rest?: number;
  payload: Uint8Array;
  /** UDP only: send checksum 0. */
  zeroChecksum?: boolean;
}

/** The transport bytes with a checksum over `pseudo` (empty for ICMPv4). */
export function l4Bytes(l4: L4, pseudo: Uint8Array): Uint8Array {
  let hdr: Uint8Array;
  let csumAt: number;
  if (l4.proto === 6) {
    hdr = cat(u16(l4.sport!), u16(l4.dport!), u32(0x01020304), u32(0x0a0b0c0d), new Uint8Array([0x50, 0x18]), u16(0xfaf0), u16(0), u16(0));
    csumAt = 16;
  } else if (l4.proto === 17) {
    hdr = cat(u16(l4.sport!), u16(l4.dport!), u16(8 + l4.payload.length), u16(0));
    csumAt = 6;
  } else {
    hdr = cat(new Uint8Array([l4.type!, l4.code!]), u16(0), u32(l4.rest ?? 0));
    csumAt = 2;
  }
  const msg = cat(hdr, l4.payload);
  if (!(l4.proto === 17 && l4.zeroChecksum)) {
    let c = checksum(cat(pseudo, msg));
    if (l4.proto === 17 && c === 0) c = 0xffff;
    msg.set(u16(c), csumAt);
  }
  return msg;
}

export interface V4 {
  tos?: number;
  id?: number;
  df?: boolean;
  mf?: boolean;
  fragOffset?: number; // in 8-byte units
  ttl?: number;
  proto: number;
  src: string;
  dst: string;
  options?: Uint8Array;
}
export interface V6 {
  tclass?: number;
  flow?: number;
  hlim?: number;
  nh: number;
  src: string;
  dst: string;
  frag?: { nh: number; offset: number; m: boolean; id: number };
}

export function v4Header(h: V4, payloadLen: number): Uint8Array {
  const opts = h.options ?? new Uint8Array(0);
  const ihl = 5 + opts.length / 4;
  const flags = (h.df ? 0x4000 : 0) | (h.mf ? 0x2000 : 0) | (h.fragOffset ?? 0);
  const b = cat(
    new Uint8Array([0x40 | ihl, h.tos ?? 0]),
    u16(ihl * 4 + payloadLen),
    u16(h.id ?? 0),
    u16(flags),
    new Uint8Array([h.ttl ?? 64, h.proto]),
    u16(0),
    addrBytes(h.src),
    addrBytes(h.dst),
    opts,
  );
  b.set(u16(checksum(b)), 10);
  return b;
}
export function v6Header(h: V6, payloadLen: number): Uint8Array {
  const first = (6 << 28) | ((h.tclass ?? 0) << 20) | (h.flow ?? 0);
  const frag = h.frag ? cat(new Uint8Array([h.frag.nh, 0]), u16((h.frag.offset << 3) | (h.frag.m ? 1 : 0)), u32(h.frag.id)) : new Uint8Array(0);
  return cat(u32(first >>> 0), u16(payloadLen + frag.length), new Uint8Array([h.frag ? 44 : h.nh, h.hlim ?? 64]), addrBytes(h.src), addrBytes(h.dst), frag);
}
export const pseudo4 = (src: string, dst: string, proto: number, len: number) => cat(addrBytes(src), addrBytes(dst), new Uint8Array([0, proto]), u16(len));
export const pseudo6 = (src: string, dst: string, nh: number, len: number) => cat(addrBytes(src), addrBytes(dst), u32(len), new Uint8Array([0, 0, 0, nh]));

const ETH = cat(new Uint8Array([0xee, 0xee, 0xee, 0xee, 0xee, 0x01, 0xee, 0xee, 0xee, 0xee, 0xee, 0x02]));
export const eth = (type: number) => cat(ETH, u16(type));

/** A whole IPv4 frame; `l4` may be raw bytes (fragments, errors built by hand). */
export function frame4(h: V4, l4: L4 | Uint8Array): Uint8Array {
  const len = l4 instanceof Uint8Array ? l4.length : l4Bytes(l4, new Uint8Array(0)).length;
  const body = l4 instanceof Uint8Array ? l4 : l4Bytes(l4, l4.proto === 1 ? new Uint8Array(0) : pseudo4(h.src, h.dst, l4.proto, len));
  return cat(eth(ETH_IP), v4Header(h, body.length), body);
}
export function frame6(h: V6, l4: L4 | Uint8Array): Uint8Array {
  const nh = h.frag ? h.frag.nh : h.nh;
  const len = l4 instanceof Uint8Array ? l4.length : l4Bytes(l4, new Uint8Array(0)).length;
  const body = l4 instanceof Uint8Array ? l4 : l4Bytes(l4, pseudo6(h.src, h.dst, nh, len));
  return cat(eth(ETH_IP6), v6Header(h, body.length), body);
}
/** The IPv4 packet (header + transport) alone, e.g. to quote inside an ICMP error. */
export const packet4 = (h: V4, l4: L4) => frame4(h, l4).slice(14);
export const packet6 = (h: V6, l4: L4) => frame6(h, l4).slice(14);

export interface Parsed4 {
  ethType: number;
  ihl: number;
  tos: number;
  totLen: number;
  id: number;
  df: boolean;
  mf: boolean;
  fragOffset: number;
  ttl: number;
  proto: number;
  src: string;
  dst: string;
  headerChecksumOk: boolean;
  payload: Uint8Array;
}
export interface Parsed6 {
  ethType: number;
  version: number;
  tclass: number;
  flow: number;
  plen: number;
  nh: number;
  hlim: number;
  src: string;
  dst: string;
  frag?: { nh: number; offset: number; m: boolean; id: number };
  payload: Uint8Array;
}
const rd16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;
const rd32 = (b: Uint8Array, o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

export function parse4(f: Uint8Array, at = 14): Parsed4 {
  const ihl = (f[at]! & 0xf) * 4;
  const flags = rd16(f, at + 6);
  return {
    ethType: at === 14 ? rd16(f, 12) : ETH_IP,
    ihl,
    tos: f[at + 1]!,
    totLen: rd16(f, at + 2),
    id: rd16(f, at + 4),
    df: !!(flags & 0x4000),
    mf: !!(flags & 0x2000),
    fragOffset: flags & 0x1fff,
    ttl: f[at + 8]!,
    proto: f[at + 9]!,
    src: addrText(f.slice(at + 12, at + 16)),
    dst: addrText(f.slice(at + 16, at + 20)),
    headerChecksumOk: checksum(f.slice(at, at + ihl)) === 0,
    payload: f.slice(at + ihl),
  };
}
export function parse6(f: Uint8Array, at = 14): Parsed6 {
  const first = rd32(f, at);
  const nh = f[at + 6]!;
  const out: Parsed6 = {
    ethType: at === 14 ? rd16(f, 12) : ETH_IP6,
    version: first >>> 28,
    tclass: (first >>> 20) & 0xff,
    flow: first & 0xfffff,
    plen: rd16(f, at + 4),
    nh,
    hlim: f[at + 7]!,
    src: addrText(f.slice(at + 8, at + 24)),
    dst: addrText(f.slice(at + 24, at + 40)),
    payload: f.slice(at + 40),
  };
  if (nh === 44) {
    const off = rd16(f, at + 42);
    out.frag = { nh: f[at + 40]!, offset: off >> 3, m: !!(off & 1), id: rd32(f, at + 44) };
    out.payload = f.slice(at + 48);
  }
  return out;
}

/** Transport checksum verified over the family's pseudo-header (ICMPv4: none). */
export function l4ChecksumOk(p: Parsed4 | Parsed6): boolean {
  if ('ihl' in p) {
    if (p.proto === 1) return checksum(p.payload) === 0;
    if (p.proto === 17 && rd16(p.payload, 6) === 0) return true;
    return checksum(p.payload, sum16(pseudo4(p.src, p.dst, p.proto, p.payload.length))) === 0;
  }
  const nh = p.frag ? p.frag.nh : p.nh;
  return checksum(p.payload, sum16(pseudo6(p.src, p.dst, nh, p.payload.length))) === 0;
}

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
export const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
export { cat, u16, u32, rd16, rd32 };
