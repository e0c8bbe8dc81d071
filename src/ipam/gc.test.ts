import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryKV } from '../datastore/memory-kv.js';
import { checkIpam, formatCheckReport, isClean, workloadKey, type OwnerIndex } from './check.js';
import { emptyGcState, IpamGarbageCollector, planGc } from './gc.js';
import { IpamClient } from './ipam-client.js';
import { poolView, staticPoolSource } from './pools.js';

const retry = { sleep: async () => {}, random: () => 0.5 };

async function world() {
  const kv = new MemoryKV();
  const client = new IpamClient({ kv, pools: staticPoolSource([poolView({ name: 'p', cidr: '192.0.2.0/24' }), poolView({ name: 'p6', cidr: '2001:db8::/120' })]), retry });
  const owners: OwnerIndex = { nodes: new Set(['n1', 'n2']), workloads: new Set() };
  const alloc = async (handle: string, host: string) => {
    owners.workloads.add(workloadKey('ns', handle));
    return client.autoAssign({ handleId: handle, host, num4: 1, num6: 1, attrs: { namespace: 'ns', workload: handle } });
  };
  const source = { owners: async () => ({ nodes: new Set(owners.nodes), workloads: new Set(owners.workloads) }) };
  return { kv, client, owners, alloc, source };
}

test('check reports workload-gone and node-gone leaks with their handle and sequence number', async () => {
  const w = await world();
  await w.alloc('a', 'n1');
  await w.alloc('b', 'n2');
  await w.alloc('c', 'n1');
  w.owners.workloads.delete(workloadKey('ns', 'a'));
  w.owners.nodes.delete('n2');
  const report = checkIpam(await w.client.snapshot(), w.owners);
  assert.deepEqual(report.leakedAddresses.map((l) => `${l.handleId}:${l.reason}`).sort(), ['a:workload-gone', 'a:workload-gone', 'b:node-gone', 'b:node-gone']);
  assert.ok(!isClean(report));
  const text = formatCheckReport(report);
  assert.match(text, /LEAKED +192\.0\.2\.\d+ \(handle a, node n1, workload ns\/a\): workload endpoint no longer exists/);
  assert.match(text, /Found 4 problem/);
  assert.ok(isClean(checkIpam(await w.client.snapshot(), { nodes: new Set(['n1', 'n2']), workloads: new Set(['ns/a', 'ns/b', 'ns/c']) })));
});

test('planGc releases a leak only when seen twice, a grace period apart, and forgets leaks that disappear', () => {
  const leak = { ip: '192.0.2.1', block: '192.0.2.0/26', handleId: 'h', sequenceNumber: 3, attrs: {}, reason: 'workload-gone' as const };
  const report = (leaks: (typeof leak)[]) => ({ ...checkIpam({ config: { strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 0 }, pools: [], reservedCidrs: [], blocks: [], affinities: [], handles: [] }), leakedAddresses: leaks });
  let plan = planGc(report([leak]), emptyGcState(), { now: 0, gracePeriodMs: 100 });
  assert.equal(plan.releaseLeaks.length, 0, 'first sighting');
  plan = planGc(report([leak]), plan.state, { now: 50, gracePeriodMs: 100 });
  assert.equal(plan.releaseLeaks.length, 0, 'second sighting inside the grace period');
  const gone = planGc(report([]), plan.state, { now: 120, gracePeriodMs: 100 });
  assert.equal(gone.releaseLeaks.length, 0);
  assert.deepEqual(gone.state.leaks, {}, 'a leak that disappears is forgotten');
  plan = planGc(report([leak]), plan.state, { now: 150, gracePeriodMs: 100 });
  assert.deepEqual(plan.releaseLeaks, [leak], 'seen 3 times over 150ms');
  const reallocated = planGc(report([{ ...leak, sequenceNumber: 9 }]), plan.state, { now: 300, gracePeriodMs: 100 });
  assert.equal(reallocated.releaseLeaks.length, 0, 'a re-allocated address is a new candidate');
});

