// Field support: IP pools and reservations, BGP, Node and cluster-wide kinds.
import { honoured, refused, warned, type FieldTable } from './model.js';

const GOLDEN = (cases: string): ReturnType<typeof honoured> => honoured('src/render/bird/golden.test.ts :: golden bird.conf parses with bird -p', `golden cases: ${cases}`);
const MESH = honoured('src/bgp/plan.test.ts :: full mesh: one session per other node, the lower address waits (numeric, not string order)');
const PEERS = honoured('src/bgp/plan.test.ts :: a BGPPeer to a mesh address wins over the mesh session, node-specific over global');
const PASSWORD = honoured('test/kernel/bgp/md5-password.test.ts :: with matching passwords the same pair establishes');
const POOL_RULES = honoured('src/ipam/pools.test.ts :: checkPoolWrite: overlap, block size, cidr change while in use');
const ELIGIBLE = honoured('src/ipam/pools.test.ts :: eligiblePools: typed errors for missing, disabled, disallowed pools');
const SERVICE_IPS = honoured('src/bgp/plan.test.ts :: service ranges: cluster IPs, external and load-balancer CIDRs advertised and blackholed', 'no service proxy here: blackholed in the kernel (see docs/design/bgp.md)');
const NO_LOCAL_WORKLOAD_PEERING = (example: unknown) =>
  refused('BGP peering with local workloads is not implemented (no link-local peering address is served to workloads): nothing would peer; remove it', { example });
const NOT_CALICO_TS = warned('written by Calico components calico-ts does not run (kube-controllers); kept and shown only');
const NODE_INFO = warned('reported by Calico nodes for tunnels calico-ts does not create; kept and shown only');
const BGP_FILTER_RULE = honoured('src/bgp/filters.test.ts :: BGPFilter rule conditions: operators, prefix lengths, source and interface');
const FILTER_ON_BIRD = honoured('test/kernel/bgp/bgp-filter.test.ts :: an export filter Reject keeps one block from the peer while the other is still learnt');
const PEER_FILTERS = honoured('test/kernel/bgp/bgp-filter.test.ts :: an export filter Reject keeps one block from the peer while the other is still learnt', 'order: src/bgp/filters.test.ts; a name that does not exist closes the session both ways');
const BGP_FILTER_NEWER = honoured('src/bgp/filters.test.ts :: BGPFilter newer rule fields: peerType, communities, AS path prefix, addCommunity and prependASPath');
const COMMUNITY_ON_BIRD = honoured('test/kernel/bgp/bgp-filter.test.ts :: an import filter rejects the routes a peer tagged with a community (addCommunity on its export) and accepts the rest');
const NO_SECRETS = (example: unknown) =>
  refused('calico-ts reads no Kubernetes Secrets, so the password could not be used (and a session must not come up without it): put it in password.inline (stored in etcd: protect etcd access)', { example });
const NO_PRIORITIES = (example: unknown) =>
  refused('route priorities are not implemented: the dataplane programs no elevated (live-migration) routes and BIRD sets no priority-derived metrics, so a priority would never match or would mean nothing; remove it', { example });
const CLUSTER = honoured('src/node/startup.test.ts :: ClusterInformation: created with a GUID, version, type and datastoreReady', 'written by calico-node at start-up, shown by calicoctl version');

