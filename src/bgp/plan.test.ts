import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeBgpPlan } from './plan.js';
import type { BgpInputs, BgpNode } from './model.js';
import { bgpPeerIssues, parseDurationSeconds, parsePeerIP } from './validate.js';
import { matchNodeSelector } from './node-selector.js';
import { renderBirdConfig } from '../render/bird/bird-conf.js';

const node = (name: string, ip: string, extra: Partial<BgpNode> = {}): BgpNode => ({ name, ipv4Address: `${ip}/24`, ...extra });
const base = (over: Partial<BgpInputs> = {}): BgpInputs => ({
  nodeName: 'b',
  nodes: [node('a', '192.0.2.1'), node('b', '192.0.2.2'), node('c', '192.0.2.10')],
  peers: [],
  pools: [{ name: 'p', cidr: '198.18.0.0/16' }],
  blocks: ['198.18.2.0/26'],
  ...over,
});

test('full mesh: one session per other node, the lower address waits (numeric, not string order)', () => {
  const plan = computeBgpPlan(base());
  assert.deepEqual(
    plan.peerings.map((p) => [p.protocolName, p.type, p.passive]),
    [
      ['Mesh_192_0_2_1', 'mesh', false],
      ['Mesh_192_0_2_10', 'mesh', true], // 192.0.2.2 < 192.0.2.10 numerically
    ],
  );
  assert.equal(plan.localAs, 64512);
  assert.equal(plan.routerId, '192.0.2.2');
});

test('each pair of nodes agrees on exactly one active side', () => {
  const nodes = [node('a', '192.0.2.1'), node('b', '192.0.2.2'), node('c', '192.0.2.10')];
  for (const x of nodes) {
    for (const y of nodes) {
      if (x === y) continue;
      const px = computeBgpPlan(base({ nodes, nodeName: x.name })).peerings.find((p) => p.peerNodeName === y.name)!;
      const py = computeBgpPlan(base({ nodes, nodeName: y.name })).peerings.find((p) => p.peerNodeName === x.name)!;
      assert.notEqual(px.passive, py.passive, `${x.name}<->${y.name}`);
    }
  }
});

test('nodeToNodeMeshEnabled false: no mesh sessions', () => {
  assert.deepEqual(computeBgpPlan(base({ globalConfig: { nodeToNodeMeshEnabled: false } })).peerings, []);
});

test('route reflectors: clients peer only with reflectors; reflectors mark clients', () => {
  const nodes = [
    node('rr1', '192.0.2.1', { routeReflectorClusterID: '1.0.0.1' }),
    node('rr2', '192.0.2.2', { routeReflectorClusterID: '1.0.0.1' }),
    node('c1', '192.0.2.3'),
    node('c2', '192.0.2.4'),
  ];
  const client = computeBgpPlan(base({ nodes, nodeName: 'c1' }));
  assert.deepEqual(client.peerings.map((p) => [p.peerNodeName, p.type, p.routeReflectorClient]), [
    ['rr1', 'rr', false],
    ['rr2', 'rr', false],
  ]);
  const rr = computeBgpPlan(base({ nodes, nodeName: 'rr1' }));
  assert.deepEqual(rr.peerings.map((p) => [p.peerNodeName, p.routeReflectorClient, p.routeReflectorClusterID]), [
    ['rr2', false, undefined],
    ['c1', true, '1.0.0.1'],
    ['c2', true, '1.0.0.1'],
  ]);
});

test('a BGPPeer to a mesh address wins over the mesh session, node-specific over global', () => {
  const plan = computeBgpPlan(
    base({
      peers: [
        { name: 'g', spec: { peerIP: '192.0.2.1', asNumber: 64512, password: 'x' } },
        { name: 'n', spec: { node: 'b', peerIP: '192.0.2.1', asNumber: 64512, password: 'y' } },
        { name: 'elsewhere', spec: { node: 'a', peerIP: '203.0.113.1', asNumber: 65000 } },
      ],
    }),
  );
  const p = plan.peerings.find((x) => x.peerAddress === '192.0.2.1')!;
  assert.equal(p.type, 'node');
  assert.equal(p.password, 'y');
  assert.equal(p.protocolName, 'Node_192_0_2_1');
  assert.ok(!plan.peerings.some((x) => x.peerAddress === '203.0.113.1'));
});

