import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CalcGraph } from './graph.js';
import { canonicalState, fold, gnp, load, np, nsProfile, res, wep } from './fixtures.test-support.js';
import type { CalcUpdate } from './output.js';

const graph = () => new CalcGraph({ nodeName: 'node-a' });

test('local endpoint gets the selecting GNP; rule selector becomes a set of remote endpoint IPs', () => {
  const g = graph();
  const out = load(g, [
    nsProfile('default'),
    wep({ name: 'web', ips: ['10.0.0.1/32', '2001:db8::1'], labels: { app: 'web' } }),
    wep({ name: 'db1', node: 'node-b', ips: ['10.0.1.1'], labels: { app: 'db' } }),
    wep({ name: 'db2', node: 'node-c', ips: ['10.0.2.1/32'], labels: { app: 'db' } }),
    gnp('web-egress', { selector: "app == 'web'", egress: [{ action: 'Allow', destination: { selector: "app == 'db'" } }] }),
  ]);
  const s = g.snapshot();
  const ep = s.workloadEndpoints.get('default/web')!;
  assert.deepEqual(ep.ipv4Nets, ['10.0.0.1/32']);
  assert.deepEqual(ep.ipv6Nets, ['2001:db8::1/128']);
  // types default: egress rules only -> Egress only.
  assert.deepEqual(ep.policies.egress, [{ tier: 'default', policies: ['gnp/web-egress'], defaultAction: 'Deny' }]);
  assert.deepEqual(ep.policies.ingress, []);
  assert.deepEqual(ep.profileIds, ['kns.default']);
  assert.equal(s.workloadEndpoints.size, 1, 'remote endpoints are not emitted');
  const rule = s.policies.get('gnp/web-egress')!.outboundRules[0]!;
  assert.equal(rule.destination.ipSetIds.length, 1);
  assert.deepEqual(s.ipSets.get(rule.destination.ipSetIds[0]!)!.members, [{ net: '10.0.1.1/32' }, { net: '10.0.2.1/32' }]);
  assert.ok(s.profiles.has('kns.default'));
  assert.deepEqual(canonicalState(fold([out])), canonicalState(s), 'the batch folds to the snapshot');
  // Order within the batch: sets, then policies, then endpoints.
  const types = out.map((u) => u.type);
  assert.ok(types.indexOf('ipSetUpserted') < types.indexOf('policyUpserted'));
  assert.ok(types.indexOf('policyUpserted') < types.indexOf('workloadEndpointUpserted'));
});

test('remote endpoint churn produces set deltas only', () => {
  const g = graph();
  load(g, [
    wep({ name: 'web', ips: ['10.0.0.1'], labels: { app: 'web' } }),
    gnp('p', { selector: 'all()', ingress: [{ action: 'Allow', source: { selector: "app == 'db'" } }] }),
  ]);
  g.onEvents([{ type: 'added', resource: wep({ name: 'db', node: 'node-b', ips: ['10.0.9.9'], labels: { app: 'db' } }) }]);
  const b1 = g.flush();
  assert.deepEqual(
    b1.map((u) => u.type),
    ['ipSetDelta'],
  );
  assert.deepEqual((b1[0] as Extract<CalcUpdate, { type: 'ipSetDelta' }>).added, [{ net: '10.0.9.9/32' }]);
  g.onEvents([{ type: 'deleted', key: { kind: 'WorkloadEndpoint', namespace: 'default', name: 'db' } }]);
  const b2 = g.flush();
  assert.deepEqual((b2[0] as Extract<CalcUpdate, { type: 'ipSetDelta' }>).removed, [{ net: '10.0.9.9/32' }]);
  // Unrelated remote endpoint: nothing at all.
  g.onEvents([{ type: 'added', resource: wep({ name: 'x', node: 'node-b', ips: ['10.0.9.8'], labels: { app: 'other' } }) }]);
  assert.deepEqual(g.flush(), []);
});

