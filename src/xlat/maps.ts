// The byte layout of the translator's maps (bpf/xlat/xlat.c owns the structs;
// this file must match them) and the desired contents for this host. Pure.
// Keys and values are hex strings in memory order, as `bpftool map` takes
// and prints them; integers in host order (little-endian on x86-64 and arm64).
import { tryParseCIDR, tryParseIP } from '../base/ip.js';
import type { EffectiveSpace } from './space-view.js';

export const MAP_NAMES = ['xlat_ifaces', 'xlat_eam4', 'xlat_eam6', 'xlat_stats'] as const;
export type XlatMapName = (typeof MAP_NAMES)[number];
/** The maps the agent writes (stats are the program's). */
export type WrittenMap = Exclude<XlatMapName, 'xlat_stats'>;
export const STAT_NAMES = ['translated-4to6', 'translated-6to4', 'passed', 'dropped-unsupported', 'dropped-foreign', 'dropped-udp-no-checksum', 'dropped-malformed', 'dropped-helper'] as const;

export type MapContents = Record<WrittenMap, Map<string, string>>;

const hex = (n: bigint, bytes: number): string => n.toString(16).padStart(bytes * 2, '0');
/** u32 in host (little-endian) order. */
export function u32le(n: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b.toString('hex');
}
function addrHex(text: string): string | undefined {
  const ip = tryParseIP(text);
  return ip ? hex(ip.value, ip.family === 4 ? 4 : 16) : undefined;
}

export interface LocalSpaceInterface {
  interfaceName: string;
  ifindex: number;
  space: string;
}

/** xlat_ifaces: ifindex -> {prefix[12], space id}; xlat_eam4/6: {space id, address} <-> address. */
export function desiredMaps(spaces: Map<string, EffectiveSpace>, ifaces: LocalSpaceInterface[]): MapContents {
  const out: MapContents = { xlat_ifaces: new Map(), xlat_eam4: new Map(), xlat_eam6: new Map() };
  for (const i of ifaces) {
    const s = spaces.get(i.space);
    const prefix = s ? tryParseCIDR(s.prefix) : undefined;
    if (!s || !prefix) continue;
    out.xlat_ifaces.set(u32le(i.ifindex), hex(prefix.address >> 32n, 12) + u32le(s.id));
  }
  const used = new Set(ifaces.map((i) => i.space));
  for (const s of spaces.values()) {
    if (!used.has(s.name)) continue; // only spaces with an endpoint here
    for (const svc of s.services) {
      const a4 = addrHex(svc.ipv4);
      const a6 = addrHex(svc.ipv6);
      if (!a4 || !a6) continue;
      out.xlat_eam4.set(u32le(s.id) + a4, a6);
      out.xlat_eam6.set(u32le(s.id) + a6, a4);
    }
  }
  return out;
}

export interface MapDiff {
  map: WrittenMap;
  upserts: [string, string][];
  deletes: string[];
}

/** What to write so `actual` becomes `desired` (nothing when equal). */
export function diffMaps(desired: MapContents, actual: MapContents): MapDiff[] {
  const out: MapDiff[] = [];
  for (const map of ['xlat_ifaces', 'xlat_eam4', 'xlat_eam6'] as const) {
    const upserts = [...desired[map]].filter(([k, v]) => actual[map].get(k) !== v);
    const deletes = [...actual[map].keys()].filter((k) => !desired[map].has(k));
    if (upserts.length || deletes.length) out.push({ map, upserts, deletes });
  }
  return out;
}

/** "aa bb cc" style bytes for bpftool's `key hex ...` arguments. */
export const hexArgs = (h: string): string[] => h.match(/../g) ?? [];