test('the plan does not depend on input order', () => {
  const inputs = base({
    peers: [
      { name: 'z', spec: { peerIP: '203.0.113.9', asNumber: 65000 } },
      { name: 'a', spec: { peerIP: '203.0.113.9', asNumber: 65001 } },
    ],
    blocks: ['198.18.3.0/26', '198.18.2.0/26'],
    localEndpointAddresses: ['198.18.9.1', '198.18.8.1'],
  });
  const reversed: BgpInputs = {
    ...inputs,
    nodes: [...inputs.nodes].reverse(),
    peers: [...inputs.peers].reverse(),
    blocks: [...inputs.blocks].reverse(),
    localEndpointAddresses: [...inputs.localEndpointAddresses!].reverse(),
  };
  assert.deepEqual(computeBgpPlan(reversed), computeBgpPlan(inputs));
  assert.equal(computeBgpPlan(inputs).peerings.find((p) => p.peerAddress === '203.0.113.9')!.peerAs, 65001);
});

test('exports: blocks aggregated, borrowed addresses as /32, no-export pools never', () => {
  const plan = computeBgpPlan(
    base({
      pools: [
        { name: 'p', cidr: '198.18.0.0/16' },
        { name: 'quiet', cidr: '198.19.0.0/16', disableBGPExport: true },
      ],
      blocks: ['198.18.2.0/26', '198.19.0.0/26'],
      localEndpointAddresses: ['198.18.2.5', '198.18.5.5', '198.19.7.7', '192.0.2.200'],
    }),
  );
  assert.deepEqual(plan.exports[4].blocks, ['198.18.2.0/26', '198.19.0.0/26']);
  assert.deepEqual(plan.exports[4].exportedBlocks, ['198.18.2.0/26']);
  assert.deepEqual(plan.exports[4].endpointRoutes, ['198.18.5.5/32']);
  assert.deepEqual(plan.exports[4].noExportPools, ['198.19.0.0/16']);
});

test('exports: translated address-space endpoints (inside an AddressSpace prefix, in no pool) are announced as /128s over IPv6', () => {
  const plan = computeBgpPlan(
    base({
      pools: [{ name: 'p6', cidr: '2001:db8:1::/48', disableBGPExport: true }],
      localEndpointAddresses: ['2001:db8:64:1::c612:501', '2001:db8:64:2::c612:501', '2001:db8:99::1', '2001:db8:1::5'],
      addressSpacePrefixes: ['2001:db8:64:1::/96', '2001:db8:64:2::/96'],
    }),
  );
  assert.deepEqual(plan.exports[6].endpointRoutes, ['2001:db8:64:1::c612:501/128', '2001:db8:64:2::c612:501/128']);
  assert.deepEqual(computeBgpPlan(base({ localEndpointAddresses: ['2001:db8:64:1::c612:501'] })).exports[6].endpointRoutes, [], 'without the space nothing is announced');
});

test('invalid peers are skipped and reported, not rendered', () => {
  const plan = computeBgpPlan(base({ peers: [{ name: 'bad', spec: { peerIP: '300.1.1.1', asNumber: 0 } }] }));
  assert.ok(!plan.peerings.some((p) => p.origin === 'bad'));
  assert.deepEqual(plan.problems.map((p) => p.path).sort(), ['BGPPeer(bad).spec.asNumber', 'BGPPeer(bad).spec.peerIP']);
});

