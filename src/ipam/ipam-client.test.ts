import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryKV } from '../datastore/memory-kv.js';
import { isCalicoError } from '../base/errors.js';
import { checkIpam, isClean } from './check.js';
import { isIpamError } from './errors.js';
import { IpamClient } from './ipam-client.js';
import { affinityKey, blockKey, handleKey } from './model.js';
import { poolView, staticPoolSource } from './pools.js';

const noWait = { sleep: async () => {}, random: () => 0.5 };

function setup(opts: { pools?: ReturnType<typeof poolView>[]; reserved?: string[] } = {}) {
  const kv = new MemoryKV();
  const source = staticPoolSource(opts.pools ?? [poolView({ name: 'v4', cidr: '192.0.2.0/24' }), poolView({ name: 'v6', cidr: '2001:db8::/120' })], opts.reserved ?? []);
  const client = new IpamClient({ kv, pools: source, retry: noWait, now: () => new Date('2026-01-01T00:00:00Z') });
  return { kv, source, client };
}

async function dump(kv: MemoryKV): Promise<string> {
  return JSON.stringify((await kv.list('/calico/ipam/')).pairs.map((p) => [p.key, p.value]));
}

test('autoAssign claims a block per family, confirms the affinity and records the handle', async () => {
  const { kv, client } = setup();
  const r = await client.autoAssign({ handleId: 'h1', host: 'node-a', num4: 2, num6: 1, attrs: { namespace: 'ns', workload: 'w1' } });
  assert.equal(r.ipv4.length, 2);
  assert.equal(r.ipv6.length, 1);
  const own = await client.store.listAffinities('node-a');
  assert.deepEqual(own.map((a) => a.value.state), ['confirmed', 'confirmed']);
  const handle = JSON.parse((await kv.get(handleKey('h1')))!.value);
  assert.equal(Object.values(handle.block).reduce((a: number, b) => a + (b as number), 0), 3);
  const owner = await client.ownerOf(r.ipv4[0]!);
  assert.equal(owner.allocation?.handleId, 'h1');
  assert.equal(owner.allocation?.attrs['node'], 'node-a');
  assert.ok(isClean(checkIpam(await client.snapshot())));
});

test('a host fills its own block before claiming another; maxBlocksPerHost then borrowing', async () => {
  const { client } = setup({ pools: [poolView({ name: 'p', cidr: '192.0.2.0/26', blockSize: 28 })] });
  await client.setConfig({ maxBlocksPerHost: 1 });
  const a = await client.autoAssign({ handleId: 'a', host: 'a', num4: 16 });
  assert.equal(new Set(a.ipv4.map((ip) => ip.split('.')[3]!.length)).size >= 1, true);
  assert.equal((await client.store.listAffinities('a')).length, 1, 'one block, filled');
  await client.autoAssign({ handleId: 'b', host: 'b', num4: 1 });
  const borrowed = await client.autoAssign({ handleId: 'a2', host: 'a', num4: 1 });
  const owner = await client.ownerOf(borrowed.ipv4[0]!);
  assert.equal(owner.block?.affinity, 'host:b', 'borrowed from b: a is at maxBlocksPerHost');
  assert.equal(checkIpam(await client.snapshot()).borrowed.length, 1);
  await client.setConfig({ strictAffinity: true });
  await assert.rejects(client.autoAssign({ handleId: 'a3', host: 'a', num4: 1 }), (e) => isIpamError(e, 'pool-exhausted'));
});

test('bad requests fail with a typed error and change nothing', async () => {
  const { kv, client } = setup({ pools: [poolView({ name: 'p', cidr: '192.0.2.0/30', blockSize: 30 }), poolView({ name: 'off', cidr: '198.51.100.0/24', disabled: true })] });
  await client.autoAssign({ handleId: 'h', host: 'n', num4: 2 });
  const before = await dump(kv);
  const cases: [string, () => Promise<unknown>, string][] = [
    ['disabled pool', () => client.autoAssign({ handleId: 'x', host: 'n', num4: 1, pools4: ['198.51.100.0/24'] }), 'pool-disabled'],
    ['nonexistent pool', () => client.autoAssign({ handleId: 'x', host: 'n', num4: 1, pools4: ['10.0.0.0/8'] }), 'pool-not-found'],
    ['full pool', () => client.autoAssign({ handleId: 'x', host: 'n', num4: 3 }), 'pool-exhausted'],
    ['no v6 pool', () => client.autoAssign({ handleId: 'x', host: 'n', num6: 1 }), 'pool-exhausted'],
    ['v4 fits but no v6 pool', () => client.autoAssign({ handleId: 'x', host: 'n', num4: 1, num6: 1 }), 'pool-exhausted'],
    ['release a free address', () => client.releaseIps([{ ip: '192.0.2.3' }]), 'address-not-allocated'],
    ['release a foreign address', () => client.releaseIps([{ ip: '192.0.2.0', handleId: 'someone-else' }]), 'address-owned-by-other'],
    ['release outside pools', () => client.releaseIps([{ ip: '203.0.113.9' }]), 'address-not-in-pool'],
    ['half-bad batch', () => client.releaseIps([{ ip: '192.0.2.0' }, { ip: '192.0.2.3' }]), 'address-not-allocated'],
    ['assign a taken address', () => client.assignIp({ ip: '192.0.2.1', handleId: 'y', host: 'n' }), 'address-in-use'],
    ['assign in a disabled pool', () => client.assignIp({ ip: '198.51.100.7', handleId: 'y', host: 'n' }), 'pool-disabled'],
  ];
  for (const [name, run, reason] of cases) {
    await assert.rejects(run(), (e) => isIpamError(e, reason as never), name);
    assert.equal(await dump(kv), before, `${name}: no state change`);
  }
  await assert.rejects(client.autoAssign({ handleId: 'bad/handle', host: 'n', num4: 1 }), (e) => isCalicoError(e, 'validation'));
});

