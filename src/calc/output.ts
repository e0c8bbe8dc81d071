// The calculation graph's output contract: the desired policy state of ONE host,
// as plain data with no kernel concepts (no chains, no set names, no routes).
// The dataplane (src/rules, src/render, src/dataplane) consumes it either as a
// whole (DesiredPolicyState) or, in steady state, as ordered batches of
// CalcUpdate. Stability matters more than elegance here: extend additively.
//
// Identifiers are opaque strings, stable across restarts and independent of
// the order updates arrived in (same inputs => same ids), so a restarted agent
// recomputes the same names and its mark-and-sweep leaves correct state alone.

/** `ingress` = traffic towards the endpoint; `egress` = traffic leaving it. */
export type Direction = 'ingress' | 'egress';

/** IP family of an address, CIDR or rule. */
export type IpVersion = 4 | 6;

/**
 * Policy id. `gnp/<name>` for a GlobalNetworkPolicy, `np/<namespace>/<name>` for a
 * NetworkPolicy. Safe to log; not meant to be parsed by the dataplane.
 */
export type PolicyId = string;

/** Profile id: the Profile resource name (e.g. `kns.default`). */
export type ProfileId = string;

/**
 * IP set id: `s<hash>` (selector / network set members) or `n<hash>` (named-port
 * members); lower-case [a-z0-9], at most 24 characters, so a renderer can derive
 * kernel set names from it after adding a short prefix of its own.
 */
export type IpSetId = string;

/** Workload endpoint id: `<namespace>/<name>` of the WorkloadEndpoint resource. */
export type WorkloadEndpointId = string;

/** Host endpoint id: the HostEndpoint resource name. */
export type HostEndpointId = string;

/** IANA protocol numbers the calc graph emits for named protocols (TCP 6, UDP 17, ICMP 1, ICMPv6 58, SCTP 132, UDPLite 136). */
export const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = {
  icmp: 1,
  tcp: 6,
  udp: 17,
  icmpv6: 58,
  sctp: 132,
  udplite: 136,
};

/** An inclusive port range; a single port has first === last. */
export interface PortRange {
  first: number;
  last: number;
}

/** ICMP type and optional code; `type` undefined never occurs (then the field itself is absent). */
export interface IcmpMatch {
  type: number;
  code?: number;
}

/**
 * One side (source or destination) of a normalized rule. All present criteria must
 * hold (AND). Empty arrays mean "no constraint".
 * - address: in any of `nets`; in none of `notNets`; in EVERY set of `ipSetIds`;
 *   in NO set of `notIpSetIds`.
 * - port: if `ports` or `namedPortIpSetIds` is non-empty, the port is in `ports`
 *   OR (address, protocol, port) is in ANY of `namedPortIpSetIds`.
 *   Also the port is in none of `notPorts` and (address, protocol, port) is in none
 *   of `notNamedPortIpSetIds`.
 * Named-port sets already include the rule's selector (and namespace scoping), so
 * their members are exactly the right (address, port) pairs.
 */
export interface RuleSide {
  nets: string[];
  notNets: string[];
  ipSetIds: IpSetId[];
  notIpSetIds: IpSetId[];
  ports: PortRange[];
  notPorts: PortRange[];
  namedPortIpSetIds: IpSetId[];
  notNamedPortIpSetIds: IpSetId[];
}

/** Rule actions as in the v3 API. `Log` logs and continues; `Pass` jumps to the next tier (or to profiles after the last one). */
export type RuleAction = 'Allow' | 'Deny' | 'Log' | 'Pass';

/**
 * A rule with selectors replaced by IP set ids and named ports replaced by named-port
 * set ids. Evaluated top to bottom within its policy; first Allow/Deny/Pass decides.
 */
export interface NormalizedRule {
  action: RuleAction;
  /** Restricts the rule to one family; absent = both (a rule with v4-only nets is emitted with ipVersion 4). */
  ipVersion?: IpVersion;
  /** IANA protocol number; absent = any. */
  protocol?: number;
  notProtocol?: number;
  icmp?: IcmpMatch;
  notIcmp?: IcmpMatch;
  source: RuleSide;
  destination: RuleSide;
  /**
   * A rule that can never match (e.g. ipVersion 4 with only IPv6 nets): the renderer
   * must skip it. Kept rather than dropped so rule indexes stay equal to the source.
   */
  neverMatches?: boolean;
}

