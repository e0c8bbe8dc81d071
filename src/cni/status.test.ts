import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newBlock } from '../ipam/block.js';
import { poolView } from '../ipam/pools.js';
import type { AllocationBlock } from '../ipam/model.js';
import { FakeCniWorld } from './fakes.js';
import { CniError } from './protocol.js';
import { cmdStatus, freeForHost } from './status.js';
import { conf, env } from './fixtures.test-support.js';

const CONFIG = { strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 0 };
const full = (cidr: string, host?: string): AllocationBlock => ({ ...newBlock(cidr, host ? { host } : {}), unallocated: [] });
const none = (): boolean => false;

test('freeForHost: own blocks, borrowable blocks, claimable blocks; strictAffinity and maxBlocksPerHost limit it', () => {
  const pool = poolView({ name: 'p', cidr: '198.18.0.0/29', blockSize: 30 }); // two /30 blocks of 4
  const pools = [pool];
  assert.equal(freeForHost({ host: 'h1', pools, blocks: [], config: CONFIG, isReserved: none }), 8n, 'two claimable blocks');
  const mine = newBlock('198.18.0.0/30', { host: 'h1' });
  assert.equal(freeForHost({ host: 'h1', pools, blocks: [mine], config: CONFIG, isReserved: none }), 8n, 'own block + one claimable');
  const theirs = full('198.18.0.4/30', 'h2');
  assert.equal(freeForHost({ host: 'h1', pools, blocks: [full('198.18.0.0/30', 'h1'), theirs], config: CONFIG, isReserved: none }), 0n, 'everything allocated');
  const theirsFree = newBlock('198.18.0.4/30', { host: 'h2' });
  assert.equal(freeForHost({ host: 'h1', pools, blocks: [full('198.18.0.0/30', 'h1'), theirsFree], config: CONFIG, isReserved: none }), 4n, 'borrowing');
  assert.equal(freeForHost({ host: 'h1', pools, blocks: [full('198.18.0.0/30', 'h1'), theirsFree], config: { ...CONFIG, strictAffinity: true }, isReserved: none }), 0n, 'no borrowing under strictAffinity');
  assert.equal(freeForHost({ host: 'h1', pools, blocks: [full('198.18.0.0/30', 'h1')], config: { ...CONFIG, maxBlocksPerHost: 1 }, isReserved: none }), 0n, 'at the block limit');
  assert.equal(freeForHost({ host: 'h1', pools, blocks: [mine], config: { ...CONFIG, autoAllocateBlocks: false }, isReserved: none }), 4n);
  assert.equal(freeForHost({ host: 'h1', pools, blocks: [mine], config: { ...CONFIG, autoAllocateBlocks: false }, isReserved: (ip) => ip !== '198.18.0.3' }), 1n, 'reserved addresses do not count');
  assert.equal(freeForHost({ host: 'h1', pools: [], blocks: [], config: CONFIG, isReserved: none }), 0n);
});

const statusOf = (w: FakeCniWorld, extra: Record<string, unknown> = {}, checkNode = true) => cmdStatus(w.ports(), { env: env('STATUS'), conf: conf(extra), node: 'host1', checkNode });
const code = (n: number, re: RegExp) => (err: unknown) => err instanceof CniError && err.code === n && re.test(err.message);

test('STATUS: ready when the datastore answers, the pools have room and the node is registered', async () => {
  await statusOf(new FakeCniWorld());
});

test('STATUS: 50 when ADD cannot be served (datastore down or not ready, pools full); 51 when this node never registered', async () => {
  const down = new FakeCniWorld();
  down.datastoreDown = true;
  await assert.rejects(statusOf(down), code(50, /datastore does not answer/));
  const notReady = new FakeCniWorld();
  notReady.datastoreReadyFlag = false;
  await assert.rejects(statusOf(notReady), code(50, /not ready/));
  const fullPool = new FakeCniWorld({ pool: ['198.18.0.1'] });
  await assert.rejects(statusOf(fullPool), code(50, /no free IPv6 address/));
  await statusOf(fullPool, { ipam: { type: 'calico-ipam' } });
  const unregistered = new FakeCniWorld();
  unregistered.nodes.clear();
  await assert.rejects(statusOf(unregistered), code(51, /Node host1 is not registered/));
  await statusOf(unregistered, {}, false);
});

test('STATUS: a delegated IPAM plugin is asked too, and its failure is ours (50)', async () => {
  const w = new FakeCniWorld();
  w.delegates.set('host-local', (command) => (command === 'STATUS' ? { exitCode: 1, stdout: JSON.stringify({ code: 50, msg: 'range full' }) } : { exitCode: 0, stdout: '' }));
  await assert.rejects(statusOf(w, { ipam: { type: 'host-local' } }), code(50, /host-local STATUS failed: range full/));
  assert.ok(w.ops.includes('exec.host-local STATUS'));
});