test('reserved addresses are never handed out; assignIp refuses them', async () => {
  const { client } = setup({ pools: [poolView({ name: 'p', cidr: '192.0.2.0/29', blockSize: 29 })], reserved: ['192.0.2.0/30', '192.0.2.6'] });
  const r = await client.autoAssign({ handleId: 'h', host: 'n', num4: 3 });
  assert.deepEqual(r.ipv4.sort(), ['192.0.2.4', '192.0.2.5', '192.0.2.7']);
  await assert.rejects(client.autoAssign({ handleId: 'h2', host: 'n', num4: 1 }), (e) => isIpamError(e, 'pool-exhausted'));
  await assert.rejects(client.assignIp({ ip: '192.0.2.1', handleId: 'h3', host: 'n' }), (e) => isIpamError(e, 'address-reserved'));
});

test('releaseByHandle frees all of a handle, deletes it, and is idempotent', async () => {
  const { kv, client } = setup();
  const r = await client.autoAssign({ handleId: 'h', host: 'n', num4: 3, num6: 2 });
  await client.autoAssign({ handleId: 'other', host: 'n', num4: 1 });
  const released = await client.releaseByHandle('h');
  assert.equal(released.length, 5);
  assert.equal(await kv.get(handleKey('h')), undefined);
  assert.deepEqual(await client.releaseByHandle('h'), []);
  assert.equal((await client.ownerOf(r.ipv4[0]!)).allocation, undefined);
  assert.equal((await client.snapshot()).blocks.reduce((n, b) => n + b.value.allocations.filter((a) => a !== null).length, 0), 1);
  // Freed ordinals go to the back of the free list: never-used addresses come first.
  const again = await client.autoAssign({ handleId: 'h4', host: 'n', num4: 1 });
  assert.ok(!released.some((a) => a.ip === again.ipv4[0]));
});

test('assignIp claims the block for the host when nobody has', async () => {
  const { kv, client } = setup();
  await client.assignIp({ ip: '192.0.2.200', handleId: 'static', host: 'n9' });
  assert.ok(await kv.get(blockKey('192.0.2.192/26')));
  assert.ok(await kv.get(affinityKey('n9', '192.0.2.192/26')));
  assert.equal((await client.ownerOf('192.0.2.200')).allocation?.handleId, 'static');
});

test('releaseHostAffinities: empty blocks deleted, non-empty orphaned and reported', async () => {
  const { client } = setup({ pools: [poolView({ name: 'p', cidr: '192.0.2.0/24', blockSize: 28 })] });
  await client.autoAssign({ handleId: 'h', host: 'n', num4: 17 });
  const h2 = await client.autoAssign({ handleId: 'h2', host: 'n', num4: 15 }); // fills the second block
  await client.releaseByHandle('h');
  const out = await client.releaseHostAffinities('n', { requireEmpty: false });
  assert.equal(out.released.length, 2);
  const report = checkIpam(await client.snapshot());
  assert.equal(report.blocksWithoutAffinity.length, 1, 'the block still holding h2 is orphaned, not lost');
  assert.equal(report.blocksWithoutAffinity[0]!.allocated, 15);
  // A later claim adopts the orphaned block when the pool has no other free block.
  assert.ok(h2.ipv4.length === 15);
});

test('CAS retries are counted when another writer interferes', async () => {
  const { kv, client } = setup();
  await client.autoAssign({ handleId: 'h', host: 'n', num4: 1 });
  const other = new IpamClient({ kv, pools: staticPoolSource([poolView({ name: 'v4', cidr: '192.0.2.0/24' })]), retry: noWait });
  await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? client : other).autoAssign({ handleId: `c${i}`, host: 'n', num4: 1 })));
  assert.ok(client.stats.casRetries + other.stats.casRetries > 0);
  assert.ok(isClean(checkIpam(await client.snapshot())));
});

test('autoAllocateBlocks false: no new block is claimed; a host with a block still allocates from it', async () => {
  const { kv, client } = setup({ pools: [poolView({ name: 'p', cidr: '192.0.2.0/26', blockSize: 28 })] });
  await client.autoAssign({ handleId: 'a', host: 'a', num4: 1 });
  await client.setConfig({ autoAllocateBlocks: false, strictAffinity: true });
  const before = await dump(kv);
  await assert.rejects(client.autoAssign({ handleId: 'b', host: 'b', num4: 1 }), (e) => isIpamError(e, 'pool-exhausted'));
  assert.equal(await dump(kv), before, 'the refused allocation claimed nothing');
  const more = await client.autoAssign({ handleId: 'a2', host: 'a', num4: 1 });
  assert.equal((await client.ownerOf(more.ipv4[0]!)).block?.affinity, 'host:a');
});
