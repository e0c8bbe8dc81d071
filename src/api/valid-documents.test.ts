// Valid documents of every kind, many shaped like the examples in Calico's
// documentation, with the defaults each must come back with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults, parseDocuments, validateResource } from './index.js';
import type { Resource } from './resource.js';

const one = (yaml: string): Resource => {
  const docs = parseDocuments(yaml, 'test.yaml');
  assert.equal(docs.length, 1);
  return validateResource(docs[0]!.value, docs[0]!);
};

interface Case {
  name: string;
  yaml: string;
  /** Expected spec fields after defaulting (a subset). */
  spec?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

const CASES: Case[] = [
  {
    name: 'NetworkPolicy from the Calico docs, types inferred from both rule lists',
    yaml: `
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: allow-tcp-6379
  namespace: production
spec:
  selector: role == 'database'
  types:
  - Ingress
  - Egress
  ingress:
  - action: Allow
    metadata:
      annotations:
        from: frontend
        to: database
    protocol: TCP
    source:
      selector: role == 'frontend'
    destination:
      ports:
      - 6379
  egress:
  - action: Allow
`,
    spec: { tier: 'default', types: ['Ingress', 'Egress'] },
    metadata: { name: 'allow-tcp-6379', namespace: 'production' },
  },
  {
    name: 'NetworkPolicy without namespace lands in default; egress-only infers Egress',
    yaml: `
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: egress-dns}
spec:
  order: 100
  egress:
  - action: Allow
    protocol: UDP
    destination: {ports: ["53"], nets: [198.51.100.53]}
`,
    spec: { types: ['Egress'], tier: 'default', order: 100, egress: [{ action: 'Allow', protocol: 'UDP', destination: { ports: [53], nets: ['198.51.100.53/32'] } }] },
    metadata: { namespace: 'default' },
  },
  {
    name: 'NetworkPolicy with no rules is Ingress (deny all ingress)',
    yaml: `
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec: {selector: all()}
`,
    spec: { types: ['Ingress'] },
  },
  {
    name: 'NetworkPolicy in a tier using the legacy "<tier>.<name>" form, ICMP and named ports',
    yaml: `
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: security.allow-ping, namespace: shop}
spec:
  tier: security
  order: 10.5
  ingress:
  - action: Allow
    protocol: ICMP
    icmp: {type: 8, code: 0}
  - action: Allow
    protocol: 6
    destination: {ports: [http, metrics]}
  - action: Allow
    protocol: UDP
    source: {notPorts: [dns]}
  - action: Deny
    protocol: ICMPv6
    ipVersion: 6
    notICMP: {type: 128}
`,
    spec: { tier: 'security', order: 10.5 },
  },
  {
    name: 'GlobalNetworkPolicy with preDNAT, doNotTrack-free, service accounts and namespaceSelector',
    yaml: `
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: allow-ssh-from-bastion}
spec:
  selector: has(node-role)
  order: 200
  preDNAT: true
  applyOnForward: true
  ingress:
  - action: Allow
    protocol: TCP
    source: {nets: [203.0.113.0/24], notNets: [203.0.113.128/25]}
    destination: {ports: [22, "30000:32767"]}
  - action: Pass
    source:
      namespaceSelector: global()
      serviceAccounts: {names: [api], selector: "app == 'web'"}
`,
    spec: { types: ['Ingress'], tier: 'default', preDNAT: true },
  },
  {
    name: 'GlobalNetworkPolicy with Log then Allow',
    yaml: `
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: platform.to-apiserver}
spec:
  tier: platform
  types: [Egress]
  egress:
  - action: Log
  - action: Allow
    destination:
      nets: [198.51.100.10/32]
      ports: [6443]
    protocol: TCP
`,
    spec: { types: ['Egress'] },
  },
  {
    name: 'Tier with order and Pass',
    yaml: `
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 300, defaultAction: Pass}
`,
    spec: { order: 300, defaultAction: 'Pass' },
  },
  {
    name: 'default Tier gets its fixed order and Deny',
    yaml: `
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: default}
`,
    spec: { order: 1000000, defaultAction: 'Deny' },
  },
  {
    name: 'NetworkSet and GlobalNetworkSet normalize their nets',
    yaml: `
apiVersion: projectcalico.org/v3
kind: NetworkSet
metadata: {name: partners, namespace: shop, labels: {role: partner}}
spec:
  nets: [198.51.100.0/28, 2001:DB8:0:0::/64, 192.0.2.7]
`,
    spec: { nets: ['198.51.100.0/28', '2001:db8::/64', '192.0.2.7/32'] },
  },
  {
    name: 'GlobalNetworkSet',
    yaml: `
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: blocklist, labels: {threat-feed: "true"}}
spec: {nets: [203.0.113.0/24]}
`,
    spec: { nets: ['203.0.113.0/24'] },
  },
  {
    name: 'Profile with labelsToApply',
    yaml: `
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: kns.shop}
spec:
  ingress: [{action: Allow}]
  egress: [{action: Allow}]
  labelsToApply: {pcns.projectcalico.org/name: shop}
`,
    spec: { labelsToApply: { 'pcns.projectcalico.org/name': 'shop' } },
  },
  {
    name: 'WorkloadEndpoint as the CNI plugin writes it',
    yaml: `
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata:
  name: node--1-k8s-frontend--5gs43-eth0
  namespace: shop
  labels: {app: frontend, projectcalico.org/namespace: shop, projectcalico.org/orchestrator: k8s}
spec:
  node: node-1
  orchestrator: k8s
  endpoint: eth0
  containerID: 3c4a1b2e9f
  pod: frontend-5gs43
  serviceAccountName: default
  ipNetworks: [198.18.0.5/32, 2001:db8:1::5]
  profiles: [kns.shop, ksa.shop.default]
  interfaceName: cali0ef24b1a8fc
  mac: EE:EE:EE:EE:EE:EE
  ports:
  - {name: http, protocol: TCP, port: 8080}
  - {protocol: UDP, port: 53, hostPort: 5353, hostIP: 192.0.2.10}
`,
    spec: { ipNetworks: ['198.18.0.5/32', '2001:db8:1::5/128'], mac: 'ee:ee:ee:ee:ee:ee' },
  },
  {
    name: 'HostEndpoint for all interfaces and one with expectedIPs',
    yaml: `
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: node-1-eth0, labels: {environment: production}}
spec:
  node: node-1
  interfaceName: eth0
  expectedIPs: [192.0.2.10, 2001:db8::10]
  profiles: [host-default]
  ports: [{name: ssh, protocol: TCP, port: 22}]
`,
    spec: { expectedIPs: ['192.0.2.10', '2001:db8::10'] },
  },
  {
    name: 'IPPool with only a CIDR gets every default',
    yaml: `
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: default-ipv4-ippool}
spec: {cidr: 198.18.0.0/16}
`,
    spec: {
      cidr: '198.18.0.0/16',
      blockSize: 26,
      ipipMode: 'Never',
      vxlanMode: 'Never',
      natOutgoing: false,
      nodeSelector: 'all()',
      allowedUses: ['Workload', 'Tunnel'],
      assignmentMode: 'Automatic',
    },
  },
  {
    name: 'IPv6 IPPool defaults to /122 blocks; the CIDR is stored canonical',
    yaml: `
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: default-ipv6-ippool}
spec: {cidr: "2001:DB8:1:0::/48", natOutgoing: true, nodeSelector: "rack == 'r1'"}
`,
    spec: { cidr: '2001:db8:1::/48', blockSize: 122, natOutgoing: true, nodeSelector: "rack == 'r1'" },
  },
  {
    name: 'IPReservation',
    yaml: `
apiVersion: projectcalico.org/v3
kind: IPReservation
metadata: {name: reserved}
spec: {reservedCIDRs: [198.18.0.0/30, 198.18.1.1, "2001:db8:1::/120"]}
`,
    spec: { reservedCIDRs: ['198.18.0.0/30', '198.18.1.1/32', '2001:db8:1::/120'] },
  },
  {
    name: 'default BGPConfiguration gets mesh, AS, log level and port',
    yaml: `
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec:
  serviceClusterIPs: [{cidr: 198.19.0.0/16}]
  communities: [{name: bgp-large-community, value: "63400:300:100"}]
  prefixAdvertisements:
  - {cidr: 198.18.0.0/16, communities: [bgp-large-community, "63400:120"]}
`,
    spec: { nodeToNodeMeshEnabled: true, asNumber: 64512, logSeverityScreen: 'Info', listenPort: 179 },
  },
  {
    name: 'per-node BGPConfiguration gets no defaults',
    yaml: `
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: node.node-1}
spec: {logSeverityScreen: Debug}
`,
    spec: { logSeverityScreen: 'Debug' },
  },
  {
    name: 'BGPConfiguration as Calico takes it: log level in any case, bare service addresses, aggregation defaulted',
    yaml: `
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec:
  logSeverityScreen: warning
  serviceExternalIPs: [{cidr: 203.0.113.7}]
  serviceClusterIPs: [{cidr: "2001:db8::1"}]
  ignoredInterfaces: ["eth*"]
`,
    spec: {
      logSeverityScreen: 'Warning',
      serviceExternalIPs: [{ cidr: '203.0.113.7/32' }],
      serviceClusterIPs: [{ cidr: '2001:db8::1/128' }],
      serviceLoadBalancerAggregation: 'Enabled',
      ignoredInterfaces: ['eth*'],
    },
  },
  {
    name: 'BGPPeer to a ToR with port, inline password, TTL security',
    yaml: `
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: rack1-tor}
spec:
  nodeSelector: rack == 'rack-1'
  peerIP: 192.0.2.1:1179
  asNumber: 65001
  password: {inline: rr-password}
  ttlSecurity: 1
  keepaliveTime: 30s
  maxRestartTime: 2m
  sourceAddress: None
  nextHopMode: Self
  numAllowedLocalASNumbers: 1
  filters: [export-only-pools]
`,
    spec: { peerIP: '192.0.2.1:1179', asNumber: 65001, filters: ['export-only-pools'] },
  },
  {
    name: 'BGPFilter from the Calico reference, CIDRs stored canonical',
    yaml: `
apiVersion: projectcalico.org/v3
kind: BGPFilter
metadata: {name: my-filter}
spec:
  exportV4:
  - {action: Accept, matchOperator: In, cidr: 198.18.0.0/16, prefixLength: {min: 24, max: 26}}
  - {action: Reject, source: RemotePeers}
  importV4:
  - {action: Reject, matchOperator: NotIn, cidr: 198.19.1.5/24, interface: "eth*"}
  exportV6:
  - {action: Reject, matchOperator: Equal, cidr: "2001:DB8::/64"}
  importV6:
  - {action: Accept}
`,
    spec: {
      exportV4: [{ action: 'Accept', matchOperator: 'In', cidr: '198.18.0.0/16', prefixLength: { min: 24, max: 26 } }, { action: 'Reject', source: 'RemotePeers' }],
      importV4: [{ action: 'Reject', matchOperator: 'NotIn', cidr: '198.19.1.0/24', interface: 'eth*' }],
      exportV6: [{ action: 'Reject', matchOperator: 'Equal', cidr: '2001:db8::/64' }],
    },
  },
  {
    name: 'BGPPeer with asdot AS, IPv6 peer and our inline password',
    yaml: `
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: border-v6}
spec:
  node: node-1
  peerIP: "[2001:DB8::1]:179"
  asNumber: "1.10"
  password: {inline: s3cret}
  keepOriginalNextHop: true
`,
    spec: { peerIP: '[2001:db8::1]:179', asNumber: 65546 },
  },
  {
    name: 'BGPPeer selecting route reflectors',
    yaml: `
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: peer-with-route-reflectors}
spec: {nodeSelector: all(), peerSelector: "route-reflector == 'true'"}
`,
  },
  {
    name: 'FelixConfiguration with common settings (no defaults written)',
    yaml: `
apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata: {name: default}
spec:
  ipv6Support: true
  logSeverityScreen: info
  defaultEndpointToHostAction: ACCEPT
  chainInsertMode: Insert
  iptablesBackend: NFT
  routeRefreshInterval: 1m30s
  reportingInterval: 0s
  failsafeInboundHostPorts: [{protocol: tcp, port: 22}, {protocol: UDP, port: 68, net: 192.0.2.0/24}]
  failsafeOutboundHostPorts: []
  kubeNodePortRanges: ["30000:32767"]
  bpfEnabled: false
`,
    spec: { logSeverityScreen: 'Info', defaultEndpointToHostAction: 'Accept', failsafeInboundHostPorts: [{ protocol: 'TCP', port: 22 }, { protocol: 'UDP', port: 68, net: '192.0.2.0/24' }] },
  },
  {
    name: 'Node as calico-node registers it',
    yaml: `
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: node-1, labels: {rack: rack-1}}
spec:
  bgp:
    ipv4Address: 192.0.2.10/24
    ipv6Address: 2001:db8::10/64
    asNumber: 65010
    routeReflectorClusterID: 224.0.0.1
  addresses: [{address: 192.0.2.10/24, type: CalicoNodeIP}, {address: 192.0.2.10, type: InternalIP}]
  orchRefs: [{nodeName: node-1, orchestrator: k8s}]
status: {podCIDRs: [198.18.0.0/24]}
`,
    spec: { bgp: { ipv4Address: '192.0.2.10/24', ipv6Address: '2001:db8::10/64', asNumber: 65010, routeReflectorClusterID: '224.0.0.1' } },
  },
  {
    name: 'ClusterInformation',
    yaml: `
apiVersion: projectcalico.org/v3
kind: ClusterInformation
metadata: {name: default}
spec: {clusterGUID: 0b4a0f53a58c4b4d9b5b8a6b2c2d1e0f, clusterType: "typha,kdd", calicoVersion: v3.31.0, datastoreReady: true}
`,
    spec: { datastoreReady: true },
  },
  {
    name: 'KubeControllersConfiguration defaults',
    yaml: `
apiVersion: projectcalico.org/v3
kind: KubeControllersConfiguration
metadata: {name: default}
spec:
  controllers:
    node: {reconcilerPeriod: 5m, syncLabels: Enabled, hostEndpoint: {autoCreate: Disabled}}
    policy: {reconcilerPeriod: 5m}
`,
    spec: { logSeverityScreen: 'Info', healthChecks: 'Enabled', etcdV3CompactionPeriod: '10m', prometheusMetricsPort: 9094 },
  },
];

for (const c of CASES) {
  test(`valid: ${c.name}`, () => {
    const r = one(c.yaml);
    for (const [k, v] of Object.entries(c.spec ?? {})) assert.deepEqual((r.spec as Record<string, unknown>)[k], v, `spec.${k}`);
    for (const [k, v] of Object.entries(c.metadata ?? {})) assert.deepEqual((r.metadata as unknown as Record<string, unknown>)[k], v, `metadata.${k}`);
    // Validating the output again is a fixed point.
    assert.deepEqual(validateResource(r), r);
  });
}

// Every kind has valid documents in the good corpus (good-corpus.test.ts).

test('validateResource never mutates its input', () => {
  const doc = { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '2001:DB8::/48' } };
  const before = JSON.stringify(doc);
  const out = validateResource(doc);
  assert.equal(JSON.stringify(doc), before);
  (out.spec as Record<string, unknown>).cidr = 'changed';
  assert.equal(doc.spec.cidr, '2001:DB8::/48');
});

test('applyDefaults fills defaults into a stored resource without touching it', () => {
  const stored: Resource = { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '2001:db8::/48' } };
  const out = applyDefaults(stored);
  assert.equal((out.spec as Record<string, unknown>).blockSize, 122);
  assert.equal(stored.spec!.blockSize, undefined);
});

test('null fields are treated as absent (Go encoders emit them)', () => {
  const r = validateResource({ apiVersion: 'projectcalico.org/v3', kind: 'NetworkSet', metadata: { name: 't', labels: null }, spec: { nets: null } });
  assert.equal((r.spec as Record<string, unknown>).nets, undefined);
  assert.equal(r.metadata.labels, undefined);
  // A null order is absent, so the tier gets Calico's default order.
  const t = validateResource({ apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: { name: 't' }, spec: { order: null } });
  assert.equal((t.spec as Record<string, unknown>).order, 1_000_000);
});
