// Members of merged-rule lookups ("tuple sets"): one value per key field, in
// KeyField order, space separated: "198.18.0.0/24 tcp 80-90". Pure.
//
// nftables refuses an interval element whose start or end falls inside an
// element already in the set ("File exists"), and which one it refuses
// depends on insertion order. So the members of one lookup are split into
// buckets of pairwise disjoint elements (usually one bucket), deterministically
// from the content alone; an element inside another one adds nothing and is
// dropped. ipset (iptables) takes overlapping entries, so it needs no buckets.

import { tryParseCIDROrIP, lastAddress, firstAddress } from '../base/ip.js';
import type { KeyField } from './ir.js';

export const KEY_ORDER: readonly KeyField[] = ['saddr', 'daddr', 'proto', 'sport', 'dport'];

/** Protocols a key may name: nft prints these names back, so read-back compares equal. */
export const KEY_PROTOCOLS: Readonly<Record<string, number>> = { icmp: 1, tcp: 6, udp: 17, 'ipv6-icmp': 58, sctp: 132 };

type Interval = [bigint, bigint];

function intervalOf(field: KeyField, value: string): Interval {
  switch (field) {
    case 'saddr':
    case 'daddr': {
      const c = tryParseCIDROrIP(value);
      if (!c) throw new RangeError(`tuple member value '${value}' is not a CIDR`);
      return [firstAddress(c).value, lastAddress(c).value];
    }
    case 'proto': {
      const n = KEY_PROTOCOLS[value];
      if (n === undefined) throw new RangeError(`tuple member protocol '${value}' is not one a key may name`);
      return [BigInt(n), BigInt(n)];
    }
    case 'sport':
    case 'dport': {
      const [a, b] = value.split('-');
      return [BigInt(a!), BigInt(b ?? a!)];
    }
  }
}

interface Item {
  text: string;
  iv: Interval[];
  bucket: number;
}

const overlaps = (a: Interval[], b: Interval[]) => a.every((x, i) => x[0] <= b[i]![1] && b[i]![0] <= x[1]);
const contains = (outer: Interval[], inner: Interval[]) => outer.every((x, i) => x[0] <= inner[i]![0] && inner[i]![1] <= x[1]);

/**
 * Splits members into buckets of pairwise non-overlapping members (first fit,
 * in a canonical order), dropping members inside another member.
 */
export function disjointBuckets(fields: KeyField[], members: string[]): string[][] {
  const items: Item[] = [...new Set(members)].map((text) => {
    const values = text.split(' ');
    if (values.length !== fields.length) throw new RangeError(`tuple member '${text}' does not have the ${fields.length} fields ${fields.join(',')}`);
    return { text, iv: values.map((v, i) => intervalOf(fields[i]!, v)), bucket: -1 };
  });
  // Sweep over the first field: by start, longer first, then text (canonical).
  items.sort((a, b) => (a.iv[0]![0] < b.iv[0]![0] ? -1 : a.iv[0]![0] > b.iv[0]![0] ? 1 : a.iv[0]![1] > b.iv[0]![1] ? -1 : a.iv[0]![1] < b.iv[0]![1] ? 1 : a.text < b.text ? -1 : 1));
  const buckets: string[][] = [];
  let active: Item[] = [];
  for (const it of items) {
    // Still open in the first field: the only candidates for an overlap.
    active = active.filter((a) => a.iv[0]![1] >= it.iv[0]![0]);
    const used = new Set<number>();
    let covered = false;
    for (const a of active) {
      if (!overlaps(a.iv, it.iv)) continue;
      if (contains(a.iv, it.iv)) {
        covered = true;
        break;
      }
      used.add(a.bucket);
    }
    if (covered) continue;
    let b = 0;
    while (used.has(b)) b++;
    it.bucket = b;
    (buckets[b] ??= []).push(it.text);
    active.push(it);
  }
  return buckets.map((b) => b.sort());
}

/** Every combination of the per-field value lists (fields in KEY_ORDER), as member text; undefined past `limit`. */
export function cartesian(values: string[][], limit: number): string[] | undefined {
  let out: string[] = [''];
  for (const list of values) {
    if (out.length * list.length > limit) return undefined;
    out = out.flatMap((prefix) => list.map((v) => (prefix ? `${prefix} ${v}` : v)));
  }
  return out;
}

/**
 * Members that differ only in their last field, a port, become one member per
 * run of overlapping or adjacent ranges ("tcp 80-85" + "tcp 83-90" -> "tcp 80-90"),
 * so rules that overlap in ports need no second bucket.
 */
export function coalescePorts(fields: KeyField[], members: string[]): string[] {
  const last = fields[fields.length - 1];
  if (last !== 'sport' && last !== 'dport') return members;
  const byPrefix = new Map<string, [number, number][]>();
  for (const m of new Set(members)) {
    const cut = m.lastIndexOf(' ');
    const prefix = cut === -1 ? '' : m.slice(0, cut);
    const [a, b] = m.slice(cut + 1).split('-').map(Number) as [number, number | undefined];
    if (!byPrefix.has(prefix)) byPrefix.set(prefix, []);
    byPrefix.get(prefix)!.push([a, b ?? a]);
  }
  const out: string[] = [];
  for (const [prefix, ranges] of byPrefix) {
    ranges.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    const joined: [number, number][] = [];
    for (const r of ranges) {
      const top = joined[joined.length - 1];
      if (top && r[0] <= top[1] + 1) top[1] = Math.max(top[1], r[1]);
      else joined.push([r[0], r[1]]);
    }
    for (const [a, b] of joined) out.push(`${prefix ? `${prefix} ` : ''}${a === b ? a : `${a}-${b}`}`);
  }
  return out;
}
