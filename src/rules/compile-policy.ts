// Policy rules -> IR rules for one policy (or profile) chain.
//
// Performance decision: "many CIDRs / many ports" never become one kernel rule
// per entry. A CIDR list becomes a set; consecutive rules that differ only in
// their nets and/or destination ports (same action, protocol and everything
// else) are merged into ONE rule over a set (or a concatenated address.port
// set). Merging consecutive same-action rules preserves first-match semantics
// because nothing with a different verdict sits between them.

import { canonicalCidr, familyOf, prefixLength } from './cidr.js';
import type { Match, Rule } from './ir.js';
import type { IpVersion, NormalizedRule, PortRange } from './model.js';
import { MARK_ACCEPT, MARK_PASS, setNames } from './names.js';
import type { SetRegistry } from './sets.js';

/** A rule after merging: optionally carries (net, port) pairs instead of nets x ports. */
interface MergedRule {
  rule: NormalizedRule;
  pairs?: { side: 'src' | 'dst'; entries: { net: string; port: PortRange }[] };
}

const PORT_PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);

function shapeKey(rule: NormalizedRule): string | undefined {
  if (rule.srcNamedPortIpSetIds?.length || rule.dstNamedPortIpSetIds?.length) return undefined;
  if (rule.notSrcNamedPortIpSetIds?.length || rule.notDstNamedPortIpSetIds?.length) return undefined;
  if (rule.action === 'log') return undefined;
  const { srcNets, dstNets, dstPorts, ...rest } = rule;
  if (srcNets?.length && dstNets?.length) return undefined;
  if (dstPorts?.length && !PORT_PROTOCOLS.has(rule.protocol ?? '')) return undefined;
  const shape = `${srcNets?.length ? 's' : ''}${dstNets?.length ? 'd' : ''}${dstPorts?.length ? 'p' : ''}`;
  if (shape === '') return undefined;
  return shape + JSON.stringify(rest, Object.keys(rest).sort());
}

export function mergeRules(rules: NormalizedRule[]): MergedRule[] {
  const out: MergedRule[] = [];
  let i = 0;
  while (i < rules.length) {
    const key = shapeKey(rules[i]!);
    let j = i + 1;
    if (key !== undefined) while (j < rules.length && shapeKey(rules[j]!) === key) j++;
    if (j - i === 1) {
      out.push({ rule: rules[i]! });
      i = j;
      continue;
    }
    const group = rules.slice(i, j);
    const first = group[0]!;
    const netsSide = first.srcNets?.length ? 'src' : first.dstNets?.length ? 'dst' : undefined;
    if (netsSide && first.dstPorts?.length) {
      const entries = group.flatMap((r) =>
        (netsSide === 'src' ? r.srcNets! : r.dstNets!).flatMap((net) => r.dstPorts!.map((port) => ({ net, port }))),
      );
      out.push({ rule: { ...first, srcNets: undefined, dstNets: undefined, dstPorts: undefined }, pairs: { side: netsSide, entries } });
    } else if (netsSide) {
      const nets = group.flatMap((r) => (netsSide === 'src' ? r.srcNets! : r.dstNets!));
      out.push({ rule: netsSide === 'src' ? { ...first, srcNets: nets } : { ...first, dstNets: nets } });
    } else {
      out.push({ rule: { ...first, dstPorts: group.flatMap((r) => r.dstPorts!) } });
    }
    i = j;
  }
  return out;
}

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

function protocolFor(proto: string, family: IpVersion): string | undefined {
  const p = proto.toLowerCase();
  if (p === 'icmp') return family === 4 ? 'icmp' : undefined;
  if (p === 'icmpv6' || p === 'ipv6-icmp') return family === 6 ? 'ipv6-icmp' : undefined;
  if (p === '1') return family === 4 ? 'icmp' : undefined;
  if (p === '58') return family === 6 ? 'ipv6-icmp' : undefined;
  return p;
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
  const set = opts.sets.derived('net', opts.family, mine);
  return { kind: 'set', dir: opts.dir, family: opts.family, set, negate: opts.negate };
}

