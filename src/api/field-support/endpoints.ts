// Field support: WorkloadEndpoint and HostEndpoint.
import { honoured, warned, type FieldTable } from './model.js';

const COLUMNS = honoured('src/cli/output.test.ts :: ps and wide tables use calicoctl columns per kind', 'identity: shown by calicoctl; the orchestrator also becomes a label');
const ROUTED = honoured('test/kernel/dataplane/policy-flows.test.ts :: routes and sysctls for each workload interface');
const NAMED_PORTS = honoured('src/calc/graph.test.ts :: named ports become named-port sets restricted to the selector');
const QOS = warned('bandwidth, packet-rate and connection limits are not programmed (no tc shaping yet)');
const HOST_PORTS = honoured('test/kernel/dataplane/host-endpoints.test.ts :: a named port of the host endpoint');
const HOST_ENDPOINT = honoured('test/kernel/dataplane/host-endpoints.test.ts :: the policy decides for ordinary ports');

export const ENDPOINT_SUPPORT: Record<string, FieldTable> = {
  WorkloadEndpoint: {
    'spec.orchestrator': COLUMNS,
    'spec.workload': COLUMNS,
    'spec.node': honoured('src/calc/graph.test.ts :: local endpoint gets the selecting GNP; rule selector becomes a set of remote endpoint IPs', 'only the named node programs the endpoint'),
    'spec.containerID': COLUMNS,
    'spec.pod': COLUMNS,
    'spec.endpoint': COLUMNS,
    'spec.serviceAccountName': honoured('src/calc/graph.test.ts :: service accounts match spec.serviceAccountName or the pcsa. labels of a ksa profile'),
    'spec.ipNetworks': ROUTED,
    'spec.ipNATs[].internalIP': warned('floating IPs (1:1 NAT) are not programmed: the external address does not reach the endpoint'),
    'spec.ipNATs[].externalIP': warned('floating IPs (1:1 NAT) are not programmed: the external address does not reach the endpoint'),
    'spec.ipv4Gateway': honoured('src/dhcp/dnsmasq-config.test.ts :: dhcp config: spec.ipv4Gateway is the offered gateway and a host address', 'served to VMs by calico-dhcp-agent; CNI workloads always route via 169.254.1.1'),
    'spec.ipv6Gateway': warned("the host always answers as its side's link-local address for the workload"),
    'spec.profiles': honoured('src/calc/graph.test.ts :: profiles: missing ones are not emitted; labelsToApply feed selectors; own labels win'),
    'spec.interfaceName': ROUTED,
    'spec.mac': honoured('test/kernel/dataplane/policy-flows.test.ts :: forged source MAC is dropped'),
    'spec.ports[].name': NAMED_PORTS,
    'spec.ports[].protocol': NAMED_PORTS,
    'spec.ports[].port': NAMED_PORTS,
    'spec.ports[].hostPort': warned('host port forwarding is the job of a chained CNI plugin (portmap); calico-node does not program it'),
    'spec.ports[].hostIP': warned('host port forwarding is the job of a chained CNI plugin (portmap); calico-node does not program it'),
    'spec.addressSpace': honoured('test/kernel/xlat/two-spaces.test.ts :: matrix over TCP, UDP and ICMP: each workload reaches its own space (same host and across hosts) and nothing of the other space', 'calico-ts extension (docs/xlat.md); the rewrite: src/xlat/space-view.test.ts'),
    'spec.allowSpoofedSourcePrefixes': warned('anti-spoofing stays strict: packets from these prefixes are still dropped'),
    'spec.qosControls.ingressBandwidth': QOS,
    'spec.qosControls.ingressBurst': QOS,
    'spec.qosControls.ingressPeakrate': QOS,
    'spec.qosControls.ingressMinburst': QOS,
    'spec.qosControls.egressBandwidth': QOS,
    'spec.qosControls.egressBurst': QOS,
    'spec.qosControls.egressPeakrate': QOS,
    'spec.qosControls.egressMinburst': QOS,
    'spec.qosControls.ingressPacketRate': QOS,
    'spec.qosControls.ingressPacketBurst': QOS,
    'spec.qosControls.egressPacketRate': QOS,
    'spec.qosControls.egressPacketBurst': QOS,
    'spec.qosControls.ingressMaxConnections': QOS,
    'spec.qosControls.egressMaxConnections': QOS,
  },
  HostEndpoint: {
    'spec.node': HOST_ENDPOINT,
    'spec.interfaceName': honoured('test/kernel/dataplane/host-endpoints.test.ts :: "*" polices every host interface without a named endpoint; failsafe ports still reach the host', 'a name, or "*" for every host interface without a named endpoint'),
    'spec.expectedIPs': honoured('test/kernel/dataplane/host-endpoints.test.ts :: expectedIPs only: the endpoint governs the interface carrying the address, and only that one'),
    'spec.profiles': honoured('test/kernel/dataplane/host-endpoints.test.ts :: profiles on a host endpoint apply after its policies; none at all means drop (except failsafe)'),
    'spec.ports[].name': HOST_PORTS,
    'spec.ports[].protocol': HOST_PORTS,
    'spec.ports[].port': HOST_PORTS,
  },
};
