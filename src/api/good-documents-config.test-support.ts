// Good documents, configuration side: BGP, Felix, kube-controllers, cluster
// information, IPAM configuration and node status requests, in the shapes of
// Calico's documentation examples. good-corpus.test.ts runs them.
import assert from 'node:assert/strict';
import type { Good } from './corpus.test-support.js';

type Spec = Record<string, unknown>;
const spec = (r: { spec?: unknown }): Spec => r.spec as Spec;

export const CONFIG_DOCUMENTS: Good[] = [
  {
    name: 'BGPConfiguration default from the Calico reference',
    yaml: `
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  logSeverityScreen: Info
  nodeToNodeMeshEnabled: true
  nodeMeshMaxRestartTime: 120s
  asNumber: 63400
  serviceClusterIPs:
  - cidr: 10.96.0.0/12
  serviceExternalIPs:
  - cidr: 104.244.42.129/32
  - cidr: 172.217.3.0/24
  listenPort: 178
  bindMode: NodeIP
  communities:
  - name: bgp-large-community
    value: 63400:300:100
  prefixAdvertisements:
  - cidr: 172.218.4.0/26
    communities:
    - bgp-large-community
    - 63400:120
`,
  },
  {
    name: 'BGPConfiguration for one node (no defaults written)',
    yaml: `
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: node.rack1-host1}
spec: {logSeverityScreen: Debug}
`,
    check: (r) => assert.deepEqual(r.spec, { logSeverityScreen: 'Debug' }),
  },
  {
    name: 'BGPFilter from the Calico reference',
    yaml: `
apiVersion: projectcalico.org/v3
kind: BGPFilter
metadata: {name: my-filter}
spec:
  exportV4:
    - action: Accept
      matchOperator: In
      cidr: 77.0.0.0/16
  importV4:
    - action: Accept
      matchOperator: NotIn
      cidr: 44.0.0.0/16
  exportV6:
    - action: Reject
      matchOperator: NotEqual
      cidr: 9000::0/64
  importV6:
    - action: Reject
      matchOperator: Equal
      cidr: 5000::0/64
`,
  },
  {
    name: 'BGPPeer for one node',
    yaml: `
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: some.name
spec:
  node: rack1-host1
  peerIP: 192.168.1.1
  asNumber: 63400
`,
  },
  {
    name: 'BGPPeer: every node peers with the route reflectors',
    yaml: `
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: peer-with-route-reflectors
spec:
  nodeSelector: all()
  peerSelector: route-reflector == 'true'
`,
  },
  {
    name: 'BGPPeer with a port, a keepalive and a Secret password',
    yaml: `
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: tor-a}
spec:
  nodeSelector: rack == 'a'
  peerIP: "[2001:db8::1]:1179"
  asNumber: 65001
  keepaliveTime: 30s
  password:
    inline: rr-password
`,
  },
  {
    name: 'FelixConfiguration default from the Calico reference',
    yaml: `
apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata:
  name: default
spec:
  ipv6Support: false
  ipipMTU: 1400
  chainInsertMode: Insert  # Append is refused (docs/fields.md)
`,
  },
  {
    name: 'FelixConfiguration for one node: failsafe ports, log level, route table ranges',
    yaml: `
apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata: {name: node.myhost}
spec:
  logSeverityScreen: Debug
  defaultEndpointToHostAction: accept
  failsafeInboundHostPorts:
  - {protocol: TCP, port: 22}
  - {protocol: UDP, port: 68, net: 192.0.2.0/24}
  failsafeOutboundHostPorts: []
  routeTableRanges: [{min: 1, max: 250}]
  serviceLoopPrevention: Reject
  healthTimeoutOverrides: [{name: InternalDataplaneMainLoop, timeout: 90s}]
`,
    check: (r) => assert.equal(spec(r).defaultEndpointToHostAction, 'Accept'),
  },
  {
    name: 'KubeControllersConfiguration from the Calico reference',
    yaml: `
apiVersion: projectcalico.org/v3
kind: KubeControllersConfiguration
metadata:
  name: default
spec:
  logSeverityScreen: Info
  healthChecks: Enabled
  etcdV3CompactionPeriod: 10m
  prometheusMetricsPort: 9094
  controllers:
    node:
      reconcilerPeriod: 5m
      leakGracePeriod: 15m
      syncLabels: Enabled
      hostEndpoint:
        autoCreate: Disabled
    policy:
      reconcilerPeriod: 5m
    workloadEndpoint:
      reconcilerPeriod: 5m
    serviceAccount:
      reconcilerPeriod: 5m
    namespace:
      reconcilerPeriod: 5m
    loadBalancer: {}
`,
    check: (r) => assert.deepEqual((spec(r).controllers as Spec).loadBalancer, { assignIPs: 'AllServices' }),
  },
  {
    name: 'KubeControllersConfiguration with host endpoint templates',
    yaml: `
apiVersion: projectcalico.org/v3
kind: KubeControllersConfiguration
metadata: {name: default}
spec:
  controllers:
    node:
      hostEndpoint:
        autoCreate: Disabled  # Enabled is refused (docs/fields.md)
        createDefaultHostEndpoint: Disabled
        templates:
        - generateName: uplinks
          interfacePattern: "^eth[0-9]+$"
          interfaceCIDRs: [192.0.2.0/24, 2001:db8::1]
          nodeSelector: has(edge)
          labels: {role: uplink}
          annotations: {note: "any text: not a label value"}
`,
  },
  {
    name: 'ClusterInformation as calico-node writes it',
    yaml: `
apiVersion: projectcalico.org/v3
kind: ClusterInformation
metadata:
  name: default
spec:
  calicoVersion: v3.32.0
  clusterGUID: 6ee5a1b9a3b54c57b6f6d9a6fdd0f0a1
  clusterType: typha,kdd,k8s,operator,bgp
  datastoreReady: true
`,
  },
  {
    name: 'IPAMConfiguration default with strict affinity and a block limit',
    yaml: `
apiVersion: projectcalico.org/v3
kind: IPAMConfiguration
metadata:
  name: default
spec:
  strictAffinity: true
  maxBlocksPerHost: 4
`,
    check: (r) => assert.deepEqual(r.spec, { strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 4 }),
  },
  {
    name: 'CalicoNodeStatus from the Calico reference',
    yaml: `
apiVersion: projectcalico.org/v3
kind: CalicoNodeStatus
metadata:
  name: my-caliconodestatus-1
spec:
  classes:
  - Agent
  - BGP
  - Routes
  node: my-node
  updatePeriodSeconds: 10
`,
  },
];