/** A (Global)NetworkPolicy as the dataplane needs it. Ordering lives in the endpoints' tier lists, not here. */
export interface PolicyState {
  id: PolicyId;
  /** Tier name, for logs and counters. */
  tier: string;
  /** Rules applied to traffic towards the endpoint. */
  inboundRules: NormalizedRule[];
  /** Rules applied to traffic leaving the endpoint. */
  outboundRules: NormalizedRule[];
  /** GNP only: host endpoint policy applied before conntrack (untracked). */
  doNotTrack: boolean;
  /** GNP only: host endpoint ingress policy applied before DNAT. */
  preDnat: boolean;
  /** GNP only: host endpoint policy also applied to forwarded traffic. */
  applyOnForward: boolean;
}

/** A Profile's rules (evaluated when no policy applies, or after the last tier passes). */
export interface ProfileState {
  id: ProfileId;
  inboundRules: NormalizedRule[];
  outboundRules: NormalizedRule[];
}

/** What happens to a packet that reaches the end of a tier without a verdict. */
export type TierDefaultAction = 'Deny' | 'Pass';

/**
 * One tier as it applies to one endpoint in one direction: only the policies of that
 * tier that select the endpoint and apply in that direction, in evaluation order
 * (policy order ascending, missing order last, then id). If none of them decides,
 * `defaultAction` does.
 */
export interface TierPolicies {
  tier: string;
  policies: PolicyId[];
  defaultAction: TierDefaultAction;
}

/**
 * Per-direction policy program of an endpoint. Evaluation: tiers in order; a
 * `Pass` (rule or tier default) moves to the next tier; after the last tier, or
 * when `tiers` is empty, the profiles decide in order; nothing matched = deny.
 */
export interface DirectionalPolicies {
  ingress: TierPolicies[];
  egress: TierPolicies[];
}

/** A workload endpoint on THIS host. */
export interface WorkloadEndpointState {
  id: WorkloadEndpointId;
  namespace: string;
  name: string;
  /** Host-side interface, e.g. `cali1234567890a`. */
  interfaceName: string;
  /** Workload-side MAC (lower-case, colon-separated), if known; anti-spoofing checks it. */
  mac?: string;
  /** The endpoint's own addresses as host CIDRs: `10.0.0.1/32`. Anti-spoofing allows exactly these (plus their /128 peers). */
  ipv4Nets: string[];
  /** As ipv4Nets, `/128` form. */
  ipv6Nets: string[];
  /** Ordered tiers per direction (normal policies only). */
  policies: DirectionalPolicies;
  /** Profile ids in order; a profile that does not exist must be treated as deny-all (it is then absent from `profiles`). */
  profileIds: ProfileId[];
  /** Convenience: whether any tier applies, per direction (`policies.<dir>.length > 0`). */
  hasIngressPolicy: boolean;
  hasEgressPolicy: boolean;
}

/** A host endpoint on THIS host (a host interface, or all of them when `interfaceName` is `*`). */
export interface HostEndpointState {
  id: HostEndpointId;
  /** Interface name, `*` for all host interfaces, or undefined when matched by expectedIPs only. */
  interfaceName?: string;
  /** Addresses the interface is expected to carry (plain addresses, no prefix). */
  expectedIPs: string[];
  /** Normal (tracked, post-DNAT) policy for traffic to/from the host itself. */
  policies: DirectionalPolicies;
  /** doNotTrack policies (raw, before conntrack). */
  untrackedPolicies: DirectionalPolicies;
  /** preDNAT policies; only `ingress` is ever non-empty. */
  preDnatPolicies: DirectionalPolicies;
  /** applyOnForward policies for traffic forwarded through this interface. */
  forwardPolicies: DirectionalPolicies;
  profileIds: ProfileId[];
  hasIngressPolicy: boolean;
  hasEgressPolicy: boolean;
}

/** `net`: members are CIDRs. `named-port`: members are address+protocol+port triples. */
export type IpSetKind = 'net' | 'named-port';