test('NetworkPolicy is namespace-scoped; namespaceSelector uses the namespace profile labels', () => {
  const g = graph();
  load(g, [
    nsProfile('a', { team: 'red' }),
    nsProfile('b', { team: 'blue' }),
    wep({ name: 'wa', namespace: 'a', ips: ['10.0.0.1'], labels: { app: 'x' } }),
    wep({ name: 'wb', namespace: 'b', ips: ['10.0.0.2'], labels: { app: 'x' } }),
    wep({ name: 'ra', namespace: 'a', node: 'n2', ips: ['10.1.0.1'], labels: { role: 'c' } }),
    wep({ name: 'rb', namespace: 'b', node: 'n2', ips: ['10.1.0.2'], labels: { role: 'c' } }),
    np('a', 'same-ns', { selector: "app == 'x'", ingress: [{ action: 'Allow', source: { selector: "role == 'c'" } }] }),
    np('a', 'cross-ns', { selector: "app == 'x'", ingress: [{ action: 'Allow', source: { namespaceSelector: "team == 'blue'", selector: "role == 'c'" } }] }),
  ]);
  const s = g.snapshot();
  assert.deepEqual(s.workloadEndpoints.get('a/wa')!.policies.ingress[0]!.policies, ['np/a/cross-ns', 'np/a/same-ns']);
  assert.equal(s.workloadEndpoints.get('b/wb')!.hasIngressPolicy, false, 'an NP never selects endpoints of another namespace');
  const same = s.policies.get('np/a/same-ns')!.inboundRules[0]!.source.ipSetIds[0]!;
  const cross = s.policies.get('np/a/cross-ns')!.inboundRules[0]!.source.ipSetIds[0]!;
  assert.deepEqual(s.ipSets.get(same)!.members, [{ net: '10.1.0.1/32' }]);
  assert.deepEqual(s.ipSets.get(cross)!.members, [{ net: '10.1.0.2/32' }]);
  // Relabel namespace b: the cross-namespace set empties.
  g.onEvents([{ type: 'modified', resource: nsProfile('b', { team: 'green' }) }]);
  g.flush();
  assert.deepEqual(g.snapshot().ipSets.get(cross)!.members, []);
});

test('tiers by order, policies by order then name, Pass default action, types', () => {
  const g = graph();
  load(g, [
    res('Tier', 'security', { order: 100, defaultAction: 'Pass' }),
    res('Tier', 'platform', { order: 200 }),
    wep({ name: 'w', ips: ['10.0.0.1'], labels: { app: 'w' } }),
    gnp('default.z', { selector: 'all()', order: 10, ingress: [{ action: 'Allow' }] }),
    gnp('default.b', { selector: 'all()', ingress: [{ action: 'Allow' }] }),
    gnp('default.a', { selector: 'all()', ingress: [{ action: 'Allow' }] }),
    gnp('platform.p', { tier: 'platform', selector: 'all()', types: ['Egress'], egress: [{ action: 'Pass' }] }),
    gnp('security.s', { tier: 'security', selector: 'all()', order: 1, ingress: [{ action: 'Deny', source: { nets: ['192.0.2.0/24'] } }] }),
  ]);
  const ep = g.snapshot().workloadEndpoints.get('default/w')!;
  assert.deepEqual(ep.policies.ingress, [
    { tier: 'security', policies: ['gnp/security.s'], defaultAction: 'Pass' },
    { tier: 'default', policies: ['gnp/default.z', 'gnp/default.a', 'gnp/default.b'], defaultAction: 'Deny' },
  ]);
  assert.deepEqual(ep.policies.egress, [{ tier: 'platform', policies: ['gnp/platform.p'], defaultAction: 'Deny' }]);
  // Reordering tiers reorders the program.
  g.onEvents([{ type: 'modified', resource: res('Tier', 'security', { order: 2_000_000, defaultAction: 'Pass' }) }]);
  g.flush();
  assert.deepEqual(
    g.snapshot().workloadEndpoints.get('default/w')!.policies.ingress.map((t) => t.tier),
    ['default', 'security'],
  );
});

test('named ports become named-port sets restricted to the selector', () => {
  const g = graph();
  load(g, [
    wep({ name: 'w', ips: ['10.0.0.1'], labels: { app: 'w' } }),
    wep({ name: 'api1', node: 'n2', ips: ['10.0.5.1', '2001:db8::5'], labels: { app: 'api' }, ports: [{ name: 'http', protocol: 'TCP', port: 8080 }] }),
    wep({ name: 'api2', node: 'n2', ips: ['10.0.5.2'], labels: { app: 'api' }, ports: [{ name: 'http', protocol: 'UDP', port: 9 }] }),
    wep({ name: 'other', node: 'n2', ips: ['10.0.5.3'], labels: { app: 'other' }, ports: [{ name: 'http', protocol: 'TCP', port: 80 }] }),
    gnp('p', { selector: 'all()', types: ['Egress'], egress: [{ action: 'Allow', protocol: 'TCP', destination: { selector: "app == 'api'", ports: [443, '8000:8100', 'http'] } }] }),
  ]);
  const s = g.snapshot();
  const rule = s.policies.get('gnp/p')!.outboundRules[0]!;
  assert.equal(rule.protocol, 6);
  assert.deepEqual(rule.destination.ports, [
    { first: 443, last: 443 },
    { first: 8000, last: 8100 },
  ]);
  const set = s.ipSets.get(rule.destination.namedPortIpSetIds[0]!)!;
  assert.equal(set.kind, 'named-port');
  assert.deepEqual(set.members, [{ net: '10.0.5.1/32', protocol: 6, port: 8080 }, { net: '2001:db8::5/128', protocol: 6, port: 8080 }]);
});

