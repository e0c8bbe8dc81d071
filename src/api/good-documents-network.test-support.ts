// Good documents, network side: endpoints, pools, reservations, nodes and the
// IPAM kinds, in the shapes of Calico's documentation examples. good-corpus.test.ts
// runs them: validate, apply, print back with `get -o yaml`, re-apply unchanged.
import assert from 'node:assert/strict';
import type { Good } from './corpus.test-support.js';

export const NETWORK_DOCUMENTS: Good[] = [
  {
    name: 'WorkloadEndpoint (k8s) from the Calico reference',
    yaml: `
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
  containerID: 1337495556942031415926535
  pod: my-nginx-b1337a
  endpoint: eth0
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
`,
  },
  {
    name: 'WorkloadEndpoint (cni) is named by its containerID; workload is optional; the name is computed when absent',
    yaml: `
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata:
  namespace: ns1
spec:
  node: host-a
  orchestrator: cni
  containerID: 0a1b2c3d
  endpoint: eth0
  interfaceName: cali12345
  ipNetworks: [198.18.1.5/32, "2001:db8::5/128"]
  ipNATs:
  - internalIP: 198.18.1.5
    externalIP: 203.0.113.5
`,
    check: (r) => assert.equal(r.metadata.name, 'host--a-cni-0a1b2c3d-eth0'),
  },
  {
    name: 'WorkloadEndpoint (libnetwork) needs no workload segment',
    yaml: `
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: h1-libnetwork-libnetwork-ep1, namespace: default}
spec: {node: h1, orchestrator: libnetwork, endpoint: ep1, interfaceName: cali0a, ports: [{protocol: TCP, port: 80, hostPort: 8080, hostIP: 192.0.2.10}]}
`,
  },
  {
    name: 'HostEndpoint from the Calico reference',
    yaml: `
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
`,
  },
  {
    name: 'HostEndpoint for all of a host\'s interfaces',
    yaml: `
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: myhost-all, labels: {host-endpoint: ingress}}
spec: {node: myhost, interfaceName: "*"}
`,
  },
  {
    name: 'IPPool from the Calico reference (encapsulation Never)',
    yaml: `
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: my.ippool-1
spec:
  cidr: 10.1.0.0/16
  ipipMode: Never
  vxlanMode: Never
  natOutgoing: true
  disabled: false
  nodeSelector: all()
  allowedUses:
  - Workload
  - Tunnel
`,
    check: (r) => assert.equal((r.spec as { blockSize: number }).blockSize, 26),
  },
  {
    name: 'a disabled IPPool may be smaller than one block',
    yaml: `
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: tiny-disabled}
spec: {cidr: 198.18.0.0/28, disabled: true}
`,
  },
  {
    name: 'IPv6 IPPool with an explicit block size and a node selector',
    yaml: `
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: pool-v6}
spec: {cidr: "2001:db8:100::/56", blockSize: 120, nodeSelector: "rack == 'r1'", assignmentMode: Automatic}
`,
  },
  {
    name: 'LoadBalancer IPPool',
    yaml: `
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: lb-pool}
spec: {cidr: 203.0.113.0/24, allowedUses: [LoadBalancer], nodeSelector: all()}
`,
  },
  {
    name: 'AddressSpace with a DC-SIIT service mapping',
    yaml: `
apiVersion: projectcalico.org/v3
kind: AddressSpace
metadata: {name: tenant-a}
spec:
  prefix: 2001:db8:64:1::/96
  services:
  - {ipv4: 198.18.200.10, ipv6: "2001:db8:f00::10"}
`,
  },
  {
    name: 'IPReservation from the Calico reference',
    yaml: `
apiVersion: projectcalico.org/v3
kind: IPReservation
metadata:
  name: my-ipreservation-1
spec:
  reservedCIDRs:
  - 192.168.2.3
  - 10.0.2.3/32
  - cafe:f00d::/123
`,
  },
  {
    name: 'Node from the Calico reference',
    yaml: `
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
`,
  },
];
