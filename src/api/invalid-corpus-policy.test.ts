// Invalid policy-side documents (rules, policies, tiers, profiles, network sets),
// derived from the cases in Calico's validator tests and CRD rules, written in
// our own shapes. Exact path and message; `calicoctl apply` writes nothing.
import { gnp, invalidCorpus, mk, np, type Bad } from './corpus.test-support.js';

const R = 'spec.ingress[0]';

const RULES: Bad[] = [
  { name: 'protocol names are exact (tcp)', doc: np({ action: 'Allow', protocol: 'tcp' }), path: `${R}.protocol`, message: 'not a valid protocol (did you mean "TCP"?)' },
  { name: 'protocol names are exact (icmpv6)', doc: np({ action: 'Allow', notProtocol: 'icmpv6' }), path: `${R}.notProtocol`, message: 'did you mean "ICMPv6"?' },
  { name: 'protocol 0', doc: np({ action: 'Allow', protocol: 0 }), path: `${R}.protocol`, message: 'between 1 and 255' },
  { name: 'protocol "0" as a string', doc: np({ action: 'Allow', protocol: '0' }), path: `${R}.protocol`, message: 'between 1 and 255' },
  { name: 'protocol tcpfoo', doc: np({ action: 'Allow', protocol: 'tcpfoo' }), path: `${R}.protocol`, message: 'one of TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite' },
  { name: 'source ports under protocol 7', doc: np({ action: 'Allow', protocol: 7, source: { ports: [1] } }), path: `${R}.source.ports`, message: 'has no ports' },
  { name: 'source notPorts under protocol 100', doc: np({ action: 'Allow', protocol: 100, source: { notPorts: [1] } }), path: `${R}.source.notPorts`, message: 'has no ports' },
  { name: 'named port under ICMPv6', doc: np({ action: 'Allow', protocol: 'ICMPv6', destination: { ports: ['http'] } }), path: `${R}.destination.ports`, message: 'protocol ICMPv6 has no ports' },
  { name: 'dest ports without protocol', doc: np({ action: 'Allow', destination: { ports: [80] } }), path: `${R}.destination.ports`, message: 'must set protocol to TCP, UDP or SCTP' },
  { name: 'port range from 0', doc: np({ action: 'Allow', protocol: 'TCP', destination: { notPorts: ['0:80'] } }), path: `${R}.destination.notPorts[0]`, message: 'between 1 and 65535' },
  { name: 'name and number in one port', doc: np({ action: 'Allow', protocol: 'TCP', source: { ports: ['http:80'] } }), path: `${R}.source.ports[0]`, message: 'not a valid port name' },
  { name: 'icmp fields without protocol', doc: np({ action: 'Allow', notICMP: { type: 3 } }), path: `${R}.notICMP`, message: 'require protocol to be ICMP or ICMPv6' },
  { name: 'ICMP with ipVersion 6 (by number)', doc: np({ action: 'Allow', protocol: 1, ipVersion: 6 }), path: `${R}.protocol`, message: 'requires ipVersion 4' },
  { name: 'ICMPv6 notProtocol with ipVersion 4', doc: np({ action: 'Allow', notProtocol: 'ICMPv6', ipVersion: 4 }), path: `${R}.notProtocol`, message: 'requires ipVersion 6' },
  { name: 'nets with host bits', doc: np({ action: 'Allow', source: { nets: ['192.0.2.5/24'] } }), path: `${R}.source.nets[0]`, message: 'host bits set: did you mean "192.0.2.0/24"?' },
  { name: 'IPv6 notNets with host bits', doc: np({ action: 'Allow', destination: { notNets: ['2001:db8::1/64'] } }), path: `${R}.destination.notNets[0]`, message: 'did you mean "2001:db8::/64"?' },
  { name: 'the same net twice', doc: np({ action: 'Allow', source: { nets: ['192.0.2.0/24', '192.0.2.0/24'] } }), path: `${R}.source.nets[1]`, message: 'listed more than once' },
  { name: 'IPv6 source, IPv4 destination', doc: np({ action: 'Allow', source: { nets: ['2001:db8::/64'] }, destination: { notNets: ['192.0.2.0/24'] } }), path: `${R}.destination.notNets`, message: 'one IP family' },
  { name: 'ipVersion 6 with IPv4 notNets', doc: np({ action: 'Allow', ipVersion: 6, source: { notNets: ['192.0.2.0/24'] } }), path: `${R}.source.notNets`, message: 'ipVersion 6' },
  { name: 'IPv6 catch-all in notNets', doc: np({ action: 'Allow', destination: { notNets: ['::/0'] } }), path: `${R}.destination.notNets`, message: 'matches no traffic' },
  { name: 'IPv6 catch-all in notNets, long form', doc: np({ action: 'Allow', destination: { notNets: ['0:0:0::/0'] } }), path: `${R}.destination.notNets`, message: 'matches no traffic' },
  { name: 'bad selector with a trailing &', doc: np({ action: 'Allow', source: { selector: 'thing=hello &' } }), path: `${R}.source.selector`, message: 'invalid selector' },
  { name: 'global() ANDed in a namespaceSelector', doc: np({ action: 'Allow', source: { namespaceSelector: "global() && a == 'b'" } }), path: `${R}.source.namespaceSelector`, message: 'cannot be combined' },
  { name: 'global() ORed in a namespaceSelector', doc: np({ action: 'Allow', destination: { namespaceSelector: "global() || a == 'b'" } }), path: `${R}.destination.namespaceSelector`, message: 'cannot be combined' },
  { name: 'selector longer than 1024', doc: np({ action: 'Allow', source: { selector: `a == '${'x'.repeat(1030)}'` } }), path: `${R}.source.selector`, message: 'at most 1024' },
  { name: 'HTTP match on a UDP rule', doc: np({ action: 'Allow', protocol: 'UDP', http: { methods: ['GET'] } }), path: `${R}.http`, message: 'protocol TCP or none' },
  { name: 'HTTP match in an egress rule', doc: np({ action: 'Allow', http: { methods: ['GET'] } }, 'egress'), path: 'spec.egress[0].http', message: 'not allowed in egress' },
  { name: 'HTTP path with a query', doc: np({ action: 'Allow', http: { paths: [{ exact: '/a?b' }] } }), path: `${R}.http.paths[0].exact`, message: 'without "?"' },
  { name: 'HTTP path with both exact and prefix', doc: np({ action: 'Allow', http: { paths: [{ exact: '/a', prefix: '/b' }] } }), path: `${R}.http.paths[0]`, message: 'exactly one of exact or prefix' },
  { name: 'HTTP path with neither', doc: np({ action: 'Allow', http: { paths: [{}] } }), path: `${R}.http.paths[0]`, message: 'exactly one of exact or prefix' },
  { name: 'HTTP method listed twice', doc: np({ action: 'Allow', http: { methods: ['GET', 'GET'] } }), path: `${R}.http.methods[1]`, message: 'more than once' },
  { name: 'rule annotation with a bad key', doc: np({ action: 'Allow', metadata: { annotations: { 'x~y': 'v' } } }), path: `${R}.metadata.annotations["x~y"]`, message: 'label key' },
  { name: 'service account listed twice', doc: np({ action: 'Allow', source: { serviceAccounts: { names: ['a', 'a'] } } }), path: `${R}.source.serviceAccounts.names[1]`, message: 'more than once' },
  { name: 'unknown action Accept', doc: np({ action: 'Accept' }), path: `${R}.action`, message: 'one of Allow, Deny, Log, Pass' },
];

