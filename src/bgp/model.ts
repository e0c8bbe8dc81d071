// The BIRD renderer's input (BgpInputs) and its intermediate plan (BgpPlan).
// Plain data on purpose: the renderer never sees the datastore, so golden
// tests are JSON in, text out, and calico-node builds BgpInputs from whatever
// its syncer holds (src/bgp/inputs.ts adapts v3 resources).

import type { FieldIssue } from '../base/errors.js';
import type { IPFamily as Family } from '../base/ip.js';

export const DEFAULT_AS_NUMBER = 64512;

/** A Calico node as the BGP layer sees it (Node spec.bgp plus labels). */
export interface BgpNode {
  name: string;
  /** Node spec.bgp.ipv4Address: `a.b.c.d/len` (the length is the node subnet) or a bare address. */
  ipv4Address?: string;
  ipv6Address?: string;
  /** Node spec.bgp.asNumber; unset means the cluster default. */
  asNumber?: number;
  /** Node spec.bgp.routeReflectorClusterID: set means this node reflects routes for its clients. */
  routeReflectorClusterID?: string;
  labels?: Record<string, string>;
}

/** A named community (BGPConfiguration spec.communities): `aa:nn` standard or `aa:nn:mm` large. */
export interface CommunityDefinition {
  name: string;
  value: string;
}

export interface PrefixAdvertisement {
  cidr: string;
  /** Community names from `communities`, or literal `aa:nn` / `aa:nn:mm` values. */
  communities: string[];
}

export type LogSeverity = 'Debug' | 'Info' | 'Warning' | 'Error' | 'Fatal';

/** BGPConfiguration spec fields this layer uses. Durations are Go-style strings ("120s", "2m"). */
export interface BgpConfigurationSpec {
  logSeverityScreen?: LogSeverity;
  nodeToNodeMeshEnabled?: boolean;
  asNumber?: number;
  listenPort?: number;
  communities?: CommunityDefinition[];
  prefixAdvertisements?: PrefixAdvertisement[];
  /** Resolved password for every mesh session (Calico: nodeMeshPassword.secretKeyRef). */
  nodeMeshPassword?: string;
  /** Graceful restart time for mesh sessions. */
  nodeMeshMaxRestartTime?: string;
  /** nodeMeshPassword names a secret that cannot be read (`name/key`): no mesh session comes up without it. */
  nodeMeshPasswordUnresolved?: string;
  /** NodeIP: BIRD accepts BGP connections only on the node's address (every session binds to it). */
  bindMode?: 'None' | 'NodeIP';
  /** Interface names / `*` patterns whose connected routes BIRD does not learn. */
  ignoredInterfaces?: string[];
  /** Service address CIDRs (cluster-wide configuration only, as Calico). */
  serviceClusterIPs?: string[];
  serviceExternalIPs?: string[];
  serviceLoadBalancerIPs?: string[];
  /** Disabled: serviceLoadBalancerIPs ranges are not advertised as a whole (Calico then advertises per Service). */
  serviceLoadBalancerAggregation?: 'Enabled' | 'Disabled';
  /** Which pools' routes BIRD installs in the kernel: Enabled / EnabledNoEncapOnly (default) install, Disabled / EnabledIPIPOnly do not. */
  programClusterRoutes?: 'Enabled' | 'Disabled' | 'EnabledIPIPOnly' | 'EnabledNoEncapOnly';
}

export type NextHopMode = 'Auto' | 'Self' | 'Keep';

