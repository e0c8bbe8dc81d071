// Turns "the policies that select this local endpoint" into its ordered policy
// program: tiers by (order, name), policies in a tier by (order, name, id),
// per direction only the tiers with at least one policy applying in it.
// Host endpoints split policies by kind (normal, doNotTrack, preDNAT,
// applyOnForward); workloads only get normal ones, as in Calico.
import type { LocalEndpointModel, PolicyModel, TierModel } from './model.js';
import type { DirectionalPolicies, HostEndpointState, TierPolicies, WorkloadEndpointState } from './output.js';

export type EndpointOutput =
  | { kind: 'workload'; id: string; state: WorkloadEndpointState }
  | { kind: 'host'; id: string; state: HostEndpointState };

const compareNumbers = (a: number, b: number): number => (a === b ? 0 : a < b ? -1 : 1);
const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Orders policies as the dataplane must evaluate them (tier, then within the tier). */
export function sortPolicies(policies: PolicyModel[], tierOf: (name: string) => TierModel): PolicyModel[] {
  return [...policies].sort((a, b) => {
    if (a.tier !== b.tier) {
      const ta = tierOf(a.tier);
      const tb = tierOf(b.tier);
      return compareNumbers(ta.order, tb.order) || compareStrings(ta.name, tb.name);
    }
    return compareNumbers(a.order, b.order) || compareStrings(a.sortName, b.sortName) || compareStrings(a.id, b.id);
  });
}

/** Groups already-sorted policies into per-direction tier lists. */
export function directional(sorted: PolicyModel[], tierOf: (name: string) => TierModel): DirectionalPolicies {
  const pick = (dir: 'ingress' | 'egress'): TierPolicies[] => {
    const out: TierPolicies[] = [];
    for (const p of sorted) {
      if (dir === 'ingress' ? !p.appliesIngress : !p.appliesEgress) continue;
      let last = out[out.length - 1];
      if (!last || last.tier !== p.tier) {
        last = { tier: p.tier, policies: [], defaultAction: tierOf(p.tier).defaultAction };
        out.push(last);
      }
      last.policies.push(p.id);
    }
    return out;
  };
  return { ingress: pick('ingress'), egress: pick('egress') };
}

export function endpointState(local: LocalEndpointModel, policies: PolicyModel[], tierOf: (name: string) => TierModel): EndpointOutput {
  const sorted = sortPolicies(policies, tierOf);
  if (local.kind === 'workload') {
    const normal = directional(
      sorted.filter((p) => !p.doNotTrack && !p.preDnat),
      tierOf,
    );
    const state: WorkloadEndpointState = {
      id: local.outputId,
      namespace: local.namespace,
      name: local.name,
      interfaceName: local.interfaceName ?? '',
      ipv4Nets: [...local.ipv4Nets].sort(),
      ipv6Nets: [...local.ipv6Nets].sort(),
      policies: normal,
      profileIds: local.profileIds,
      hasIngressPolicy: normal.ingress.length > 0,
      hasEgressPolicy: normal.egress.length > 0,
    };
    if (local.mac !== undefined) state.mac = local.mac;
    return { kind: 'workload', id: local.outputId, state };
  }
  const normalPolicies = sorted.filter((p) => !p.doNotTrack && !p.preDnat);
  const normal = directional(normalPolicies, tierOf);
  const preDnat = directional(
    sorted.filter((p) => p.preDnat),
    tierOf,
  );
  preDnat.egress = [];
  const state: HostEndpointState = {
    id: local.outputId,
    expectedIPs: [...local.expectedIPs].sort(),
    policies: normal,
    untrackedPolicies: directional(
      sorted.filter((p) => p.doNotTrack),
      tierOf,
    ),
    preDnatPolicies: preDnat,
    forwardPolicies: directional(
      normalPolicies.filter((p) => p.applyOnForward),
      tierOf,
    ),
    profileIds: local.profileIds,
    hasIngressPolicy: normal.ingress.length > 0,
    hasEgressPolicy: normal.egress.length > 0,
  };
  if (local.interfaceName !== undefined) state.interfaceName = local.interfaceName;
  return { kind: 'host', id: local.outputId, state };
}