const POLICIES: Bad[] = [
  { name: 'GlobalNetworkPolicy name with invalid characters', doc: gnp({}, { name: 't~!s.h.i.ng' }), path: 'metadata.name', message: 'not a valid policy name' },
  { name: 'GlobalNetworkPolicy name in mixed case', doc: gnp({}, { name: 'tHiNg' }), path: 'metadata.name', message: 'not a valid policy name' },
  { name: 'GlobalNetworkPolicy with a Kubernetes policy name', doc: gnp({}, { name: 'knp.default.thing' }), path: 'metadata.name', message: 'not a valid policy name' },
  { name: 'NetworkPolicy name with three dots', doc: mk('NetworkPolicy', {}, { name: 't.h.i.ng' }), path: 'metadata.name', message: 'not a valid policy name' },
  { name: 'NetworkPolicy name of 254 characters', doc: mk('NetworkPolicy', {}, { name: 'a'.repeat(254) }), path: 'metadata.name', message: 'too long' },
  { name: 'preDNAT without applyOnForward', doc: gnp({ preDNAT: true }), path: 'spec.applyOnForward', message: 'must be true' },
  { name: 'preDNAT with both types', doc: gnp({ preDNAT: true, applyOnForward: true, types: ['Ingress', 'Egress'] }), path: 'spec.types', message: "cannot have the 'Egress' type" },
  { name: 'global() in a GlobalNetworkPolicy namespaceSelector', doc: gnp({ namespaceSelector: 'global()' }), path: 'spec.namespaceSelector', message: 'global() can only be used' },
  { name: 'global() in a policy selector', doc: gnp({ selector: 'global()' }), path: 'spec.selector', message: 'global() can only be used' },
  { name: 'global() in a serviceAccountSelector', doc: mk('NetworkPolicy', { serviceAccountSelector: 'global()' }), path: 'spec.serviceAccountSelector', message: 'global() can only be used' },
  { name: 'repeated Egress type', doc: mk('NetworkPolicy', { types: ['Egress', 'Egress'] }), path: 'spec.types[1]', message: 'more than once' },
  { name: 'unexpected type', doc: gnp({ types: ['Forward'] }), path: 'spec.types[0]', message: 'one of Ingress, Egress' },
  { name: 'junk performance hint', doc: gnp({ performanceHints: ['Fast'] }), path: 'spec.performanceHints[0]', message: 'AssumeNeededOnEveryNode' },
  { name: 'repeated performance hint', doc: mk('NetworkPolicy', { performanceHints: ['AssumeNeededOnEveryNode', 'AssumeNeededOnEveryNode'] }), path: 'spec.performanceHints[1]', message: 'more than once' },
  { name: 'policy tier name in upper case', doc: mk('NetworkPolicy', { tier: 'Security' }), path: 'spec.tier', message: 'lower case' },
];

