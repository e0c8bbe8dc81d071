// The invalid-document corpus: each document must be rejected with the exact
// field path and a message that says what is wrong, and `calicoctl apply` of
// it must write nothing (see corpus.test-support.ts). More cases, derived from
// Calico's validator tests, live in invalid-corpus-*.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../base/errors.js';
import { invalidCorpus, mk, np, gnp, pool, peer, wep, V3, type Bad } from './corpus.test-support.js';
import { parseDocuments, validateResource } from './index.js';

const CORPUS: Bad[] = [
  // Envelope.
  { name: 'not an object', doc: 'hello', path: '', message: 'must be an object' },
  { name: 'wrong apiVersion', doc: { apiVersion: 'v1', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '198.18.0.0/16' } }, path: 'apiVersion', message: 'use "projectcalico.org/v3"' },
  { name: 'crd apiVersion', doc: { apiVersion: 'crd.projectcalico.org/v1', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '198.18.0.0/16' } }, path: 'apiVersion', message: 'internal storage form' },
  { name: 'missing apiVersion', doc: { kind: 'Tier', metadata: { name: 't' } }, path: 'apiVersion', message: 'is required' },
  { name: 'unknown kind', doc: { apiVersion: V3, kind: 'Ippool', metadata: { name: 'p' } }, path: 'kind', message: 'did you mean "IPPool"' },
  { name: 'missing kind', doc: { apiVersion: V3, metadata: { name: 'p' } }, path: 'kind', message: 'is required' },
  { name: 'unknown top-level field', doc: { apiVersion: V3, kind: 'Tier', metadata: { name: 't' }, sepc: {} }, path: 'sepc', message: 'unknown field "sepc"' },
  { name: 'status on a kind without status', doc: { apiVersion: V3, kind: 'Profile', metadata: { name: 'p' }, status: {} }, path: 'status', message: 'has no status' },
  // Metadata and names.
  { name: 'missing metadata', doc: { apiVersion: V3, kind: 'Tier' }, path: 'metadata', message: 'is required' },
  { name: 'missing name', doc: { apiVersion: V3, kind: 'Tier', metadata: {} }, path: 'metadata.name', message: 'is required' },
  { name: 'upper-case name', doc: mk('IPPool', { cidr: '198.18.0.0/16' }, { name: 'MyPool' }), path: 'metadata.name', message: 'lower case alphanumeric' },
  { name: 'name too long', doc: mk('GlobalNetworkSet', {}, { name: 'a'.repeat(254) }), path: 'metadata.name', message: 'too long' },
  { name: 'tier name with a dot', doc: mk('Tier', {}, { name: 'sec.urity' }), path: 'metadata.name', message: 'no dots' },
  { name: 'policy name with two dots', doc: mk('GlobalNetworkPolicy', {}, { name: 'a.b.c' }), path: 'metadata.name', message: 'not a valid policy name' },
  { name: 'namespace on a global kind', doc: mk('GlobalNetworkPolicy', {}, { namespace: 'ns' }), path: 'metadata.namespace', message: 'not namespaced' },
  { name: 'invalid namespace', doc: mk('NetworkSet', {}, { namespace: 'My_NS' }), path: 'metadata.namespace', message: 'not a valid namespace' },
  { name: 'bad label key', doc: mk('Tier', {}, { labels: { 'bad key!': 'v' } }), path: 'metadata.labels["bad key!"]', message: 'label key' },
  { name: 'bad label value', doc: mk('Tier', {}, { labels: { role: 'no spaces allowed' } }), path: 'metadata.labels["role"]', message: 'label value' },
  { name: 'list as label value', doc: mk('Tier', {}, { labels: { replicas: [3] } }), path: 'metadata.labels["replicas"]', message: 'must be strings' },
  { name: 'unknown metadata field', doc: mk('Tier', {}, { nmae: 'x' }), path: 'metadata.nmae', message: 'did you mean "name"' },
  { name: 'singleton with another name', doc: mk('ClusterInformation', {}, { name: 'mine' }), path: 'metadata.name', message: 'named "default"' },
  { name: 'BGPConfiguration name', doc: mk('BGPConfiguration', {}, { name: 'global' }), path: 'metadata.name', message: 'node.<nodename>' },
  // Rules: CIDRs.
  { name: 'bad IPv4 CIDR', doc: np({ action: 'Allow', source: { nets: ['192.0.2.0/33'] } }), path: 'spec.ingress[0].source.nets[0]', message: 'not a valid CIDR' },
  { name: 'bad IPv4 octet', doc: np({ action: 'Allow', source: { nets: ['192.0.2.256/24'] } }), path: 'spec.ingress[0].source.nets[0]', message: 'not a valid CIDR' },
  { name: 'bad IPv6 CIDR', doc: np({ action: 'Allow', destination: { notNets: ['2001:db8::g/64'] } }), path: 'spec.ingress[0].destination.notNets[0]', message: 'not a valid CIDR' },
  { name: 'IPv6 prefix too long', doc: np({ action: 'Allow', destination: { nets: ['2001:db8::/129'] } }), path: 'spec.ingress[0].destination.nets[0]', message: 'not a valid CIDR' },
  { name: 'nets not a list', doc: np({ action: 'Allow', source: { nets: '192.0.2.0/24' } }), path: 'spec.ingress[0].source.nets', message: 'must be a list' },
  { name: 'ipVersion 4 with IPv6 nets', doc: np({ action: 'Allow', ipVersion: 4, source: { nets: ['2001:db8::/64'] } }), path: 'spec.ingress[0].source.nets', message: 'ipVersion 4' },
  { name: 'ipVersion 6 with IPv4 nets', doc: np({ action: 'Allow', ipVersion: 6, destination: { nets: ['192.0.2.0/24'] } }, 'egress'), path: 'spec.egress[0].destination.nets', message: 'ipVersion 6' },
  { name: 'mixed families in one rule', doc: np({ action: 'Allow', source: { nets: ['192.0.2.0/24'] }, destination: { nets: ['2001:db8::/64'] } }), path: 'spec.ingress[0].destination.nets', message: 'one IP family' },
  { name: 'ipVersion 5', doc: np({ action: 'Allow', ipVersion: 5 }), path: 'spec.ingress[0].ipVersion', message: 'must be 4 or 6' },
  { name: 'catch-all in notNets', doc: np({ action: 'Allow', source: { notNets: ['0.0.0.0/0'] } }), path: 'spec.ingress[0].source.notNets', message: 'matches no traffic' },
  // Rules: ports.
  { name: 'port 0', doc: np({ action: 'Allow', protocol: 'TCP', destination: { ports: [0] } }), path: 'spec.ingress[0].destination.ports[0]', message: 'not a valid port' },
  { name: 'port 65536', doc: np({ action: 'Allow', protocol: 'TCP', destination: { ports: [80, 65536] } }), path: 'spec.ingress[0].destination.ports[1]', message: 'not a valid port' },
  { name: 'reversed range', doc: np({ action: 'Allow', protocol: 'UDP', destination: { ports: ['9000:8000'] } }), path: 'spec.ingress[0].destination.ports[0]', message: 'first port must not be greater' },
  { name: 'range past 65535', doc: np({ action: 'Allow', protocol: 'UDP', source: { notPorts: ['1000:70000'] } }), path: 'spec.ingress[0].source.notPorts[0]', message: 'between 1 and 65535' },
  { name: 'dash range', doc: np({ action: 'Allow', protocol: 'TCP', destination: { ports: ['80-90'] } }), path: 'spec.ingress[0].destination.ports[0]', message: '"min:max"' },
  { name: 'upper-case named port', doc: np({ action: 'Allow', destination: { ports: ['HTTP'] } }), path: 'spec.ingress[0].destination.ports[0]', message: 'not a valid port name' },
  { name: 'named port too long', doc: np({ action: 'Allow', destination: { ports: ['a-very-long-port-name'] } }), path: 'spec.ingress[0].destination.ports[0]', message: '1-15' },
  { name: 'named port with double dash', doc: np({ action: 'Allow', destination: { ports: ['my--port'] } }), path: 'spec.ingress[0].destination.ports[0]', message: 'double' },
  { name: 'numeric port without protocol', doc: np({ action: 'Allow', destination: { ports: [80] } }), path: 'spec.ingress[0].destination.ports', message: 'must set protocol to TCP, UDP or SCTP' },
  { name: 'numeric source notPorts without protocol', doc: np({ action: 'Allow', source: { notPorts: [1024] } }, 'egress'), path: 'spec.egress[0].source.notPorts', message: 'must set protocol' },
  { name: 'named and numeric ports without protocol', doc: np({ action: 'Allow', destination: { ports: ['http', 8080] } }), path: 'spec.ingress[0].destination.ports', message: 'only named ports may go without a protocol' },
  { name: 'named port with ICMP', doc: np({ action: 'Allow', protocol: 'ICMP', source: { notPorts: ['dns'] } }), path: 'spec.ingress[0].source.notPorts', message: 'has no ports' },
  { name: 'ports with ICMP', doc: np({ action: 'Allow', protocol: 'ICMP', destination: { ports: [80] } }), path: 'spec.ingress[0].destination.ports', message: 'has no ports' },
  // Rules: protocols, ICMP, actions.
  { name: 'bad protocol name', doc: np({ action: 'Allow', protocol: 'TCPP' }), path: 'spec.ingress[0].protocol', message: 'one of TCP, UDP, ICMP' },
  { name: 'protocol number 256', doc: np({ action: 'Allow', notProtocol: 256 }), path: 'spec.ingress[0].notProtocol', message: 'between 1 and 255' },
  { name: 'icmp without protocol', doc: np({ action: 'Allow', icmp: { type: 8 } }), path: 'spec.ingress[0].icmp', message: 'require protocol to be ICMP or ICMPv6' },
  { name: 'icmp with TCP', doc: np({ action: 'Allow', protocol: 'TCP', notICMP: { type: 8 } }), path: 'spec.ingress[0].notICMP', message: 'protocol is TCP' },
  { name: 'icmp code without type', doc: np({ action: 'Allow', protocol: 'ICMP', icmp: { code: 0 } }), path: 'spec.ingress[0].icmp.code', message: 'without an ICMP type' },
  { name: 'icmp type 255', doc: np({ action: 'Allow', protocol: 'ICMP', icmp: { type: 255 } }), path: 'spec.ingress[0].icmp.type', message: 'between 0 and 254' },
  { name: 'icmp code 256', doc: np({ action: 'Allow', protocol: 'ICMP', icmp: { type: 3, code: 256 } }), path: 'spec.ingress[0].icmp.code', message: 'between 0 and 255' },
  { name: 'ICMPv6 with ipVersion 4', doc: np({ action: 'Allow', protocol: 'ICMPv6', ipVersion: 4 }), path: 'spec.ingress[0].protocol', message: 'requires ipVersion 6' },
  { name: 'ICMP with ipVersion 6', doc: np({ action: 'Deny', protocol: 'ICMP', ipVersion: 6 }, 'egress'), path: 'spec.egress[0].protocol', message: 'requires ipVersion 4' },
  { name: 'bad action', doc: np({ action: 'allow' }), path: 'spec.ingress[0].action', message: 'one of Allow, Deny, Log, Pass' },
  { name: 'missing action', doc: np({ protocol: 'TCP' }), path: 'spec.ingress[0].action', message: 'is required' },
  { name: 'HTTP match on Deny', doc: np({ action: 'Deny', http: { methods: ['GET'] } }), path: 'spec.ingress[0].http', message: 'only valid on Allow' },
  // Rules: selectors and unknown fields at depth.
  { name: 'bad rule selector', doc: np({ action: 'Allow', source: { selector: "role == 'db" } }), path: 'spec.ingress[0].source.selector', message: 'invalid selector' },
  { name: 'global() in a rule selector', doc: np({ action: 'Allow', source: { selector: 'global()' } }), path: 'spec.ingress[0].source.selector', message: 'global() can only be used' },
  { name: 'bad policy selector', doc: mk('NetworkPolicy', { selector: 'role = db' }), path: 'spec.selector', message: 'invalid selector' },
  { name: 'unknown rule field', doc: np({ action: 'Allow', protocl: 'TCP' }), path: 'spec.ingress[0].protocl', message: 'did you mean "protocol"' },
  { name: 'unknown entity field', doc: np({ action: 'Allow', destination: { port: [80] } }), path: 'spec.ingress[0].destination.port', message: 'did you mean "ports"' },
  { name: 'unknown icmp field', doc: np({ action: 'Allow', protocol: 'ICMP', icmp: { typ: 8 } }), path: 'spec.ingress[0].icmp.typ', message: 'unknown field' },
  { name: 'unknown spec field', doc: mk('NetworkPolicy', { selectr: 'all()' }), path: 'spec.selectr', message: 'did you mean "selector"' },
  { name: 'services in an ingress source', doc: np({ action: 'Allow', source: { services: { name: 'web' } } }), path: 'spec.ingress[0].source.services', message: 'services matches are not supported by calico-ts (no Kubernetes Service data); use selector or nets' },
  { name: 'services in an egress destination', doc: np({ action: 'Allow', destination: { services: { name: 'web', namespace: 'ns' } } }, 'egress'), path: 'spec.egress[0].destination.services', message: 'not supported by calico-ts' },
  // Policies.
  { name: 'duplicate types', doc: mk('NetworkPolicy', { types: ['Ingress', 'Ingress'] }), path: 'spec.types[1]', message: 'more than once' },
  { name: 'bad type', doc: mk('NetworkPolicy', { types: ['ingress'] }), path: 'spec.types[0]', message: 'one of Ingress, Egress' },
  { name: 'order not a number', doc: mk('NetworkPolicy', { order: 'first' }), path: 'spec.order', message: 'must be a number' },
  { name: 'tier with a dot', doc: mk('NetworkPolicy', { tier: 'a.b' }), path: 'spec.tier', message: 'no dots' },
  { name: 'preDNAT with doNotTrack', doc: gnp({ preDNAT: true, doNotTrack: true, applyOnForward: true }), path: 'spec.preDNAT', message: 'cannot both be true' },
  { name: 'preDNAT with egress', doc: gnp({ preDNAT: true, applyOnForward: true, egress: [{ action: 'Allow' }] }), path: 'spec.egress', message: 'cannot have egress rules' },
  { name: 'doNotTrack without applyOnForward', doc: gnp({ doNotTrack: true }), path: 'spec.applyOnForward', message: 'must be true' },
  { name: 'services in a global policy', doc: gnp({ egress: [{ action: 'Allow', destination: { services: { name: 'kubernetes', namespace: 'default' } } }] }), path: 'spec.egress[0].destination.services', message: 'use selector or nets' },
  { name: 'default tier with Pass', doc: mk('Tier', { defaultAction: 'Pass' }, { name: 'default' }), path: 'spec.defaultAction', message: 'must be Deny' },
  { name: 'kube-admin tier with the default order', doc: mk('Tier', { defaultAction: 'Pass' }, { name: 'kube-admin' }), path: 'spec.order', message: 'fixed at 1000: set order: 1000' },
  { name: 'kube-admin tier defaulting to Deny', doc: mk('Tier', { order: 1000 }, { name: 'kube-admin' }), path: 'spec.defaultAction', message: "kube-admin tier's defaultAction must be Pass" },
  { name: 'kube-baseline tier with Deny', doc: mk('Tier', { order: 10000000, defaultAction: 'Deny' }, { name: 'kube-baseline' }), path: 'spec.defaultAction', message: 'must be Pass' },
  { name: 'tier defaultAction Allow', doc: mk('Tier', { defaultAction: 'Allow' }), path: 'spec.defaultAction', message: 'one of Deny, Pass' },
  { name: 'profile labelsToApply bad key', doc: mk('Profile', { labelsToApply: { '-bad': 'x' } }), path: 'spec.labelsToApply["-bad"]', message: 'label key' },
  // Network sets.
  { name: 'network set bad net', doc: mk('NetworkSet', { nets: ['198.51.100.0/24', 'not-a-net'] }), path: 'spec.nets[1]', message: 'not a valid CIDR' },
  // IP pools and reservations.
  { name: 'pool without cidr', doc: pool({}), path: 'spec.cidr', message: 'is required' },
  { name: 'pool bad cidr', doc: pool({ cidr: '198.18.0.0/40' }), path: 'spec.cidr', message: 'not a valid CIDR' },
  { name: 'IPv4 block size 33', doc: pool({ cidr: '198.18.0.0/16', blockSize: 33 }), path: 'spec.blockSize', message: 'between 20 and 32' },
  { name: 'IPv4 block size 19', doc: pool({ cidr: '198.18.0.0/16', blockSize: 19 }), path: 'spec.blockSize', message: 'between 20 and 32' },
  { name: 'IPv6 block size 64', doc: pool({ cidr: '2001:db8::/48', blockSize: 64 }), path: 'spec.blockSize', message: 'between 116 and 128' },
  { name: 'pool smaller than a block', doc: pool({ cidr: '198.18.0.0/28' }), path: 'spec.cidr', message: 'smaller than one block (/26)' },
  { name: 'pool smaller than its block size', doc: pool({ cidr: '2001:db8::/124', blockSize: 122 }), path: 'spec.cidr', message: 'smaller than one block (/122)' },
  { name: 'ipipMode Always refused', doc: pool({ cidr: '198.18.0.0/16', ipipMode: 'Always' }), path: 'spec.ipipMode', message: '"Always" is refused: IPIP encapsulation is not supported by calico-ts (this kernel has no IPIP; workload traffic is routed without encapsulation): set ipipMode: Never or remove it' },
  { name: 'ipipMode CrossSubnet refused', doc: pool({ cidr: '198.18.0.0/16', ipipMode: 'CrossSubnet' }), path: 'spec.ipipMode', message: 'set ipipMode: Never' },
  { name: 'vxlanMode Always refused', doc: pool({ cidr: '2001:db8::/48', vxlanMode: 'Always' }), path: 'spec.vxlanMode', message: '"Always" is refused: VXLAN encapsulation is not supported by calico-ts (routing without encapsulation is the design; VXLAN may come later as an opt-in overlay): set vxlanMode: Never or remove it' },
  { name: 'vxlanMode CrossSubnet refused', doc: pool({ cidr: '198.18.0.0/16', vxlanMode: 'CrossSubnet' }), path: 'spec.vxlanMode', message: 'set vxlanMode: Never' },
  { name: 'pool cidr with host bits', doc: pool({ cidr: '198.18.3.4/16' }), path: 'spec.cidr', message: 'not strictly masked (host bits set): did you mean "198.18.0.0/16"?' },
  { name: 'pool bare address', doc: pool({ cidr: '198.18.0.1' }), path: 'spec.cidr', message: 'not a valid CIDR' },
  { name: 'pool blockSize over 128', doc: pool({ cidr: '2001:db8::/48', blockSize: 129 }), path: 'spec.blockSize', message: 'between 0 and 128' },
  { name: 'bad ipipMode', doc: pool({ cidr: '198.18.0.0/16', ipipMode: 'always' }), path: 'spec.ipipMode', message: 'one of Never, Always, CrossSubnet' },
  { name: 'lower-case vxlanMode never', doc: pool({ cidr: '198.18.0.0/16', vxlanMode: 'never' }), path: 'spec.vxlanMode', message: 'one of Never, Always, CrossSubnet' },
  { name: 'link-local pool', doc: pool({ cidr: '169.254.0.0/16' }), path: 'spec.cidr', message: 'link-local' },
  { name: 'bad allowed use', doc: pool({ cidr: '198.18.0.0/16', allowedUses: ['Workloads'] }), path: 'spec.allowedUses[0]', message: 'one of Workload, Tunnel, LoadBalancer' },
  { name: 'natOutgoing not boolean', doc: pool({ cidr: '198.18.0.0/16', natOutgoing: 'yes' }), path: 'spec.natOutgoing', message: 'true or false' },
  { name: 'pool bad nodeSelector', doc: pool({ cidr: '198.18.0.0/16', nodeSelector: 'rack in {' }), path: 'spec.nodeSelector', message: 'invalid selector' },
  { name: 'reservation bad cidr', doc: mk('IPReservation', { reservedCIDRs: ['198.18.0.0/16', '198.18.0.999'] }), path: 'spec.reservedCIDRs[1]', message: 'not a valid CIDR' },
  // BGP.
  { name: 'peer bad IP', doc: peer({ peerIP: '192.0.2.300', asNumber: 65001 }), path: 'spec.peerIP', message: 'must be an IP address' },
  { name: 'peer bad port', doc: peer({ peerIP: '192.0.2.1:70000', asNumber: 65001 }), path: 'spec.peerIP', message: '"<IPv4>:<port>"' },
  { name: 'peer IPv6 port without brackets', doc: peer({ peerIP: '2001:db8::1]:179', asNumber: 65001 }), path: 'spec.peerIP', message: '[<IPv6>]:<port>' },
  { name: 'AS number 0', doc: peer({ peerIP: '192.0.2.1', asNumber: 0 }), path: 'spec.asNumber', message: 'not a valid AS number' },
  { name: 'AS number too large', doc: peer({ peerIP: '192.0.2.1', asNumber: 4294967296 }), path: 'spec.asNumber', message: '1-4294967295' },
  { name: 'asdot out of range', doc: peer({ peerIP: '192.0.2.1', asNumber: '70000.1' }), path: 'spec.asNumber', message: 'not a valid AS number' },
  { name: 'peer without AS', doc: peer({ peerIP: '192.0.2.1' }), path: 'spec.asNumber', message: 'required with peerIP' },
  { name: 'peerIP and peerSelector', doc: peer({ peerIP: '192.0.2.1', asNumber: 65001, peerSelector: 'all()' }), path: 'spec.peerSelector', message: 'cannot both be set' },
  { name: 'node and nodeSelector', doc: peer({ node: 'n1', nodeSelector: 'all()', peerSelector: 'all()' }), path: 'spec.nodeSelector', message: 'cannot both be set' },
  { name: 'peer with neither IP nor selector', doc: peer({ node: 'n1' }), path: 'spec.peerIP', message: 'set peerIP' },
  { name: 'asNumber with peerSelector', doc: peer({ peerSelector: 'all()', asNumber: 65001 }), path: 'spec.asNumber', message: 'must be empty when peerSelector' },
  { name: 'password with both forms', doc: peer({ peerIP: '192.0.2.1', asNumber: 65001, password: { inline: 'a', secretKeyRef: { name: 's', key: 'k' } } }), path: 'spec.password', message: 'exactly one' },
  { name: 'ttlSecurity 256', doc: peer({ peerIP: '192.0.2.1', asNumber: 65001, ttlSecurity: 256 }), path: 'spec.ttlSecurity', message: 'between 0 and 255' },
  { name: 'bad keepaliveTime', doc: peer({ peerIP: '192.0.2.1', asNumber: 65001, keepaliveTime: '30' }), path: 'spec.keepaliveTime', message: 'not a valid duration' },
  { name: 'keepOriginalNextHop and nextHopMode', doc: peer({ peerIP: '192.0.2.1', asNumber: 65001, keepOriginalNextHop: true, nextHopMode: 'Self' }), path: 'spec.keepOriginalNextHop', message: 'cannot both be set' },
  { name: 'bgp config bad community', doc: mk('BGPConfiguration', { communities: [{ name: 'c', value: '65536:1' }] }, { name: 'default' }), path: 'spec.communities[0].value', message: 'out of range' },
  { name: 'bgp config listenPort 0', doc: mk('BGPConfiguration', { listenPort: 0 }, { name: 'default' }), path: 'spec.listenPort', message: 'between 1 and 65535' },
  { name: 'bgp config mesh password with the mesh off', doc: mk('BGPConfiguration', { nodeToNodeMeshEnabled: false, nodeMeshPassword: { inline: 'pw' } }, { name: 'default' }), path: 'spec.nodeMeshPassword', message: 'must be empty when nodeToNodeMeshEnabled is false' },
  { name: 'bgp config mesh restart time with the mesh off', doc: mk('BGPConfiguration', { nodeToNodeMeshEnabled: false, nodeMeshMaxRestartTime: '90s' }, { name: 'default' }), path: 'spec.nodeMeshMaxRestartTime', message: 'must be empty when nodeToNodeMeshEnabled is false' },
  { name: 'bgp config communities without prefixAdvertisements', doc: mk('BGPConfiguration', { communities: [{ name: 'c', value: '65001:1' }] }, { name: 'default' }), path: 'spec.communities', message: 'needs prefixAdvertisements' },
  { name: 'bgp config ignoring every interface', doc: mk('BGPConfiguration', { ignoredInterfaces: ['*'] }, { name: 'default' }), path: 'spec.ignoredInterfaces[0]', message: 'would ignore every interface' },
  { name: 'bgp config bad log level', doc: mk('BGPConfiguration', { logSeverityScreen: 'Verbose' }, { name: 'default' }), path: 'spec.logSeverityScreen', message: 'one of Trace, Debug' },
  // Felix.
  { name: 'felix unknown setting', doc: mk('FelixConfiguration', { ipv6support: true }, { name: 'default' }), path: 'spec.ipv6support', message: 'did you mean "ipv6Support"' },
  { name: 'felix bad action', doc: mk('FelixConfiguration', { defaultEndpointToHostAction: 'Allow' }, { name: 'default' }), path: 'spec.defaultEndpointToHostAction', message: 'one of Drop, Accept, Return' },
  { name: 'felix bad backend', doc: mk('FelixConfiguration', { iptablesBackend: 'nftables' }, { name: 'default' }), path: 'spec.iptablesBackend', message: 'one of Legacy, NFT, Auto' },
  { name: 'felix bad interval', doc: mk('FelixConfiguration', { routeRefreshInterval: 90 }, { name: 'default' }), path: 'spec.routeRefreshInterval', message: 'not a valid duration' },
  { name: 'felix failsafe port out of range', doc: mk('FelixConfiguration', { failsafeInboundHostPorts: [{ protocol: 'TCP', port: 70000 }] }, { name: 'default' }), path: 'spec.failsafeInboundHostPorts[0].port', message: 'between 0 and 65535' },
  { name: 'felix failsafe bad protocol', doc: mk('FelixConfiguration', { failsafeOutboundHostPorts: [{ protocol: 'ICMP', port: 1 }] }, { name: 'default' }), path: 'spec.failsafeOutboundHostPorts[0].protocol', message: 'one of TCP, UDP, SCTP' },
  { name: 'felix bpfEnabled as string', doc: mk('FelixConfiguration', { bpfEnabled: 'false' }, { name: 'default' }), path: 'spec.bpfEnabled', message: 'true or false' },
  // Endpoints and nodes.
  { name: 'wep multi-address network', doc: wep({ ipNetworks: ['198.18.0.0/24'] }), path: 'spec.ipNetworks[0]', message: 'single address' },
  { name: 'wep bad mac', doc: wep({ mac: 'ee:ee:ee' }), path: 'spec.mac', message: 'not a valid MAC' },
  { name: 'wep interface name too long', doc: wep({ interfaceName: 'cali0123456789abcdef' }), path: 'spec.interfaceName', message: 'not a valid interface name' },
  { name: 'wep port protocol ICMP', doc: wep({ ports: [{ name: 'p', protocol: 'ICMP', port: 1 }] }), path: 'spec.ports[0].protocol', message: 'must be TCP, UDP or SCTP' },
  { name: 'wep missing node', doc: mk('WorkloadEndpoint', { orchestrator: 'k8s', pod: 'p', endpoint: 'eth0', interfaceName: 'cali1' }), path: 'spec.node', message: 'is required' },
  { name: 'wep name mismatch', doc: wep({}, 'something-else'), path: 'metadata.name', message: 'n1-k8s-pod-eth0' },
  { name: 'k8s wep names its pod, not a workload', doc: mk('WorkloadEndpoint', { node: 'n1', orchestrator: 'k8s', workload: 'w', endpoint: 'eth0', interfaceName: 'cali1' }), path: 'spec.pod', message: 'orchestrator k8s names its endpoints by pod' },
  { name: 'cni wep without containerID', doc: mk('WorkloadEndpoint', { node: 'n1', orchestrator: 'cni', workload: 'w', endpoint: 'eth0', interfaceName: 'cali1' }), path: 'spec.containerID', message: 'orchestrator cni names its endpoints by containerID' },
  { name: 'wep without interfaceName', doc: wep({ interfaceName: undefined }), path: 'spec.interfaceName', message: 'is required' },
  { name: 'wep hostIP with host bits', doc: wep({ ports: [{ protocol: 'TCP', port: 80, hostPort: 8080, hostIP: '192.0.2.1/24' }] }), path: 'spec.ports[0].hostIP', message: 'host bits' },
  { name: 'wep NAT outside its networks', doc: wep({ ipNetworks: ['198.18.0.5'], ipNATs: [{ internalIP: '198.18.0.6', externalIP: '203.0.113.5' }] }), path: 'spec.ipNATs[0].internalIP', message: "not one of the endpoint's ipNetworks" },
  { name: 'hep without interface or IPs', doc: mk('HostEndpoint', { node: 'n1' }), path: 'spec.interfaceName', message: 'interfaceName or expectedIPs' },
  { name: 'hep bad expected IP', doc: mk('HostEndpoint', { node: 'n1', expectedIPs: ['192.0.2.0/24'] }), path: 'spec.expectedIPs[0]', message: 'must be an IPv4 or IPv6 address' },
  { name: 'hep port without name', doc: mk('HostEndpoint', { node: 'n1', interfaceName: 'eth0', ports: [{ protocol: 'TCP', port: 22 }] }), path: 'spec.ports[0].name', message: 'is required' },
  { name: 'node IPv6 in ipv4Address', doc: mk('Node', { bgp: { ipv4Address: '2001:db8::1/64' } }), path: 'spec.bgp.ipv4Address', message: 'IPv4 address' },
  { name: 'node bad cluster ID', doc: mk('Node', { bgp: { ipv4Address: '192.0.2.1/24', routeReflectorClusterID: '1.2.3' } }), path: 'spec.bgp.routeReflectorClusterID', message: 'IPv4 address' },
  { name: 'node empty bgp', doc: mk('Node', { bgp: {} }), path: 'spec.bgp', message: 'must not be empty' },
  { name: 'node AS out of range', doc: mk('Node', { bgp: { ipv4Address: '192.0.2.1/24', asNumber: -1 } }), path: 'spec.bgp.asNumber', message: 'not a valid AS number' },
  { name: 'kube-controllers bad mode', doc: mk('KubeControllersConfiguration', { healthChecks: 'On' }, { name: 'default' }), path: 'spec.healthChecks', message: 'one of Enabled, Disabled' },
  { name: 'cluster info datastoreReady string', doc: mk('ClusterInformation', { datastoreReady: 'true' }, { name: 'default' }), path: 'spec.datastoreReady', message: 'true or false' },
];

