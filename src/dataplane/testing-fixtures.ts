// Hand-built calc-graph output for dataplane tests and benchmarks (no calc
// graph needed): workloads, allow/deny policies, sets and pools.

import type { CalcUpdate, NormalizedRule, PolicyState, RuleSide, WorkloadEndpointState } from '../calc/output.js';

export function side(partial: Partial<RuleSide> = {}): RuleSide {
  return { nets: [], notNets: [], ipSetIds: [], notIpSetIds: [], ports: [], notPorts: [], namedPortIpSetIds: [], notNamedPortIpSetIds: [], ...partial };
}

export function rule(partial: Partial<NormalizedRule> & { action: NormalizedRule['action'] }): NormalizedRule {
  return { source: side(), destination: side(), ...partial };
}

export function workload(opts: {
  name: string;
  iface: string;
  ipv4?: string[];
  ipv6?: string[];
  mac?: string;
  ingress?: string[];
  egress?: string[];
  profiles?: string[];
}): WorkloadEndpointState {
  const tier = (ids: string[] | undefined) => (ids && ids.length ? [{ tier: 'default', policies: ids, defaultAction: 'Deny' as const }] : []);
  return {
    id: `default/${opts.name}`,
    namespace: 'default',
    name: opts.name,
    interfaceName: opts.iface,
    ...(opts.mac ? { mac: opts.mac } : {}),
    ipv4Nets: opts.ipv4 ?? [],
    ipv6Nets: opts.ipv6 ?? [],
    policies: { ingress: tier(opts.ingress), egress: tier(opts.egress) },
    profileIds: opts.profiles ?? [],
    hasIngressPolicy: !!opts.ingress?.length,
    hasEgressPolicy: !!opts.egress?.length,
  };
}

export function policy(id: string, rules: { inbound?: NormalizedRule[]; outbound?: NormalizedRule[] }): PolicyState {
  return { id, tier: 'default', inboundRules: rules.inbound ?? [], outboundRules: rules.outbound ?? [], doNotTrack: false, preDnat: false, applyOnForward: false };
}

export const allowAll = (id: string) => ({ id, inboundRules: [rule({ action: 'Allow' })], outboundRules: [rule({ action: 'Allow' })] });

export function updates(...u: CalcUpdate[]): CalcUpdate[] {
  return u;
}