test('BGPPeer validation table', () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ['ok', { peerIP: '192.0.2.1', asNumber: 65000 }, []],
    ['ok v6 port', { peerIP: '[2001:db8::1]:1179', asNumber: 65000 }, []],
    ['bad ip', { peerIP: '192.0.2', asNumber: 65000 }, ['spec.peerIP']],
    ['as too big', { peerIP: '192.0.2.1', asNumber: 4294967296 }, ['spec.asNumber']],
    ['as zero', { peerIP: '192.0.2.1', asNumber: 0 }, ['spec.asNumber']],
    ['as fraction', { peerIP: '192.0.2.1', asNumber: 1.5 }, ['spec.asNumber']],
    ['no target', { asNumber: 65000 }, ['spec.peerIP']],
    ['both targets', { peerIP: '192.0.2.1', peerSelector: 'all()', asNumber: 1 }, ['spec.peerSelector']],
    ['node and selector', { node: 'a', nodeSelector: 'all()', peerIP: '192.0.2.1', asNumber: 1 }, ['spec.nodeSelector']],
    ['bad port', { peerIP: '192.0.2.1:70000', asNumber: 1 }, ['spec.peerIP']],
    ['ttl 0 is off, as Calico', { peerIP: '192.0.2.1', asNumber: 1, ttlSecurity: 0 }, []],
    ['ttl 255', { peerIP: '192.0.2.1', asNumber: 1, ttlSecurity: 255 }, []],
    ['ttl 256', { peerIP: '192.0.2.1', asNumber: 1, ttlSecurity: 256 }, ['spec.ttlSecurity']],
    ['many local AS numbers (no maximum in Calico)', { peerIP: '192.0.2.1', asNumber: 1, numAllowedLocalASNumbers: 50 }, []],
    ['duration', { peerIP: '192.0.2.1', asNumber: 1, holdTime: 'soon' }, ['spec.holdTime']],
    ['hold too short', { peerIP: '192.0.2.1', asNumber: 1, holdTime: '2s' }, ['spec.holdTime']],
    ['next hop conflict', { peerIP: '192.0.2.1', asNumber: 1, keepOriginalNextHop: true, nextHopMode: 'Self' }, ['spec.keepOriginalNextHop']],
    ['password quote', { peerIP: '192.0.2.1', asNumber: 1, password: 'a"b' }, ['spec.password']],
  ];
  for (const [name, spec, paths] of cases) {
    assert.deepEqual(bgpPeerIssues({ name: 'p', spec }).map((i) => i.path), paths, name);
  }
  const ttlOff = computeBgpPlan(base({ peers: [{ name: 'p', spec: { peerIP: '203.0.113.1', asNumber: 65000, ttlSecurity: 0 } }] }));
  assert.equal(ttlOff.peerings.find((p) => p.origin === 'p')!.ttlSecurityHops, undefined, 'the peer is kept, without TTL security');
  assert.equal(parseDurationSeconds('1m30s'), 90);
  assert.equal(parseDurationSeconds('1500ms'), 2);
  assert.equal(parseDurationSeconds('90'), undefined);
  assert.deepEqual(parsePeerIP('2001:db8::1'), { address: '2001:db8::1' });
});

test('node selectors use the full selector engine', () => {
  const labels = { rack: 'r1', 'route-reflector': 'true' };
  assert.equal(matchNodeSelector("rack == 'r1' && has(route-reflector)", labels), true);
  assert.equal(matchNodeSelector("rack != 'r1'", labels), false);
  assert.equal(matchNodeSelector("rack in {'r2', 'r1'}", labels), true);
  assert.equal(matchNodeSelector("rack not in {'r1'}", labels), false);
  assert.equal(matchNodeSelector('!has(zone)', labels), true);
  assert.throws(() => matchNodeSelector('rack =~ r1', labels));
  assert.equal(matchNodeSelector("rack starts with 'r' || zone == 'x'", labels), true);
});

test('reversePeering Auto: a node a BGPPeer selects peers back with the nodes the BGPPeer applies to; Manual does not', () => {
  const nodes = [
    node('rr1', '192.0.2.1', { labels: { rr: 'true' }, routeReflectorClusterID: '1.0.0.1' }),
    node('w1', '192.0.2.11', { labels: { role: 'worker' } }),
    node('w2', '192.0.2.12', { labels: { role: 'worker' } }),
  ];
  // One BGPPeer, as Calico's docs write it: the workers peer with the reflector, nothing for the other direction.
  const peers = (reversePeering?: 'Auto' | 'Manual') => [
    { name: 'to-rr', spec: { nodeSelector: "role == 'worker'", peerSelector: 'has(rr)', password: 'pw', ...(reversePeering ? { reversePeering } : {}) } },
  ];
  const globalConfig = { nodeToNodeMeshEnabled: false };
  const worker = computeBgpPlan(base({ nodes, nodeName: 'w1', peers: peers(), globalConfig }));
  assert.deepEqual(worker.peerings.map((p) => [p.peerNodeName, p.type, p.reverse ?? false]), [['rr1', 'node', false]]);
  const rr = computeBgpPlan(base({ nodes, nodeName: 'rr1', peers: peers(), globalConfig }));
  assert.deepEqual(
    rr.peerings.map((p) => [p.peerNodeName, p.protocolName, p.reverse, p.password, p.routeReflectorClient]),
    [
      ['w1', 'Node_192_0_2_11', true, 'pw', true],
      ['w2', 'Node_192_0_2_12', true, 'pw', true],
    ],
    "the reverse carries the BGPPeer's password (both ends must agree) and the reflector still marks its clients",
  );
  // The two ends of each pair agree on who dials.
  assert.notEqual(worker.peerings[0]!.passive, rr.peerings[0]!.passive);
  assert.deepEqual(computeBgpPlan(base({ nodes, nodeName: 'rr1', peers: peers('Manual'), globalConfig })).peerings, []);
  assert.equal(computeBgpPlan(base({ nodes, nodeName: 'rr1', peers: peers('Auto'), globalConfig })).peerings.length, 2);
});