export const NETWORK_SUPPORT: Record<string, FieldTable> = {
  IPPool: {
    'spec.cidr': POOL_RULES,
    'spec.blockSize': POOL_RULES,
    'spec.ipipMode': refused('IPIP encapsulation is not available (no ipip kernel module) and calico-ts routes without encapsulation: use "Never"', { allowed: ['Never', ''], example: 'Always' }),
    'spec.vxlanMode': refused('VXLAN encapsulation is not implemented; calico-ts routes without encapsulation: use "Never"', { allowed: ['Never', ''], example: 'CrossSubnet' }),
    'spec.natOutgoing': honoured('test/kernel/dataplane/policy-flows.test.ts :: natOutgoing pool is masqueraded to the host address outside all pools; a plain pool is not'),
    'spec.disabled': ELIGIBLE,
    'spec.disableBGPExport': honoured('src/bgp/plan.test.ts :: exports: blocks aggregated, borrowed addresses as /32, no-export pools never'),
    'spec.nodeSelector': ELIGIBLE,
    'spec.namespaceSelector': refused('choosing pools by namespace is not implemented: a namespace could get addresses meant for another; remove namespaceSelector (or use "all()")', {
      allowed: ['', 'all()'],
      example: "name == 'prod'",
    }),
    'spec.allowedUses': ELIGIBLE,
    'spec.assignmentMode': refused('manual-only pools are not implemented: automatic assignment would hand out their addresses; remove assignmentMode (or use "Automatic")', {
      allowed: ['Automatic'],
      example: 'Manual',
    }),
  },
  AddressSpace: {
    'spec.prefix': honoured('test/kernel/xlat/two-spaces.test.ts :: matrix over TCP, UDP and ICMP: each workload reaches its own space (same host and across hosts) and nothing of the other space', 'packet level: test/kernel/xlat/translate.test.ts; decode: src/cli/commands/xlat.test.ts'),
    'spec.services[].ipv4': honoured('test/kernel/xlat/two-spaces.test.ts :: DC-SIIT: tenant A reaches the IPv6 service through 198.18.200.10 (the service sees its translated address); tenant B has no such mapping'),
    'spec.services[].ipv6': honoured('test/kernel/xlat/two-spaces.test.ts :: DC-SIIT: tenant A reaches the IPv6 service through 198.18.200.10 (the service sees its translated address); tenant B has no such mapping'),
  },
  IPReservation: { 'spec.reservedCIDRs': honoured('src/ipam/ipam-client.test.ts :: reserved addresses are never handed out; assignIp refuses them') },
  BGPConfiguration: {
    'spec.logSeverityScreen': GOLDEN('communities-and-port'),
    'spec.nodeToNodeMeshEnabled': honoured('src/bgp/plan.test.ts :: nodeToNodeMeshEnabled false: no mesh sessions'),
    'spec.asNumber': MESH,
    'spec.serviceClusterIPs[].cidr': honoured('test/kernel/bgp/service-ips.test.ts :: a node announces the service range and blackholes it; an excluded node learns it but keeps it out of its kernel'),
    'spec.serviceExternalIPs[].cidr': SERVICE_IPS,
    'spec.serviceLoadBalancerIPs[].cidr': SERVICE_IPS,
    'spec.serviceLoadBalancerAggregation': SERVICE_IPS,
    'spec.communities[].name': GOLDEN('communities-and-port'),
    'spec.communities[].value': GOLDEN('communities-and-port'),
    'spec.prefixAdvertisements[].cidr': GOLDEN('communities-and-port'),
    'spec.prefixAdvertisements[].communities': GOLDEN('communities-and-port'),
    'spec.listenPort': honoured('test/kernel/bgp/listen-port.test.ts :: a cluster-wide listenPort: BIRD listens there and the mesh dials it', 'per node: same file'),
    'spec.nodeMeshPassword.secretKeyRef.name': NO_SECRETS('bgp-secrets'),
    'spec.nodeMeshPassword.secretKeyRef.key': NO_SECRETS('rr-password'),
    'spec.nodeMeshPassword.secretKeyRef.optional': NO_SECRETS(true),
    'spec.nodeMeshPassword.inline': PASSWORD,
    'spec.nodeMeshMaxRestartTime': GOLDEN('mesh-dual-stack'),
    'spec.bindMode': GOLDEN('bind-node-ip-local-as'),
    'spec.ignoredInterfaces': GOLDEN('bind-node-ip-local-as'),
    'spec.localWorkloadPeeringIPV4': NO_LOCAL_WORKLOAD_PEERING('169.254.0.179'),
    'spec.localWorkloadPeeringIPV6': NO_LOCAL_WORKLOAD_PEERING('fe80::179'),
    'spec.programClusterRoutes': honoured('src/bgp/plan.test.ts :: programClusterRoutes: Disabled and EnabledIPIPOnly keep routes inside IP pools out of the kernel'),
    'spec.ipv4NormalRoutePriority': NO_PRIORITIES(1024),
    'spec.ipv6NormalRoutePriority': NO_PRIORITIES(1024),
  },
  BGPPeer: {
    'spec.node': PEERS,
    'spec.nodeSelector': honoured('src/bgp/plan.test.ts :: node selectors use the full selector engine'),
    'spec.peerIP': PEERS,
    'spec.asNumber': PEERS,
    'spec.localASNumber': GOLDEN('bind-node-ip-local-as'),
    'spec.peerSelector': GOLDEN('peer-selector'),
    'spec.keepOriginalNextHop': honoured('src/bgp/plan.test.ts :: keepOriginalNextHop (deprecated) keeps the next hop towards eBGP peers only'),
    'spec.nextHopMode': GOLDEN('mesh-disabled-global-peers'),
    'spec.password.secretKeyRef.name': NO_SECRETS('bgp-secrets'),
    'spec.password.secretKeyRef.key': NO_SECRETS('rr-password'),
    'spec.password.secretKeyRef.optional': NO_SECRETS(true),
    'spec.password.inline': PASSWORD,
    'spec.sourceAddress': GOLDEN('mesh-disabled-global-peers'),
    'spec.maxRestartTime': GOLDEN('mesh-disabled-global-peers'),
    'spec.keepaliveTime': GOLDEN('mesh-disabled-global-peers'),
    'spec.numAllowedLocalASNumbers': honoured('test/kernel/bgp/ebgp-tor.test.ts :: AS paths are what AS-per-rack says'),
    'spec.ttlSecurity': GOLDEN('mesh-disabled-global-peers'),
    'spec.reachableBy': honoured('test/kernel/bgp/peer-fields.test.ts :: a BGPPeer on one node only reaches a loopback behind a gateway (reachableBy) and the peer node peers back by itself (reversePeering Auto)'),
    'spec.filters': PEER_FILTERS,
    'spec.localWorkloadSelector': NO_LOCAL_WORKLOAD_PEERING("app == 'router'"),
    'spec.reversePeering': honoured('test/kernel/bgp/peer-fields.test.ts :: a BGPPeer on one node only reaches a loopback behind a gateway (reachableBy) and the peer node peers back by itself (reversePeering Auto)', 'Manual: src/bgp/plan.test.ts'),
  },
  BGPFilter: Object.fromEntries(
    ['exportV4', 'importV4', 'exportV6', 'importV6'].flatMap((list) => [
      ...['cidr', 'prefixLength.min', 'prefixLength.max', 'source', 'interface', 'matchOperator', 'action'].map((f) => [
        `spec.${list}[].${f}`,
        list === 'exportV4' && ['cidr', 'matchOperator', 'action'].includes(f) ? FILTER_ON_BIRD : BGP_FILTER_RULE,
      ]),
      ...['peerType', 'communities.values', 'asPathPrefix', 'operations[].addCommunity.value', 'operations[].prependASPath.prefix'].map((f) => [
        `spec.${list}[].${f}`,
        ['communities.values', 'operations[].addCommunity.value'].includes(f) ? COMMUNITY_ON_BIRD : BGP_FILTER_NEWER,
      ]),
      [`spec.${list}[].priority`, NO_PRIORITIES(512)],
      [`spec.${list}[].operations[].setPriority.value`, NO_PRIORITIES(512)],
    ]),
  ),
  Node: {
    'spec.bgp.ipv4Address': MESH,
    'spec.bgp.ipv6Address': MESH,
    'spec.bgp.asNumber': honoured('test/kernel/bgp/ebgp-tor.test.ts :: AS paths are what AS-per-rack says'),
    'spec.bgp.routeReflectorClusterID': honoured('src/bgp/plan.test.ts :: route reflectors: clients peer only with reflectors; reflectors mark clients'),
    'spec.bgp.ipv4IPIPTunnelAddr': NODE_INFO,
    'spec.ipv4VXLANTunnelAddr': NODE_INFO,
    'spec.vxlanTunnelMACAddr': NODE_INFO,
    'spec.ipv6VXLANTunnelAddr': NODE_INFO,
    'spec.vxlanTunnelMACAddrV6': NODE_INFO,
    'spec.orchRefs[].orchestrator': honoured('src/node/agent.test.ts :: agent: an existing Node keeps its other fields; autodetection failure refuses to start', 'kept and shown'),
    'spec.orchRefs[].nodeName': honoured('src/node/agent.test.ts :: agent: an existing Node keeps its other fields; autodetection failure refuses to start', 'kept and shown'),
    'spec.addresses[].address': honoured('src/node/agent.test.ts :: desiredNode drops addresses no longer configured'),
    'spec.addresses[].type': honoured('src/node/agent.test.ts :: desiredNode drops addresses no longer configured'),
    'spec.wireguard.interfaceIPv4Address': NODE_INFO,
    'spec.wireguard.interfaceIPv6Address': NODE_INFO,
    'spec.interfaces[].name': NODE_INFO,
    'spec.interfaces[].addresses': NODE_INFO,
  },
  ClusterInformation: {
    'spec.clusterGUID': CLUSTER,
    'spec.clusterType': CLUSTER,
    'spec.calicoVersion': CLUSTER,
    'spec.datastoreReady': warned('kept as written; false does not pause calico-node (as it pauses Felix)', [true]),
    'spec.variant': CLUSTER,
  },
  IPAMConfiguration: {
    'spec.strictAffinity': honoured('src/ipam/ipam-client.test.ts :: a host fills its own block before claiming another; maxBlocksPerHost then borrowing', 'the same data as calicoctl ipam configure'),
    'spec.maxBlocksPerHost': honoured('src/ipam/ipam-client.test.ts :: a host fills its own block before claiming another; maxBlocksPerHost then borrowing'),
    'spec.autoAllocateBlocks': honoured('src/ipam/ipam-client.test.ts :: autoAllocateBlocks false: no new block is claimed; a host with a block still allocates from it'),
    'spec.kubeVirtVMAddressPersistence': warned('there is no KubeVirt here; the value is stored only'),
    'spec.ipCooldownSeconds': refused('a release cool-down is not implemented: released addresses are reused oldest first, without waiting; set 0 or remove it', { allowed: [0], example: 30 }),
  },
  BlockAffinity: Object.fromEntries(
    ['spec.state', 'spec.node', 'spec.type', 'spec.cidr', 'spec.deleted'].map((p) => [
      p,
      honoured('src/datastore/ipam-resources.test.ts :: get blockaffinities shows the affinities IPAM holds; writes are refused and change nothing', "a read-only view of IPAM's affinities; writes are refused"),
    ]),
  ),
  CalicoNodeStatus: {
    'spec.node': warned('stored; nothing in calico-ts fills in the status yet (use calicoctl node status on the host)'),
    'spec.classes': warned('stored; nothing in calico-ts fills in the status yet (use calicoctl node status on the host)'),
    'spec.updatePeriodSeconds': warned('stored; nothing in calico-ts fills in the status yet (use calicoctl node status on the host)'),
  },
  KubeControllersConfiguration: {
    'spec.logSeverityScreen': NOT_CALICO_TS,
    'spec.healthChecks': NOT_CALICO_TS,
    'spec.etcdV3CompactionPeriod': NOT_CALICO_TS,
    'spec.prometheusMetricsPort': NOT_CALICO_TS,
    'spec.debugProfilePort': NOT_CALICO_TS,
    'spec.controllers.node.reconcilerPeriod': NOT_CALICO_TS,
    'spec.controllers.node.syncLabels': NOT_CALICO_TS,
    'spec.controllers.node.hostEndpoint.autoCreate': refused(
      'automatic host endpoints are not created (there is no kube-controllers): policies written for them would never apply; write HostEndpoints yourself and remove autoCreate',
      { allowed: ['Disabled'], example: 'Enabled' },
    ),
    'spec.controllers.node.hostEndpoint.createDefaultHostEndpoint': NOT_CALICO_TS,
    'spec.controllers.node.hostEndpoint.templates[].generateName': NOT_CALICO_TS,
    'spec.controllers.node.hostEndpoint.templates[].interfaceCIDRs': NOT_CALICO_TS,
    'spec.controllers.node.hostEndpoint.templates[].interfacePattern': NOT_CALICO_TS,
    'spec.controllers.node.hostEndpoint.templates[].labels': NOT_CALICO_TS,
    'spec.controllers.node.hostEndpoint.templates[].annotations': NOT_CALICO_TS,
    'spec.controllers.node.hostEndpoint.templates[].nodeSelector': NOT_CALICO_TS,
    'spec.controllers.node.leakGracePeriod': NOT_CALICO_TS,
    'spec.controllers.policy.reconcilerPeriod': NOT_CALICO_TS,
    'spec.controllers.workloadEndpoint.reconcilerPeriod': NOT_CALICO_TS,
    'spec.controllers.serviceAccount.reconcilerPeriod': NOT_CALICO_TS,
    'spec.controllers.namespace.reconcilerPeriod': NOT_CALICO_TS,
    'spec.controllers.loadBalancer.assignIPs': NOT_CALICO_TS,
    'spec.controllers.migration.policyNameMigrator': NOT_CALICO_TS,
  },
};
