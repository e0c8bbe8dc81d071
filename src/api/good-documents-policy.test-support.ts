// Good documents, policy side: policies, tiers, profiles, network sets and the
// staged policy kinds, in the shapes of Calico's documentation examples.
// good-corpus.test.ts runs them.
import assert from 'node:assert/strict';
import type { Good } from './corpus.test-support.js';

type Spec = Record<string, unknown>;
const spec = (r: { spec?: unknown }): Spec => r.spec as Spec;

export const POLICY_DOCUMENTS: Good[] = [
  {
    name: 'NetworkPolicy: database reachable from the frontend on 6379',
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
    check: (r) => assert.equal(spec(r).tier, 'default'),
  },
  {
    name: 'NetworkPolicy: a named port without a protocol (matches the port\'s own protocol)',
    yaml: `
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: allow-dns-by-name, namespace: kube-system}
spec:
  selector: k8s-app == 'kube-dns'
  ingress:
  - action: Allow
    destination:
      ports: [dns, dns-tcp]
`,
    check: (r) => assert.deepEqual(spec(r).types, ['Ingress']),
  },
  {
    name: 'NetworkPolicy in a tier, with ICMP and a namespace selector',
    yaml: `
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: allow-ping, namespace: shop}
spec:
  tier: internal-access
  order: 10
  selector: all()
  ingress:
  - action: Allow
    protocol: ICMP
    icmp: {type: 8, code: 0}
    source:
      namespaceSelector: projectcalico.org/name == 'monitoring'
  - action: Allow
    protocol: ICMPv6
    icmp: {type: 128}
`,
    needs: 'apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: internal-access}\nspec: {order: 100}\n',
  },
  {
    name: 'GlobalNetworkPolicy: untracked traffic to etcd',
    yaml: `
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
`,
    check: (r) => assert.deepEqual(spec(r).types, ['Ingress', 'Egress']),
  },
  {
    name: 'GlobalNetworkPolicy: pre-DNAT deny of node ports from outside the cluster',
    yaml: `
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: deny-nodeport
spec:
  preDNAT: true
  applyOnForward: true
  order: 20
  selector: has(host-endpoint)
  ingress:
  - action: Deny
    protocol: TCP
    destination:
      ports: ["30000:32767"]
  - action: Deny
    protocol: UDP
    destination:
      ports: ["30000:32767"]
`,
  },
  {
    name: 'GlobalNetworkPolicy: egress to DNS and to a network set, deny the rest',
    yaml: `
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: default-egress
spec:
  selector: projectcalico.org/namespace not in {'kube-system'}
  namespaceSelector: has(projectcalico.org/name)
  types: [Egress]
  egress:
  - action: Allow
    protocol: UDP
    destination:
      selector: k8s-app == 'kube-dns'
      namespaceSelector: projectcalico.org/name == 'kube-system'
      ports: [53]
  - action: Allow
    destination:
      selector: role == 'external-database'
      namespaceSelector: global()
  - action: Deny
    destination:
      notNets: [10.0.0.0/8]
`,
  },
  {
    name: 'Tier from the Calico reference',
    yaml: `
apiVersion: projectcalico.org/v3
kind: Tier
metadata:
  name: internal-access
spec:
  order: 100
  defaultAction: Pass
`,
  },
  {
    name: 'Tier without an order gets Calico\'s 1000000',
    yaml: `
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
`,
    check: (r) => assert.deepEqual(r.spec, { order: 1000000, defaultAction: 'Deny' }),
  },
  {
    name: 'the kube-admin tier with its fixed order and action',
    yaml: `
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: kube-admin}
spec: {order: 1000, defaultAction: Pass}
`,
  },
  {
    name: 'Profile from the Calico reference',
    yaml: `
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
`,
  },
  {
    name: 'NetworkSet from the Calico reference',
    yaml: `
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
`,
  },
  {
    name: 'GlobalNetworkSet with addresses and CIDRs of both families',
    yaml: `
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata:
  name: a-name-for-the-set
  labels:
    role: external-database
spec:
  nets:
  - 198.51.100.0/28
  - 203.0.113.7
  - 2001:db8:1::/48
`,
    check: (r) => assert.deepEqual(spec(r).nets, ['198.51.100.0/28', '203.0.113.7/32', '2001:db8:1::/48']),
  },
  {
    name: 'StagedNetworkPolicy (stagedAction defaults to Set)',
    yaml: `
apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata:
  name: allow-tcp-6379
  namespace: production
spec:
  selector: role == 'database'
  ingress:
  - action: Allow
    protocol: TCP
    source:
      selector: role == 'frontend'
    destination:
      ports: [6379]
`,
    check: (r) => {
      assert.equal(spec(r).stagedAction, 'Set');
      assert.deepEqual(spec(r).types, ['Ingress']);
      assert.equal(spec(r).tier, 'default');
    },
  },
  {
    name: 'StagedNetworkPolicy: a staged delete names only the tier',
    yaml: `
apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata: {name: security.old-rule, namespace: production}
spec: {stagedAction: Delete, tier: security}
`,
    check: (r) => assert.deepEqual(r.spec, { stagedAction: 'Delete', tier: 'security' }),
    needs: 'apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: security}\n',
  },
  {
    name: 'StagedGlobalNetworkPolicy with Learn',
    yaml: `
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata:
  name: allow-egress-dns
spec:
  stagedAction: Learn
  order: 300
  selector: all()
  types: [Egress]
  egress:
  - action: Allow
    protocol: UDP
    destination:
      ports: [53]
`,
  },
  {
    name: 'StagedKubernetesNetworkPolicy in the shape of a Kubernetes NetworkPolicy',
    yaml: `
apiVersion: projectcalico.org/v3
kind: StagedKubernetesNetworkPolicy
metadata:
  name: test-network-policy
  namespace: default
spec:
  stagedAction: Set
  podSelector:
    matchLabels:
      role: db
  policyTypes:
  - Ingress
  - Egress
  ingress:
  - from:
    - ipBlock:
        cidr: 172.17.0.0/16
        except:
        - 172.17.1.0/24
    - namespaceSelector:
        matchLabels:
          project: myproject
    - podSelector:
        matchExpressions:
        - {key: role, operator: In, values: [frontend]}
    ports:
    - protocol: TCP
      port: 6379
  egress:
  - to:
    - ipBlock:
        cidr: 10.0.0.0/24
    ports:
    - protocol: TCP
      port: 32000
      endPort: 32768
`,
  },
];
