// Invalid configuration documents (FelixConfiguration, KubeControllersConfiguration,
// ClusterInformation), derived from the cases in Calico's validator tests and the
// rules of its CRD schemas, written in our own shapes. Each must be refused with
// the exact field path and message, and `calicoctl apply` must write nothing.
import { felix, invalidCorpus, mk, type Bad } from './corpus.test-support.js';

const kcc = (spec: unknown, name = 'default'): unknown => mk('KubeControllersConfiguration', spec, { name });
const template = (t: Record<string, unknown>): unknown => kcc({ controllers: { node: { hostEndpoint: { autoCreate: 'Enabled', templates: [t] } } } });
const T = 'spec.controllers.node.hostEndpoint.templates[0]';

const FELIX: Bad[] = [
  { name: 'iptablesBackend not one of the values', doc: felix({ iptablesBackend: 'badVal' }), path: 'spec.iptablesBackend', message: 'one of Legacy, NFT, Auto' },
  { name: 'iptablesBackend is an exact enum', doc: felix({ iptablesBackend: 'legacy' }), path: 'spec.iptablesBackend', message: 'did you mean "Legacy"?' },
  { name: 'mangle allow action Drop', doc: felix({ iptablesMangleAllowAction: 'Drop' }), path: 'spec.iptablesMangleAllowAction', message: 'one of Accept, Return' },
  { name: 'eight node port ranges', doc: felix({ kubeNodePortRanges: ['1:2', '3:4', '5:6', '7:8', '9:10', '11:12', '13:14', '15:16'] }), path: 'spec.kubeNodePortRanges', message: 'at most 7' },
  { name: 'named port as a node port range', doc: felix({ kubeNodePortRanges: ['30000:32767', 'http'] }), path: 'spec.kubeNodePortRanges[1]', message: 'not a port range' },
  { name: 'external node list with junk', doc: felix({ externalNodesList: ['foobar', '192.0.2.1'] }), path: 'spec.externalNodesList[0]', message: 'not a valid IPv4 CIDR' },
  { name: 'external node list with IPv6', doc: felix({ externalNodesList: ['2001:db8::/64'] }), path: 'spec.externalNodesList[0]', message: 'must be IPv4' },
  { name: 'upper-case OpenStack region', doc: felix({ openstackRegion: 'FOO' }), path: 'spec.openstackRegion', message: 'a DNS label' },
  { name: 'OpenStack region too long for a namespace name', doc: felix({ openstackRegion: 'my-region-has-a-very-long-and-extremely-interesting-name' }), path: 'spec.openstackRegion', message: 'at most 46 characters' },
  { name: 'log severity badVal', doc: felix({ logSeverityScreen: 'badVal' }), path: 'spec.logSeverityScreen', message: 'one of Trace, Debug, Info' },
  { name: 'syslog severity Critical', doc: felix({ logSeveritySys: 'Critical' }), path: 'spec.logSeveritySys', message: 'not valid' },
  { name: 'NAT outgoing interface filter with @', doc: felix({ iptablesNATOutgoingInterfaceFilter: 'cali@123' }), path: 'spec.iptablesNATOutgoingInterfaceFilter', message: 'an interface name' },
  { name: 'bpfLogLevel badVal', doc: felix({ bpfLogLevel: 'badVal' }), path: 'spec.bpfLogLevel', message: 'one of Off, Info, Debug' },
  { name: 'bpfExternalServiceMode Foo', doc: felix({ bpfExternalServiceMode: 'Foo' }), path: 'spec.bpfExternalServiceMode', message: 'one of Tunnel, DSR' },
  { name: 'negative connmark', doc: felix({ bpfExtToServiceConnmark: -1 }), path: 'spec.bpfExtToServiceConnmark', message: 'between 0 and 4294967295' },
  { name: 'connmark wider than 32 bits', doc: felix({ bpfExtToServiceConnmark: 4294967296 }), path: 'spec.bpfExtToServiceConnmark', message: 'between 0 and 4294967295' },
  { name: 'interface pattern that is not a regexp', doc: felix({ bpfDataIfacePattern: '*' }), path: 'spec.bpfDataIfacePattern', message: 'not a valid regular expression' },
  { name: 'MTU interface pattern that is not a regexp', doc: felix({ mtuIfacePattern: '*' }), path: 'spec.mtuIfacePattern', message: 'not a valid regular expression' },
  { name: 'route table range from 0', doc: felix({ routeTableRange: { min: 0, max: 250 } }), path: 'spec.routeTableRange.min', message: 'between 1 and 250' },
  { name: 'route table range past 250', doc: felix({ routeTableRange: { min: 1, max: 251 } }), path: 'spec.routeTableRange.max', message: 'between 1 and 250' },
  { name: 'route table range reversed', doc: felix({ routeTableRange: { min: 20, max: 10 } }), path: 'spec.routeTableRange', message: 'must not be greater than max' },
  { name: 'route table ranges reversed', doc: felix({ routeTableRanges: [{ min: 9, max: 8 }] }), path: 'spec.routeTableRanges[0]', message: 'must not be greater than max' },
  { name: 'route table ranges over 65535 tables', doc: felix({ routeTableRanges: [{ min: 1, max: 2 }, { min: 3, max: 65537 }] }), path: 'spec.routeTableRanges', message: 'at most 65535' },
  { name: 'both route table range forms', doc: felix({ routeTableRange: { min: 1, max: 250 }, routeTableRanges: [{ min: 1, max: 250 }] }), path: 'spec.routeTableRanges', message: 'cannot both be set' },
  { name: 'health override with a bad name', doc: felix({ healthTimeoutOverrides: [{ name: '%', timeout: '30s' }] }), path: 'spec.healthTimeoutOverrides[0].name', message: 'letters, digits, spaces' },
  { name: 'health override with no name', doc: felix({ healthTimeoutOverrides: [{ name: '', timeout: '30s' }] }), path: 'spec.healthTimeoutOverrides[0].name', message: 'letters, digits, spaces' },
  { name: 'health override with a negative timeout', doc: felix({ healthTimeoutOverrides: [{ name: 'Valid', timeout: '-1s' }] }), path: 'spec.healthTimeoutOverrides[0].timeout', message: 'not a valid duration' },
  { name: 'route priority 0', doc: felix({ ipv4ElevatedRoutePriority: 0 }), path: 'spec.ipv4ElevatedRoutePriority', message: 'between 1 and 2147483646' },
  { name: 'route priority 2147483647', doc: felix({ ipv6NormalRoutePriority: 2147483647 }), path: 'spec.ipv6NormalRoutePriority', message: 'between 1 and 2147483646' },
  { name: 'AWS check is an exact enum', doc: felix({ awsSrcDstCheck: 'enable' }), path: 'spec.awsSrcDstCheck', message: 'did you mean "Enable"?' },
  { name: 'AWS check badVal', doc: felix({ awsSrcDstCheck: 'badVal' }), path: 'spec.awsSrcDstCheck', message: 'one of DoNothing, Enable, Disable' },
  { name: 'host-networked NAT lower case', doc: felix({ bpfHostNetworkedNATWithoutCTLB: 'enabled' }), path: 'spec.bpfHostNetworkedNATWithoutCTLB', message: 'did you mean "Enabled"?' },
  { name: 'connect-time LB BadVal', doc: felix({ bpfConnectTimeLoadBalancing: 'BadVal' }), path: 'spec.bpfConnectTimeLoadBalancing', message: 'one of TCP, Enabled, Disabled' },
  { name: 'attach type not one of TC, TCX, Netkit', doc: felix({ bpfAttachType: 'XDP' }), path: 'spec.bpfAttachType', message: 'one of TC, TCX, Netkit' },
  { name: 'metrics host with #', doc: felix({ prometheusMetricsHost: 'localhost#' }), path: 'spec.prometheusMetricsHost', message: 'a host name or address' },
  { name: 'metrics host with a space', doc: felix({ prometheusMetricsHost: '0: 1::1' }), path: 'spec.prometheusMetricsHost', message: 'a host name or address' },
  { name: 'NAT outgoing address IPv6', doc: felix({ natOutgoingAddress: '2001:db8::1' }), path: 'spec.natOutgoingAddress', message: 'an IPv4 address' },
  { name: 'device route source not an address', doc: felix({ deviceRouteSourceAddress: '192.0.2.0/24' }), path: 'spec.deviceRouteSourceAddress', message: 'an IPv4 address' },
  { name: 'device route source v6 given v4', doc: felix({ deviceRouteSourceAddressIPv6: '192.0.2.1' }), path: 'spec.deviceRouteSourceAddressIPv6', message: 'an IPv6 address' },
  { name: 'WireGuard interface with &', doc: felix({ wireguardInterfaceName: 'wg&0' }), path: 'spec.wireguardInterfaceName', message: 'an interface name' },
  { name: 'WireGuard port 0', doc: felix({ wireguardListeningPort: 0 }), path: 'spec.wireguardListeningPort', message: 'between 1 and 65535' },
  { name: 'service loop prevention Wibbly', doc: felix({ serviceLoopPrevention: 'Wibbly' }), path: 'spec.serviceLoopPrevention', message: 'one of Drop, Reject, Disabled' },
  { name: 'Windows firewall blah', doc: felix({ windowsManageFirewallRules: 'blah' }), path: 'spec.windowsManageFirewallRules', message: 'one of Enabled, Disabled' },
  { name: 'force-track interface with @', doc: felix({ bpfForceTrackPacketsFromIfaces: ['cali-123', 'cali@456'] }), path: 'spec.bpfForceTrackPacketsFromIfaces[1]', message: 'an interface name' },
  { name: 'program cluster routes lower case', doc: felix({ programClusterRoutes: 'enabled' }), path: 'spec.programClusterRoutes', message: 'did you mean "Enabled"?' },
  { name: 'Maglev endpoints 0', doc: felix({ bpfMaglevMaxEndpointsPerService: 0 }), path: 'spec.bpfMaglevMaxEndpointsPerService', message: 'between 1 and 3000' },
  { name: 'GC threshold -2', doc: felix({ goGCThreshold: -2 }), path: 'spec.goGCThreshold', message: 'at least -1' },
  { name: 'nodeSelector on the default configuration', doc: felix({ nodeSelector: "rack == 'a'" }), path: 'spec.nodeSelector', message: 'selector-scoped FelixConfigurations are not supported' },
  { name: 'FelixConfiguration with another name', doc: mk('FelixConfiguration', {}, { name: 'rack-a' }), path: 'metadata.name', message: '"node.<nodename>"' },
];

