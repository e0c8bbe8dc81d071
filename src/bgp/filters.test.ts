import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeBgpPlan } from './plan.js';
import { filterFunctionSymbol } from './filters.js';
import type { BgpFilterResource, BgpInputs } from './model.js';
import { renderBirdConfig } from '../render/bird/bird-conf.js';
import { ruleStatement } from '../render/bird/bird-filters.js';
import { bgpInputsFromResources } from './inputs.js';

const edge: BgpFilterResource = {
  name: 'edge',
  spec: {
    exportV4: [{ action: 'Reject', matchOperator: 'In', cidr: '198.18.0.0/16', prefixLength: { min: 32 } }],
    importV4: [{ action: 'Accept', matchOperator: 'Equal', cidr: '0.0.0.0/0' }],
  },
};
const second: BgpFilterResource = { name: 'second', spec: { exportV4: [{ action: 'Accept' }] } };

const inputs = (filters: string[] | undefined, defs: BgpFilterResource[] = [edge, second]): BgpInputs => ({
  nodeName: 'a',
  nodes: [{ name: 'a', ipv4Address: '192.0.2.1/24' }],
  peers: [{ name: 'tor', spec: { peerIP: '203.0.113.1', asNumber: 65000, ...(filters ? { filters } : {}) } }],
  filters: defs,
  pools: [{ name: 'p', cidr: '198.18.0.0/16' }],
  blocks: ['198.18.0.0/26'],
});

test('BGPPeer filters: functions run in the order of the peer list, before the normal rules', () => {
  const plan = computeBgpPlan(inputs(['second', 'edge']));
  const tor = plan.peerings.find((p) => p.origin === 'tor')!;
  assert.deepEqual(tor.exportFunctions, ['bgp_second_exportFilterV4', 'bgp_edge_exportFilterV4']);
  assert.deepEqual(tor.importFunctions, ['bgp_edge_importFilterV4'], 'second has no import rules: not called on import');
  const text = renderBirdConfig(plan);
  assert.match(text, /export filter \{ 'bgp_second_exportFilterV4'\(\); 'bgp_edge_exportFilterV4'\(\); calico_export_rules_v4\(\); \};/);
  assert.match(text, /import filter \{ 'bgp_edge_importFilterV4'\(\); accept; \};/);
  assert.match(text, /function 'bgp_edge_exportFilterV4'\(\) \{\n {2}if \(net ~ \[ 198\.18\.0\.0\/16\{32,32\} \]\) then reject;\n\}/);
  // IPv6 has no rules in these filters, and filters no peer names are not rendered.
  assert.deepEqual(plan.filterFunctions[6], []);
  assert.deepEqual(computeBgpPlan(inputs(undefined)).filterFunctions[4], []);
});

test('BGPPeer without filters keeps import all and the shared export filter', () => {
  const text = renderBirdConfig(computeBgpPlan(inputs(undefined)));
  assert.match(text, /ipv4 \{ import all; export filter calico_export_v4; \};/);
  assert.doesNotMatch(text, /FilterV4/);
});

test('a BGPFilter name that does not exist closes the session both ways and is reported', () => {
  const plan = computeBgpPlan(inputs(['edge', 'missing']));
  const tor = plan.peerings.find((p) => p.origin === 'tor')!;
  assert.deepEqual(tor.missingFilters, ['missing']);
  assert.ok(plan.problems.some((p) => p.path === 'BGPPeer(tor).spec.filters' && /'missing' does not exist/.test(p.message)));
  assert.match(renderBirdConfig(plan), /ipv4 \{ import none; export none; \};/);
  // Creating the filter opens the session again.
  const fixed = computeBgpPlan(inputs(['edge', 'missing'], [edge, second, { name: 'missing', spec: {} }]));
  assert.equal(fixed.peerings.find((p) => p.origin === 'tor')!.missingFilters, undefined);
  assert.doesNotMatch(renderBirdConfig(fixed), /import none; export none;/);
});

test('BGPFilter rule conditions: operators, prefix lengths, source and interface', () => {
  assert.equal(ruleStatement({ action: 'Accept', matchOperator: 'Equal', cidr: '198.18.0.0/16' }, 4), 'if (net = 198.18.0.0/16) then accept;');
  assert.equal(ruleStatement({ action: 'Reject', matchOperator: 'NotEqual', cidr: '198.18.0.0/16' }, 4), 'if (net != 198.18.0.0/16) then reject;');
  assert.equal(ruleStatement({ action: 'Reject', matchOperator: 'In', cidr: '198.18.0.0/16' }, 4), 'if (net ~ 198.18.0.0/16) then reject;');
  assert.equal(ruleStatement({ action: 'Reject', matchOperator: 'NotIn', cidr: '2001:db8::/32', prefixLength: { max: 64 } }, 6), 'if (net !~ [ 2001:db8::/32{32,64} ]) then reject;');
  // A min shorter than the CIDR itself is raised to the CIDR's length, as Calico does.
  assert.equal(ruleStatement({ action: 'Reject', matchOperator: 'In', cidr: '198.18.0.0/16', prefixLength: { min: 8, max: 24 } }, 4), 'if (net ~ [ 198.18.0.0/16{16,24} ]) then reject;');
  assert.equal(ruleStatement({ action: 'Reject', source: 'RemotePeers' }, 4), 'if (source = RTS_BGP) then reject;');
  assert.equal(ruleStatement({ action: 'Accept', interface: 'eth*' }, 4), 'if (defined(ifname) && ifname ~ "eth*") then accept;');
  assert.equal(ruleStatement({ action: 'Reject' }, 4), 'reject;');
});