test('reversePeering: a peerIP that is our address (and our AS) peers back in that family only; explicit BGPPeers win', () => {
  const nodes = [node('a', '192.0.2.1', { ipv6Address: '2001:db8::1/64' }), node('b', '192.0.2.2', { ipv6Address: '2001:db8::2/64' })];
  const globalConfig = { nodeToNodeMeshEnabled: false };
  const toB = { name: 'a-to-b', spec: { node: 'a', peerIP: '192.0.2.2', asNumber: 64512, keepaliveTime: '10s' } };
  const onB = computeBgpPlan(base({ nodes, nodeName: 'b', peers: [toB], globalConfig }));
  assert.deepEqual(onB.peerings.map((p) => [p.peerAddress, p.reverse, p.keepaliveSeconds]), [['192.0.2.1', true, 10]]);
  // Another AS in asNumber: the peerIP is not this node's BGP speaker, no reverse.
  assert.deepEqual(computeBgpPlan(base({ nodes, nodeName: 'b', peers: [{ ...toB, spec: { ...toB.spec, asNumber: 65000 } }], globalConfig })).peerings, []);
  // A port other than ours: not us either.
  assert.deepEqual(computeBgpPlan(base({ nodes, nodeName: 'b', peers: [{ ...toB, spec: { ...toB.spec, peerIP: '192.0.2.2:1179' } }], globalConfig })).peerings, []);
  // An explicit BGPPeer on b towards a wins over the reverse (its options apply).
  const explicit = { name: 'b-to-a', spec: { node: 'b', peerIP: '192.0.2.1', asNumber: 64512, keepaliveTime: '20s' } };
  const both = computeBgpPlan(base({ nodes, nodeName: 'b', peers: [toB, explicit], globalConfig }));
  assert.deepEqual(both.peerings.map((p) => [p.peerAddress, p.origin, p.reverse ?? false, p.keepaliveSeconds]), [['192.0.2.1', 'b-to-a', false, 20]]);
  // With the mesh on, the reverse (carrying the BGPPeer's settings) replaces the mesh session.
  const meshed = computeBgpPlan(base({ nodes, nodeName: 'b', peers: [toB] }));
  assert.deepEqual(meshed.peerings.map((p) => [p.family, p.type, p.reverse ?? false]), [[4, 'node', true], [6, 'mesh', false]]);
});