test('named ports of a host endpoint: its expectedIPs with the port, for a policy on the host endpoint itself', () => {
  const g = graph();
  load(g, [
    res('HostEndpoint', 'eth0', { node: 'node-a', interfaceName: 'eth0', expectedIPs: ['192.0.2.10'], ports: [{ name: 'web', protocol: 'TCP', port: 7072 }] }, { labels: { host: 'a' } }),
    gnp('p', { selector: 'has(host)', ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['web'] } }] }),
  ]);
  const s = g.snapshot();
  assert.deepEqual(s.hostEndpoints.get('eth0')!.policies.ingress[0]!.policies, ['gnp/p']);
  const rule = s.policies.get('gnp/p')!.inboundRules[0]!;
  const set = s.ipSets.get(rule.destination.namedPortIpSetIds[0]!)!;
  assert.deepEqual(set.members, [{ net: '192.0.2.10/32', protocol: 6, port: 7072 }]);
});

test('a named port without a protocol matches each endpoint port of that name with its own protocol', () => {
  const g = graph();
  load(g, [
    wep({ name: 'w', ips: ['10.0.0.1'], labels: { app: 'w' } }),
    wep({ name: 'dns1', node: 'n2', ips: ['10.0.5.1'], labels: { app: 'dns' }, ports: [{ name: 'dns', protocol: 'UDP', port: 53 }, { name: 'dns', protocol: 'TCP', port: 53 }] }),
    wep({ name: 'dns2', node: 'n2', ips: ['10.0.5.2'], labels: { app: 'dns' }, ports: [{ name: 'dns', protocol: 'SCTP', port: 5353 }, { name: 'other', protocol: 'TCP', port: 1 }] }),
    gnp('p', { selector: 'all()', types: ['Egress'], egress: [{ action: 'Allow', destination: { selector: "app == 'dns'", ports: ['dns'] } }] }),
  ]);
  const s = g.snapshot();
  const rule = s.policies.get('gnp/p')!.outboundRules[0]!;
  assert.equal(rule.protocol, undefined);
  assert.equal(rule.neverMatches, undefined);
  const set = s.ipSets.get(rule.destination.namedPortIpSetIds[0]!)!;
  assert.equal(set.kind, 'named-port');
  assert.deepEqual(set.members, [{ net: '10.0.5.1/32', protocol: 17, port: 53 }, { net: '10.0.5.1/32', protocol: 6, port: 53 }, { net: '10.0.5.2/32', protocol: 132, port: 5353 }]);
});

test('sets are refcounted: released when no active policy uses them, removals after endpoint changes', () => {
  const g = graph();
  load(g, [
    wep({ name: 'w', ips: ['10.0.0.1'], labels: { app: 'w' } }),
    gnp('p', { selector: "app == 'w'", ingress: [{ action: 'Allow', source: { selector: "app == 'db'" } }] }),
    gnp('unused', { selector: "app == 'nothing'", ingress: [{ action: 'Allow', source: { selector: "app == 'zzz'" } }] }),
  ]);
  assert.equal(g.snapshot().ipSets.size, 1, 'only sets of active policies exist');
  assert.ok(!g.snapshot().policies.has('gnp/unused'));
  g.onEvents([{ type: 'modified', resource: wep({ name: 'w', ips: ['10.0.0.1'], labels: { app: 'other' } }) }]);
  const b = g.flush();
  assert.deepEqual(
    b.map((u) => u.type),
    ['workloadEndpointUpserted', 'policyRemoved', 'ipSetRemoved'],
  );
  assert.equal(g.snapshot().ipSets.size, 0);
});

test('profiles: missing ones are not emitted; labelsToApply feed selectors; own labels win', () => {
  const g = graph();
  load(g, [
    res('Profile', 'p1', { labelsToApply: { env: 'prod', app: 'from-profile' } }),
    wep({ name: 'w', ips: ['10.0.0.1'], labels: { app: 'own' }, profiles: ['p1', 'missing'] }),
    gnp('prod', { selector: "env == 'prod' && app == 'own'", ingress: [{ action: 'Allow' }] }),
  ]);
  const s = g.snapshot();
  assert.deepEqual(s.workloadEndpoints.get('default/w')!.profileIds, ['p1', 'missing']);
  assert.deepEqual([...s.profiles.keys()], ['p1']);
  assert.equal(s.workloadEndpoints.get('default/w')!.hasIngressPolicy, true);
  g.onEvents([{ type: 'added', resource: res('Profile', 'missing', { ingress: [{ action: 'Deny' }] }) }]);
  assert.deepEqual(
    g.flush().map((u) => u.type),
    ['profileUpserted'],
  );
});

