// Random policy worlds for the compiler's differential test: a seeded
// generator of calc-graph output (policies, profiles, tiers, sets, workload
// endpoints) and of packets, shaped like what the calc graph and Calico's
// validation let through (ports only with TCP/UDP/SCTP, ICMP fields only with
// an ICMP protocol, ipVersion narrowed the way calc/rules.ts narrows it).
// Biased towards the simple shapes the compiler merges (nets x ports x
// protocol, one selector) and towards shared policy lists, so merging and
// sharing are exercised, with the odd negation, named port, Log and Pass.

import { seededRandom } from '../base/prng.js';
import type { DesiredPolicyState, IpSetState, IpVersion, NormalizedRule, PolicyState, ProfileState, RuleSide, TierPolicies, WorkloadEndpointState } from '../calc/output.js';
import type { PolicyPacket } from '../calc/verdict.js';
import { toCidr } from '../calc/model.js';
import { sortedMembers } from '../calc/output.js';

/** The shared seeded generator (src/base/prng.ts), under the name these tests use. */
export const prng = seededRandom;

export class Dice {
  constructor(readonly next: () => number) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  some<T>(xs: readonly T[], max: number): T[] {
    const n = this.int(1, Math.min(max, xs.length));
    const out = new Set<T>();
    while (out.size < n) out.add(this.pick(xs));
    return [...out];
  }
  weighted<T>(table: readonly [T, number][]): T {
    const total = table.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [v, w] of table) if ((r -= w) < 0) return v;
    return table[table.length - 1]![0];
  }
}

// A small address space, so rules, sets and packets meet often.
const V4_HOSTS = Array.from({ length: 12 }, (_, i) => `198.18.0.${i + 1}`);
const V6_HOSTS = Array.from({ length: 12 }, (_, i) => `2001:db8::${(i + 1).toString(16)}`);
const V4_NETS = ['198.18.0.0/29', '198.18.0.8/30', '198.18.0.0/24', '198.18.0.4/31', '0.0.0.0/0', '198.19.0.0/16'];
const V6_NETS = ['2001:db8::/125', '2001:db8::8/126', '2001:db8::/64', '::/0', '2001:db8:1::/48'];
const PORTS = [22, 53, 80, 81, 443, 1000, 1001, 1002, 8080];
const PORT_PROTOCOLS = [6, 17, 132];
const ICMP_TYPES = [0, 3, 8];

const hostOf = (d: Dice, family: IpVersion) => (family === 4 ? d.pick(V4_HOSTS) : d.pick(V6_HOSTS));
const cidrOf = (d: Dice, family: IpVersion) => (d.chance(0.6) ? `${hostOf(d, family)}/${family === 4 ? 32 : 128}` : d.pick(family === 4 ? V4_NETS : V6_NETS));
const netsOf = (d: Dice) => {
  const fam = d.weighted<'4' | '6' | 'both'>([['4', 5], ['6', 2], ['both', 2]]);
  const n = d.int(1, 3);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(cidrOf(d, fam === 'both' ? d.pick([4, 6] as const) : fam === '4' ? 4 : 6));
  return [...new Set(out)];
};
const portsOf = (d: Dice) =>
  Array.from({ length: d.int(1, 3) }, () => {
    const first = d.pick(PORTS);
    return d.chance(0.2) ? { first, last: first + d.int(1, 3) } : { first, last: first };
  });

export const emptySide = (): RuleSide => ({ nets: [], notNets: [], ipSetIds: [], notIpSetIds: [], ports: [], notPorts: [], namedPortIpSetIds: [], notNamedPortIpSetIds: [] });

interface World {
  netSets: string[];
  namedSets: string[];
}

function randomSide(d: Dice, w: World, protocol: number | undefined, simple: boolean): RuleSide {
  const s = emptySide();
  const hasPorts = protocol !== undefined && PORT_PROTOCOLS.includes(protocol);
  if (simple) {
    const what = d.weighted<'nets' | 'set' | 'none'>([['nets', 4], ['set', 2], ['none', 3]]);
    if (what === 'nets') s.nets = netsOf(d);
    if (what === 'set') s.ipSetIds = [d.pick(w.netSets)];
    if (hasPorts && d.chance(0.5)) s.ports = portsOf(d);
    return s;
  }
  if (d.chance(0.35)) s.nets = netsOf(d);
  if (d.chance(0.15)) s.notNets = netsOf(d);
  if (d.chance(0.3)) s.ipSetIds = d.some(w.netSets, 2);
  if (d.chance(0.15)) s.notIpSetIds = d.some(w.netSets, 2);
  if (hasPorts && d.chance(0.4)) s.ports = portsOf(d);
  if (hasPorts && d.chance(0.15)) s.notPorts = portsOf(d);
  if ((hasPorts || protocol === undefined) && d.chance(0.12)) s.namedPortIpSetIds = d.some(w.namedSets, 2);
  if (hasPorts && d.chance(0.1)) s.notNamedPortIpSetIds = d.some(w.namedSets, 1);
  return s;
}

