// BGPConfiguration serviceClusterIPs on real BIRDs: two meshed hosts, b
// labelled exclude-from-external-load-balancers. a announces the service
// range and blackholes it in its kernel (no service proxy here: unanswered
// traffic dies on the node instead of looping); b does not announce it, learns
// it from a, and keeps it out of its kernel (as Calico's reject routes).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { NetnsLab, skipReason, waitFor, type LabHost } from './netns-lab.js';
import { blockV4, inputsFor, labNode } from './inputs.js';

const skip = skipReason;
let lab: NetnsLab;
let a: LabHost;
let b: LabHost;
const RANGE = '198.51.100.0/24';

const start = async (h: LabHost, serviceClusterIPs: string[]) => {
  const inputs = inputsFor(h, {
    nodes: [labNode(a), labNode(b, { labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': 'true' } })],
    globalConfig: { serviceClusterIPs },
  });
  await lab.runBgp(h.name, inputs);
};

/** Prefixes h's BIRD sends on its IPv4 mesh session to `to`. */
const exportedTo = (h: LabHost, to: LabHost): Promise<string[]> => lab.exportedV4(h.name, `Mesh_${to.v4.replace(/\./g, '_')}`);

before(async () => {
  if (skip) return;
  lab = new NetnsLab();
  a = lab.addHost('a');
  b = lab.addHost('b');
  await start(a, [RANGE]);
  await start(b, [RANGE]);
});

after(async () => {
  await lab?.destroy();
});

test('a node announces the service range and blackholes it; an excluded node learns it but keeps it out of its kernel', { skip }, async () => {
  // The mesh is up: b has a's block.
  assert.ok(await waitFor(() => lab.birdRoutes(b.name).get(blockV4(a)) === a.v4, 30_000), `b: ${JSON.stringify([...lab.birdRoutes(b.name)])}`);
  assert.equal(lab.birdRoutes(a.name).get(RANGE), 'blackhole', "a's kernel: the range is a blackhole of BIRD's");
  assert.ok((await exportedTo(a, b)).includes(RANGE), 'a announces the range');
  assert.ok(!(await exportedTo(b, a)).includes(RANGE), 'b (excluded) does not');
  // b's BIRD has a's announcement ...
  assert.ok(await waitFor(async () => (await lab.birdc(b.name, ['show', 'route', RANGE])).includes(`via ${a.v4}`), 10_000));
  // ... but its kernel does not get it.
  assert.equal(lab.birdRoutes(b.name).get(RANGE), undefined, `b's kernel: ${JSON.stringify([...lab.birdRoutes(b.name)])}`);
});

test('without serviceClusterIPs nothing of the range is announced or installed', { skip }, async () => {
  await start(a, []);
  await start(b, []);
  assert.ok(await waitFor(() => !lab.birdRoutes(a.name).has(RANGE), 10_000), 'the blackhole goes');
  assert.ok(await waitFor(async () => !(await exportedTo(a, b)).includes(RANGE), 10_000));
  // The withdrawal reaches b.
  assert.ok(await waitFor(async () => /Network not found/.test(await lab.birdc(b.name, ['show', 'route', RANGE])), 10_000), await lab.birdc(b.name, ['show', 'route', RANGE]));
});
