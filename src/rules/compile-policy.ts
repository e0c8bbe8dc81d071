// One policy rule -> its IR matches, per family. A rule is a conjunction,
// except that numeric ports OR named ports make several alternatives (one IR
// rule each). A CIDR list becomes a set, so iptables needs no expansion.
// Merging many rules into set lookups is compile-tier.ts's job; this file
// compiles what cannot (or need not) be merged, and the residual matches of
// what can.

import { canonicalCidr, familyOf, prefixLength } from './cidr.js';
import type { Action, Match, Rule } from './ir.js';
import type { IpVersion, NormalizedRule, PortRange } from '../calc/output.js';
import { protocolName, setNames } from './names.js';
import type { SetRegistry } from './sets.js';

/** Sorted, with overlapping or adjacent ranges joined (nft rejects overlapping set elements). */
export function normalizePorts(ports: PortRange[]): PortRange[] {
  const sorted = [...ports].sort((a, b) => a.first - b.first || a.last - b.last);
  const out: PortRange[] = [];
  for (const p of sorted) {
    const last = out[out.length - 1];
    if (last && p.first <= last.last + 1) last.last = Math.max(last.last, p.last);
    else out.push({ first: p.first, last: p.last });
  }
  return out;
}

/**
 * The IR's name of an IANA protocol number in one family (names.ts
 * protocolName); undefined when the protocol cannot occur there (ICMP is
 * IPv4's, ICMPv6 IPv6's).
 */
export function protocolFor(protocol: number, family: IpVersion): string | undefined {
  if ((protocol === 1 && family !== 4) || (protocol === 58 && family !== 6)) return undefined;
  return protocolName(protocol);
}

/**
 * Net list -> match for one family: undefined = "cannot match in this family", null = "matches anything".
 * As in Felix, a non-empty list (negated or not) without a CIDR of the family rules the
 * family out: notNets of only IPv4 CIDRs must not turn into "any IPv6 address".
 */
function netMatch(
  nets: string[],
  opts: { dir: 'src' | 'dst'; family: IpVersion; negate: boolean; sets: SetRegistry; forceSet?: boolean },
): Match | null | undefined {
  const mine = nets.filter((n) => familyOf(n) === opts.family).map(canonicalCidr);
  if (mine.length === 0) return undefined;
  if (mine.some((n) => prefixLength(n) === 0)) return opts.negate ? undefined : null;
  if (mine.length === 1 && !opts.forceSet) return { kind: 'addr', dir: opts.dir, family: opts.family, cidr: mine[0]!, negate: opts.negate };
  const set = opts.sets.derivedNets(opts.family, mine);
  return { kind: 'set', dir: opts.dir, family: opts.family, set, negate: opts.negate };
}

function portAlternatives(
  ports: PortRange[],
  named: string[],
  opts: { dir: 'src' | 'dst'; family: IpVersion; sets: SetRegistry },
): Match[][] {
  const alts: Match[][] = [];
  if (ports.length) alts.push([{ kind: 'ports', dir: opts.dir, ports: normalizePorts(ports) }]);
  for (const id of named) {
    const set = namedPortSet(id, opts.family, opts.sets);
    alts.push([{ kind: 'namedPortSet', dir: opts.dir, family: opts.family, set }]);
  }
  return alts.length ? alts : [[]];
}

function namedPortSet(id: string, family: IpVersion, sets: SetRegistry): string {
  const set = setNames.namedPort(id, family);
  if (!sets.has(set)) sets.addSpec({ id, kind: 'named-port', members: [] });
  return set;
}

function selectorSet(id: string, family: IpVersion, sets: SetRegistry): string {
  const name = setNames.selector(id, family);
  // An id the calc graph did not send is an empty set: positive matches fail,
  // so a missing selector never opens anything it should not.
  if (!sets.has(name)) sets.addSpec({ id, kind: 'net', members: [] });
  return name;
}

