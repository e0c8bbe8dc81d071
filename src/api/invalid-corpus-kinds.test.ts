// Invalid documents of the staged policy kinds, the IPAM kinds and
// CalicoNodeStatus, plus endpoint / pool / node cases, derived from Calico's
// validator tests and CRD rules (in our own shapes). Exact path and message;
// `calicoctl apply` writes nothing.
import { invalidCorpus, mk, pool, wep, type Bad } from './corpus.test-support.js';

const snp = (spec: unknown, name = 'thing'): unknown => mk('StagedNetworkPolicy', spec, { name });
const sgnp = (spec: unknown, name = 'thing'): unknown => mk('StagedGlobalNetworkPolicy', spec, { name });
const sknp = (spec: unknown): unknown => mk('StagedKubernetesNetworkPolicy', spec);
const ipamConfig = (spec: unknown, meta: Record<string, unknown> = {}): unknown => mk('IPAMConfiguration', spec, { name: 'default', ...meta });
const affinity = (spec: unknown): unknown => mk('BlockAffinity', spec, { name: 'n1-192-0-2-0-26' });
const nodeStatus = (spec: Record<string, unknown>): unknown => mk('CalicoNodeStatus', { node: 'n1', classes: ['Agent'], updatePeriodSeconds: 10, ...spec });