/** BGPPeer as the BGP layer sees it; `password` is already resolved from its secret. */
export interface BgpPeerResource {
  name: string;
  spec: {
    node?: string;
    nodeSelector?: string;
    /** `ip`, `ip:port` or `[ipv6]:port`. */
    peerIP?: string;
    peerSelector?: string;
    asNumber?: number;
    password?: string;
    /** GTSM: the peer is at most this many hops away (1 = directly connected). */
    ttlSecurity?: number;
    keepaliveTime?: string;
    holdTime?: string;
    maxRestartTime?: string;
    sourceAddress?: 'UseNodeIP' | 'None';
    keepOriginalNextHop?: boolean;
    nextHopMode?: NextHopMode;
    /** Accept routes whose AS path already holds our AS this many times (AS per rack behind one ToR). */
    numAllowedLocalASNumbers?: number;
    /** BGPFilter names, applied in this order before the normal import/export rules. */
    filters?: string[];
    /** The AS this node presents on this peering instead of its own. */
    localASNumber?: number;
    /** Auto (default): a Calico node this peer selects (or whose address is peerIP) peers back; Manual: it needs its own BGPPeer. */
    reversePeering?: 'Auto' | 'Manual';
    /** Gateway through which peerIP is reached: BIRD adds a static /32 (/128) route to the peer via it. */
    reachableBy?: string;
    /** password names a secret that cannot be read (`name/key`): the peer gets no session rather than one without a password. */
    passwordUnresolved?: string;
  };
}

/** A change an Accept rule makes to the route before accepting it. */
export interface BgpFilterOperation {
  /** `aa:nn` or `aa:nn:mm`. */
  addCommunity?: { value: string };
  /** Prepended so that the path starts with these AS numbers in this order. */
  prependASPath?: { prefix: number[] };
}

/** One BGPFilter rule (src/api/kinds/bgp-filter.ts): every condition set must hold; first match decides. */
export interface BgpFilterRule {
  cidr?: string;
  matchOperator?: 'Equal' | 'NotEqual' | 'In' | 'NotIn';
  prefixLength?: { min?: number; max?: number };
  source?: 'RemotePeers';
  interface?: string;
  /** Only on iBGP sessions (peer AS = the session's local AS) or only on eBGP ones. */
  peerType?: 'iBGP' | 'eBGP';
  /** The route carries this community (one value). */
  communities?: { values: string[] };
  /** The AS path starts with these AS numbers. */
  asPathPrefix?: number[];
  action: 'Accept' | 'Reject';
  operations?: BgpFilterOperation[];
}

export interface BgpFilterResource {
  name: string;
  spec: { exportV4?: BgpFilterRule[]; importV4?: BgpFilterRule[]; exportV6?: BgpFilterRule[]; importV6?: BgpFilterRule[] };
}

export type FilterDirection = 'import' | 'export';

/** A BGPFilter's rules for one direction and family, as one BIRD function. */
export interface FilterFunction {
  /** BIRD symbol (quoted when used): `bgp_<filter>_<direction>FilterV<family>`, hashed when too long. */
  symbol: string;
  filter: string;
  direction: FilterDirection;
  rules: BgpFilterRule[];
  /** Some rule has a peerType: the function takes the session's "is iBGP" as its argument (as Calico's). */
  takesPeerType: boolean;
}

export interface BgpIPPool {
  name: string;
  cidr: string;
  disabled?: boolean;
  /** IPPool spec.disableBGPExport: routes in this pool are never advertised. */
  disableBGPExport?: boolean;
}

export interface BgpInputs {
  /** This node's name; it must be one of `nodes`. */
  nodeName: string;
  nodes: BgpNode[];
  /** BGPConfiguration `default` (cluster-wide). */
  globalConfig?: BgpConfigurationSpec;
  /** BGPConfiguration `node.<nodeName>`: overrides listenPort, logSeverityScreen, communities, prefixAdvertisements. */
  nodeConfig?: BgpConfigurationSpec;
  peers: BgpPeerResource[];
  /** listenPort of each node that has a `node.<name>` BGPConfiguration setting one: sessions to that node dial it. */
  nodeListenPorts?: Record<string, number>;
  /** BGPFilter resources; a peer uses those its spec.filters names. */
  filters?: BgpFilterResource[];
  pools: BgpIPPool[];
  /** CIDRs of IPAM blocks this host holds a (confirmed) affinity for. */
  blocks: string[];
  /** Addresses of workloads on this host; those outside `blocks` but inside an exported pool become /32 (/128) routes. */
  localEndpointAddresses?: string[];
  /** AddressSpace /96 prefixes: a local endpoint address inside one is a translated workload address, announced as a /128 over IPv6. */
  addressSpacePrefixes?: string[];
}