test('GC: releases after the grace period, re-validates first, and releases empty blocks', async () => {
  const w = await world();
  const gc = new IpamGarbageCollector(w.client, { owners: w.source, gracePeriodMs: 1000 });
  const a = await w.alloc('a', 'n1');
  const keep = await w.alloc('keep', 'n1');
  w.owners.workloads.delete(workloadKey('ns', 'a'));
  assert.deepEqual((await gc.runRound(0)).releasedIps, []);
  assert.deepEqual((await gc.runRound(500)).releasedIps, []);
  const r = await gc.runRound(1000);
  assert.deepEqual(r.releasedIps.sort(), [...a.ipv4, ...a.ipv6].sort());
  assert.equal((await w.client.ownerOf(a.ipv4[0]!)).allocation, undefined);
  assert.equal((await w.client.ownerOf(keep.ipv4[0]!)).allocation?.handleId, 'keep', 'live workload untouched');
  // Re-validation: the workload comes back between sighting and release -> skipped.
  const b = await w.alloc('b', 'n2');
  w.owners.workloads.delete(workloadKey('ns', 'b'));
  await gc.runRound(2000);
  let calls = 0;
  const flapping = new IpamGarbageCollector(w.client, {
    // Calls: 1st round check, 2nd round check, then the re-validation (3rd) sees b back.
    owners: { owners: async () => ({ nodes: new Set(['n1', 'n2']), workloads: ++calls >= 3 ? new Set(['ns/b', 'ns/keep']) : new Set(['ns/keep']) }) },
    gracePeriodMs: 1000,
  });
  await flapping.runRound(2000);
  const r2 = await flapping.runRound(3500);
  assert.deepEqual(r2.releasedIps, []);
  assert.deepEqual(r2.skipped.sort(), [...b.ipv4, ...b.ipv6].sort());
  // Empty affine blocks go after the grace period.
  await w.client.releaseByHandle('b');
  await w.client.releaseByHandle('keep');
  await gc.runRound(4000);
  const r3 = await gc.runRound(5000);
  assert.ok(r3.releasedBlocks.length >= 2, JSON.stringify(r3));
  const snap = await w.client.snapshot();
  assert.equal(snap.blocks.length, 0);
  assert.equal(snap.affinities.length, 0);
});

test('GC never takes an address that was re-allocated after the report (sequence number)', async () => {
  const w = await world();
  const a = await w.alloc('a', 'n1');
  const report = checkIpam(await w.client.snapshot(), { nodes: new Set(['n1']), workloads: new Set() });
  const leak = report.leakedAddresses.find((l) => l.ip === a.ipv4[0])!;
  // Meanwhile: the owner releases it and a new workload gets the same handle and address back.
  await w.client.releaseByHandle('a');
  await w.client.assignIp({ ip: leak.ip, handleId: 'a', host: 'n1' });
  await assert.rejects(w.client.releaseIps([{ ip: leak.ip, handleId: 'a', sequenceNumber: leak.sequenceNumber }]), (e: unknown) => (e as { reason?: string }).reason === 'address-reallocated');
  assert.equal((await w.client.ownerOf(leak.ip)).allocation?.handleId, 'a');
});

test('GC drops a half claim (pending affinity, no block) instead of creating a block for a maybe-dead host', async () => {
  const w = await world();
  await w.client.store.createAffinity({ host: 'dead-node', cidr: '192.0.2.128/26' }, { state: 'pending', deleted: false });
  assert.equal(checkIpam(await w.client.snapshot()).danglingAffinities.length, 1);
  const gc = new IpamGarbageCollector(w.client, { owners: w.source, gracePeriodMs: 1000 });
  await gc.runRound(0);
  const snap = await w.client.snapshot();
  assert.equal(snap.affinities.length, 0);
  assert.equal(snap.blocks.length, 0, 'no block was created for the dead node');
});
