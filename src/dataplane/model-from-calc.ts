// The calc graph's output (src/calc/output.ts) -> the rule compiler's input
// (src/rules/model.ts). Pure. Kept as one explicit mapping so either side can
// evolve; what is not supported yet is listed in docs/design/dataplane.md.

import type { DesiredPolicyState, NormalizedRule as CalcRule, DirectionalPolicies, HostEndpointState, IpSetState, PolicyState, ProfileState, RuleSide, WorkloadEndpointState } from '../calc/output.js';
import type { DataplaneConfig, DataplaneModel, IpSetSpec, LocalEndpoint, NormalizedRule, PolicyRules, TierPolicies } from '../rules/model.js';
import { WORKLOAD_PREFIX } from '../rules/names.js';
import { resolveHostEndpoints } from './host-endpoint-resolution.js';
import type { HostInterface } from './ports.js';

const PROTOCOL_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6', 132: 'sctp' };
const protocolName = (n: number) => PROTOCOL_NAMES[n] ?? String(n);

function side(s: RuleSide, prefix: 'src' | 'dst'): Partial<NormalizedRule> {
  const out: Record<string, unknown> = {};
  const put = (key: string, v: unknown[]) => {
    if (v.length) out[`${prefix}${key}`] = v;
  };
  const putNot = (key: string, v: unknown[]) => {
    if (v.length) out[`not${prefix[0]!.toUpperCase()}${prefix.slice(1)}${key}`] = v;
  };
  put('Nets', s.nets);
  putNot('Nets', s.notNets);
  put('IpSetIds', s.ipSetIds);
  putNot('IpSetIds', s.notIpSetIds);
  put('Ports', s.ports);
  putNot('Ports', s.notPorts);
  put('NamedPortIpSetIds', s.namedPortIpSetIds);
  // Dropping this would make a rule match MORE (an Allow would open the excluded ports).
  putNot('NamedPortIpSetIds', s.notNamedPortIpSetIds);
  return out as Partial<NormalizedRule>;
}

export function ruleFromCalc(r: CalcRule): NormalizedRule | undefined {
  if (r.neverMatches) return undefined;
  const out: NormalizedRule = {
    action: r.action === 'Allow' ? 'allow' : r.action === 'Deny' ? 'deny' : r.action === 'Pass' ? 'pass' : 'log',
    ...side(r.source, 'src'),
    ...side(r.destination, 'dst'),
  };
  if (r.ipVersion) out.ipVersion = r.ipVersion;
  if (r.protocol !== undefined) out.protocol = protocolName(r.protocol);
  if (r.notProtocol !== undefined) out.notProtocol = protocolName(r.notProtocol);
  if (r.icmp) {
    out.icmpType = r.icmp.type;
    if (r.icmp.code !== undefined) out.icmpCode = r.icmp.code;
  }
  if (r.notIcmp) {
    out.notIcmpType = r.notIcmp.type;
    if (r.notIcmp.code !== undefined) out.notIcmpCode = r.notIcmp.code;
  }
  return out;
}

const rules = (list: CalcRule[]) => list.map(ruleFromCalc).filter((r): r is NormalizedRule => r !== undefined);

function tiers(p: DirectionalPolicies): TierPolicies[] {
  return [
    ...p.ingress.map((t) => ({ name: t.tier, defaultAction: t.defaultAction === 'Pass' ? 'pass' : 'deny', ingressPolicies: t.policies, egressPolicies: [] }) as TierPolicies),
    ...p.egress.map((t) => ({ name: t.tier, defaultAction: t.defaultAction === 'Pass' ? 'pass' : 'deny', ingressPolicies: [], egressPolicies: t.policies }) as TierPolicies),
  ];
}

/** Named-port members come as "10.0.0.1,6:8080"; the compiler wants protocol names. */
function namedPortMember(m: string): string {
  return m.replace(/,(\d+):(\d+)$/, (_, p: string, port: string) => `,${protocolName(Number(p))}:${port}`);
}