/**
 * One member of a set, field by field (never one string with separators).
 * `net` is a CIDR; in the calc graph's output its prefix is always present
 * (`10.0.0.1/32`, `10.1.0.0/16`, `2001:db8::1/128`), and the rule compiler
 * canonicalises it (src/rules/cidr.ts). A named-port member is an endpoint's
 * address (a host CIDR) with the IANA protocol number and the port of one of
 * its named ports; a `net` member has neither.
 */
export interface SetMember {
  net: string;
  protocol?: number;
  port?: number;
}

/**
 * An IP set; v4 and v6 members mixed (the compiler splits them by family).
 * `net` sets hold `{ net }` members, `named-port` sets `{ net, protocol, port }`.
 */
export interface IpSetState {
  id: IpSetId;
  kind: IpSetKind;
  /** Human-readable origin (canonical selector and, for named ports, `proto:name`), for logs and comments only. */
  description: string;
  /** Sorted by `memberKey`, each member once. */
  members: SetMember[];
}

/** An IPPool (cluster-wide, all pools, including disabled ones: they still count as "inside a pool" for natOutgoing). */
export interface IpPoolState {
  /** IPPool resource name. */
  name: string;
  cidr: string;
  ipVersion: IpVersion;
  natOutgoing: boolean;
  disabled: boolean;
}

/** The whole desired state at one moment. Maps are keyed by the objects' ids. */
export interface DesiredPolicyState {
  workloadEndpoints: Map<WorkloadEndpointId, WorkloadEndpointState>;
  hostEndpoints: Map<HostEndpointId, HostEndpointState>;
  /** Only policies active on at least one local endpoint. */
  policies: Map<PolicyId, PolicyState>;
  /** Only profiles referenced by at least one local endpoint (and existing). */
  profiles: Map<ProfileId, ProfileState>;
  /** Only sets referenced by an emitted policy or profile. */
  ipSets: Map<IpSetId, IpSetState>;
  ipPools: Map<string, IpPoolState>;
  /** True once the datastore's initial state has been fully processed; nothing should be written before. */
  inSync: boolean;
}

/**
 * Incremental form. The graph emits batches (arrays) of these; within a batch:
 * sets are upserted before policies/profiles that reference them, policies and
 * profiles before endpoints that reference them; endpoint removals come before
 * removals of policies/profiles they referenced, which come before set removals.
 * Applying the batches in order to `emptyDesiredState()` with `applyCalcUpdate`
 * yields exactly the graph's current `DesiredPolicyState`.
 */
export type CalcUpdate =
  /** A new set (full membership) or a full replacement of an existing one. */
  | { type: 'ipSetUpserted'; ipSet: IpSetState }
  /** Membership change of an existing set; `added` and `removed` are disjoint. */
  | { type: 'ipSetDelta'; id: IpSetId; added: SetMember[]; removed: SetMember[] }
  | { type: 'ipSetRemoved'; id: IpSetId }
  | { type: 'policyUpserted'; policy: PolicyState }
  | { type: 'policyRemoved'; id: PolicyId }
  | { type: 'profileUpserted'; profile: ProfileState }
  | { type: 'profileRemoved'; id: ProfileId }
  | { type: 'workloadEndpointUpserted'; endpoint: WorkloadEndpointState }
  | { type: 'workloadEndpointRemoved'; id: WorkloadEndpointId }
  | { type: 'hostEndpointUpserted'; endpoint: HostEndpointState }
  | { type: 'hostEndpointRemoved'; id: HostEndpointId }
  | { type: 'ipPoolUpserted'; pool: IpPoolState }
  | { type: 'ipPoolRemoved'; name: string }
  /** The datastore's initial state is complete; emitted once (again only after the graph is rebuilt). */
  | { type: 'inSync' };

/** A fresh, empty, not-in-sync state. */
export function emptyDesiredState(): DesiredPolicyState {
  return {
    workloadEndpoints: new Map(),
    hostEndpoints: new Map(),
    policies: new Map(),
    profiles: new Map(),
    ipSets: new Map(),
    ipPools: new Map(),
    inSync: false,
  };
}

/**
 * Folds one update into a state (mutating it). Pure apart from that; the dataplane
 * can use it to keep a mirror, tests use it to compare incremental vs full output.
 * Set members are kept sorted so two states compare equal independent of history.
 */