/** The calc graph's family narrowing (calc/rules.ts), so generated rules look like its output. */
function narrow(rule: NormalizedRule, requested: IpVersion | undefined): void {
  let families = new Set<IpVersion>([4, 6]);
  const keep = (allowed: IpVersion[]) => (families = new Set([...families].filter((f) => allowed.includes(f))));
  if (requested) keep([requested]);
  if (rule.protocol === 1) keep([4]);
  if (rule.protocol === 58) keep([6]);
  for (const side of [rule.source, rule.destination]) for (const nets of [side.nets, side.notNets]) if (nets.length) keep(nets.map((n) => (n.includes(':') ? 6 : 4)));
  if (families.size === 0) rule.neverMatches = true;
  else if (families.size === 1) rule.ipVersion = [...families][0]!;
}

export function randomRule(d: Dice, w: World, opts: { actions?: readonly [NormalizedRule['action'], number][]; simple?: number } = {}): NormalizedRule {
  const action = d.weighted<NormalizedRule['action']>(opts.actions ?? [['Allow', 45], ['Deny', 25], ['Pass', 8], ['Log', 8]]);
  const simple = d.chance(opts.simple ?? 0.55);
  const protocol = d.chance(simple ? 0.85 : 0.6) ? d.weighted<number>([[6, 5], [17, 3], [132, 1], [1, 2], [58, 2], [47, 1]]) : undefined;
  const rule: NormalizedRule = { action, source: randomSide(d, w, protocol, simple), destination: randomSide(d, w, protocol, simple) };
  if (protocol !== undefined) rule.protocol = protocol;
  if (!simple && d.chance(0.1)) rule.notProtocol = d.pick([6, 17, 1, 58]);
  if ((protocol === 1 || protocol === 58) && d.chance(0.5)) {
    const m = { type: d.pick(ICMP_TYPES), ...(d.chance(0.5) ? { code: d.int(0, 1) } : {}) };
    if (d.chance(0.6)) rule.icmp = m;
    else rule.notIcmp = m;
  }
  narrow(rule, d.chance(0.1) ? d.pick([4, 6] as const) : undefined);
  return rule;
}

export interface GenOptions {
  policies?: number;
  rulesPerPolicy?: number;
  endpoints?: number;
  /** Long same-action runs of simple rules (the shapes the compiler merges), as in real clusters. */
  mergeable?: boolean;
}

