// "Would this packet be allowed, and by what?" computed from the datastore's
// resources by the code the agent uses: the calc graph of the source's node
// (egress of the source endpoint) and of the destination's node (ingress of
// the destination endpoint), each evaluated by the reference interpreter
// (verdict.ts) that the rule compiler is checked against. Pure: resources in,
// explanation out.
import type { Resource } from '../api/resource.js';
import { tryParseIP } from '../base/ip.js';
import { CALC_KINDS, CalcGraph } from './graph.js';
import type { DesiredPolicyState, IpVersion } from './output.js';
import { PROTOCOL_NUMBERS, ipVersionOf } from './output.js';
import { evaluatePolicy, PORT_PROTOCOLS, type PolicyDirection, type PolicyPacket, type RuleRef, type Verdict } from './verdict.js';

/** One end of the flow: an endpoint calico-ts polices, or an address it does not. */
export type FlowEnd =
  | { kind: 'workload'; namespace: string; name: string; node: string; ip: string; label: string }
  | { kind: 'host'; name: string; node: string; ip: string; label: string }
  | { kind: 'external'; ip: string; label: string };

export interface FlowSpec {
  /** `namespace/name` of a WorkloadEndpoint (its name, pod or workload), a HostEndpoint name, or an address. */
  from: string;
  to: string;
  /** TCP, UDP, SCTP, ICMP, ICMPv6 or a number. */
  protocol: string;
  dstPort?: number;
  srcPort?: number;
  icmpType?: number;
  icmpCode?: number;
}

export interface SideExplanation {
  direction: 'egress' | 'ingress';
  end: Exclude<FlowEnd, { kind: 'external' }>;
  verdict: Verdict;
  /** The decision in words, with tier / policy / rule names. */
  because: string;
}

export interface Explanation {
  packet: PolicyPacket;
  from: FlowEnd;
  to: FlowEnd;
  /** Absent when that end is not an endpoint of ours (nothing of ours polices it there). */
  egress?: SideExplanation;
  ingress?: SideExplanation;
  action: 'allow' | 'deny';
  summary: string;
}

export class ExplainError extends Error {
  override readonly name = 'ExplainError';
}

const spec = (r: Resource) => (r.spec ?? {}) as Record<string, unknown>;
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const bare = (cidr: string) => cidr.split('/')[0]!;

function endpointAddresses(r: Resource): string[] {
  return r.kind === 'WorkloadEndpoint' ? strs(spec(r).ipNetworks).map(bare) : strs(spec(r).expectedIPs);
}

/** Finds what `text` names; `family` picks the address of a dual-stack endpoint. */
export function resolveEnd(text: string, resources: Resource[], family?: IpVersion): FlowEnd {
  const endpoints = resources.filter((r) => r.kind === 'WorkloadEndpoint' || r.kind === 'HostEndpoint');
  const pick = (r: Resource): string => {
    const addrs = endpointAddresses(r);
    const ip = addrs.find((a) => family === undefined || ipVersionOf(a) === family) ?? addrs[0];
    if (!ip) throw new ExplainError(`${r.kind} ${r.metadata.namespace ? `${r.metadata.namespace}/` : ''}${r.metadata.name} has no ${family ? `IPv${family} ` : ''}address to send from or to`);
    return ip;
  };
  const toEnd = (r: Resource, ip = pick(r)): FlowEnd =>
    r.kind === 'WorkloadEndpoint'
      ? { kind: 'workload', namespace: r.metadata.namespace ?? 'default', name: r.metadata.name, node: String(spec(r).node ?? ''), ip, label: `${r.metadata.namespace}/${workloadName(r)}` }
      : { kind: 'host', name: r.metadata.name, node: String(spec(r).node ?? ''), ip, label: `host endpoint ${r.metadata.name}` };
  const address = tryParseIP(text);
  if (address) {
    const owner = endpoints.find((r) => endpointAddresses(r).some((a) => a === text || tryParseIP(a)?.value === address.value));
    return owner ? toEnd(owner, text) : { kind: 'external', ip: text, label: text };
  }
  const [ns, name] = text.includes('/') ? (text.split('/', 2) as [string, string]) : [undefined, text];
  const hits = endpoints.filter((r) => {
    if (r.kind === 'HostEndpoint') return ns === undefined && r.metadata.name === name;
    if (ns !== undefined && (r.metadata.namespace ?? 'default') !== ns) return false;
    return r.metadata.name === name || spec(r).pod === name || spec(r).workload === name;
  });
  if (hits.length === 0) throw new ExplainError(`no WorkloadEndpoint or HostEndpoint is "${text}": give <namespace>/<pod or workload>, an endpoint's name, or an IP address`);
  if (hits.length > 1) throw new ExplainError(`"${text}" names ${hits.length} endpoints (${hits.map((h) => `${h.metadata.namespace ? `${h.metadata.namespace}/` : ''}${h.metadata.name}`).join(', ')}): give the endpoint's full name or its address`);
  return toEnd(hits[0]!);
}

function workloadName(r: Resource): string {
  return String(spec(r).pod ?? spec(r).workload ?? r.metadata.name);
}

