// The reference meaning of a policy program: a direct first-match
// interpreter over the calc graph's output (output.ts), with no kernel
// concepts. It is the oracle the rule compiler is checked against
// (src/rules/equivalence.test.ts) and the evaluator "calicoctl explain"
// reuses, so it is written for obviousness, not speed.
//
// Semantics (Calico's, see output.ts and docs/design/policy-compiler.md):
//   tiers in order; inside a tier, policies in order, rules in order; the
//   first Allow or Deny decides, Pass leaves the tier, Log records and goes
//   on. A tier whose policies all ran without a decision ends with its
//   default action (Deny, or Pass). After the last tier, or with no tier,
//   the profiles run in order (Pass ends one profile); nothing decided = deny.
//   A policy or profile that is referenced but absent denies (fail closed).

import { cidrContainsIP, tryParseCIDROrIP, tryParseIP, type CIDR, type IPAddress } from '../base/ip.js';
import type { IpSetState, IpVersion, NormalizedRule, PolicyId, PortRange, PolicyState, ProfileId, ProfileState, RuleAction, RuleSide, TierPolicies } from './output.js';

/** A packet as policy sees it. Ports exist for TCP, UDP and SCTP; ICMP type/code for ICMP and ICMPv6. */
export interface PolicyPacket {
  family: IpVersion;
  src: string;
  dst: string;
  /** IANA protocol number. */
  protocol: number;
  srcPort?: number;
  dstPort?: number;
  icmpType?: number;
  icmpCode?: number;
}

/** The parts of the desired state the evaluation reads. */
export interface PolicyInputs {
  policies: ReadonlyMap<PolicyId, PolicyState>;
  profiles: ReadonlyMap<ProfileId, ProfileState>;
  ipSets: ReadonlyMap<string, IpSetState>;
}

/** One endpoint's program in one direction (a direction's tier list and the profiles). */
export interface EndpointProgram {
  tiers: TierPolicies[];
  profileIds: ProfileId[];
}

export type PolicyDirection = 'inbound' | 'outbound';

/** Where a rule lives: a policy (with its tier) or a profile, and its index in the direction's rule list. */
export type RuleRef = { tier: string; policy: PolicyId; index: number } | { profile: ProfileId; index: number };

export type Decision =
  | { kind: 'rule'; rule: RuleRef; action: 'Allow' | 'Deny' }
  | { kind: 'end-of-tier'; tier: string }
  | { kind: 'missing-policy'; tier: string; policy: PolicyId }
  | { kind: 'missing-profile'; profile: ProfileId }
  | { kind: 'nothing-allowed' };

export interface Verdict {
  action: 'allow' | 'deny';
  decidedBy: Decision;
  /** Log rules that matched on the way, in order. */
  logged: RuleRef[];
  /** Pass rules (or Pass tier defaults) that moved evaluation to the next tier. */
  passed: (RuleRef | { tier: string })[];
}

export const PORT_PROTOCOLS: ReadonlySet<number> = new Set([6, 17, 132]);
const ICMP_OF: Record<IpVersion, number> = { 4: 1, 6: 58 };

/** Parsed-address cache: the same few strings are looked at many times. */
const cidrs = new Map<string, CIDR | null>();
function cidrOf(text: string): CIDR | undefined {
  let c = cidrs.get(text);
  if (c === undefined) {
    c = tryParseCIDROrIP(text) ?? null;
    if (cidrs.size > 100_000) cidrs.clear();
    cidrs.set(text, c);
  }
  return c ?? undefined;
}

function addressOf(text: string): IPAddress {
  const ip = tryParseIP(text);
  if (!ip) throw new RangeError(`packet address '${text}' is not an IP address`);
  return ip;
}

const inNet = (net: string, ip: IPAddress) => {
  const c = cidrOf(net);
  return c !== undefined && cidrContainsIP(c, ip);
};

function inIpSet(set: IpSetState | undefined, ip: IPAddress): boolean {
  if (!set || set.kind !== 'net') return false;
  return set.members.some((m) => inNet(m.net, ip));
}

function inNamedPortSet(set: IpSetState | undefined, ip: IPAddress, protocol: number, port: number): boolean {
  if (!set || set.kind !== 'named-port') return false;
  return set.members.some((m) => m.protocol === protocol && m.port === port && inNet(m.net, ip));
}

const inRanges = (ranges: PortRange[], port: number) => ranges.some((r) => port >= r.first && port <= r.last);

/**
 * As in Felix: a non-empty nets (or notNets) list without a CIDR of the
 * packet's family rules the rule out for that family, so notNets of only
 * IPv4 CIDRs never becomes "any IPv6 address".
 */
function familyRuledOut(nets: string[], family: IpVersion): boolean {
  return nets.length > 0 && !nets.some((n) => cidrOf(n)?.family === family);
}