export function applyCalcUpdate(state: DesiredPolicyState, update: CalcUpdate): void {
  switch (update.type) {
    case 'ipSetUpserted':
      state.ipSets.set(update.ipSet.id, { ...update.ipSet, members: sortedMembers(update.ipSet.members) });
      return;
    case 'ipSetDelta': {
      const set = state.ipSets.get(update.id);
      if (!set) throw new Error(`ipSetDelta for unknown set ${update.id}`);
      state.ipSets.set(update.id, { ...set, members: sortedMembers(withMemberDelta(set.members, update)) });
      return;
    }
    case 'ipSetRemoved':
      state.ipSets.delete(update.id);
      return;
    case 'policyUpserted':
      state.policies.set(update.policy.id, update.policy);
      return;
    case 'policyRemoved':
      state.policies.delete(update.id);
      return;
    case 'profileUpserted':
      state.profiles.set(update.profile.id, update.profile);
      return;
    case 'profileRemoved':
      state.profiles.delete(update.id);
      return;
    case 'workloadEndpointUpserted':
      state.workloadEndpoints.set(update.endpoint.id, update.endpoint);
      return;
    case 'workloadEndpointRemoved':
      state.workloadEndpoints.delete(update.id);
      return;
    case 'hostEndpointUpserted':
      state.hostEndpoints.set(update.endpoint.id, update.endpoint);
      return;
    case 'hostEndpointRemoved':
      state.hostEndpoints.delete(update.id);
      return;
    case 'ipPoolUpserted':
      state.ipPools.set(update.pool.name, update.pool);
      return;
    case 'ipPoolRemoved':
      state.ipPools.delete(update.name);
      return;
    case 'inSync':
      state.inSync = true;
      return;
  }
}

/**
 * Identity of a member, for maps, de-duplication and sorting only; never
 * parsed (the member's fields are the data).
 */
export function memberKey(m: SetMember): string {
  // Flat, not a template literal's cons string: one key per member of every active set (flat in model.ts).
  return m.port === undefined ? m.net : [m.net, m.protocol, m.port].join(' ');
}

/** Members de-duplicated and sorted by key, so two states compare equal independent of history. */
export const sortedMembers = (members: Iterable<SetMember>): SetMember[] => uniqueSorted(members, memberKey);

/** Items de-duplicated by `key` and in the order of their keys. */
export function uniqueSorted<T>(items: Iterable<T>, key: (item: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const item of items) byKey.set(key(item), item);
  return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
}

/** `members` after an `ipSetDelta`, in their order with the added ones last (not sorted: that costs, and not every consumer needs it). */
export function withMemberDelta(members: readonly SetMember[], delta: { added: readonly SetMember[]; removed: readonly SetMember[] }): SetMember[] {
  const byKey = new Map(members.map((m) => [memberKey(m), m]));
  for (const m of delta.removed) byKey.delete(memberKey(m));
  for (const m of delta.added) byKey.set(memberKey(m), m);
  return [...byKey.values()];
}

/** Family of an address or CIDR. */
export function ipVersionOf(addressOrCidr: string): IpVersion {
  return addressOrCidr.includes(':') ? 6 : 4;
}

/**
 * A whole state as one batch, in the order the graph itself guarantees
 * (sets, then policies and profiles, then endpoints and pools; inSync last).
 * Folding it into `emptyDesiredState()` yields `state` again: a consumer that
 * starts late (a dataplane rebuilt after a configuration change) gets the
 * state without the history.
 */
export function stateAsUpdates(state: DesiredPolicyState): CalcUpdate[] {
  const out: CalcUpdate[] = [];
  for (const ipSet of state.ipSets.values()) out.push({ type: 'ipSetUpserted', ipSet });
  for (const policy of state.policies.values()) out.push({ type: 'policyUpserted', policy });
  for (const profile of state.profiles.values()) out.push({ type: 'profileUpserted', profile });
  for (const endpoint of state.workloadEndpoints.values()) out.push({ type: 'workloadEndpointUpserted', endpoint });
  for (const endpoint of state.hostEndpoints.values()) out.push({ type: 'hostEndpointUpserted', endpoint });
  for (const pool of state.ipPools.values()) out.push({ type: 'ipPoolUpserted', pool });
  if (state.inSync) out.push({ type: 'inSync' });
  return out;
}
