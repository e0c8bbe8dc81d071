// Field support: policy kinds and the shared Rule / EntityRule types.
import { honoured, refused, warned, type FieldTable } from './model.js';

const TIERS = honoured('src/calc/graph.test.ts :: tiers by order, policies by order then name, Pass default action, types');
const SELECTS = honoured('src/calc/graph.test.ts :: local endpoint gets the selecting GNP; rule selector becomes a set of remote endpoint IPs');
const MATRIX = honoured('test/e2e/lab.test.ts :: policy: tiers, Pass, Deny, a named port and a network set give exactly the expected matrix');
const SERVICE_ACCOUNTS = honoured('src/calc/graph.test.ts :: service accounts match spec.serviceAccountName or the pcsa. labels of a ksa profile');
const NAMESPACES = honoured('src/calc/graph.test.ts :: NetworkPolicy is namespace-scoped; namespaceSelector uses the namespace profile labels');
const PROFILES = honoured('src/calc/graph.test.ts :: profiles: missing ones are not emitted; labelsToApply feed selectors; own labels win');
const HINTS = warned("a hint for Calico's eBPF dataplane's start-up order; no effect on what a policy allows");
const ACTIONS = honoured('src/rules/compile.test.ts :: compilePlainRule: families, protocols and actions (table)');
const HTTP = refused(
  'HTTP matches are enforced by an application-layer proxy, which calico-ts does not have; an Allow with an HTTP match would allow every request: remove http, or match on ports',
  { example: ['GET'] },
);

const policyFields = (kind: 'namespaced' | 'global'): FieldTable => ({
  'spec.tier': TIERS,
  'spec.order': TIERS,
  'spec.selector': SELECTS,
  'spec.types': honoured('src/calc/graph.test.ts :: types default as libcalico-go: no egress rules -> Ingress; egress only -> Egress; both -> both'),
  'spec.ingress[]': MATRIX,
  'spec.egress[]': MATRIX,
  'spec.serviceAccountSelector': SERVICE_ACCOUNTS,
  'spec.performanceHints': HINTS,
  ...(kind === 'global' ? { 'spec.namespaceSelector': NAMESPACES } : {}),
});

/** Staged policies are stored and listed, never enforced: that is their meaning (as in Calico). */
const STAGED = honoured('src/calc/staged.test.ts :: staged policies fed to the graph change nothing, even an Allow-all staged over a deny', 'stored and listed, never enforced (a staged policy is a preview)');
const stagedFields = (paths: string[]): FieldTable => Object.fromEntries(paths.map((p) => [p, STAGED]));
const K8S_SELECTOR = ['matchLabels', 'matchExpressions[].key', 'matchExpressions[].operator', 'matchExpressions[].values'];
const k8sPeers = (dir: 'ingress[].from[]' | 'egress[].to[]'): string[] => [
  ...K8S_SELECTOR.map((f) => `spec.${dir}.podSelector.${f}`),
  ...K8S_SELECTOR.map((f) => `spec.${dir}.namespaceSelector.${f}`),
  `spec.${dir}.ipBlock.cidr`,
  `spec.${dir}.ipBlock.except`,
];
const k8sPorts = (dir: 'ingress[]' | 'egress[]'): string[] => ['protocol', 'port', 'endPort'].map((f) => `spec.${dir}.ports[].${f}`);

export const POLICY_SUPPORT: Record<string, FieldTable> = {
  NetworkPolicy: policyFields('namespaced'),
  GlobalNetworkPolicy: {
    ...policyFields('global'),
    'spec.doNotTrack': honoured('test/kernel/dataplane/host-endpoint-stages.test.ts :: untracked Allow with its reply rule: the connection works and conntrack never sees it'),
    'spec.preDNAT': honoured('test/kernel/dataplane/host-endpoint-stages.test.ts :: preDNAT Deny beats a later normal Allow; what it does not decide goes on to normal policy'),
    'spec.applyOnForward': honoured('test/kernel/dataplane/host-endpoint-stages.test.ts :: applyOnForward ingress policy decides forwarded traffic entering a host endpoint; workload policy applies too'),
  },
  StagedNetworkPolicy: stagedFields(['spec.stagedAction', ...Object.keys(policyFields('namespaced'))]),
  StagedGlobalNetworkPolicy: stagedFields(['spec.stagedAction', ...Object.keys(policyFields('global')), 'spec.doNotTrack', 'spec.preDNAT', 'spec.applyOnForward']),
  StagedKubernetesNetworkPolicy: stagedFields([
    'spec.stagedAction',
    ...K8S_SELECTOR.map((f) => `spec.podSelector.${f}`),
    ...k8sPeers('ingress[].from[]'),
    ...k8sPorts('ingress[]'),
    ...k8sPeers('egress[].to[]'),
    ...k8sPorts('egress[]'),
    'spec.policyTypes',
  ]),
  Tier: { 'spec.order': TIERS, 'spec.defaultAction': TIERS },
  NetworkSet: { 'spec.nets': MATRIX },
  GlobalNetworkSet: { 'spec.nets': MATRIX },
  Profile: { 'spec.ingress[]': PROFILES, 'spec.egress[]': PROFILES, 'spec.labelsToApply': PROFILES },
  Rule: {
    action: ACTIONS,
    ipVersion: ACTIONS,
    protocol: ACTIONS,
    notProtocol: honoured('src/render/iptables/render.test.ts :: iptables: protocol X with notProtocol X never matches (renders nothing), by number or name'),
    'icmp.type': ACTIONS,
    'icmp.code': honoured('src/rules/compile.test.ts :: notICMP keeps its code and implies the ICMP protocol of the family'),
    'notICMP.type': honoured('test/kernel/dataplane/not-icmp.test.ts :: IPv4: echo request code 0 passes, code 1 is denied'),
    'notICMP.code': honoured('test/kernel/dataplane/not-icmp.test.ts :: IPv4: echo request code 0 passes, code 1 is denied'),
    source: MATRIX,
    destination: MATRIX,
    'http.methods': HTTP,
    'http.paths[].exact': { ...HTTP, example: '/admin' } as typeof HTTP,
    'http.paths[].prefix': { ...HTTP, example: '/admin' } as typeof HTTP,
    'metadata.annotations': honoured('src/api/codec.test.ts :: YAML and JSON output parse back to the same resources', 'kept and shown; no effect on traffic, as in Calico'),
  },
  EntityRule: {
    nets: honoured('src/rules/compile.test.ts :: a /0 net matches anything; a negated /0 never matches'),
    notNets: honoured('src/calc/rules.test.ts :: notNets constrain the IP family: v4-only notNets allow no IPv6 traffic'),
    selector: SELECTS,
    notSelector: SELECTS,
    namespaceSelector: NAMESPACES,
    ports: honoured('src/rules/compile.test.ts :: numeric ports OR named ports: one rule per alternative'),
    notPorts: honoured('test/kernel/dataplane/not-named-ports.test.ts :: IPv4: the other port is allowed, the named one is not'),
    'serviceAccounts.names': SERVICE_ACCOUNTS,
    'serviceAccounts.selector': SERVICE_ACCOUNTS,
    'services.name': refused('services matches need Kubernetes Service data, which calico-ts does not have: use selector or nets', { example: 'web' }),
    'services.namespace': refused('services matches need Kubernetes Service data, which calico-ts does not have: use selector or nets', { example: 'prod' }),
  },
};
