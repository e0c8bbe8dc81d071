import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cmdAdd } from './add.js';
import { FakeCniWorld } from './fakes.js';
import { planGc } from './plan.js';
import { CniError } from './protocol.js';
import { cmdDel, cmdGc } from './teardown.js';
import { HOST_IF, NETNS, WEP, args, conf, env } from './fixtures.test-support.js';
import type { Resource } from '../api/resource.js';

test('DEL: removes interface, addresses and endpoint; idempotent, also when netns and endpoint are gone', async () => {
  const w = new FakeCniWorld();
  await cmdAdd(w.ports(), args());
  w.ops.length = 0;
  await cmdDel(w.ports(), args('DEL'));
  assert.deepEqual(w.ops, [`container.delete ${NETNS}/eth0`, `veth.delete ${HOST_IF}`, 'ipam.release net1.c0ffee', `wep.delete ${WEP}`]);
  assert.equal(w.handles.size + w.hostLinks.size + w.containerLinks.size + w.weps.size, 0);
  // Again, and again with the namespace gone and no CNI_NETNS at all: still success.
  await cmdDel(w.ports(), args('DEL'));
  w.netnses.clear();
  await cmdDel(w.ports(), args('DEL'));
  await cmdDel(w.ports(), { env: env('DEL', { CNI_NETNS: '' }), conf: conf(), node: 'host1' });
});

test('DEL: an endpoint of a newer sandbox of the same pod is left alone, with its veth; our addresses are released', async () => {
  const w = new FakeCniWorld();
  await cmdAdd(w.ports(), args('ADD', conf(), { CNI_CONTAINERID: 'newer' }));
  w.ops.length = 0;
  await cmdDel(w.ports(), { env: env('DEL', { CNI_NETNS: '' }), conf: conf(), node: 'host1' });
  assert.deepEqual(w.ops, ['ipam.release net1.c0ffee']);
  assert.ok(w.weps.has(`web/${WEP}`));
  assert.ok(w.hostLinks.has(HOST_IF));
  assert.ok(w.handles.has('net1.newer'));
});

test('DEL: with the datastore down nothing is torn down (we cannot tell whose the endpoint is) and the error is 11', async () => {
  const w = new FakeCniWorld();
  await cmdAdd(w.ports(), args());
  w.ops.length = 0;
  w.datastoreDown = true;
  await assert.rejects(cmdDel(w.ports(), args('DEL')), (err: unknown) => err instanceof CniError && err.code === 11);
  assert.deepEqual(w.ops, []);
});

test('DEL: a failing step does not stop the others; the error lists what failed', async () => {
  const w = new FakeCniWorld();
  await cmdAdd(w.ports(), args());
  w.failOn('container.delete');
  await assert.rejects(cmdDel(w.ports(), args('DEL')), (err: unknown) => err instanceof CniError && err.code === 5 && /delete eth0 in/.test(err.message));
  assert.equal(w.handles.size, 0, 'addresses released anyway');
  assert.equal(w.weps.size, 0, 'endpoint deleted anyway');
});

const wep = (name: string, spec: Record<string, unknown>, network = 'net1'): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'WorkloadEndpoint',
  metadata: { name, namespace: 'web', annotations: { 'cni.projectcalico.org/network': network } },
  spec: { node: 'host1', ...spec },
});

test('GC plan: only this network\'s handles and annotated endpoints on this node, for containers not listed', () => {
  const handles = new Map([
    ['net1.keep', ['198.18.0.1']],
    ['net1.stale', ['198.18.0.2']],
    ['other.stale', ['198.18.0.3']],
    ['net1x.stale', ['198.18.0.4']],
  ]);
  const endpoints = [
    wep('host1-k8s-a-eth0', { containerID: 'keep', interfaceName: 'cali1' }),
    wep('host1-k8s-b-eth0', { containerID: 'stale', interfaceName: 'cali2' }),
    wep('host1-k8s-c-eth0', { containerID: 'stale2' }, 'other-net'),
    { ...wep('host1-k8s-d-eth0', { containerID: 'stale3' }), metadata: { name: 'host1-k8s-d-eth0', namespace: 'web' } },
    wep('host2-k8s-e-eth0', { containerID: 'stale4', node: 'host2' }),
  ];
  const plan = planGc({ network: 'net1', node: 'host1', valid: [{ containerID: 'keep' }], handles, endpoints });
  assert.deepEqual(plan.releaseHandles, ['net1.stale']);
  assert.deepEqual(plan.deleteEndpoints, [{ namespace: 'web', name: 'host1-k8s-b-eth0', interfaceName: 'cali2' }]);
});

test('GC: releases stale attachments, keeps valid ones, and needs cni.dev/valid-attachments', async () => {
  const w = new FakeCniWorld({ pool: ['198.18.0.1', '198.18.0.2', '198.18.0.3', '2001:db8::1', '2001:db8::2', '2001:db8::3'], netnses: [NETNS, '/var/run/netns/c2'] });
  await cmdAdd(w.ports(), args());
  await cmdAdd(w.ports(), { env: env('ADD', { CNI_CONTAINERID: 'b0b', CNI_NETNS: '/var/run/netns/c2', CNI_ARGS: 'K8S_POD_NAMESPACE=web;K8S_POD_NAME=b' }), conf: conf(), node: 'host1' });
  const gcEnv = env('GC', {});
  await assert.rejects(cmdGc(w.ports(), { env: gcEnv, conf: conf(), node: 'host1' }), (err: unknown) => err instanceof CniError && err.code === 7);
  const out = await cmdGc(w.ports(), { env: gcEnv, conf: conf({ 'cni.dev/valid-attachments': [{ containerID: 'c0ffee', ifname: 'eth0' }] }), node: 'host1' });
  assert.deepEqual(out, { released: ['net1.b0b'], deleted: ['web/host1-k8s-b-eth0'] });
  assert.deepEqual([...w.handles.keys()], ['net1.c0ffee']);
  assert.deepEqual([...w.weps.keys()], [`web/${WEP}`]);
});

test('GC: keeps going after an error and reports it', async () => {
  const w = new FakeCniWorld({ netnses: [NETNS, '/var/run/netns/c2'] });
  await cmdAdd(w.ports(), args('ADD', conf({ ipam: { type: 'calico-ipam' } })));
  await cmdAdd(w.ports(), { env: env('ADD', { CNI_CONTAINERID: 'b0b', CNI_NETNS: '/var/run/netns/c2', CNI_ARGS: 'K8S_POD_NAMESPACE=web;K8S_POD_NAME=b' }), conf: conf({ ipam: { type: 'calico-ipam' } }), node: 'host1' });
  w.failOn('wep.delete');
  await assert.rejects(cmdGc(w.ports(), { env: env('GC'), conf: conf({ 'cni.dev/valid-attachments': [] }), node: 'host1' }), (err: unknown) => err instanceof CniError && /GC: WorkloadEndpoint/.test(err.message));
  assert.equal(w.handles.size, 0, 'both handles released despite the endpoint error');
});
