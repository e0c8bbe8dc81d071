import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bgpInputsFromResources } from './inputs.js';
import { computeBgpPlan } from './plan.js';
import type { Resource } from '../api/resource.js';
import type { BGPPassword } from '../api/kinds/bgp.js';

const res = <S>(kind: Resource['kind'], name: string, spec: S, labels?: Record<string, string>): Resource<S> => ({
  apiVersion: 'projectcalico.org/v3',
  kind,
  metadata: { name, ...(labels ? { labels } : {}) },
  spec,
});

test('v3 resources become BgpInputs: default vs node.<name> config, inline and secret passwords', () => {
  const inputs = bgpInputsFromResources({
    nodeName: 'n1',
    nodes: [
      res('Node', 'n1', { bgp: { ipv4Address: '192.0.2.1/24', asNumber: 65101 } }, { rack: 'r1' }),
      res('Node', 'n2', { bgp: { ipv4Address: '192.0.2.2/24', routeReflectorClusterID: '1.0.0.1' } }),
    ],
    bgpConfigurations: [
      res('BGPConfiguration', 'default', { nodeToNodeMeshEnabled: false, logSeverityScreen: 'Trace', nodeMeshPassword: { secretKeyRef: { name: 's', key: 'k' } } }),
      res('BGPConfiguration', 'node.n1', { listenPort: 1179 }),
      res('BGPConfiguration', 'node.other', { listenPort: 2 }),
    ],
    bgpPeers: [
      res('BGPPeer', 'tor', { nodeSelector: "rack == 'r1'", peerIP: '192.0.2.254', asNumber: 65001, password: { inline: 'pw' } }),
      res('BGPPeer', 'secret', { peerIP: '192.0.2.253', asNumber: 65001, password: { secretKeyRef: { name: 's', key: 'k' } } }),
    ],
    ipPools: [res('IPPool', 'p', { cidr: '198.18.0.0/16', disableBGPExport: true })],
    blocks: ['198.18.0.0/26'],
    resolveSecret: (ref) => (ref.name === 's' ? `secret-${ref.key}` : undefined),
  });
  assert.equal(inputs.globalConfig?.logSeverityScreen, 'Debug');
  assert.equal(inputs.globalConfig?.nodeMeshPassword, 'secret-k');
  assert.equal(inputs.nodeConfig?.listenPort, 1179);
  assert.equal(inputs.nodes[0]!.labels!.rack, 'r1');
  assert.equal(inputs.pools[0]!.disableBGPExport, true);
  const plan = computeBgpPlan(inputs);
  assert.deepEqual(plan.peerings.map((p) => [p.peerAddress, p.type, p.password, p.localAs]), [
    ['192.0.2.253', 'global', 'secret-k', 65101],
    ['192.0.2.254', 'node', 'pw', 65101],
  ]);
  assert.equal(plan.listenPort, 1179);
});

test('a secretKeyRef password nothing can read closes the session instead of dropping the password (optional: no password)', () => {
  const resources = (password: BGPPassword, meshPassword?: BGPPassword) => ({
    nodeName: 'n1',
    nodes: [res('Node', 'n1', { bgp: { ipv4Address: '192.0.2.1/24' } }), res('Node', 'n2', { bgp: { ipv4Address: '192.0.2.2/24' } })],
    bgpConfigurations: meshPassword ? [res('BGPConfiguration', 'default', { nodeMeshPassword: meshPassword })] : [],
    bgpPeers: [res('BGPPeer', 'tor', { peerIP: '192.0.2.254', asNumber: 65001, password })],
    ipPools: [],
    blocks: [],
  });
  const plan = computeBgpPlan(bgpInputsFromResources(resources({ secretKeyRef: { name: 'bgp', key: 'tor' } })));
  assert.deepEqual(plan.peerings.map((p) => p.peerAddress), ['192.0.2.2'], 'the mesh session stays, the ToR session is not rendered');
  assert.ok(plan.problems.some((p) => p.path === 'BGPPeer(tor).spec.password' && /bgp\/tor cannot be read/.test(p.message)));
  const optional = computeBgpPlan(bgpInputsFromResources(resources({ secretKeyRef: { name: 'bgp', key: 'tor', optional: true } })));
  assert.deepEqual(optional.peerings.map((p) => [p.peerAddress, p.password]), [['192.0.2.2', undefined], ['192.0.2.254', undefined]]);
  const mesh = computeBgpPlan(bgpInputsFromResources(resources({ inline: 'pw' }, { secretKeyRef: { name: 'bgp', key: 'mesh' } })));
  assert.deepEqual(mesh.peerings.map((p) => p.peerAddress), ['192.0.2.254'], 'no mesh session without its password');
  assert.ok(mesh.problems.some((p) => p.path === 'BGPConfiguration(default).spec.nodeMeshPassword'));
});
