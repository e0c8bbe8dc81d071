// BGPConfiguration listenPort on real BIRDs: with the cluster-wide port 1790
// both hosts listen there, dial each other there, and the mesh comes up; a
// node-specific port on b moves only b (a dials b's port, b still dials a's).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { NetnsLab, skipReason, waitFor, type LabHost } from './netns-lab.js';
import { blockV4, inputsFor, labNode } from './inputs.js';
import type { BgpConfigurationSpec } from '../../../src/bgp/model.js';

const skip = skipReason;
let lab: NetnsLab;
let a: LabHost;
let b: LabHost;

const start = async (h: LabHost, bPort?: number) => {
  const globalConfig: BgpConfigurationSpec = { listenPort: 1790 };
  const inputs = inputsFor(h, { nodes: [labNode(a), labNode(b)], globalConfig });
  await lab.runBgp(h.name, {
    ...inputs,
    ...(bPort !== undefined ? { nodeListenPorts: { b: bPort } } : {}),
    ...(bPort !== undefined && h === b ? { nodeConfig: { listenPort: bPort } } : {}),
  });
};

const listening = (h: LabHost): string[] =>
  [...lab.exec(h.ns, ['ss', '-Hltn']).matchAll(/\s(\S+):(\d+)\s/g)].map((m) => m[2]!).filter((p, i, all) => all.indexOf(p) === i).sort();

const meshUp = async () =>
  lab.birdRoutes(a.name).get(blockV4(b)) === b.v4 && lab.birdRoutes(b.name).get(blockV4(a)) === a.v4;

before(async () => {
  if (skip) return;
  lab = new NetnsLab();
  a = lab.addHost('a');
  b = lab.addHost('b');
});

after(async () => {
  await lab?.destroy();
});

test('a cluster-wide listenPort: BIRD listens there and the mesh dials it', { skip }, async () => {
  await start(a);
  await start(b);
  assert.ok(await waitFor(meshUp, 30_000), `a: ${JSON.stringify([...lab.birdRoutes(a.name)])} b: ${JSON.stringify([...lab.birdRoutes(b.name)])}`);
  assert.deepEqual(listening(a), ['1790']);
  assert.deepEqual(listening(b), ['1790']);
});

test('a node-specific listenPort moves that node only; its peers dial it there', { skip }, async () => {
  await start(b, 1791);
  await start(a, 1791);
  assert.ok(await waitFor(() => listening(b).includes('1791'), 10_000), `b listens on ${listening(b).join(', ')}`);
  assert.deepEqual(listening(a), ['1790']);
  const est = await waitFor(async () => /Established/.test(await lab.birdc(a.name, ['show', 'protocols', `Mesh_${b.v4.replace(/\./g, '_')}`])), 30_000);
  assert.ok(est, await lab.birdc(a.name, ['show', 'protocols', 'all', `Mesh_${b.v4.replace(/\./g, '_')}`]));
  assert.ok(await waitFor(meshUp, 30_000));
});