function sideMatches(side: RuleSide, which: 'src' | 'dst', packet: PolicyPacket, sets: PolicyInputs['ipSets']): boolean {
  const ip = addressOf(which === 'src' ? packet.src : packet.dst);
  const port = which === 'src' ? packet.srcPort : packet.dstPort;
  if (familyRuledOut(side.nets, packet.family) || familyRuledOut(side.notNets, packet.family)) return false;
  if (side.nets.length && !side.nets.some((n) => inNet(n, ip))) return false;
  if (side.notNets.some((n) => inNet(n, ip))) return false;
  if (!side.ipSetIds.every((id) => inIpSet(sets.get(id), ip))) return false;
  if (side.notIpSetIds.some((id) => inIpSet(sets.get(id), ip))) return false;
  const hasPortCriteria = side.ports.length + side.notPorts.length + side.namedPortIpSetIds.length + side.notNamedPortIpSetIds.length > 0;
  if (!hasPortCriteria) return true;
  // Port criteria only ever meet packets that have ports.
  if (port === undefined) return false;
  if (side.ports.length || side.namedPortIpSetIds.length) {
    const byNumber = inRanges(side.ports, port);
    const byName = side.namedPortIpSetIds.some((id) => inNamedPortSet(sets.get(id), ip, packet.protocol, port));
    if (!byNumber && !byName) return false;
  }
  if (inRanges(side.notPorts, port)) return false;
  if (side.notNamedPortIpSetIds.some((id) => inNamedPortSet(sets.get(id), ip, packet.protocol, port))) return false;
  return true;
}

/** Does one rule match the packet? (Its action is not looked at.) */
export function ruleMatches(rule: NormalizedRule, packet: PolicyPacket, sets: PolicyInputs['ipSets']): boolean {
  if (rule.neverMatches) return false;
  if (rule.ipVersion !== undefined && rule.ipVersion !== packet.family) return false;
  // ICMP is the family's own: protocol 1 is ICMP only in IPv4, 58 only in IPv6.
  const protocolOk = (p: number) => p === packet.protocol && (p !== 1 || packet.family === 4) && (p !== 58 || packet.family === 6);
  if (rule.protocol !== undefined && !protocolOk(rule.protocol)) return false;
  if (rule.notProtocol !== undefined && protocolOk(rule.notProtocol)) return false;
  if (rule.icmp || rule.notIcmp) {
    // ICMP criteria need an ICMP packet of the packet's own family (Felix renders them with the protocol).
    if (packet.protocol !== ICMP_OF[packet.family] || packet.icmpType === undefined) return false;
    const is = (m: { type: number; code?: number }) => m.type === packet.icmpType && (m.code === undefined || m.code === packet.icmpCode);
    if (rule.icmp && !is(rule.icmp)) return false;
    if (rule.notIcmp && is(rule.notIcmp)) return false;
  }
  return sideMatches(rule.source, 'src', packet, sets) && sideMatches(rule.destination, 'dst', packet, sets);
}

type RulesOutcome = { action: RuleAction; index: number } | undefined;

/** First Allow/Deny/Pass among the rules; Log rules that match on the way are recorded. */
function firstMatch(rules: NormalizedRule[], packet: PolicyPacket, sets: PolicyInputs['ipSets'], onLog: (index: number) => void): RulesOutcome {
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    if (!ruleMatches(rule, packet, sets)) continue;
    if (rule.action === 'Log') {
      onLog(i);
      continue;
    }
    return { action: rule.action, index: i };
  }
  return undefined;
}

/** The verdict of one endpoint's program in one direction for one packet. */
export function evaluatePolicy(inputs: PolicyInputs, program: EndpointProgram, direction: PolicyDirection, packet: PolicyPacket): Verdict {
  const logged: RuleRef[] = [];
  const passed: Verdict['passed'] = [];
  const done = (action: 'allow' | 'deny', decidedBy: Decision): Verdict => ({ action, decidedBy, logged, passed });
  for (const tier of program.tiers) {
    if (tier.policies.length === 0) continue;
    let passedOn = false;
    for (const id of tier.policies) {
      const policy = inputs.policies.get(id);
      if (!policy) return done('deny', { kind: 'missing-policy', tier: tier.tier, policy: id });
      const rules = direction === 'inbound' ? policy.inboundRules : policy.outboundRules;
      const hit = firstMatch(rules, packet, inputs.ipSets, (index) => logged.push({ tier: tier.tier, policy: id, index }));
      if (!hit) continue;
      const ref = { tier: tier.tier, policy: id, index: hit.index };
      if (hit.action === 'Pass') {
        passed.push(ref);
        passedOn = true;
        break;
      }
      return done(hit.action === 'Allow' ? 'allow' : 'deny', { kind: 'rule', rule: ref, action: hit.action === 'Allow' ? 'Allow' : 'Deny' });
    }
    if (passedOn) continue;
    if (tier.defaultAction === 'Deny') return done('deny', { kind: 'end-of-tier', tier: tier.tier });
    passed.push({ tier: tier.tier });
  }
  for (const id of program.profileIds) {
    const profile = inputs.profiles.get(id);
    if (!profile) return done('deny', { kind: 'missing-profile', profile: id });
    const rules = direction === 'inbound' ? profile.inboundRules : profile.outboundRules;
    const hit = firstMatch(rules, packet, inputs.ipSets, (index) => logged.push({ profile: id, index }));
    // Pass in a profile ends that profile; the next one decides.
    if (!hit || hit.action === 'Pass') continue;
    const action = hit.action === 'Allow' ? 'Allow' : 'Deny';
    return done(action === 'Allow' ? 'allow' : 'deny', { kind: 'rule', rule: { profile: id, index: hit.index }, action });
  }
  return done('deny', { kind: 'nothing-allowed' });
}