function protocolNumber(text: string): number {
  const n = Number(text);
  if (Number.isInteger(n) && n >= 0 && n <= 255) return n;
  const known = PROTOCOL_NUMBERS[text.toLowerCase()];
  if (known === undefined) throw new ExplainError(`unknown protocol "${text}": use TCP, UDP, SCTP, ICMP, ICMPv6 or a number 0-255`);
  return known;
}

/** The calc graph's view from `node`: what its agent would program. */
export function nodeState(node: string, resources: Resource[]): DesiredPolicyState {
  const graph = new CalcGraph({ nodeName: node });
  const kinds = new Set<string>(CALC_KINDS);
  for (const r of resources) if (kinds.has(r.kind)) graph.upsert(r);
  graph.onInSync();
  graph.flush();
  return graph.snapshot();
}

function side(direction: 'egress' | 'ingress', end: FlowEnd, packet: PolicyPacket, resources: Resource[]): SideExplanation | undefined {
  if (end.kind === 'external') return undefined;
  const state = nodeState(end.node, resources);
  const ep = end.kind === 'workload' ? state.workloadEndpoints.get(`${end.namespace}/${end.name}`) : state.hostEndpoints.get(end.name);
  if (!ep) throw new ExplainError(`${end.label} is not on node "${end.node}" in the calc graph's view (is spec.node right?)`);
  const policyDir: PolicyDirection = direction === 'ingress' ? 'inbound' : 'outbound';
  const verdict = evaluatePolicy(state, { tiers: direction === 'ingress' ? ep.policies.ingress : ep.policies.egress, profileIds: ep.profileIds }, policyDir, packet);
  return { direction, end, verdict, because: describe(verdict, direction) };
}

/** A policy id (`np/<ns>/<name>`, `gnp/<name>`) as users write it. */
export function policyLabel(id: string): string {
  const [kind, ...rest] = id.split('/');
  return kind === 'np' ? `NetworkPolicy ${rest.join('/')}` : `GlobalNetworkPolicy ${rest.join('/')}`;
}

export function ruleLabel(ref: RuleRef, direction: 'egress' | 'ingress'): string {
  return 'tier' in ref ? `tier ${ref.tier}, ${policyLabel(ref.policy)}, ${direction}[${ref.index}]` : `Profile ${ref.profile}, ${direction}[${ref.index}]`;
}

function describe(v: Verdict, direction: 'egress' | 'ingress'): string {
  const d = v.decidedBy;
  switch (d.kind) {
    case 'rule':
      return `${d.action} by ${ruleLabel(d.rule, direction)}`;
    case 'end-of-tier':
      return `Deny at the end of tier ${d.tier} (its policies applied to the endpoint, none decided; the tier's default action)`;
    case 'missing-policy':
      return `Deny: ${policyLabel(d.policy)} in tier ${d.tier} is referenced but missing (fail closed)`;
    case 'missing-profile':
      return `Deny: Profile ${d.profile} is referenced but missing (fail closed)`;
    case 'nothing-allowed':
      return 'Deny: no policy or profile rule allowed it (the default)';
  }
}

export function explainFlow(resources: Resource[], flow: FlowSpec): Explanation {
  const fromGuess = tryParseIP(flow.from) ? ipVersionOf(flow.from) : tryParseIP(flow.to) ? ipVersionOf(flow.to) : undefined;
  const from = resolveEnd(flow.from, resources, fromGuess);
  const to = resolveEnd(flow.to, resources, ipVersionOf(from.ip));
  if (ipVersionOf(from.ip) !== ipVersionOf(to.ip)) throw new ExplainError(`${from.label} (${from.ip}) and ${to.label} (${to.ip}) are of different IP families`);
  const protocol = protocolNumber(flow.protocol);
  const packet: PolicyPacket = { family: ipVersionOf(from.ip), src: from.ip, dst: to.ip, protocol };
  if (PORT_PROTOCOLS.has(protocol)) {
    if (flow.dstPort === undefined) throw new ExplainError(`${flow.protocol} needs a destination port (--port)`);
    packet.dstPort = flow.dstPort;
    packet.srcPort = flow.srcPort ?? 40000;
  } else if (protocol === 1 || protocol === 58) {
    packet.icmpType = flow.icmpType ?? (protocol === 1 ? 8 : 128);
    packet.icmpCode = flow.icmpCode ?? 0;
  }
  const egress = side('egress', from, packet, resources);
  const ingress = side('ingress', to, packet, resources);
  const denied = [egress, ingress].find((s) => s?.verdict.action === 'deny');
  const action = denied ? 'deny' : 'allow';
  const summary = denied
    ? `DENIED by ${denied.direction} of ${denied.end.label}: ${denied.because}`
    : `ALLOWED${egress ? ` (egress of ${from.label}: ${egress.because})` : ''}${ingress ? ` (ingress of ${to.label}: ${ingress.because})` : ''}`;
  return { packet, from, to, ...(egress ? { egress } : {}), ...(ingress ? { ingress } : {}), action, summary };
}
