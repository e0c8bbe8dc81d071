// Members of merged-rule lookups ("tuple sets"): one value per key field, in
// KeyField order (TupleMember, ir.ts). Pure.
//
// nftables refuses an interval element whose start or end falls inside an
// element already in the set ("File exists"), and which one it refuses
// depends on insertion order. So the members of one lookup are split into
// buckets of pairwise disjoint elements (usually one bucket), deterministically
// from the content alone; an element inside another one adds nothing and is
// dropped. ipset (iptables) takes overlapping entries, so it needs no buckets.

import type { PortRange } from '../calc/output.js';
import { uniqueSorted } from '../calc/output.js';
import { tryParseCIDROrIP, lastAddress, firstAddress } from '../base/ip.js';
import type { KeyField, TupleMember } from './ir.js';
import { tupleMemberKey } from './set-members.js';

export const KEY_ORDER: readonly KeyField[] = ['saddr', 'daddr', 'proto', 'sport', 'dport'];

type Interval = [bigint, bigint];

function intervalOf(field: KeyField, m: TupleMember): Interval {
  switch (field) {
    case 'saddr':
    case 'daddr': {
      const c = tryParseCIDROrIP(m[field] ?? '');
      if (!c) throw new RangeError(`tuple member ${field} '${m[field]}' is not a CIDR`);
      return [firstAddress(c).value, lastAddress(c).value];
    }
    case 'proto': {
      if (m.proto === undefined) throw new RangeError('tuple member without its proto field');
      return [BigInt(m.proto), BigInt(m.proto)];
    }
    case 'sport':
    case 'dport': {
      const r = m[field];
      if (!r) throw new RangeError(`tuple member without its ${field} field`);
      return [BigInt(r.first), BigInt(r.last)];
    }
  }
}

interface Item {
  member: TupleMember;
  key: string;
  iv: Interval[];
  bucket: number;
}

const overlaps = (a: Interval[], b: Interval[]) => a.every((x, i) => x[0] <= b[i]![1] && b[i]![0] <= x[1]);
const contains = (outer: Interval[], inner: Interval[]) => outer.every((x, i) => x[0] <= inner[i]![0] && inner[i]![1] <= x[1]);

/** Members de-duplicated, in canonical order (by their key text). */
export const uniqueTuples = (fields: readonly KeyField[], members: Iterable<TupleMember>): TupleMember[] => uniqueSorted(members, (m) => tupleMemberKey(fields, m));

/**
 * Splits members into buckets of pairwise non-overlapping members (first fit,
 * in a canonical order), dropping members inside another member.
 */
export function disjointBuckets(fields: KeyField[], members: TupleMember[]): TupleMember[][] {
  const items: Item[] = uniqueTuples(fields, members).map((member) => ({ member, key: tupleMemberKey(fields, member), iv: fields.map((f) => intervalOf(f, member)), bucket: -1 }));
  // Sweep over the first field: by start, longer first, then key (canonical).
  items.sort((a, b) => (a.iv[0]![0] < b.iv[0]![0] ? -1 : a.iv[0]![0] > b.iv[0]![0] ? 1 : a.iv[0]![1] > b.iv[0]![1] ? -1 : a.iv[0]![1] < b.iv[0]![1] ? 1 : a.key < b.key ? -1 : 1));
  const buckets: Item[][] = [];
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
    (buckets[b] ??= []).push(it);
    active.push(it);
  }
  return buckets.map((b) => b.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0)).map((it) => it.member));
}

/** The values a rule gives each key field (addresses, protocol numbers, port ranges). */
export interface KeyValues {
  saddr?: string[];
  daddr?: string[];
  proto?: number[];
  sport?: PortRange[];
  dport?: PortRange[];
}

/** Every combination of the fields' values, as members; undefined past `limit`. */
export function cartesian(fields: readonly KeyField[], values: KeyValues, limit: number): TupleMember[] | undefined {
  let out: TupleMember[] = [{}];
  for (const f of fields) {
    const list: readonly (string | number | PortRange)[] = values[f] ?? [];
    if (out.length * list.length > limit) return undefined;
    out = out.flatMap((partial) => list.map((v) => ({ ...partial, [f]: v })));
  }
  return out;
}

/**
 * Members that differ only in their last field, a port, become one member per
 * run of overlapping or adjacent ranges ("tcp 80-85" + "tcp 83-90" -> "tcp 80-90"),
 * so rules that overlap in ports need no second bucket.
 */
export function coalescePorts(fields: KeyField[], members: TupleMember[]): TupleMember[] {
  const last = fields[fields.length - 1];
  if (last !== 'sport' && last !== 'dport') return members;
  const rest = fields.slice(0, -1);
  const byRest = new Map<string, { member: TupleMember; ranges: PortRange[] }>();
  for (const m of members) {
    const key = tupleMemberKey(rest, m);
    let group = byRest.get(key);
    if (!group) byRest.set(key, (group = { member: m, ranges: [] }));
    group.ranges.push(m[last]!);
  }
  const out: TupleMember[] = [];
  for (const { member, ranges } of byRest.values()) {
    const sorted = [...ranges].sort((x, y) => x.first - y.first || x.last - y.last);
    const joined: PortRange[] = [];
    for (const r of sorted) {
      const top = joined[joined.length - 1];
      if (top && r.first <= top.last + 1) top.last = Math.max(top.last, r.last);
      else joined.push({ first: r.first, last: r.last });
    }
    for (const range of joined) out.push({ ...member, [last]: range });
  }
  return out;
}