/** The match lists (alternatives) of one rule in one family; [] when it cannot match in that family. */
export function ruleAlternatives(r: NormalizedRule, family: IpVersion, sets: SetRegistry): Match[][] {
  if (r.neverMatches) return [];
  if (r.ipVersion && r.ipVersion !== family) return [];
  const base: Match[] = [{ kind: 'family', family }];
  if (r.protocol !== undefined) {
    const p = protocolFor(r.protocol, family);
    if (!p) return [];
    base.push({ kind: 'protocol', protocol: p });
  }
  if (r.notProtocol !== undefined) {
    const p = protocolFor(r.notProtocol, family);
    if (p) base.push({ kind: 'protocol', protocol: p, negate: true });
  }
  const { source: src, destination: dst } = r;
  // At most one single-CIDR match per side: iptables takes one -s and one -d
  // per rule, so when nets already used it the notNets CIDR goes into a
  // (one-member) set instead. nft could do both, but one IR serves both backends.
  const addrUsed = { src: false, dst: false };
  for (const [nets, dir, negate] of [
    [src.nets, 'src', false],
    [src.notNets, 'src', true],
    [dst.nets, 'dst', false],
    [dst.notNets, 'dst', true],
  ] as const) {
    if (!nets.length) continue;
    const m = netMatch(nets, { dir, family, negate, sets, forceSet: addrUsed[dir] });
    if (m === undefined) return [];
    if (m === null) continue;
    if (m.kind === 'addr') addrUsed[dir] = true;
    base.push(m);
  }
  for (const [side, dir] of [[src, 'src'], [dst, 'dst']] as const) {
    for (const id of side.ipSetIds) base.push({ kind: 'set', dir, family, set: selectorSet(id, family, sets) });
    for (const id of side.notIpSetIds) base.push({ kind: 'set', dir, family, set: selectorSet(id, family, sets), negate: true });
  }
  if (src.notPorts.length) base.push({ kind: 'ports', dir: 'src', ports: normalizePorts(src.notPorts), negate: true });
  if (dst.notPorts.length) base.push({ kind: 'ports', dir: 'dst', ports: normalizePorts(dst.notPorts), negate: true });
  // Named ports in notPorts: the (address, protocol, port) triple must be in none of the sets.
  for (const id of src.notNamedPortIpSetIds) base.push({ kind: 'namedPortSet', dir: 'src', family, set: namedPortSet(id, family, sets), negate: true });
  for (const id of dst.notNamedPortIpSetIds) base.push({ kind: 'namedPortSet', dir: 'dst', family, set: namedPortSet(id, family, sets), negate: true });
  const icmpProtocol: Match = { kind: 'protocol', protocol: family === 4 ? 'icmp' : 'ipv6-icmp' };
  if (r.icmp) {
    if (r.protocol === undefined) base.push(icmpProtocol);
    base.push({ kind: 'icmp', family, type: r.icmp.type, ...(r.icmp.code !== undefined ? { code: r.icmp.code } : {}) });
  }
  if (r.notIcmp) {
    // iptables' icmp match only loads with the protocol given; nft adds it implicitly.
    if (r.protocol === undefined && !r.icmp) base.push(icmpProtocol);
    base.push({ kind: 'icmp', family, type: r.notIcmp.type, negate: true, ...(r.notIcmp.code !== undefined ? { code: r.notIcmp.code } : {}) });
  }
  const out: Match[][] = [];
  for (const s of portAlternatives(src.ports, src.namedPortIpSetIds, { dir: 'src', family, sets })) {
    for (const d of portAlternatives(dst.ports, dst.namedPortIpSetIds, { dir: 'dst', family, sets })) out.push([...base, ...s, ...d]);
  }
  return out;
}

/**
 * IR rules for one rule with the given action, both families. A rule with
 * nothing family-specific is emitted once, for both.
 */
export function compilePlainRule(rule: NormalizedRule, action: Action, sets: SetRegistry): Rule[] {
  const v4 = ruleAlternatives(rule, 4, sets);
  const v6 = ruleAlternatives(rule, 6, sets);
  const strip = (alts: Match[][]) => alts.map((ms) => ms.filter((m) => m.kind !== 'family'));
  const familyFree = (alts: Match[][]) => alts.every((ms) => ms.every((m) => m.kind === 'family' || !('family' in m)));
  const toRules = (alts: Match[][]) => alts.map((matches): Rule => ({ matches, action }));
  if (v4.length && v6.length && familyFree(v4) && JSON.stringify(strip(v4)) === JSON.stringify(strip(v6))) return toRules(strip(v4));
  return [...toRules(v4), ...toRules(v6)];
}