// Same input object -> same output object, so the compiler's caches (per endpoint, per tier chain) hit.
const policyCache = new WeakMap<PolicyState | ProfileState, PolicyRules>();
function policyRules(p: PolicyState | ProfileState): PolicyRules {
  let hit = policyCache.get(p);
  if (!hit) policyCache.set(p, (hit = { id: p.id, inbound: rules(p.inboundRules), outbound: rules(p.outboundRules) }));
  return hit;
}

// Same set object -> same spec object, so the compiler's per-set cache hits (managers.ts makes a new object per change).
const setCache = new WeakMap<IpSetState, IpSetSpec>();
function ipSetSpec(s: IpSetState): IpSetSpec {
  let hit = setCache.get(s);
  if (!hit) setCache.set(s, (hit = { id: s.id, type: s.kind, members: s.kind === 'named-port' ? s.members.map(namedPortMember) : s.members }));
  return hit;
}

const workloadCache = new WeakMap<WorkloadEndpointState, LocalEndpoint>();
const hostCache = new WeakMap<HostEndpointState, Map<string, LocalEndpoint>>();

function hostEndpoint(h: HostEndpointState, iface: string): LocalEndpoint {
  let perIface = hostCache.get(h);
  if (!perIface) hostCache.set(h, (perIface = new Map()));
  const hit = perIface.get(iface);
  if (hit) return hit;
  const ep: LocalEndpoint = {
    id: `host:${h.id}`,
    kind: 'host',
    interfaceName: iface,
    ipv4Nets: [],
    ipv6Nets: [],
    tiers: tiers(h.policies),
    profileIds: h.profileIds,
    untrackedTiers: tiers(h.untrackedPolicies),
    // Calico applies preDNAT policy to ingress only (the API refuses egress rules on it).
    preDnatTiers: tiers({ ingress: h.preDnatPolicies.ingress, egress: [] }),
    forwardTiers: tiers(h.forwardPolicies),
  };
  perIface.set(iface, ep);
  return ep;
}

/**
 * `hostInterfaces`: the host's interfaces with their addresses, when known;
 * without them a host endpoint given by expectedIPs only governs nothing yet.
 */
export function modelFromCalc(state: DesiredPolicyState, config: DataplaneConfig, hostInterfaces?: HostInterface[]): DataplaneModel {
  const endpoints: LocalEndpoint[] = [];
  for (const w of state.workloadEndpoints.values()) {
    const hit = workloadCache.get(w);
    if (hit) {
      endpoints.push(hit);
      continue;
    }
    const ep: LocalEndpoint = {
      id: `workload:${w.id}`,
      kind: 'workload',
      interfaceName: w.interfaceName,
      ...(w.mac ? { mac: w.mac } : {}),
      ipv4Nets: w.ipv4Nets,
      ipv6Nets: w.ipv6Nets,
      tiers: tiers(w.policies),
      profileIds: w.profileIds,
    };
    workloadCache.set(w, ep);
    endpoints.push(ep);
  }
  // Workload interfaces are never host endpoints (Felix ignores their addresses too).
  const configured = (config.workloadInterfacePrefixes ?? []).map((p) => p.trim()).filter(Boolean);
  const prefixes = configured.length ? configured : [WORKLOAD_PREFIX];
  const workloadNames = new Set([...state.workloadEndpoints.values()].map((w) => w.interfaceName));
  const isWorkloadInterface = (name: string) => workloadNames.has(name) || prefixes.some((p) => name.startsWith(p));
  const { resolved } = resolveHostEndpoints(state.hostEndpoints.values(), { ...(hostInterfaces ? { interfaces: hostInterfaces } : {}), isWorkloadInterface });
  for (const { iface, endpoint } of resolved) endpoints.push(hostEndpoint(endpoint, iface));
  const policies: PolicyRules[] = [...state.policies.values()].map(policyRules);
  const profiles: PolicyRules[] = [...state.profiles.values()].map(policyRules);
  return {
    config,
    endpoints,
    policies,
    profiles,
    ipSets: [...state.ipSets.values()].map(ipSetSpec),
    pools: [...state.ipPools.values()].map((p) => ({ cidr: p.cidr, natOutgoing: p.natOutgoing, disabled: p.disabled })),
  };
}