/** A random desired state: sets, policies in up to three tiers, profiles, workload endpoints (some sharing policy lists). */
export function randomState(seed: number, opts: GenOptions = {}): DesiredPolicyState {
  const d = new Dice(prng(seed));
  const ipSets = new Map<string, IpSetState>();
  const netSets = ['sa', 'sb', 'sc', 'sd'];
  for (const id of netSets) {
    const members = sortedMembers(Array.from({ length: d.int(0, 5) }, () => ({ net: d.chance(0.8) ? (d.chance(0.6) ? `${hostOf(d, 4)}/32` : `${hostOf(d, 6)}/128`) : d.pick([...V4_NETS.slice(0, 3), ...V6_NETS.slice(0, 2)]) })));
    ipSets.set(id, { id, kind: 'net', description: id, members });
  }
  // 'sz' is referenced but never defined sometimes: an absent set is empty.
  const namedSets = ['na', 'nb'];
  for (const id of namedSets) {
    const members = sortedMembers(Array.from({ length: d.int(0, 5) }, () => ({ net: toCidr(hostOf(d, d.chance(0.7) ? 4 : 6)), protocol: d.pick(PORT_PROTOCOLS), port: d.pick(PORTS) })));
    ipSets.set(id, { id, kind: 'named-port', description: id, members });
  }
  const world: World = { netSets: [...netSets, 'sz'], namedSets };
  const tiers = ['t1', 't2', 't3'].slice(0, d.int(1, 3));
  const nPolicies = opts.policies ?? d.int(1, 8);
  const maxRules = opts.rulesPerPolicy ?? 6;
  const policies = new Map<string, PolicyState>();
  for (let i = 0; i < nPolicies; i++) {
    const id = `gnp/p${i}`;
    // Mergeable worlds: each policy mostly one action (a deny list, an allow list), few odd rules.
    const main = d.weighted<NormalizedRule['action']>([['Allow', 6], ['Deny', 3], ['Pass', 1]]);
    const ruleOf = () =>
      opts.mergeable
        ? randomRule(d, world, { actions: [[main, 20], ['Allow', 1], ['Deny', 1], ['Log', 0.5]], simple: 0.9 })
        : randomRule(d, world);
    const rules = () => Array.from({ length: d.int(0, maxRules) }, ruleOf);
    policies.set(id, { id, tier: d.pick(tiers), inboundRules: rules(), outboundRules: rules(), doNotTrack: false, preDnat: false, applyOnForward: false });
  }
  const profiles = new Map<string, ProfileState>();
  for (const id of ['kns.a', 'kns.b']) {
    const profileRules = () => Array.from({ length: d.int(0, 3) }, () => randomRule(d, world, { actions: [['Allow', 5], ['Deny', 2], ['Pass', 1], ['Log', 1]] }));
    if (d.chance(0.8)) profiles.set(id, { id, inboundRules: profileRules(), outboundRules: profileRules() });
  }
  const defaults = new Map(tiers.map((t) => [t, d.chance(0.7) ? ('Deny' as const) : ('Pass' as const)]));
  const ids = [...policies.keys()];
  const programOf = (): TierPolicies[] => {
    const chosen = ids.filter(() => d.chance(0.6));
    if (d.chance(0.04)) chosen.push('gnp/missing');
    const out: TierPolicies[] = [];
    for (const tier of tiers) {
      const inTier = chosen.filter((id) => (policies.get(id)?.tier ?? tiers[0]) === tier);
      if (inTier.length) out.push({ tier, policies: inTier, defaultAction: defaults.get(tier)! });
    }
    return out;
  };
  // A few programs shared among the endpoints, so compiled tier chains are shared too.
  const programs = Array.from({ length: 3 }, () => ({ ingress: programOf(), egress: programOf() }));
  const workloadEndpoints = new Map<string, WorkloadEndpointState>();
  const nEndpoints = opts.endpoints ?? 3;
  for (let i = 0; i < nEndpoints; i++) {
    const p = d.chance(0.7) ? d.pick(programs) : { ingress: programOf(), egress: programOf() };
    const id = `default/w${i}`;
    workloadEndpoints.set(id, {
      id,
      namespace: 'default',
      name: `w${i}`,
      interfaceName: `caliw${i}`,
      mac: `02:00:00:00:00:${String(i + 1).padStart(2, '0')}`,
      ipv4Nets: [`${V4_HOSTS[i]}/32`],
      ipv6Nets: [`${V6_HOSTS[i]}/128`],
      policies: p,
      profileIds: d.weighted<string[]>([[['kns.a'], 4], [['kns.a', 'kns.b'], 2], [[], 1], [['kns.gone'], 0.5]]),
      hasIngressPolicy: p.ingress.length > 0,
      hasEgressPolicy: p.egress.length > 0,
    });
  }
  return { workloadEndpoints, hostEndpoints: new Map(), policies, profiles, ipSets, ipPools: new Map(), inSync: true };
}

/** Where a generated packet goes: between two local workloads, or from / to the outside (eth0). */
export interface FlowPacket {
  packet: PolicyPacket;
  from?: WorkloadEndpointState;
  to?: WorkloadEndpointState;
}

export function randomPacket(d: Dice, state: DesiredPolicyState): FlowPacket {
  const eps = [...state.workloadEndpoints.values()];
  const family: IpVersion = d.chance(0.7) ? 4 : 6;
  const shape = d.weighted<'in' | 'out' | 'between'>([['in', 4], ['out', 3], ['between', 3]]);
  const from = shape === 'in' ? undefined : d.pick(eps);
  let to = shape === 'out' ? undefined : d.pick(eps);
  if (to && from && to === from) to = eps.find((e) => e !== from);
  const addr = (ep: WorkloadEndpointState | undefined) => (ep ? (family === 4 ? ep.ipv4Nets[0]! : ep.ipv6Nets[0]!).split('/')[0]! : d.chance(0.8) ? hostOf(d, family) : family === 4 ? '198.19.7.7' : '2001:db8:1::7');
  const protocol = d.weighted<number>([[6, 5], [17, 3], [132, 1], [family === 4 ? 1 : 58, 3], [47, 1]]);
  const packet: PolicyPacket = { family, src: addr(from), dst: addr(to), protocol };
  if (PORT_PROTOCOLS.includes(protocol)) {
    packet.srcPort = d.chance(0.7) ? d.int(30000, 30010) : d.pick(PORTS) + d.int(0, 2);
    packet.dstPort = d.pick(PORTS) + (d.chance(0.2) ? d.int(1, 3) : 0);
  }
  if (protocol === 1 || protocol === 58) {
    packet.icmpType = d.pick(ICMP_TYPES);
    packet.icmpCode = d.int(0, 1);
  }
  return { packet, ...(from ? { from } : {}), ...(to ? { to } : {}) };
}
