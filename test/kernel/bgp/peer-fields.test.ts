// BGPPeer reachableBy and reversePeering on real BIRDs. Host b's BGP address
// is a loopback (198.51.100.2/32); host a reaches it through a /24 route the
// operator added via b's interface address. One BGPPeer, written for a only,
// names the loopback with reachableBy b's interface: a's BIRD pins a /32 to
// the peer through that gateway (Calico's purpose for reachableBy: the route
// to the peer cannot be replaced by one learnt over the session itself), and
// b, whose address and AS the BGPPeer names, peers back with a by itself
// (reversePeering Auto, the default): the session comes up and blocks are
// exchanged both ways. Without reachableBy the /32 goes; with reversePeering
// Manual b configures no session at all.
//
// (The operator route is there because BIRD starts with -R, as Calico's: the
// kernel is synced only once the sessions have converged, so a peer reachable
// through nothing but its reachableBy route waits for BIRD's graceful-restart
// timer (240 s) on a fresh start; docs/design/bgp.md.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { NetnsLab, skipReason, waitFor, type LabHost } from './netns-lab.js';
import { blockV4, POOLS } from './inputs.js';
import type { BgpInputs, BgpPeerResource } from '../../../src/bgp/model.js';

const skip = skipReason;
let lab: NetnsLab;
let a: LabHost;
let b: LabHost;
const LOOPBACK = '198.51.100.2';

const peer = (spec: Partial<BgpPeerResource['spec']>): BgpPeerResource => ({
  name: 'a-to-b-loopback',
  spec: { node: 'a', peerIP: LOOPBACK, asNumber: 64512, ...spec },
});

const start = async (h: LabHost, p: BgpPeerResource) => {
  const inputs: BgpInputs = {
    nodeName: h.name,
    nodes: [
      { name: 'a', ipv4Address: `${a.v4}/24` },
      { name: 'b', ipv4Address: `${LOOPBACK}/32` },
    ],
    peers: [p],
    globalConfig: { nodeToNodeMeshEnabled: false },
    pools: POOLS,
    blocks: [blockV4(h)],
  };
  await lab.runBgp(h.name, inputs);
};

const startBoth = async (p: BgpPeerResource) => {
  await start(a, p);
  await start(b, p);
};

/** BGP protocols of a host's BIRD with their info column (`show protocols`: name, proto, table, state, since as date and time, info). */
const bgpProtocols = async (h: LabHost): Promise<Map<string, string>> => {
  const text = await lab.birdc(h.name, ['show', 'protocols']);
  return new Map([...text.matchAll(/^(\S+)\s+BGP\s+\S+\s+\S+\s+\S+\s+\S+\s+(\S+)/gm)].map((m) => [m[1]!, m[2]!]));
};

/** `ip route get` from a to the loopback: the route's gateway and protocol, or the error. */
const routeToLoopback = (): string => lab.exec(a.ns, ['ip', 'route', 'get', LOOPBACK], { allowFail: true }) || 'unreachable';
const kernelRouteToLoopback = (): string => lab.ipn(a.ns, ['route', 'show', `${LOOPBACK}/32`]).trim();

before(async () => {
  if (skip) return;
  lab = new NetnsLab();
  a = lab.addHost('a');
  b = lab.addHost('b');
  lab.ipn(b.ns, ['addr', 'add', `${LOOPBACK}/32`, 'dev', 'lo']);
  lab.ipn(a.ns, ['route', 'add', '198.51.100.0/24', 'via', b.v4]);
});

after(async () => {
  await lab?.destroy();
});

test('a BGPPeer on one node only reaches a loopback behind a gateway (reachableBy) and the peer node peers back by itself (reversePeering Auto)', { skip }, async () => {
  await startBoth(peer({ reachableBy: b.v4 }));
  assert.deepEqual([...(await bgpProtocols(b)).keys()], ['Node_192_0_2_1'], 'b peers back: the reverse session, named as a node peering');
  const up = await waitFor(async () => (await bgpProtocols(a)).get('Node_198_51_100_2') === 'Established' && (await bgpProtocols(b)).get('Node_192_0_2_1') === 'Established', 30_000);
  assert.ok(up, `sessions: a ${JSON.stringify([...(await bgpProtocols(a))])} b ${JSON.stringify([...(await bgpProtocols(b))])}\n${b.logs.slice(-5).join('\n')}`);
  // The pinned host route to the peer, installed by BIRD.
  assert.ok(await waitFor(() => /via 192\.0\.2\.2 .*proto bird/.test(kernelRouteToLoopback()), 30_000), `a's /32 to the loopback: '${kernelRouteToLoopback()}'`);
  // Routes flow both ways.
  assert.ok(await waitFor(() => lab.birdRoutes(a.name).get(blockV4(b)) === b.v4, 30_000), `a: ${JSON.stringify([...lab.birdRoutes(a.name)])}`);
  assert.ok(await waitFor(() => lab.birdRoutes(b.name).get(blockV4(a)) === a.v4, 30_000), `b: ${JSON.stringify([...lab.birdRoutes(b.name)])}`);
  // The host route to the peer is never announced: b does not learn it from a.
  assert.equal(lab.birdRoutes(b.name).get(`${LOOPBACK}/32`), undefined);
});

test('without reachableBy the /32 to the peer goes (the operator route still carries the session)', { skip }, async () => {
  await startBoth(peer({}));
  assert.ok(await waitFor(() => kernelRouteToLoopback() === '', 30_000), `a still has '${kernelRouteToLoopback()}'`);
  assert.match(routeToLoopback(), /via 192\.0\.2\.2/, 'through the /24');
});

test('reversePeering Manual: only a configures the session; b, named by peerIP, has none', { skip }, async () => {
  await startBoth(peer({ reachableBy: b.v4, reversePeering: 'Manual' }));
  assert.deepEqual([...(await bgpProtocols(a)).keys()], ['Node_198_51_100_2']);
  assert.deepEqual([...(await bgpProtocols(b)).keys()], []);
});