const KUBE_CONTROLLERS: Bad[] = [
  { name: 'log severity Trace (not a kube-controllers level)', doc: kcc({ logSeverityScreen: 'Trace' }), path: 'spec.logSeverityScreen', message: 'one of None, Debug, Info, Warning, Error, Fatal, Panic' },
  { name: 'compaction period without a unit', doc: kcc({ etcdV3CompactionPeriod: '10' }), path: 'spec.etcdV3CompactionPeriod', message: 'not a valid duration' },
  { name: 'node reconciler period junk', doc: kcc({ controllers: { node: { reconcilerPeriod: 'soon' } } }), path: 'spec.controllers.node.reconcilerPeriod', message: 'not a valid duration' },
  { name: 'sync labels On', doc: kcc({ controllers: { node: { syncLabels: 'On' } } }), path: 'spec.controllers.node.syncLabels', message: 'one of Enabled, Disabled' },
  { name: 'host endpoint autoCreate yes', doc: kcc({ controllers: { node: { hostEndpoint: { autoCreate: 'yes' } } } }), path: 'spec.controllers.node.hostEndpoint.autoCreate', message: 'one of Enabled, Disabled' },
  { name: 'createDefaultHostEndpoint sometimes', doc: kcc({ controllers: { node: { hostEndpoint: { createDefaultHostEndpoint: 'sometimes' } } } }), path: 'spec.controllers.node.hostEndpoint.createDefaultHostEndpoint', message: 'one of Enabled, Disabled' },
  { name: 'load balancer assignIPs Some', doc: kcc({ controllers: { loadBalancer: { assignIPs: 'Some' } } }), path: 'spec.controllers.loadBalancer.assignIPs', message: 'one of AllServices, RequestedServicesOnly' },
  { name: 'template with an upper-case generateName', doc: template({ generateName: 'Bad_Name', interfacePattern: 'eth.*' }), path: `${T}.generateName`, message: 'lower case alphanumeric' },
  { name: 'template with a bad node selector', doc: template({ interfaceCIDRs: ['192.0.2.0/24'], nodeSelector: 'rack ==' }), path: `${T}.nodeSelector`, message: 'invalid selector' },
  { name: 'template with an empty CIDR', doc: template({ interfaceCIDRs: [''] }), path: `${T}.interfaceCIDRs[0]`, message: 'not a valid CIDR' },
  { name: 'template with a bad CIDR', doc: template({ interfaceCIDRs: ['192.0.2.0/33'] }), path: `${T}.interfaceCIDRs[0]`, message: 'not a valid CIDR' },
  { name: 'template annotation with a bad key', doc: template({ interfacePattern: 'eth0', annotations: { 'bad key': 'v' } }), path: `${T}.annotations["bad key"]`, message: 'label key' },
  { name: 'template interface pattern not a regexp', doc: template({ interfacePattern: '(' }), path: `${T}.interfacePattern`, message: 'not a valid regular expression' },
  { name: 'kube-controllers configuration with another name', doc: kcc({}, 'other'), path: 'metadata.name', message: 'named "default"' },
  { name: 'prometheus port out of range', doc: kcc({ prometheusMetricsPort: 65536 }), path: 'spec.prometheusMetricsPort', message: 'between 0 and 65535' },
];

const CLUSTER: Bad[] = [
  { name: 'cluster information with another name', doc: mk('ClusterInformation', {}, { name: 'cluster' }), path: 'metadata.name', message: 'named "default"' },
  { name: 'cluster information unknown field', doc: mk('ClusterInformation', { clusterGuid: 'x' }, { name: 'default' }), path: 'spec.clusterGuid', message: 'did you mean "clusterGUID"?' },
];

invalidCorpus('invalid felix', FELIX);
invalidCorpus('invalid kube-controllers', KUBE_CONTROLLERS);
invalidCorpus('invalid cluster', CLUSTER);
