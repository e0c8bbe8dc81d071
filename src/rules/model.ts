// The dataplane's input: what the calculation graph decided for THIS host.
// It is deliberately plain data (no classes) so the calc graph's output can be
// mapped onto it field by field, and so golden tests can be written as JSON.
import { FELIX_CONFIGURATION_DEFAULTS } from '../api/kinds/felix-configuration.js';
import type { DirectionalPolicies, IpSetState, PolicyState } from '../calc/output.js';
import type { FlowLogRendering } from './flow-log.js';

/**
 * A policy's or a profile's rules exactly as the calc graph emits them
 * (`PolicyState` and `ProfileState` both are one): the compiler reads the
 * calc graph's `NormalizedRule` directly, so there is one rule type from the
 * calc graph to the IR.
 */
export type PolicyRules = Pick<PolicyState, 'id' | 'inboundRules' | 'outboundRules'>;

export interface LocalEndpoint {
  /** Stable key, e.g. "workload:default/pod-a/eth0" or "host:node1/eth0". */
  id: string;
  kind: 'workload' | 'host';
  /** Host endpoints: the interface this endpoint was resolved to, or "*" (ALL_INTERFACES) for the all-interfaces endpoint. */
  interfaceName: string;
  /** Workload side MAC, for anti-spoofing; host endpoints have none. */
  mac?: string;
  ipv4Nets: string[];
  ipv6Nets: string[];
  /**
   * Normal policy (host endpoints: traffic to and from the host itself): the
   * calc graph's ordered tiers per direction, as it sends them.
   */
  policies: DirectionalPolicies;
  profileIds: string[];
  /** Host endpoints only: doNotTrack policy (raw stage, before conntrack). Absent = none. */
  untrackedPolicies?: DirectionalPolicies;
  /** Host endpoints only: preDNAT policy (mangle stage, before DNAT); its egress is never used (Calico applies preDNAT to ingress only). */
  preDnatPolicies?: DirectionalPolicies;
  /** Host endpoints only: applyOnForward policy for traffic forwarded through the interface. */
  forwardPolicies?: DirectionalPolicies;
}

/** A cluster-wide member set the calc graph maintains (selector or named port), as it sends it (both families mixed). */
export type IpSetSpec = Pick<IpSetState, 'id' | 'kind' | 'members'>;

export interface IpPoolSpec {
  cidr: string;
  natOutgoing: boolean;
  disabled?: boolean;
}

export type EndpointToHostAction = 'drop' | 'accept' | 'return';

export interface ProtoPort {
  protocol: 'tcp' | 'udp' | 'sctp';
  port: number;
  /** Optional CIDR (FelixConfiguration failsafe `net`): the peer, i.e. the source inbound, the destination outbound. Rendered only in its family. */
  net?: string;
}

export interface DataplaneConfig {
  endpointToHostAction: EndpointToHostAction;
  /** Allowed from a workload to its host before the action applies (DHCP, DNS, BGP ...). */
  workloadToHostFailsafe: ProtoPort[];
  /** Host endpoints: always allowed into / out of the host so operators cannot lock themselves out. */
  failsafeInbound: ProtoPort[];
  failsafeOutbound: ProtoPort[];
  /**
   * FelixConfiguration interfacePrefix, split on ",": names of workload
   * interfaces start with one of these. Absent or empty = ["cali"].
   */
  workloadInterfacePrefixes?: string[];
  /** Flow logs (FelixConfiguration flowLogsFileEnabled): absent = off, and nothing of them is rendered (flow-log.ts). */
  flowLogs?: FlowLogRendering;
}

export interface DataplaneModel {
  config: DataplaneConfig;
  endpoints: LocalEndpoint[];
  policies: PolicyRules[];
  /** The same policies by id, when the caller already holds them so (saves building the index every round). */
  policyIndex?: ReadonlyMap<string, PolicyRules>;
  profiles: PolicyRules[];
  ipSets: IpSetSpec[];
  pools: IpPoolSpec[];
}

// Calico's documented defaults (FelixConfiguration failsafeInboundHostPorts /
// failsafeOutboundHostPorts), so a fresh host is reachable over SSH, BGP, etcd, API.
// One source of truth: the API's FelixConfiguration defaults.
const fromFelix = (list: readonly { protocol?: string; port: number }[]): ProtoPort[] =>
  list.map((p) => ({ protocol: (p.protocol ?? 'TCP').toLowerCase() as ProtoPort['protocol'], port: p.port }));
export const DEFAULT_FAILSAFE_INBOUND: ProtoPort[] = fromFelix(FELIX_CONFIGURATION_DEFAULTS.failsafeInboundHostPorts);
export const DEFAULT_FAILSAFE_OUTBOUND: ProtoPort[] = fromFelix(FELIX_CONFIGURATION_DEFAULTS.failsafeOutboundHostPorts);
export const DEFAULT_WORKLOAD_TO_HOST_FAILSAFE: ProtoPort[] = [
  { protocol: 'udp', port: 67 },
  { protocol: 'udp', port: 53 },
  { protocol: 'tcp', port: 53 },
  { protocol: 'tcp', port: 179 },
];

export function defaultDataplaneConfig(): DataplaneConfig {
  return {
    endpointToHostAction: 'drop',
    workloadToHostFailsafe: [...DEFAULT_WORKLOAD_TO_HOST_FAILSAFE],
    failsafeInbound: [...DEFAULT_FAILSAFE_INBOUND],
    failsafeOutbound: [...DEFAULT_FAILSAFE_OUTBOUND],
  };
}