test('BGPFilter newer rule fields: peerType, communities, AS path prefix, addCommunity and prependASPath', () => {
  assert.equal(ruleStatement({ action: 'Reject', communities: { values: ['65535:666'] } }, 4), 'if ((65535, 666) ~ bgp_community) then reject;');
  assert.equal(ruleStatement({ action: 'Reject', communities: { values: ['65000:1:2'] } }, 6), 'if ((65000, 1, 2) ~ bgp_large_community) then reject;');
  assert.equal(ruleStatement({ action: 'Reject', asPathPrefix: [65000, 65100] }, 4), 'if (bgp_path ~ [= 65000 65100 * =]) then reject;');
  // Operations run before the accept; a path prepended with [a, b] starts "a b".
  assert.equal(
    ruleStatement({ action: 'Accept', matchOperator: 'In', cidr: '198.18.0.0/16', operations: [{ addCommunity: { value: '65000:100' } }, { prependASPath: { prefix: [64512, 64513] } }] }, 4),
    'if (net ~ 198.18.0.0/16) then { bgp_community.add((65000, 100)); bgp_path.prepend(64513); bgp_path.prepend(64512); accept; }',
  );
  assert.equal(ruleStatement({ action: 'Accept', operations: [{ addCommunity: { value: '1:2:3' } }] }, 4), 'bgp_large_community.add((1, 2, 3)); accept;');
  assert.equal(ruleStatement({ action: 'Reject', peerType: 'iBGP' }, 4), 'if (is_ibgp) then { reject; }');
  assert.equal(ruleStatement({ action: 'Accept', peerType: 'eBGP', source: 'RemotePeers' }, 4), 'if (!is_ibgp) then { if (source = RTS_BGP) then accept; }');
  // A function with a peerType rule takes the session's kind as its argument: true towards iBGP, false towards eBGP.
  const steer: BgpFilterResource = { name: 'steer', spec: { exportV4: [{ action: 'Reject', peerType: 'iBGP' }] } };
  const plan = computeBgpPlan({
    ...inputs(['steer'], [steer]),
    peers: [
      { name: 'tor', spec: { peerIP: '203.0.113.1', asNumber: 65000, filters: ['steer'] } },
      { name: 'rr', spec: { peerIP: '203.0.113.2', asNumber: 64512, filters: ['steer'] } },
      { name: 'local-as', spec: { peerIP: '203.0.113.3', asNumber: 65003, localASNumber: 65003, filters: ['steer'] } },
    ],
  });
  assert.equal(plan.filterFunctions[4][0]!.takesPeerType, true);
  const text = renderBirdConfig(plan);
  assert.match(text, /function 'bgp_steer_exportFilterV4'\(bool is_ibgp\) \{/);
  const exportsOf = (name: string) => new RegExp(`neighbor ${name.replace(/\./g, '\\.')} [^]*?'bgp_steer_exportFilterV4'\\((true|false)\\);`).exec(text)?.[1];
  assert.equal(exportsOf('203.0.113.1'), 'false', 'AS 65000 against our 64512: eBGP');
  assert.equal(exportsOf('203.0.113.2'), 'true', 'same AS: iBGP');
  assert.equal(exportsOf('203.0.113.3'), 'true', 'localASNumber makes the session iBGP, as Calico compares with the effective local AS');
});

test('BGPFilter function names follow Calico and stay within BIRD\'s 64-character symbols', () => {
  assert.equal(filterFunctionSymbol('my-filter', 'import', 4), 'bgp_my-filter_importFilterV4');
  const long = 'x'.repeat(200);
  const a = filterFunctionSymbol(long, 'export', 6);
  const b = filterFunctionSymbol(`${long}y`, 'export', 6);
  assert.ok(a.length <= 64 && b.length <= 64);
  assert.notEqual(a, b, 'two long names that share a prefix stay distinct');
});

test('inputs: BGPPeer filters and BGPFilter resources reach the plan', () => {
  const meta = (name: string) => ({ name });
  const i = bgpInputsFromResources({
    nodeName: 'a',
    nodes: [{ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: meta('a'), spec: { bgp: { ipv4Address: '192.0.2.1/24' } } }],
    bgpConfigurations: [],
    bgpPeers: [{ apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: meta('tor'), spec: { peerIP: '203.0.113.1', asNumber: 65000, filters: ['edge'] } }],
    bgpFilters: [{ apiVersion: 'projectcalico.org/v3', kind: 'BGPFilter', metadata: meta('edge'), spec: edge.spec }],
    ipPools: [],
    blocks: [],
  });
  assert.deepEqual(i.peers[0]!.spec.filters, ['edge']);
  assert.deepEqual(i.filters, [edge]);
});
