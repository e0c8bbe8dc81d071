// Documents shaped like the samples in Calico's resource reference, applied
// unchanged: one multi-document stream, as a user would feed calicoctl.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDocuments, validateResource } from './index.js';

const STREAM = `
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: allow-tcp-6379
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
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: untracked-allow-etcd
spec:
  selector: has(etcd-node)
  order: 10
  doNotTrack: true
  applyOnForward: true
  ingress:
  - action: Allow
    protocol: TCP
    destination:
      ports: [2379, 2380]
  egress:
  - action: Allow
    protocol: TCP
    source:
      ports: [2379, 2380]
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata:
  name: some.name
  labels:
    type: production
spec:
  interfaceName: eth0
  node: myhost
  expectedIPs:
  - 192.168.0.1
  - 192.168.0.2
  profiles:
  - profile1
  - profile2
  ports:
  - name: some-port
    port: 1234
    protocol: TCP
  - name: another-port
    port: 5432
    protocol: UDP
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata:
  name: node1-k8s-my--nginx--b1337a-eth0
  namespace: default
  labels:
    app: frontend
    projectcalico.org/namespace: default
    projectcalico.org/orchestrator: k8s
spec:
  node: node1
  orchestrator: k8s
  endpoint: eth0
  containerID: 1337495556942031415926535
  pod: my-nginx-b1337a
  interfaceName: cali0ef24ba
  mac: ca:fe:1d:52:bb:e9
  ipNetworks:
  - 192.168.0.0/32
  profiles:
  - profile1
  ports:
  - name: some-port
    port: 1234
    protocol: TCP
  - name: another-port
    port: 5432
    protocol: UDP
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: my.ippool-1
spec:
  cidr: 10.1.0.0/16
  ipipMode: Never
  natOutgoing: true
  disabled: false
  nodeSelector: all()
  allowedUses:
  - Workload
  - Tunnel
---
apiVersion: projectcalico.org/v3
kind: IPReservation
metadata:
  name: my-ipreservation-1
spec:
  reservedCIDRs:
  - 192.168.2.3
  - 10.0.2.3/32
  - cafe:f00d::/123
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: node-hostname
spec:
  bgp:
    asNumber: 64512
    ipv4Address: 10.244.0.1/24
    ipv6Address: 2001:db8:85a3::8a2e:370:7334/120
    ipv4IPIPTunnelAddr: 192.168.0.1
---
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
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: some.name
spec:
  node: rack1-host1
  peerIP: 192.168.1.1
  asNumber: 63400
---
apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata:
  name: default
spec:
  ipv6Support: false
  ipipMTU: 1400
  chainInsertMode: Insert  # the reference says Append, which calico-ts refuses (docs/fields.md)
---
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
---
apiVersion: projectcalico.org/v3
kind: Tier
metadata:
  name: internal-access
spec:
  order: 100
---
apiVersion: projectcalico.org/v3
kind: NetworkSet
metadata:
  name: external-database
  namespace: staging
  labels:
    role: db
spec:
  nets:
  - 198.51.100.0/28
  - 203.0.113.0/24
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata:
  name: dev-apps
spec:
  ingress:
  - action: Deny
    source:
      nets:
      - 10.0.20.0/24
  - action: Allow
    source:
      selector: stage == 'development'
  egress:
  - action: Allow
  labelsToApply:
    stage: development
`;

test('Calico reference samples apply unchanged', () => {
  const docs = parseDocuments(STREAM, 'calico-docs.yaml');
  assert.equal(docs.length, 14);
  const out = docs.map((d) => validateResource(d.value, d));
  const byName = new Map(out.map((r) => [`${r.kind}/${r.metadata.name}`, r]));
  assert.deepEqual(byName.get('IPPool/my.ippool-1')!.spec!.blockSize, 26);
  assert.deepEqual(byName.get('BGPConfiguration/default')!.spec!.listenPort, 178);
  assert.deepEqual(byName.get('BGPConfiguration/default')!.spec!.asNumber, 63400);
  assert.deepEqual(byName.get('IPReservation/my-ipreservation-1')!.spec!.reservedCIDRs, ['192.168.2.3/32', '10.0.2.3/32', 'cafe:f00d::/123']);
  assert.deepEqual(byName.get('Tier/internal-access')!.spec, { order: 100, defaultAction: 'Deny' });
  assert.deepEqual(byName.get('GlobalNetworkPolicy/untracked-allow-etcd')!.spec!.types, ['Ingress', 'Egress']);
  // An unquoted long number in a string field keeps every digit, as calicoctl's typed decoding does.
  assert.equal(byName.get('WorkloadEndpoint/node1-k8s-my--nginx--b1337a-eth0')!.spec!.containerID, '1337495556942031415926535');
});

test('a FelixConfiguration as a Calico cluster prints it applies unchanged', () => {
  const [d] = parseDocuments(`apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata:
  name: default
spec:
  bpfConnectTimeLoadBalancing: TCP
  bpfHostNetworkedNATWithoutCTLB: Enabled
  bpfLogLevel: ""
  floatingIPs: Disabled
  healthPort: 9099
  logSeverityScreen: Info
  reportingInterval: 0s
  vxlanVNI: 4096
  routeTableRanges: [{min: 1, max: 250}]
  healthTimeoutOverrides: [{name: InternalDataplaneMainLoop, timeout: 90s}]
`, 'felix.yaml');
  const r = validateResource(d!.value, d);
  assert.equal(r.spec!.bpfConnectTimeLoadBalancing, 'TCP');
  assert.equal(r.spec!.bpfLogLevel, '');
});

test('unquoted numbers and booleans in string fields become strings, as in calicoctl', () => {
  const [d] = parseDocuments('apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata:\n  name: t\n  labels: {version: 2, canary: true}\n  annotations: {build: 1.5}\n', 'x.yaml');
  const r = validateResource(d!.value, d);
  assert.deepEqual(r.metadata.labels, { version: '2', canary: 'true' });
  assert.deepEqual(r.metadata.annotations, { build: '1.5' });
});
