// The calc graph's output (src/calc/output.ts) -> the rule compiler's input
// (src/rules/model.ts). Pure. Policies, profiles and their rules pass through
// as the calc graph made them, and so do the endpoints' tier lists; what is
// built here is what the compiler needs beyond the calc graph: local
// endpoints resolved to interfaces (host endpoints against the host's
// interfaces, one model endpoint per interface).

import type { DesiredPolicyState, HostEndpointState, WorkloadEndpointState } from '../calc/output.js';
import type { DataplaneConfig, DataplaneModel, LocalEndpoint } from '../rules/model.js';
import { WORKLOAD_PREFIX } from '../rules/names.js';
import { resolveHostEndpoints } from './host-endpoint-resolution.js';
import type { HostInterface } from './ports.js';

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
    policies: h.policies,
    profileIds: h.profileIds,
    untrackedPolicies: h.untrackedPolicies,
    preDnatPolicies: h.preDnatPolicies,
    forwardPolicies: h.forwardPolicies,
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
      policies: w.policies,
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
  return {
    config,
    endpoints,
    // The calc graph's own objects: the compiler reads its rules as they are, and
    // unchanged objects keep their identity, so its caches hit.
    policies: [...state.policies.values()],
    policyIndex: state.policies,
    profiles: [...state.profiles.values()],
    ipSets: [...state.ipSets.values()],
    pools: [...state.ipPools.values()].map((p) => ({ cidr: p.cidr, natOutgoing: p.natOutgoing, disabled: p.disabled })),
  };
}
