import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeBgpPlan } from './plan.js';
import type { BgpInputs, BgpNode } from './model.js';
import { bgpPeerIssues, parseDurationSeconds, parsePeerIP } from './validate.js';
import { matchNodeSelector } from './node-selector.js';

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
    ['ttl', { peerIP: '192.0.2.1', asNumber: 1, ttlSecurity: 0 }, ['spec.ttlSecurity']],
    ['duration', { peerIP: '192.0.2.1', asNumber: 1, holdTime: 'soon' }, ['spec.holdTime']],
    ['hold too short', { peerIP: '192.0.2.1', asNumber: 1, holdTime: '2s' }, ['spec.holdTime']],
    ['next hop conflict', { peerIP: '192.0.2.1', asNumber: 1, keepOriginalNextHop: true, nextHopMode: 'Self' }, ['spec.keepOriginalNextHop']],
    ['password quote', { peerIP: '192.0.2.1', asNumber: 1, password: 'a"b' }, ['spec.password']],
  ];
  for (const [name, spec, paths] of cases) {
    assert.deepEqual(bgpPeerIssues({ name: 'p', spec }).map((i) => i.path), paths, name);
  }
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