/** mesh: node-to-node mesh; global / node: from a BGPPeer; rr: automatic route-reflector topology. */
export type PeeringType = 'mesh' | 'global' | 'node' | 'rr';

export interface Peering {
  /** BIRD protocol name: `<Mesh|Global|Node|RR>_<address with _>`; the status parser reads the type back from it. */
  protocolName: string;
  type: PeeringType;
  family: Family;
  peerAddress: string;
  peerPort?: number;
  peerAs: number;
  localAs: number;
  /** Source address for the session; unset lets the kernel choose. */
  localAddress?: string;
  /** bindMode NodeIP: the session's listening socket is bound to localAddress only (BIRD `strict bind`). */
  strictBind?: boolean;
  /** Waits for the peer to connect (mesh: the lower address waits, so each session comes up one way). */
  passive: boolean;
  /** This node reflects routes to the peer. */
  routeReflectorClient: boolean;
  routeReflectorClusterID?: string;
  password?: string;
  ttlSecurityHops?: number;
  keepaliveSeconds?: number;
  holdSeconds?: number;
  gracefulRestartSeconds?: number;
  nextHop: 'auto' | 'self' | 'keep';
  allowLocalAs?: number;
  /** The Calico node on the other side, when it is one. */
  peerNodeName?: string;
  /** Where it came from: `mesh`, `route-reflector` or the BGPPeer name. */
  origin: string;
  /** The automatic reverse of a BGPPeer that selects this node (reversePeering Auto). */
  reverse?: boolean;
  /** BGPPeer reachableBy: the gateway a host route to the peer goes through. */
  reachableBy?: string;
  /** BGPPeer spec.filters as given; resolved into the three fields below by the plan. */
  filters?: string[];
  /** FilterFunction symbols run, in order, before the normal rules. */
  importFunctions?: string[];
  exportFunctions?: string[];
  /** Named BGPFilters that do not exist: nothing is imported from or exported to this peer. */
  missingFilters?: string[];
}

export interface CommunityRule {
  cidr: string;
  standard: [number, number][];
  large: [number, number, number][];
}

/** What one address family announces. All lists sorted, deduplicated. */
export interface FamilyExports {
  /** Own IPAM blocks: blackholed in the kernel; announced unless their pool disables export. */
  blocks: string[];
  /** Subset of `blocks` announced to peers. */
  exportedBlocks: string[];
  /** Host routes for local endpoints outside own blocks. */
  endpointRoutes: string[];
  /** Pools whose routes may be advertised (also what route reflectors pass on). */
  exportPools: string[];
  /** Pools whose routes are never advertised. */
  noExportPools: string[];
  communities: CommunityRule[];
  /** Service ranges this node advertises: a static blackhole, announced, and blackholed in the kernel. */
  serviceRoutes: string[];
  /** Every service range advertised cluster-wide: routes learnt inside them never reach the kernel (as Calico's reject routes). */
  serviceRanges: string[];
  /** Pools whose routes (learnt, and our block blackholes) BIRD keeps out of the kernel: programClusterRoutes. */
  unprogrammedPools: string[];
  /** BGPPeer reachableBy: a host route to the peer via its gateway, installed in the kernel, never announced. */
  peerRoutes: { prefix: string; via: string }[];
}

export interface BgpPlan {
  nodeName: string;
  routerId: string;
  localAs: number;
  listenPort?: number;
  /** Interfaces (patterns) excluded from the direct protocol: BGPConfiguration ignoredInterfaces. */
  ignoredInterfaces: string[];
  logSeverity: LogSeverity;
  peerings: Peering[];
  exports: Record<Family, FamilyExports>;
  /** BGPFilter functions some peering uses, per family, sorted by symbol. */
  filterFunctions: Record<Family, FilterFunction[]>;
  /** Inputs that were ignored and why (a peer without AS, an unparseable block ...). Never fatal. */
  problems: FieldIssue[];
}
