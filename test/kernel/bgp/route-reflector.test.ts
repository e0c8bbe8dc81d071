// 2 route reflectors + 4 clients, real BIRD: clients keep sessions only with
// the reflectors, every client learns every block with the originating node
// as next hop (reflection keeps the next hop), and the reflected path carries
// our cluster ID and the originator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { NetnsLab, skipReason, waitFor, type LabHost } from './netns-lab.js';
import { blockV4, inputsFor, labNode } from './inputs.js';
import { parseBirdProtocols } from '../../../src/bgp/status.js';

const skip = skipReason;
const CLUSTER = '224.0.0.1';
let lab: NetnsLab;
let hosts: LabHost[] = [];
const isRR = (h: LabHost) => h.name.startsWith('rr');

before(async () => {
  if (skip) return;
  lab = new NetnsLab();
  hosts = ['rr1', 'rr2', 'c1', 'c2', 'c3', 'c4'].map((n) => lab.addHost(n));
  const nodes = hosts.map((h) => labNode(h, isRR(h) ? { routeReflectorClusterID: CLUSTER } : {}));
  // IPv4 only here: the dual-stack path is covered by the mesh test.
  for (const h of hosts) await lab.runBgp(h.name, inputsFor(h, { nodes, blocks: [blockV4(h)] }));
});

after(async () => {
  await lab?.destroy();
});

test('clients peer only with the two reflectors; reflectors with everyone', { skip }, async () => {
  const established = async (name: string) =>
    parseBirdProtocols(await lab.birdc(name, ['show', 'protocols', 'all'])).filter((s) => s.family === 4);
  const ok = await waitFor(async () => {
    for (const h of hosts) {
      const s = await established(h.name);
      if (s.length !== (isRR(h) ? 5 : 2) || s.some((x) => x.bgpState !== 'Established')) return false;
    }
    return true;
  }, 30_000);
  assert.ok(ok, JSON.stringify(await established('c1')));
  assert.deepEqual((await established('c1')).map((s) => [s.peerAddress, s.type]), [
    ['192.0.2.1', 'rr'],
    ['192.0.2.2', 'rr'],
  ]);
});

test('every node learns every block, next hop = the node that owns it', { skip }, async () => {
  const complete = () =>
    hosts.every((h) => {
      const r = lab.birdRoutes(h.name);
      return hosts.every((o) => r.get(blockV4(o)) === (o === h ? 'blackhole' : o.v4));
    });
  const ok = await waitFor(complete, 30_000);
  assert.ok(ok, hosts.map((h) => `${h.name}: ${JSON.stringify([...lab.birdRoutes(h.name)])}`).join('\n'));
});

test('a reflected path carries the cluster ID and the originator', { skip }, async () => {
  const c4 = lab.host('c4');
  const text = await lab.birdc('c1', ['show', 'route', 'for', blockV4(c4), 'all']);
  assert.match(text, new RegExp(`BGP\\.originator_id: ${c4.v4.replace(/\./g, '\\.')}`), text);
  assert.match(text, new RegExp(`BGP\\.cluster_list: ${CLUSTER.replace(/\./g, '\\.')}`), text);
  assert.match(text, /BGP\.as_path:\s*$/m, 'iBGP: empty AS path');
});

test('a workload behind one client is reachable from another client', { skip }, async () => {
  lab.addWorkload('c2', 'w-c2', `198.18.${lab.host('c2').index}.7`);
  assert.ok(await waitFor(() => lab.ping(lab.host('c3').ns, `198.18.${lab.host('c2').index}.7`), 10_000));
});