test('the corpus is large and covers every kind', () => {
  assert.ok(CORPUS.length >= 60, `only ${CORPUS.length} documents`);
  const kinds = new Set(CORPUS.map((c) => (c.doc as { kind?: string })?.kind).filter(Boolean));
  assert.ok(kinds.size >= 16, `kinds covered: ${[...kinds].join(', ')}`);
});

invalidCorpus('invalid', CORPUS);

test('a "__proto__" key is an unknown field, not a prototype', () => {
  const [d] = parseDocuments('apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: t}\nspec:\n  __proto__: {order: 1}\n', 'p.yaml');
  assert.throws(() => validateResource(d!.value, d), (err: unknown) => err instanceof ValidationError && err.issues[0]!.path === 'spec.__proto__');
});

test('all problems of one document are reported together', () => {
  const doc = np({ action: 'Allow', protocol: 'TCPX', destination: { ports: [0, 'HTTP'], nets: ['bad'] } });
  try {
    validateResource(doc);
    assert.fail('accepted');
  } catch (err) {
    assert.ok(err instanceof ValidationError);
    assert.deepEqual(
      err.issues.map((i) => i.path),
      ['spec.ingress[0].protocol', 'spec.ingress[0].destination.ports[0]', 'spec.ingress[0].destination.ports[1]', 'spec.ingress[0].destination.nets[0]'],
    );
    assert.equal(err.resource, 'NetworkPolicy(ns/x)');
  }
});

test('malformed YAML names the file and line; nothing is returned', () => {
  const text = 'apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata:\n  name: a\n---\nkind: Tier\nmetadata: {name: b\n';
  assert.throws(
    () => parseDocuments(text, 'tiers.yaml'),
    (err: unknown) => err instanceof ValidationError && /^tiers\.yaml:\d+ \(document 2\): malformed YAML/.test(err.message) && err.location?.index === 1,
  );
  assert.throws(
    () => parseDocuments('a: 1\na: 2\n', 'dup.yaml'),
    (err: unknown) => err instanceof ValidationError && err.message.startsWith('dup.yaml:2') && /malformed YAML/.test(err.message),
  );
});