function portAlternatives(
  ports: PortRange[] | undefined,
  named: string[] | undefined,
  opts: { dir: 'src' | 'dst'; family: IpVersion; sets: SetRegistry },
): Match[][] {
  const alts: Match[][] = [];
  if (ports?.length) alts.push([{ kind: 'ports', dir: opts.dir, ports: normalizePorts(ports) }]);
  for (const id of named ?? []) {
    const set = namedPortSet(id, opts.family, opts.sets);
    alts.push([{ kind: 'namedPortSet', dir: opts.dir, family: opts.family, set }]);
  }
  return alts.length ? alts : [[]];
}

function namedPortSet(id: string, family: IpVersion, sets: SetRegistry): string {
  const set = setNames.namedPort(id, family);
  if (!sets.has(set)) sets.addSpec({ id, type: 'named-port', members: [] });
  return set;
}

function selectorSet(id: string, family: IpVersion, sets: SetRegistry): string {
  const name = setNames.selector(id, family);
  // An id the calc graph did not send is an empty set: positive matches fail,
  // so a missing selector never opens anything it should not.
  if (!sets.has(name)) sets.addSpec({ id, type: 'net', members: [] });
  return name;
}

/** IR rules for one (merged) policy rule in one family; [] when it cannot match in that family. */
function compileOne(merged: MergedRule, family: IpVersion, sets: SetRegistry): Rule[] {
  const r = merged.rule;
  if (r.ipVersion && r.ipVersion !== family) return [];
  const base: Match[] = [{ kind: 'family', family }];
  if (r.protocol) {
    const p = protocolFor(r.protocol, family);
    if (!p) return [];
    base.push({ kind: 'protocol', protocol: p });
  }
  if (r.notProtocol) {
    const p = protocolFor(r.notProtocol, family);
    if (p) base.push({ kind: 'protocol', protocol: p, negate: true });
  }
  // At most one single-CIDR match per side: iptables takes one -s and one -d
  // per rule, so when nets already used it the notNets CIDR goes into a
  // (one-member) set instead. nft could do both, but one IR serves both backends.
  const addrUsed = { src: false, dst: false };
  for (const [nets, dir, negate] of [
    [r.srcNets, 'src', false],
    [r.notSrcNets, 'src', true],
    [r.dstNets, 'dst', false],
    [r.notDstNets, 'dst', true],
  ] as const) {
    if (!nets?.length) continue;
    const m = netMatch(nets, { dir, family, negate, sets, forceSet: addrUsed[dir] });
    if (m === undefined) return [];
    if (m === null) continue;
    if (m.kind === 'addr') addrUsed[dir] = true;
    base.push(m);
  }
  for (const id of r.srcIpSetIds ?? []) base.push({ kind: 'set', dir: 'src', family, set: selectorSet(id, family, sets) });
  for (const id of r.notSrcIpSetIds ?? []) base.push({ kind: 'set', dir: 'src', family, set: selectorSet(id, family, sets), negate: true });
  for (const id of r.dstIpSetIds ?? []) base.push({ kind: 'set', dir: 'dst', family, set: selectorSet(id, family, sets) });
  for (const id of r.notDstIpSetIds ?? []) base.push({ kind: 'set', dir: 'dst', family, set: selectorSet(id, family, sets), negate: true });
  if (merged.pairs) {
    const members = merged.pairs.entries
      .filter((e) => familyOf(e.net) === family)
      .map((e) => `${canonicalCidr(e.net)} ${r.protocol} ${e.port.first === e.port.last ? e.port.first : `${e.port.first}-${e.port.last}`}`);
    if (members.length === 0) return [];
    const set = sets.derived('net-proto-port', family, members);
    base.push({ kind: 'addrPortSet', addrDir: merged.pairs.side, family, set });
  }
  if (r.notSrcPorts?.length) base.push({ kind: 'ports', dir: 'src', ports: normalizePorts(r.notSrcPorts), negate: true });
  if (r.notDstPorts?.length) base.push({ kind: 'ports', dir: 'dst', ports: normalizePorts(r.notDstPorts), negate: true });
  // Named ports in notPorts: the (address, protocol, port) triple must be in none of the sets.
  for (const id of r.notSrcNamedPortIpSetIds ?? []) base.push({ kind: 'namedPortSet', dir: 'src', family, set: namedPortSet(id, family, sets), negate: true });
  for (const id of r.notDstNamedPortIpSetIds ?? []) base.push({ kind: 'namedPortSet', dir: 'dst', family, set: namedPortSet(id, family, sets), negate: true });
  if (r.icmpType !== undefined) {
    if (!r.protocol) base.push({ kind: 'protocol', protocol: family === 4 ? 'icmp' : 'ipv6-icmp' });
    base.push({ kind: 'icmp', family, type: r.icmpType, ...(r.icmpCode !== undefined ? { code: r.icmpCode } : {}) });
  }
  if (r.notIcmpType !== undefined) {
    // iptables' icmp match only loads with the protocol given; nft adds it implicitly.
    if (!r.protocol && r.icmpType === undefined) base.push({ kind: 'protocol', protocol: family === 4 ? 'icmp' : 'ipv6-icmp' });
    base.push({ kind: 'icmp', family, type: r.notIcmpType, negate: true, ...(r.notIcmpCode !== undefined ? { code: r.notIcmpCode } : {}) });
  }
  const out: Rule[] = [];
  for (const src of portAlternatives(r.srcPorts, r.srcNamedPortIpSetIds, { dir: 'src', family, sets })) {
    for (const dst of portAlternatives(r.dstPorts, r.dstNamedPortIpSetIds, { dir: 'dst', family, sets })) {
      const matches = [...base, ...src, ...dst];
      switch (r.action) {
        case 'allow':
          out.push({ matches, action: { kind: 'setMark', mask: MARK_ACCEPT, value: MARK_ACCEPT } });
          out.push({ matches: [{ kind: 'mark', mask: MARK_ACCEPT, value: MARK_ACCEPT }], action: { kind: 'return' } });
          break;
        case 'pass':
          out.push({ matches, action: { kind: 'setMark', mask: MARK_PASS, value: MARK_PASS } });
          out.push({ matches: [{ kind: 'mark', mask: MARK_PASS, value: MARK_PASS }], action: { kind: 'return' } });
          break;
        case 'deny':
          out.push({ matches, action: { kind: 'drop' } });
          break;
        case 'log':
          out.push({ matches, action: { kind: 'log', prefix: r.logPrefix ?? 'calico-packet: ' } });
          break;
      }
    }
  }
  return out;
}

/** All IR rules of one policy direction, both families, in rule order. */
export function compilePolicyRules(rules: NormalizedRule[], sets: SetRegistry): Rule[] {
  const out: Rule[] = [];
  for (const merged of mergeRules(rules)) {
    const v4 = compileOne(merged, 4, sets);
    const v6 = compileOne(merged, 6, sets);
    // A rule with nothing family-specific is emitted once, for both families.
    const strip = (rs: Rule[]) => JSON.stringify(rs.map((r) => ({ ...r, matches: r.matches.filter((m) => m.kind !== 'family') })));
    const familyFree = (rs: Rule[]) => rs.every((r) => r.matches.every((m) => m.kind === 'family' || !('family' in m)));
    if (v4.length && v6.length && familyFree(v4) && strip(v4) === strip(v6)) {
      out.push(...v4.map((r) => ({ ...r, matches: r.matches.filter((m) => m.kind !== 'family') })));
    } else out.push(...v4, ...v6);
  }
  return out;
}
