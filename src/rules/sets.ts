// Builds the IR's IP sets: calc-graph sets split per family, and sets the
// compiler derives (CIDR lists, merged address.port pairs). Members are
// canonical and free of overlaps, because nftables interval sets reject
// overlapping elements and read-back must compare equal as text.

import { canonicalCidr, familyOf, prefixLength } from './cidr.js';
import type { IpSet, SetKind } from './ir.js';
import type { IpVersion } from '../calc/output.js';
import type { IpSetSpec } from './model.js';
import { protocolFor } from './compile-policy.js';
import { setNames } from './names.js';

/** Drops members covered by a shorter member with the same suffix ("proto port" for net-proto-port). */
export function withoutCovered(members: string[]): string[] {
  const unique = [...new Set(members)];
  const split = unique.map((m) => {
    const space = m.indexOf(' ');
    return space === -1 ? { net: m, rest: '' } : { net: m.slice(0, space), rest: m.slice(space) };
  });
  const lengths = [...new Set(split.map((s) => prefixLength(s.net)))].sort((a, b) => a - b);
  if (lengths.length <= 1) return unique.sort();
  const present = new Set(unique);
  const out: string[] = [];
  for (const { net, rest } of split) {
    const own = prefixLength(net);
    const addr = net.split('/')[0]!;
    const covered = lengths.some((len) => len < own && present.has(canonicalCidr(`${addr}/${len}`) + rest));
    if (!covered) out.push(net + rest);
  }
  return out.sort();
}

export class SetRegistry {
  private readonly sets = new Map<string, IpSet>();

  /** A child sees the parent's sets (has) but records only its own (all), so a compiled piece knows which sets it made. */
  constructor(private readonly parent?: SetRegistry) {}

  /** Registers both families of a calc-graph set. */
  addSpec(spec: IpSetSpec): void {
    for (const family of [4, 6] as const) {
      const name = spec.kind === 'net' ? setNames.selector(spec.id, family) : setNames.namedPort(spec.id, family);
      const members: string[] = [];
      for (const m of spec.members) {
        if (familyOf(m.net) !== family) continue;
        if (spec.kind === 'net') members.push(canonicalCidr(m.net));
        else if (m.protocol !== undefined && m.port !== undefined) {
          const protocol = protocolFor(m.protocol, family);
          if (protocol) members.push(`${canonicalCidr(m.net)} ${protocol} ${m.port}`);
        }
      }
      this.put({ name, family, kind: spec.kind === 'net' ? 'net' : 'net-proto-port', members: withoutCovered(members), source: spec.id });
    }
  }

  has(name: string): boolean {
    return this.sets.has(name) || (this.parent?.has(name) ?? false);
  }

  /** A set derived from a CIDR list; its name is a hash of its content so equal lists share one set. */
  derived(kind: SetKind, family: IpVersion, members: string[]): string {
    const clean = withoutCovered(members);
    const key = `${kind}|${clean.join(',')}`;
    const name = kind === 'net' ? setNames.derivedNets(key, family) : setNames.merged(key, family);
    if (!this.sets.has(name)) this.put({ name, family, kind, members: clean, source: `derived ${kind} (${clean.length})` });
    return name;
  }

  put(set: IpSet): void {
    this.sets.set(set.name, set);
  }

  all(): IpSet[] {
    return [...this.sets.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