const TIERS_PROFILES_SETS: Bad[] = [
  { name: 'tier name of 64 characters', doc: mk('Tier', {}, { name: 't'.repeat(64) }), path: 'metadata.name', message: 'at most 63' },
  { name: 'tier name with other characters', doc: mk('Tier', {}, { name: 'my_tier' }), path: 'metadata.name', message: 'not a valid tier name' },
  { name: 'default tier with another order', doc: mk('Tier', { order: 100 }, { name: 'default' }), path: 'spec.order', message: 'fixed at 1000000' },
  { name: 'kube-baseline tier with the kube-admin order', doc: mk('Tier', { order: 1000, defaultAction: 'Pass' }, { name: 'kube-baseline' }), path: 'spec.order', message: 'fixed at 10000000' },
  { name: 'profile label value of 64 characters', doc: mk('Profile', { labelsToApply: { 'project.calico.org/my-valid-label': 'v'.repeat(64) } }), path: 'spec.labelsToApply["project.calico.org/my-valid-label"]', message: 'label value' },
  { name: 'profile label key starting with a dot', doc: mk('Profile', { labelsToApply: { '.mylabel': 'value' } }), path: 'spec.labelsToApply[".mylabel"]', message: 'label key' },
  { name: 'profile label key with $', doc: mk('Profile', { labelsToApply: { 'my-invalid-label$': 'value' } }), path: 'spec.labelsToApply["my-invalid-label$"]', message: 'label key' },
  { name: 'label key with an upper-case domain', doc: mk('Profile', {}, { labels: { 'Projectcalico.org/x': 'y' } }), path: 'metadata.labels["Projectcalico.org/x"]', message: 'invalid prefix' },
  { name: 'annotations over 256 KiB together', doc: mk('Profile', {}, { annotations: { a: 'x'.repeat(200 * 1024), b: 'y'.repeat(60 * 1024) } }), path: 'metadata.annotations', message: 'at most 262144 bytes' },
  { name: 'name of 254 characters', doc: mk('Profile', {}, { name: 'p'.repeat(254) }), path: 'metadata.name', message: 'too long' },
  { name: 'GlobalNetworkSet with a bad CIDR', doc: mk('GlobalNetworkSet', { nets: ['192.0.2.0/24', '192.0.2.0/33'] }), path: 'spec.nets[1]', message: 'not a valid CIDR' },
  { name: 'GlobalNetworkSet with the reserved namespace label', doc: mk('GlobalNetworkSet', {}, { labels: { 'projectcalico.org/namespace': 'default' } }), path: 'metadata.labels["projectcalico.org/namespace"]', message: 'is reserved' },
  { name: 'NetworkSet with the reserved namespace label', doc: mk('NetworkSet', {}, { labels: { 'projectcalico.org/namespace': 'ns' } }), path: 'metadata.labels["projectcalico.org/namespace"]', message: 'is reserved' },
  { name: 'GlobalNetworkSet with a bad name', doc: mk('GlobalNetworkSet', {}, { name: 'my_set' }), path: 'metadata.name', message: 'not a valid name' },
  { name: 'NetworkSet listing a net twice', doc: mk('NetworkSet', { nets: ['198.51.100.0/24', '198.51.100.0/24'] }), path: 'spec.nets[1]', message: 'more than once' },
];

invalidCorpus('invalid rule', RULES);
invalidCorpus('invalid policy', POLICIES);
invalidCorpus('invalid tier/profile/set', TIERS_PROFILES_SETS);
