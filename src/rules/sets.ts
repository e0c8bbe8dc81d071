// Builds the IR's IP sets: calc-graph sets split per family, and sets the
// compiler derives (CIDR lists, merged rules). Members are canonical and free
// of overlaps, because nftables interval sets reject overlapping elements and
// read-back must compare equal as text.

import { canonicalCidr, familyOf, prefixLength } from './cidr.js';
import { protocolFor } from './compile-policy.js';
import type { IpVersion, SetMember } from '../calc/output.js';
import { uniqueSorted } from '../calc/output.js';
import type { IpSet } from './ir.js';
import type { IpSetSpec } from './model.js';
import { setNames } from './names.js';
import { setMemberKey } from './set-members.js';

/**
 * Canonical (nets already canonical), sorted, and without members covered by
 * a member with a shorter prefix and the same protocol and port.
 */
export function withoutCovered(members: SetMember[]): SetMember[] {
  const unique = uniqueSorted(members, setMemberKey);
  const lengths = [...new Set(unique.map((m) => prefixLength(m.net)))].sort((a, b) => a - b);
  if (lengths.length <= 1) return unique;
  const present = new Set(unique.map(setMemberKey));
  return unique.filter((m) => {
    const own = prefixLength(m.net);
    const addr = m.net.split('/')[0]!;
    return !lengths.some((len) => len < own && present.has(setMemberKey({ ...m, net: canonicalCidr(`${addr}/${len}`) })));
  });
}

export class SetRegistry {
  private readonly sets = new Map<string, IpSet>();

  /** A child sees the parent's sets (has) but records only its own (all), so a compiled piece knows which sets it made. */
  constructor(private readonly parent?: SetRegistry) {}

  /** Registers both families of a calc-graph set. */
  addSpec(spec: IpSetSpec): void {
    for (const family of [4, 6] as const) {
      const members: SetMember[] = [];
      for (const m of spec.members) {
        if (familyOf(m.net) !== family) continue;
        const net = canonicalCidr(m.net);
        if (spec.kind === 'net') members.push({ net });
        // The protocol must be one the family has (a named port's always is: TCP, UDP or SCTP).
        else if (m.protocol !== undefined && m.port !== undefined && protocolFor(m.protocol, family)) members.push({ net, protocol: m.protocol, port: m.port });
      }
      const common = { family, members: withoutCovered(members), source: spec.id };
      this.put(spec.kind === 'net' ? { name: setNames.selector(spec.id, family), kind: 'net', ...common } : { name: setNames.namedPort(spec.id, family), kind: 'net-proto-port', ...common });
    }
  }

  has(name: string): boolean {
    return this.sets.has(name) || (this.parent?.has(name) ?? false);
  }

  /** A set of the CIDRs of a list; its name is a hash of its content so equal lists share one set. */
  derivedNets(family: IpVersion, cidrs: string[]): string {
    const members = withoutCovered(cidrs.map((net) => ({ net })));
    const name = setNames.derivedNets(`net|${members.map((m) => m.net).join(',')}`, family);
    if (!this.sets.has(name)) this.put({ name, family, kind: 'net', members, source: `derived net (${members.length})` });
    return name;
  }

  put(set: IpSet): void {
    this.sets.set(set.name, set);
  }

  all(): IpSet[] {
    return [...this.sets.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