test('host endpoints split normal, untracked, preDNAT and forward policies', () => {
  const g = graph();
  load(g, [
    res('HostEndpoint', 'eth0', { node: 'node-a', interfaceName: 'eth0', expectedIPs: ['192.0.2.10'] }, { labels: { host: 'a' } }),
    res('HostEndpoint', 'other', { node: 'node-b', interfaceName: 'eth0', expectedIPs: ['192.0.2.11'] }, { labels: { host: 'b' } }),
    gnp('normal', { selector: 'has(host)', ingress: [{ action: 'Allow', source: { selector: "host == 'b'" } }] }),
    gnp('fwd', { selector: 'has(host)', applyOnForward: true, ingress: [{ action: 'Allow' }] }),
    gnp('raw', { selector: 'has(host)', doNotTrack: true, applyOnForward: true, ingress: [{ action: 'Allow' }] }),
    gnp('pre', { selector: 'has(host)', preDNAT: true, applyOnForward: true, ingress: [{ action: 'Deny' }] }),
  ]);
  const s = g.snapshot();
  const h = s.hostEndpoints.get('eth0')!;
  assert.deepEqual(h.policies.ingress[0]!.policies, ['gnp/fwd', 'gnp/normal']);
  assert.deepEqual(h.forwardPolicies.ingress[0]!.policies, ['gnp/fwd']);
  assert.deepEqual(h.untrackedPolicies.ingress[0]!.policies, ['gnp/raw']);
  assert.deepEqual(h.preDnatPolicies.ingress[0]!.policies, ['gnp/pre']);
  assert.equal(s.hostEndpoints.size, 1);
  const set = s.policies.get('gnp/normal')!.inboundRules[0]!.source.ipSetIds[0]!;
  assert.deepEqual(s.ipSets.get(set)!.members, [{ net: '192.0.2.11/32' }]);
});

test('network sets, pools, service accounts and rule normalization', () => {
  const g = graph();
  load(g, [
    res('GlobalNetworkSet', 'ext', { nets: ['198.51.100.0/24', '2001:db8:1::/48'] }, { labels: { zone: 'ext' } }),
    res('NetworkSet', 'ns1', { nets: ['203.0.113.0/24'] }, { namespace: 'default', labels: { zone: 'ext' } }),
    res('IPPool', 'p4', { cidr: '10.0.0.0/16', natOutgoing: true }),
    wep({ name: 'w', ips: ['10.0.0.1'], labels: { app: 'w' }, serviceAccount: 'sa1' }),
    wep({ name: 'r', node: 'n2', ips: ['10.0.0.2'], labels: { app: 'r' }, serviceAccount: 'sa1' }),
    gnp('p', {
      selector: 'all()',
      ingress: [
        { action: 'Allow', source: { selector: "zone == 'ext'" } },
        { action: 'Allow', source: { serviceAccounts: { names: ['sa1'] } } },
        { action: 'Deny', protocol: 'ICMP', source: { nets: ['2001:db8::/32'] } },
        { action: 'Allow', ipVersion: 6, source: { nets: ['192.0.2.0/24'] } },
      ],
    }),
  ]);
  const s = g.snapshot();
  const rules = s.policies.get('gnp/p')!.inboundRules;
  assert.deepEqual(s.ipSets.get(rules[0]!.source.ipSetIds[0]!)!.members, [{ net: '198.51.100.0/24' }, { net: '2001:db8:1::/48' }, { net: '203.0.113.0/24' }]);
  assert.deepEqual(s.ipSets.get(rules[1]!.source.ipSetIds[0]!)!.members, [{ net: '10.0.0.1/32' }, { net: '10.0.0.2/32' }]);
  assert.equal(rules[2]!.neverMatches, true, 'ICMPv4 from an IPv6 net can never match');
  assert.equal(rules[3]!.neverMatches, true);
  assert.equal(rules[0]!.neverMatches, undefined);
  assert.deepEqual(s.ipPools.get('p4'), { name: 'p4', cidr: '10.0.0.0/16', ipVersion: 4, natOutgoing: true, disabled: false });
});