test('service ranges: cluster IPs, external and load-balancer CIDRs advertised and blackholed; single addresses and an excluded node not', () => {
  const globalConfig = {
    serviceClusterIPs: ['198.51.100.0/24', '198.51.100.9/32'],
    serviceExternalIPs: ['203.0.113.0/28', '203.0.113.77/32'],
    serviceLoadBalancerIPs: ['203.0.113.128/25', '2001:db8:5::/112'],
  };
  const plan = computeBgpPlan(base({ globalConfig }));
  // Cluster IP entries are all advertised (Calico does not single them out); external and LB single addresses are Calico's per-Service routes.
  assert.deepEqual(plan.exports[4].serviceRoutes, ['198.51.100.0/24', '198.51.100.9/32', '203.0.113.0/28', '203.0.113.128/25']);
  assert.deepEqual(plan.exports[6].serviceRoutes, ['2001:db8:5::/112']);
  assert.ok(plan.problems.some((p) => p.path === 'BGPConfiguration(default).spec.serviceExternalIPs[1].cidr' && /single address/.test(p.message)));
  const text = renderBirdConfig(plan);
  assert.match(text, /protocol static calico_services_v4 \{\n {2}ipv4;\n {2}route 198\.51\.100\.0\/24 blackhole;/);
  assert.match(text, /if proto = "calico_services_v4" then accept;\n {2}reject;\n\}\n\nprotocol kernel calico_kernel_v4/, 'blackholed in the kernel');
  assert.match(text, /if net ~ \[ 198\.51\.100\.0\/24\+, 198\.51\.100\.9\/32\+, 203\.0\.113\.0\/28\+, 203\.0\.113\.128\/25\+ \] then accept;/, 'announced');
  assert.match(text, /if source = RTS_BGP && net ~ \[ 198\.51\.100\.0\/24\+, .* \] then reject;\n {2}if source = RTS_BGP then accept;/, "other nodes' service routes stay out of the kernel");
  // Aggregation Disabled: LB ranges are not advertised as a whole.
  const perService = computeBgpPlan(base({ globalConfig: { ...globalConfig, serviceLoadBalancerAggregation: 'Disabled' } }));
  assert.deepEqual(perService.exports[6].serviceRoutes, []);
  assert.ok(!perService.exports[4].serviceRoutes.includes('203.0.113.128/25'));
  // A node labelled as Calico's exclude-from-external-load-balancers advertises nothing but still keeps learnt service routes out.
  const nodes = [node('a', '192.0.2.1'), node('b', '192.0.2.2', { labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': 'true' } })];
  const excluded = computeBgpPlan(base({ nodes, globalConfig }));
  assert.deepEqual(excluded.exports[4].serviceRoutes, []);
  assert.equal(excluded.exports[4].serviceRanges.length, 4);
  assert.doesNotMatch(renderBirdConfig(excluded), /calico_services_v4/);
  // Only the cluster-wide configuration counts (as Calico).
  assert.deepEqual(computeBgpPlan(base({ nodeConfig: globalConfig })).exports[4].serviceRoutes, []);
});

test('programClusterRoutes: Disabled and EnabledIPIPOnly keep routes inside IP pools out of the kernel; the default and Enabled do not', () => {
  const kernelReject = (programClusterRoutes?: 'Enabled' | 'Disabled' | 'EnabledIPIPOnly' | 'EnabledNoEncapOnly') => {
    const plan = computeBgpPlan(base({ globalConfig: programClusterRoutes ? { programClusterRoutes } : {} }));
    return /filter calico_to_kernel_v4 \{\n[^}]*if net ~ \[ 198\.18\.0\.0\/16\+ \] then reject;/.test(renderBirdConfig(plan)) ? plan.exports[4].unprogrammedPools : [];
  };
  assert.deepEqual(kernelReject(), []);
  assert.deepEqual(kernelReject('Enabled'), []);
  assert.deepEqual(kernelReject('EnabledNoEncapOnly'), []);
  assert.deepEqual(kernelReject('Disabled'), ['198.18.0.0/16']);
  assert.deepEqual(kernelReject('EnabledIPIPOnly'), ['198.18.0.0/16'], 'our pools have no encapsulation');
  // Announcing is unaffected: the block still goes to peers.
  assert.match(renderBirdConfig(computeBgpPlan(base({ globalConfig: { programClusterRoutes: 'Disabled' } }))), /if proto = "calico_blocks_v4" && net ~ \[ 198\.18\.2\.0\/26 \] then accept;/);
});

test('reachableBy: a host route to the peer through the gateway, in the kernel and never announced; the eBGP session may be multihop', () => {
  const peers = [{ name: 'tor', spec: { peerIP: '203.0.113.1', asNumber: 65000, reachableBy: '192.0.2.254' } }];
  const plan = computeBgpPlan(base({ peers }));
  assert.deepEqual(plan.exports[4].peerRoutes, [{ prefix: '203.0.113.1/32', via: '192.0.2.254' }]);
  const text = renderBirdConfig(plan);
  assert.match(text, /protocol static calico_peer_routes_v4 \{\n {2}ipv4;\n {2}route 203\.0\.113\.1\/32 via 192\.0\.2\.254;\n\}/);
  assert.match(text, /if proto = "calico_peer_routes_v4" then accept;/);
  assert.doesNotMatch(text.slice(text.indexOf('function calico_export_rules_v4')), /calico_peer_routes_v4/, 'never announced');
  assert.match(text, /neighbor 203\.0\.113\.1 as 65000;\n {2}multihop;/);
  // A gateway of the other family is a problem, not a route.
  const bad = computeBgpPlan(base({ peers: [{ name: 'tor', spec: { peerIP: '203.0.113.1', asNumber: 65000, reachableBy: '2001:db8::1' } }] }));
  assert.deepEqual(bad.exports[4].peerRoutes, []);
  assert.ok(bad.problems.some((p) => p.path === 'BGPPeer(tor).spec.reachableBy'));
});

test('keepOriginalNextHop (deprecated) keeps the next hop towards eBGP peers only; nextHopMode Keep towards any', () => {
  const hop = (spec: Record<string, unknown>) =>
    computeBgpPlan(base({ peers: [{ name: 'p', spec: { peerIP: '203.0.113.1', ...spec } }] })).peerings.find((p) => p.origin === 'p')!.nextHop;
  assert.equal(hop({ asNumber: 65000, keepOriginalNextHop: true }), 'keep');
  assert.equal(hop({ asNumber: 64512, keepOriginalNextHop: true }), 'auto', 'iBGP: ignored, as Calico');
  assert.equal(hop({ asNumber: 65000, localASNumber: 65000, keepOriginalNextHop: true }), 'auto', 'iBGP through localASNumber');
  assert.equal(hop({ asNumber: 64512, nextHopMode: 'Keep' }), 'keep');
});

test('listenPort: sessions to another Calico node dial the port it listens on (its node.<name> BGPConfiguration, else the cluster one)', () => {
  const nodes = [node('a', '192.0.2.1'), node('b', '192.0.2.2'), node('c', '192.0.2.10')];
  const portTo = (plan: ReturnType<typeof computeBgpPlan>, name: string) => plan.peerings.find((p) => p.peerNodeName === name)!.peerPort;
  const cluster = computeBgpPlan(base({ nodes, globalConfig: { listenPort: 1790 }, nodeListenPorts: { c: 1179 } }));
  assert.equal(cluster.listenPort, 1790, 'this node listens on the cluster port');
  assert.equal(portTo(cluster, 'a'), 1790);
  assert.equal(portTo(cluster, 'c'), 1179, "c's own configuration wins");
  assert.match(renderBirdConfig(cluster), /neighbor 192\.0\.2\.1 port 1790 as 64512;/);
  // 179 (the default BGPConfiguration writes it) needs no port.
  assert.equal(portTo(computeBgpPlan(base({ nodes, globalConfig: { listenPort: 179 } })), 'a'), undefined);
  // A BGPPeer to a node's address without a port, with that node's AS: its port too; another AS: not a Calico session, no port.
  const viaPeer = (asNumber: number) =>
    computeBgpPlan(base({ nodes, globalConfig: { nodeToNodeMeshEnabled: false, listenPort: 1790 }, peers: [{ name: 'p', spec: { peerIP: '192.0.2.1', asNumber } }] })).peerings[0]!.peerPort;
  assert.equal(viaPeer(64512), 1790);
  assert.equal(viaPeer(65000), undefined);
});

test('localASNumber decides iBGP for route reflection: a reflector marks an external peer in its session AS as a client', () => {
  const nodes = [node('a', '192.0.2.1'), node('b', '192.0.2.2', { routeReflectorClusterID: '1.0.0.1' })];
  const client = (spec: Record<string, unknown>) =>
    computeBgpPlan(base({ nodes, globalConfig: { nodeToNodeMeshEnabled: false }, peers: [{ name: 'ext', spec: { peerIP: '203.0.113.1', asNumber: 65000, ...spec } }] })).peerings[0]!.routeReflectorClient;
  assert.equal(client({}), false, 'eBGP');
  assert.equal(client({ localASNumber: 65000 }), true, 'iBGP on this session (Calico marks external iBGP peers too)');
  assert.equal(client({ asNumber: 64512 }), true);
});
