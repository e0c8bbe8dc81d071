// The text of an IR set member's fields, as `nft list` and `ipset save` print
// them (canonical CIDR, protocol name, port or "first-last"), and from it a
// member's identity and the canonical order of a set's members. Pure.
// Members stay fields everywhere; this text is only ever produced (for the
// renderers, and as a key; calc/output.ts uniqueSorted orders by it), never
// parsed back into a member.

import type { PortRange, SetMember } from '../calc/output.js';
import { portText } from './cidr.js';
import type { IpSet, KeyField, TupleMember } from './ir.js';
import { protocolName } from './names.js';

const rangeText = (r: PortRange) => portText(r.first, r.last);

/** `{ net }` -> [net]; `{ net, protocol, port }` -> [net, protocol name, port]. */
export function setMemberValues(m: SetMember): string[] {
  return m.protocol === undefined || m.port === undefined ? [m.net] : [m.net, protocolName(m.protocol), String(m.port)];
}

/** A merged lookup's element: the text of each key field, in `fields` order. */
export function tupleMemberValues(fields: readonly KeyField[], m: TupleMember): string[] {
  return fields.map((f) => {
    switch (f) {
      case 'saddr':
      case 'daddr':
        return m[f] ?? '';
      case 'proto':
        return m.proto === undefined ? '' : protocolName(m.proto);
      case 'sport':
      case 'dport': {
        const r = m[f];
        return r ? rangeText(r) : '';
      }
    }
  });
}

/** Each member of the set as its fields' text, in the set's order. */
export function memberValues(set: IpSet): string[][] {
  return set.kind === 'tuple' ? set.members.map((m) => tupleMemberValues(set.fields, m)) : set.members.map(setMemberValues);
}

/** Identity of a member within its set (and the order members are kept in). */
export const setMemberKey = (m: SetMember): string => setMemberValues(m).join(' ');
export const tupleMemberKey = (fields: readonly KeyField[], m: TupleMember): string => tupleMemberValues(fields, m).join(' ');