test('inSync is emitted once, after the initial batch', () => {
  const g = graph();
  g.onEvents([{ type: 'added', resource: wep({ name: 'w', ips: ['10.0.0.1'] }) }]);
  g.onInSync();
  const b = g.flush();
  assert.equal(b[b.length - 1]!.type, 'inSync');
  g.onInSync();
  assert.deepEqual(g.flush(), []);
  assert.equal(g.snapshot().inSync, true);
});

test('an invalid selector selects nothing instead of throwing', () => {
  const g = graph();
  load(g, [wep({ name: 'w', ips: ['10.0.0.1'] }), gnp('bad', { selector: 'app ==', ingress: [{ action: 'Allow' }] })]);
  assert.equal(g.snapshot().workloadEndpoints.get('default/w')!.hasIngressPolicy, false);
});

test('types default as libcalico-go: no egress rules -> Ingress; egress only -> Egress; both -> both', () => {
  const g = graph();
  load(g, [
    wep({ name: 'w', ips: ['10.0.0.1'] }),
    gnp('none', { selector: 'all()' }),
    gnp('in', { selector: 'all()', ingress: [{ action: 'Allow' }] }),
    gnp('out', { selector: 'all()', egress: [{ action: 'Allow' }] }),
    gnp('both', { selector: 'all()', ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] }),
    gnp('explicit', { selector: 'all()', types: ['Egress'], ingress: [{ action: 'Allow' }] }),
  ]);
  const ep = g.snapshot().workloadEndpoints.get('default/w')!;
  assert.deepEqual(ep.policies.ingress[0]!.policies, ['gnp/both', 'gnp/in', 'gnp/none']);
  assert.deepEqual(ep.policies.egress[0]!.policies, ['gnp/both', 'gnp/explicit', 'gnp/out']);
});

test("namespaceSelector as Calico rewrites it: pcns. keys, all() = namespaced, global() = not namespaced", () => {
  const g = graph();
  load(g, [
    nsProfile('a', { team: 'red' }),
    wep({ name: 'w', namespace: 'a', ips: ['10.0.0.1'], labels: { app: 'x' } }),
    wep({ name: 'r', namespace: 'a', node: 'n2', ips: ['10.0.0.2'], labels: { app: 'x' } }),
    res('GlobalNetworkSet', 'g', { nets: ['198.51.100.0/24'] }, { labels: { app: 'x' } }),
    gnp('p', {
      selector: 'all()',
      ingress: [
        { action: 'Allow', source: { namespaceSelector: 'all()', selector: "app == 'x'" } },
        { action: 'Allow', source: { namespaceSelector: 'global()', selector: "app == 'x'" } },
        { action: 'Allow', source: { namespaceSelector: "team != 'blue'" } },
      ],
    }),
  ]);
  const s = g.snapshot();
  const members = (i: number) => s.ipSets.get(s.policies.get('gnp/p')!.inboundRules[i]!.source.ipSetIds[0]!)!.members.map((m) => m.net);
  assert.deepEqual(members(0), ['10.0.0.1/32', '10.0.0.2/32']);
  assert.deepEqual(members(1), ['198.51.100.0/24']);
  // `pcns.team != 'blue'` also holds for items without namespace labels, exactly as in Calico.
  assert.deepEqual(members(2), ['10.0.0.1/32', '10.0.0.2/32', '198.51.100.0/24']);
});

test('service accounts match spec.serviceAccountName or the pcsa. labels of a ksa profile', () => {
  const g = graph();
  load(g, [
    res('Profile', 'ksa.default.api', { labelsToApply: { 'pcsa.projectcalico.org/name': 'api', 'pcsa.tier': 'gold' } }),
    wep({ name: 'w', ips: ['10.0.0.1'] }),
    wep({ name: 'k8s', node: 'n2', ips: ['10.0.0.2'], profiles: ['kns.default', 'ksa.default.api'] }),
    wep({ name: 'etcd', node: 'n2', ips: ['10.0.0.3'], serviceAccount: 'api' }),
    wep({ name: 'other', node: 'n2', ips: ['10.0.0.4'], serviceAccount: 'web' }),
    gnp('p', {
      selector: 'all()',
      ingress: [
        { action: 'Allow', source: { serviceAccounts: { names: ['api'] } } },
        { action: 'Allow', source: { serviceAccounts: { selector: "tier == 'gold'" } } },
      ],
    }),
  ]);
  const s = g.snapshot();
  const members = (i: number) => s.ipSets.get(s.policies.get('gnp/p')!.inboundRules[i]!.source.ipSetIds[0]!)!.members.map((m) => m.net);
  assert.deepEqual(members(0), ['10.0.0.2/32', '10.0.0.3/32']);
  assert.deepEqual(members(1), ['10.0.0.2/32']);
});
