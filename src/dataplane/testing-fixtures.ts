// Hand-built calc-graph output for dataplane tests and benchmarks (no calc
// graph needed): workloads, allow/deny policies, sets and pools.

import type { CalcUpdate, DirectionalPolicies, HostEndpointState, NormalizedRule, PolicyState, RuleSide, WorkloadEndpointState } from '../calc/output.js';

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

/** Policy ids per direction, one tier "default" (default action Deny). */
export interface DirIds {
  ingress?: string[];
  egress?: string[];
}

function directional(ids: DirIds | undefined): DirectionalPolicies {
  const tier = (list: string[] | undefined) => (list && list.length ? [{ tier: 'default', policies: list, defaultAction: 'Deny' as const }] : []);
  return { ingress: tier(ids?.ingress), egress: tier(ids?.egress) };
}

export function hostEndpoint(opts: {
  id: string;
  iface?: string;
  expectedIPs?: string[];
  normal?: DirIds;
  untracked?: DirIds;
  preDnat?: DirIds;
  forward?: DirIds;
  profiles?: string[];
}): HostEndpointState {
  const normal = directional(opts.normal);
  return {
    id: opts.id,
    ...(opts.iface !== undefined ? { interfaceName: opts.iface } : {}),
    expectedIPs: opts.expectedIPs ?? [],
    policies: normal,
    untrackedPolicies: directional(opts.untracked),
    preDnatPolicies: directional({ ingress: opts.preDnat?.ingress ?? [] }),
    forwardPolicies: directional(opts.forward),
    profileIds: opts.profiles ?? [],
    hasIngressPolicy: normal.ingress.length > 0,
    hasEgressPolicy: normal.egress.length > 0,
  };
}

export function policy(
  id: string,
  rules: { inbound?: NormalizedRule[]; outbound?: NormalizedRule[] },
  kind: { doNotTrack?: boolean; preDnat?: boolean; applyOnForward?: boolean } = {},
): PolicyState {
  return { id, tier: 'default', inboundRules: rules.inbound ?? [], outboundRules: rules.outbound ?? [], doNotTrack: !!kind.doNotTrack, preDnat: !!kind.preDnat, applyOnForward: !!kind.applyOnForward };
}

export const allowAll = (id: string) => ({ id, inboundRules: [rule({ action: 'Allow' })], outboundRules: [rule({ action: 'Allow' })] });

export function updates(...u: CalcUpdate[]): CalcUpdate[] {
  return u;
}