const STAGED: Bad[] = [
  { name: 'staged global policy name with invalid characters', doc: sgnp({}, 't~!s.h.i.ng'), path: 'metadata.name', message: 'not a valid policy name' },
  { name: 'staged global policy name in mixed case', doc: sgnp({}, 'tHiNg'), path: 'metadata.name', message: 'not a valid policy name' },
  { name: 'staged global policy with a Kubernetes policy name', doc: sgnp({}, 'knp.default.thing'), path: 'metadata.name', message: 'not a valid policy name' },
  { name: 'staged policy name with three dots', doc: snp({}, 't.h.i.ng'), path: 'metadata.name', message: 'not a valid policy name' },
  { name: 'staged policy name of 254 characters', doc: snp({}, 'a'.repeat(254)), path: 'metadata.name', message: 'too long' },
  { name: 'stagedAction Warning', doc: sgnp({ stagedAction: 'Warning', selector: "foo == 'bar'" }), path: 'spec.stagedAction', message: 'one of Set, Delete, Learn, Ignore' },
  { name: 'stagedAction is case-sensitive', doc: snp({ stagedAction: 'delete' }), path: 'spec.stagedAction', message: 'one of Set, Delete, Learn, Ignore' },
  { name: 'staged delete with a selector', doc: sgnp({ stagedAction: 'Delete', selector: "foo == 'bar'" }), path: 'spec.selector', message: 'must be empty when stagedAction is Delete' },
  { name: 'staged delete with rules', doc: snp({ stagedAction: 'Delete', tier: 'eng', ingress: [{ action: 'Allow' }] }, 'eng.thing'), path: 'spec.ingress', message: 'must be empty when stagedAction is Delete' },
  { name: 'staged delete with an order', doc: sgnp({ stagedAction: 'Delete', order: 10 }), path: 'spec.order', message: 'must be empty when stagedAction is Delete' },
  { name: 'staged global policy preDNAT with egress rules', doc: sgnp({ preDNAT: true, applyOnForward: true, egress: [{ action: 'Allow' }] }), path: 'spec.egress', message: 'cannot have egress rules' },
  { name: 'staged global policy doNotTrack without applyOnForward', doc: sgnp({ doNotTrack: true }), path: 'spec.applyOnForward', message: 'must be true' },
  { name: 'staged policy rules are checked like a policy\'s', doc: snp({ ingress: [{ action: 'Allow', destination: { ports: [80] } }] }), path: 'spec.ingress[0].destination.ports', message: 'must set protocol' },
  { name: 'staged policy with global() in its selector', doc: snp({ selector: 'global()' }), path: 'spec.selector', message: 'global() can only be used' },
  { name: 'staged policy with repeated types', doc: snp({ types: ['Ingress', 'Ingress'] }), path: 'spec.types[1]', message: 'more than once' },
  { name: 'staged policy tier with a dot', doc: snp({ tier: 'a.b' }), path: 'spec.tier', message: 'no dots' },
  { name: 'staged global policy field unknown to GNP', doc: sgnp({ podSelector: {} }), path: 'spec.podSelector', message: 'unknown field' },
  { name: 'staged k8s delete with a pod selector', doc: sknp({ stagedAction: 'Delete', podSelector: { matchLabels: { a: 'b' } } }), path: 'spec.podSelector', message: 'must be empty when stagedAction is Delete' },
  { name: 'staged k8s bad match expression operator', doc: sknp({ podSelector: { matchExpressions: [{ key: 'a', operator: 'Equals', values: ['b'] }] } }), path: 'spec.podSelector.matchExpressions[0].operator', message: 'one of In, NotIn, Exists, DoesNotExist' },
  { name: 'staged k8s In without values', doc: sknp({ podSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } }), path: 'spec.podSelector.matchExpressions[0].values', message: 'must be non-empty for operator In' },
  { name: 'staged k8s Exists with values', doc: sknp({ podSelector: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] } }), path: 'spec.podSelector.matchExpressions[0].values', message: 'must be empty for operator Exists' },
  { name: 'staged k8s peer with nothing', doc: sknp({ ingress: [{ from: [{}] }] }), path: 'spec.ingress[0].from[0]', message: 'must set podSelector, namespaceSelector or ipBlock' },
  { name: 'staged k8s ipBlock with a selector', doc: sknp({ egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] }), path: 'spec.egress[0].to[0].ipBlock', message: 'cannot be combined' },
  { name: 'staged k8s ipBlock with a bad CIDR', doc: sknp({ ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/33' } }] }] }), path: 'spec.ingress[0].from[0].ipBlock.cidr', message: 'not a valid CIDR' },
  { name: 'staged k8s exception outside the block', doc: sknp({ ingress: [{ from: [{ ipBlock: { cidr: '172.17.0.0/16', except: ['172.18.1.0/24'] } }] }] }), path: 'spec.ingress[0].from[0].ipBlock.except[0]', message: 'strict subset' },
  { name: 'staged k8s port protocol ICMP', doc: sknp({ ingress: [{ ports: [{ protocol: 'ICMP', port: 1 }] }] }), path: 'spec.ingress[0].ports[0].protocol', message: 'one of TCP, UDP, SCTP' },
  { name: 'staged k8s port 0', doc: sknp({ ingress: [{ ports: [{ port: 0 }] }] }), path: 'spec.ingress[0].ports[0].port', message: 'between 1 and 65535' },
  { name: 'staged k8s endPort below port', doc: sknp({ egress: [{ ports: [{ protocol: 'TCP', port: 32000, endPort: 31000 }] }] }), path: 'spec.egress[0].ports[0].endPort', message: 'must not be less than port' },
  { name: 'staged k8s endPort with a named port', doc: sknp({ egress: [{ ports: [{ port: 'http', endPort: 90 }] }] }), path: 'spec.egress[0].ports[0].endPort', message: 'needs a numeric port' },
  { name: 'staged k8s bad policy type', doc: sknp({ policyTypes: ['ingress'] }), path: 'spec.policyTypes[0]', message: 'one of Ingress, Egress' },
];

const IPAM_AND_STATUS: Bad[] = [
  { name: 'IPAM configuration with another name', doc: mk('IPAMConfiguration', {}, { name: 'mine' }), path: 'metadata.name', message: 'named "default"' },
  { name: 'negative maxBlocksPerHost', doc: ipamConfig({ strictAffinity: true, maxBlocksPerHost: -1 }), path: 'spec.maxBlocksPerHost', message: 'between 0 and 1000000' },
  { name: 'maxBlocksPerHost without strict affinity', doc: ipamConfig({ maxBlocksPerHost: 2 }), path: 'spec.maxBlocksPerHost', message: 'a limit needs strictAffinity: true' },
  { name: 'neither strict affinity nor auto allocation', doc: ipamConfig({ autoAllocateBlocks: false }), path: 'spec.autoAllocateBlocks', message: 'cannot both be false' },
  { name: 'strictAffinity as a string', doc: ipamConfig({ strictAffinity: 'true' }), path: 'spec.strictAffinity', message: 'true or false' },
  { name: 'IP cool-down refused', doc: ipamConfig({ ipCooldownSeconds: 30 }), path: 'spec.ipCooldownSeconds', message: 'a release cool-down is not supported by calico-ts' },
  { name: 'IP cool-down out of range', doc: ipamConfig({ ipCooldownSeconds: 1201 }), path: 'spec.ipCooldownSeconds', message: 'between 0 and 1200' },
  { name: 'KubeVirt persistence lower case', doc: ipamConfig({ kubeVirtVMAddressPersistence: 'enabled' }), path: 'spec.kubeVirtVMAddressPersistence', message: 'one of Enabled, Disabled' },
  { name: 'IPAM configuration with labels', doc: ipamConfig({}, { labels: { team: 'net' } }), path: 'metadata.labels', message: 'keeps no labels' },
  { name: 'deleted block affinity', doc: affinity({ state: 'confirmed', node: 'n1', cidr: '192.0.2.0/26', deleted: true }), path: 'spec.deleted', message: 'cannot be true' },
  { name: 'block affinity state Confirmed', doc: affinity({ state: 'Confirmed', node: 'n1', cidr: '192.0.2.0/26' }), path: 'spec.state', message: 'one of , confirmed, pending, pendingDeletion' },
  { name: 'block affinity without cidr', doc: affinity({ state: 'confirmed', node: 'n1' }), path: 'spec.cidr', message: 'is required' },
  { name: 'node status without node', doc: mk('CalicoNodeStatus', { classes: ['BGP'], updatePeriodSeconds: 5 }), path: 'spec.node', message: 'is required' },
  { name: 'node status without classes', doc: mk('CalicoNodeStatus', { node: 'n1', updatePeriodSeconds: 5 }), path: 'spec.classes', message: 'is required' },
  { name: 'node status without a period', doc: mk('CalicoNodeStatus', { node: 'n1', classes: ['BGP'] }), path: 'spec.updatePeriodSeconds', message: 'is required' },
  { name: 'node status class Peers', doc: nodeStatus({ classes: ['Peers'] }), path: 'spec.classes[0]', message: 'one of Agent, BGP, Routes' },
  { name: 'node status class listed twice', doc: nodeStatus({ classes: ['BGP', 'BGP'] }), path: 'spec.classes[1]', message: 'more than once' },
  { name: 'node status period over a day', doc: nodeStatus({ updatePeriodSeconds: 86401 }), path: 'spec.updatePeriodSeconds', message: 'between 0 and 86400' },
];

const NETWORK: Bad[] = [
  { name: 'EndpointPort with no protocol', doc: wep({ ports: [{ name: 'p', port: 80 }] }), path: 'spec.ports[0].protocol', message: 'is required' },
  { name: 'EndpointPort with no port', doc: wep({ ports: [{ name: 'p', protocol: 'TCP' }] }), path: 'spec.ports[0].port', message: 'is required' },
  { name: 'unnamed port without a host port', doc: wep({ ports: [{ protocol: 'UDP', port: 53 }] }), path: 'spec.ports[0].name', message: 'required unless hostPort is set' },
  { name: 'host IP that is not an address', doc: wep({ ports: [{ protocol: 'TCP', port: 80, hostPort: 8080, hostIP: 'localhost' }] }), path: 'spec.ports[0].hostIP', message: 'not a valid CIDR' },
  { name: 'bad source-spoofing prefix', doc: wep({ allowSpoofedSourcePrefixes: ['192.0.2.0/33'] }), path: 'spec.allowSpoofedSourcePrefixes[0]', message: 'not a valid CIDR' },
  { name: 'interface name with &', doc: wep({ interfaceName: 'Invalid&Intface' }), path: 'spec.interfaceName', message: 'not a valid interface name' },
  { name: 'interface name with :', doc: wep({ interfaceName: 'Invalid:Intface' }), path: 'spec.interfaceName', message: 'not a valid interface name' },
  { name: 'IPv6 networks with more than one address', doc: wep({ ipNetworks: ['2001:db8::/120'] }), path: 'spec.ipNetworks[0]', message: 'single address' },
  { name: 'NATs and no networks', doc: wep({ ipNATs: [{ internalIP: '198.18.0.1', externalIP: '203.0.113.1' }] }), path: 'spec.ipNATs[0].internalIP', message: "not one of the endpoint's ipNetworks" },
  { name: 'NAT mixing families', doc: wep({ ipNetworks: ['2001:db8::1/128'], ipNATs: [{ internalIP: '2001:db8::1', externalIP: '203.0.113.1' }] }), path: 'spec.ipNATs[0].externalIP', message: 'same IP family' },
  { name: 'container ID starting with a dash', doc: wep({ containerID: '-abc' }), path: 'spec.containerID', message: 'letters, digits and "-"' },
  { name: 'container ID with a period', doc: wep({ containerID: 'abc.def' }), path: 'spec.containerID', message: 'letters, digits and "-"' },
  { name: 'IPv4 gateway given an IPv6 address', doc: wep({ ipv4Gateway: '2001:db8::1' }), path: 'spec.ipv4Gateway', message: 'an IPv4 address' },
  { name: 'host endpoint without node', doc: mk('HostEndpoint', { interfaceName: 'eth0' }), path: 'spec.node', message: 'is required' },
  { name: 'host endpoint profile starting with a dot', doc: mk('HostEndpoint', { node: 'n1', interfaceName: 'eth0', profiles: ['.profile'] }), path: 'spec.profiles[0]', message: 'a valid profile name' },
  { name: 'IPv4 pool /27 with the default block size', doc: pool({ cidr: '198.18.0.0/27' }), path: 'spec.cidr', message: 'smaller than one block (/26)' },
  { name: 'IPv6 pool /128 enabled', doc: pool({ cidr: '2001:db8::1/128' }), path: 'spec.cidr', message: 'smaller than one block (/122)' },
  { name: 'IPv6 pool overlapping link-local', doc: pool({ cidr: 'fe80::/64' }), path: 'spec.cidr', message: 'link-local' },
  { name: 'LoadBalancer with Workload', doc: pool({ cidr: '198.18.0.0/16', allowedUses: ['LoadBalancer', 'Workload'] }), path: 'spec.allowedUses', message: 'cannot be combined with Workload or Tunnel' },
  { name: 'empty assignment mode', doc: pool({ cidr: '198.18.0.0/16', assignmentMode: '' }), path: 'spec.assignmentMode', message: 'one of Automatic, Manual' },
  { name: 'LoadBalancer pool disabling BGP export', doc: pool({ cidr: '198.18.0.0/16', allowedUses: ['LoadBalancer'], disableBGPExport: true }), path: 'spec.disableBGPExport', message: 'cannot disable BGP export' },
  { name: 'LoadBalancer pool on some nodes only', doc: pool({ cidr: '198.18.0.0/16', allowedUses: ['LoadBalancer'], nodeSelector: "rack == 'a'" }), path: 'spec.nodeSelector', message: 'must have nodeSelector all()' },
  { name: 'Tunnel pool with a namespace selector', doc: pool({ cidr: '198.18.0.0/16', allowedUses: ['Tunnel', 'Workload'], namespaceSelector: "a == 'b'" }), path: 'spec.namespaceSelector', message: 'cannot have a namespaceSelector' },
  { name: 'global() as a pool node selector', doc: pool({ cidr: '198.18.0.0/16', nodeSelector: 'global()' }), path: 'spec.nodeSelector', message: 'global() can only be used' },
  { name: 'reservation with a too-long CIDR', doc: mk('IPReservation', { reservedCIDRs: ['198.18.0.0/33'] }), path: 'spec.reservedCIDRs[0]', message: 'not a valid CIDR' },
  { name: 'address space prefix not a /96', doc: mk('AddressSpace', { prefix: '2001:db8:64:1::/64' }), path: 'spec.prefix', message: 'must be a /96' },
  { name: 'address space prefix with IPv4 bits set', doc: mk('AddressSpace', { prefix: '2001:db8:64:1::c612:500/96' }), path: 'spec.prefix', message: 'did you mean "2001:db8:64:1::/96"' },
  { name: 'address space prefix setting the RFC 6052 u-octet', doc: mk('AddressSpace', { prefix: '2001:db8:64:1:ff00::/96' }), path: 'spec.prefix', message: 'u-octet' },
  { name: 'address space on the well-known prefix', doc: mk('AddressSpace', { prefix: '64:ff9b::/96' }), path: 'spec.prefix', message: 'well-known prefix' },
  { name: 'address space prefix IPv4', doc: mk('AddressSpace', { prefix: '198.18.0.0/16' }), path: 'spec.prefix', message: 'not an IPv6 CIDR' },
  { name: 'address space without a prefix', doc: mk('AddressSpace', {}), path: 'spec.prefix', message: 'is required' },
  { name: 'address space service inside its own prefix', doc: mk('AddressSpace', { prefix: '2001:db8:64:1::/96', services: [{ ipv4: '198.18.200.10', ipv6: '2001:db8:64:1::9' }] }), path: 'spec.services[0].ipv6', message: "inside this space's own prefix" },
  { name: 'address space service IPv4 mapped twice', doc: mk('AddressSpace', { prefix: '2001:db8:64:1::/96', services: [{ ipv4: '198.18.200.10', ipv6: '2001:db8:f00::10' }, { ipv4: '198.18.200.10', ipv6: '2001:db8:f00::11' }] }), path: 'spec.services[1].ipv4', message: 'already mapped by services[0]' },
  { name: 'address space service on a multicast IPv4', doc: mk('AddressSpace', { prefix: '2001:db8:64:1::/96', services: [{ ipv4: '224.0.0.9', ipv6: '2001:db8:f00::10' }] }), path: 'spec.services[0].ipv4', message: 'unicast' },
  { name: 'endpoint in an address space without a MAC', doc: wep({ addressSpace: 'tenant-a' }), path: 'spec.mac', message: 'is required for an endpoint in address space' },
  { name: 'endpoint in an address space with an IPv6 address', doc: wep({ addressSpace: 'tenant-a', mac: 'ee:ee:ee:ee:ee:01', ipNetworks: ['198.18.5.1/32', '2001:db8::1/128'] }), path: 'spec.ipNetworks[1]', message: 'IPv4 addresses only' },
  { name: 'node IPv4 address in the IPv6 field', doc: mk('Node', { bgp: { ipv6Address: '192.0.2.1/24' } }), path: 'spec.bgp.ipv6Address', message: 'IPv6 address' },
  { name: 'node WireGuard address not an address', doc: mk('Node', { wireguard: { interfaceIPv4Address: '192.0.2.0/24' } }), path: 'spec.wireguard.interfaceIPv4Address', message: 'an IPv4 address' },
];

const bgpFilter = (spec: unknown): unknown => mk('BGPFilter', spec, { name: 'edge' });

const BGP_FILTER: Bad[] = [
  { name: 'BGPFilter rule without action', doc: bgpFilter({ exportV4: [{ cidr: '198.18.0.0/16', matchOperator: 'In' }] }), path: 'spec.exportV4[0].action', message: 'is required' },
  { name: 'BGPFilter action in lower case', doc: bgpFilter({ importV4: [{ action: 'accept' }] }), path: 'spec.importV4[0].action', message: 'one of Accept, Reject' },
  { name: 'BGPFilter IPv6 CIDR in a V4 list', doc: bgpFilter({ exportV4: [{ cidr: '2001:db8::/32', matchOperator: 'In', action: 'Reject' }] }), path: 'spec.exportV4[0].cidr', message: 'must be IPv4' },
  { name: 'BGPFilter IPv4 CIDR in a V6 list', doc: bgpFilter({ importV6: [{ cidr: '198.18.0.0/16', matchOperator: 'In', action: 'Reject' }] }), path: 'spec.importV6[0].cidr', message: 'must be IPv6' },
  { name: 'BGPFilter cidr without matchOperator', doc: bgpFilter({ exportV4: [{ cidr: '198.18.0.0/16', action: 'Reject' }] }), path: 'spec.exportV4[0].matchOperator', message: 'is required with cidr' },
  { name: 'BGPFilter matchOperator without cidr', doc: bgpFilter({ exportV6: [{ matchOperator: 'NotIn', action: 'Reject' }] }), path: 'spec.exportV6[0].cidr', message: 'is required with matchOperator' },
  { name: 'BGPFilter unknown operator', doc: bgpFilter({ exportV4: [{ cidr: '198.18.0.0/16', matchOperator: 'Contains', action: 'Reject' }] }), path: 'spec.exportV4[0].matchOperator', message: 'one of Equal, NotEqual, In, NotIn' },
  { name: 'BGPFilter prefixLength without cidr', doc: bgpFilter({ exportV4: [{ prefixLength: { min: 24 }, action: 'Reject' }] }), path: 'spec.exportV4[0].prefixLength', message: 'needs cidr' },
  { name: 'BGPFilter prefixLength with Equal', doc: bgpFilter({ exportV4: [{ cidr: '198.18.0.0/16', matchOperator: 'Equal', prefixLength: { max: 24 }, action: 'Reject' }] }), path: 'spec.exportV4[0].prefixLength', message: 'applies to In and NotIn only' },
  { name: 'BGPFilter prefixLength min above max', doc: bgpFilter({ exportV4: [{ cidr: '198.18.0.0/16', matchOperator: 'In', prefixLength: { min: 28, max: 24 }, action: 'Reject' }] }), path: 'spec.exportV4[0].prefixLength.min', message: 'greater than max' },
  { name: 'BGPFilter prefixLength max shorter than the CIDR', doc: bgpFilter({ exportV4: [{ cidr: '198.18.0.0/16', matchOperator: 'In', prefixLength: { max: 8 }, action: 'Reject' }] }), path: 'spec.exportV4[0].prefixLength.max', message: 'shorter than the CIDR' },
  { name: 'BGPFilter IPv4 prefix length 33', doc: bgpFilter({ exportV4: [{ cidr: '198.18.0.0/16', matchOperator: 'In', prefixLength: { max: 33 }, action: 'Reject' }] }), path: 'spec.exportV4[0].prefixLength.max', message: 'between 0 and 32' },
  { name: 'BGPFilter source other than RemotePeers', doc: bgpFilter({ exportV4: [{ source: 'Local', action: 'Reject' }] }), path: 'spec.exportV4[0].source', message: 'one of RemotePeers' },
  { name: 'BGPFilter interface with a quote', doc: bgpFilter({ importV4: [{ interface: 'eth"0', action: 'Reject' }] }), path: 'spec.importV4[0].interface', message: 'interface name or pattern' },
  { name: 'BGPFilter peerType in lower case', doc: bgpFilter({ exportV4: [{ peerType: 'ebgp', action: 'Accept' }] }), path: 'spec.exportV4[0].peerType', message: 'one of eBGP, iBGP' },
  { name: 'BGPFilter operations with Reject', doc: bgpFilter({ exportV4: [{ action: 'Reject', operations: [{ addCommunity: { value: '65000:1' } }] }] }), path: 'spec.exportV4[0].operations', message: 'only be used with action Accept' },
  { name: 'BGPFilter empty operations', doc: bgpFilter({ importV6: [{ action: 'Accept', operations: [] }] }), path: 'spec.importV6[0].operations', message: 'at least one operation' },
  { name: 'BGPFilter operation with two fields', doc: bgpFilter({ exportV4: [{ action: 'Accept', operations: [{ addCommunity: { value: '65000:1' }, prependASPath: { prefix: [65000] } }] }] }), path: 'spec.exportV4[0].operations[0]', message: 'exactly one of addCommunity, prependASPath, setPriority' },
  { name: 'BGPFilter operation with no field', doc: bgpFilter({ exportV4: [{ action: 'Accept', operations: [{}] }] }), path: 'spec.exportV4[0].operations[0]', message: 'exactly one' },
  { name: 'BGPFilter eleven operations', doc: bgpFilter({ exportV4: [{ action: 'Accept', operations: Array.from({ length: 11 }, () => ({ addCommunity: { value: '65000:1' } })) }] }), path: 'spec.exportV4[0].operations', message: 'at most 10' },
  { name: 'BGPFilter addCommunity over 16 bits', doc: bgpFilter({ exportV4: [{ action: 'Accept', operations: [{ addCommunity: { value: '65536:65536' } }] }] }), path: 'spec.exportV4[0].operations[0].addCommunity.value', message: 'out of range' },
  { name: 'BGPFilter addCommunity with a leading zero', doc: bgpFilter({ exportV4: [{ action: 'Accept', operations: [{ addCommunity: { value: '01:02' } }] }] }), path: 'spec.exportV4[0].operations[0].addCommunity.value', message: 'not a BGP community' },
  { name: 'BGPFilter addCommunity without value', doc: bgpFilter({ exportV4: [{ action: 'Accept', operations: [{ addCommunity: {} }] }] }), path: 'spec.exportV4[0].operations[0].addCommunity.value', message: 'is required' },
  { name: 'BGPFilter prependASPath without AS numbers', doc: bgpFilter({ exportV4: [{ action: 'Accept', operations: [{ prependASPath: { prefix: [] } }] }] }), path: 'spec.exportV4[0].operations[0].prependASPath.prefix', message: 'at least one AS number' },
  { name: 'BGPFilter prependASPath AS 0', doc: bgpFilter({ exportV4: [{ action: 'Accept', operations: [{ prependASPath: { prefix: [0] } }] }] }), path: 'spec.exportV4[0].operations[0].prependASPath.prefix[0]', message: 'not a valid AS number' },
  { name: 'BGPFilter large community over 32 bits', doc: bgpFilter({ importV4: [{ action: 'Reject', communities: { values: ['4294967296:0:0'] } }] }), path: 'spec.importV4[0].communities.values[0]', message: 'out of range' },
  { name: 'BGPFilter community with four parts', doc: bgpFilter({ importV4: [{ action: 'Reject', communities: { values: ['1:2:3:4'] } }] }), path: 'spec.importV4[0].communities.values[0]', message: 'not a BGP community' },
  { name: 'BGPFilter two communities in one match', doc: bgpFilter({ importV4: [{ action: 'Reject', communities: { values: ['1:2', '3:4'] } }] }), path: 'spec.importV4[0].communities.values', message: 'at most 1' },
  { name: 'BGPFilter no community in a match', doc: bgpFilter({ importV4: [{ action: 'Reject', communities: { values: [] } }] }), path: 'spec.importV4[0].communities.values', message: 'exactly one community' },
  { name: 'BGPFilter asPathPrefix with a word', doc: bgpFilter({ importV4: [{ action: 'Reject', asPathPrefix: ['upstream'] }] }), path: 'spec.importV4[0].asPathPrefix[0]', message: 'not a valid AS number' },
  { name: 'BGPFilter priority match refused, not dropped', doc: bgpFilter({ importV4: [{ action: 'Reject', priority: 512 }] }), path: 'spec.importV4[0].priority', message: 'not supported by calico-ts' },
  { name: 'BGPFilter setPriority refused, not dropped', doc: bgpFilter({ importV4: [{ action: 'Accept', operations: [{ setPriority: { value: 512 } }] }] }), path: 'spec.importV4[0].operations[0].setPriority.value', message: 'not supported by calico-ts' },
];

const nodeBgpConfig = (spec: unknown): unknown => mk('BGPConfiguration', spec, { name: 'node.n1' });
const bgpPeer = (spec: unknown): unknown => mk('BGPPeer', spec, { name: 'tor' });

const BGP: Bad[] = [
  { name: 'per-node BGPConfiguration with asNumber', doc: nodeBgpConfig({ asNumber: 65001 }), path: 'spec.asNumber', message: 'only read from the cluster-wide BGPConfiguration "default"' },
  { name: 'per-node BGPConfiguration with service cluster IPs', doc: nodeBgpConfig({ serviceClusterIPs: [{ cidr: '198.51.100.0/24' }] }), path: 'spec.serviceClusterIPs', message: 'move it there' },
  { name: 'per-node BGPConfiguration turning the mesh off', doc: nodeBgpConfig({ nodeToNodeMeshEnabled: false }), path: 'spec.nodeToNodeMeshEnabled', message: 'only read from the cluster-wide' },
  { name: 'programClusterRoutes in lower case', doc: mk('BGPConfiguration', { programClusterRoutes: 'enabled' }, { name: 'default' }), path: 'spec.programClusterRoutes', message: 'one of Enabled, Disabled, EnabledIPIPOnly, EnabledNoEncapOnly' },
  { name: 'BGP route priority refused', doc: mk('BGPConfiguration', { ipv4NormalRoutePriority: 1024 }, { name: 'default' }), path: 'spec.ipv4NormalRoutePriority', message: 'route priorities are not implemented' },
  { name: 'local workload peering address refused', doc: mk('BGPConfiguration', { localWorkloadPeeringIPV6: 'fe80::1' }, { name: 'default' }), path: 'spec.localWorkloadPeeringIPV6', message: 'peering with local workloads is not implemented' },
  { name: 'BGPPeer with a local workload selector refused', doc: bgpPeer({ localWorkloadSelector: "app == 'router'", asNumber: 65000 }), path: 'spec.localWorkloadSelector', message: 'peering with local workloads is not implemented' },
  { name: 'BGPPeer reachableBy without peerIP', doc: bgpPeer({ peerSelector: 'all()', reachableBy: '192.0.2.254' }), path: 'spec.reachableBy', message: 'must be empty when peerIP is empty' },
  { name: 'BGPPeer reachableBy of the other family', doc: bgpPeer({ peerIP: '203.0.113.1', asNumber: 65000, reachableBy: '2001:db8::1' }), path: 'spec.reachableBy', message: 'same IP family as peerIP' },
  { name: 'BGPPeer password from a Kubernetes secret refused', doc: bgpPeer({ peerIP: '203.0.113.1', asNumber: 65000, password: { secretKeyRef: { name: 'bgp-secrets', key: 'tor' } } }), path: 'spec.password.secretKeyRef.name', message: 'reads no Kubernetes Secrets' },
  { name: 'mesh password from a Kubernetes secret refused', doc: mk('BGPConfiguration', { nodeMeshPassword: { secretKeyRef: { name: 'bgp-secrets', key: 'mesh' } } }, { name: 'default' }), path: 'spec.nodeMeshPassword.secretKeyRef.key', message: 'password.inline' },
  { name: 'BGPPeer reversePeering in lower case', doc: bgpPeer({ peerSelector: 'all()', reversePeering: 'manual' }), path: 'spec.reversePeering', message: 'one of Auto, Manual' },
];

invalidCorpus('invalid BGP configuration and peers', BGP);
invalidCorpus('invalid staged', STAGED);
invalidCorpus('invalid BGPFilter', BGP_FILTER);
invalidCorpus('invalid ipam/status', IPAM_AND_STATUS);
invalidCorpus('invalid network', NETWORK);
