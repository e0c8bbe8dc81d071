// Property tests: random interleaved sequences of claim/allocate/release/GC across hosts,
// on the in-memory KV (real CAS conflicts happen: operations of a batch run concurrently).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryKV } from '../datastore/memory-kv.js';
import { checkIpam, workloadKey, type OwnerIndex } from './check.js';
import { isIpamError } from './errors.js';
import { seededRandom } from '../base/prng.js';
import { IpamGarbageCollector } from './gc.js';
import { IpamClient } from './ipam-client.js';
import { poolView, reservedMatcher, staticPoolSource } from './pools.js';

const prng = seededRandom;

const exercised = { gcReleased: 0, exhausted: 0, borrowed: 0 };

async function runScenario(seed: number): Promise<void> {
  const rnd = prng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const kv = new MemoryKV();
  const reserved = ['192.0.2.5', '192.0.2.32/30', '2001:db8::7'];
  const isReserved = reservedMatcher(reserved);
  const source = staticPoolSource([poolView({ name: 'v4', cidr: '192.0.2.0/26', blockSize: 28 }), poolView({ name: 'v6', cidr: '2001:db8::/122', blockSize: 124 })], reserved);
  const hosts = ['h1', 'h2', 'h3', 'h4'];
  const clients = new Map(hosts.map((h) => [h, new IpamClient({ kv, pools: source, retry: { sleep: async () => {}, random: rnd } })]));
  const admin = new IpamClient({ kv, pools: source, retry: { sleep: async () => {}, random: rnd } });
  await admin.setConfig({ strictAffinity: rnd() < 0.3, maxBlocksPerHost: pick([0, 0, 2, 3]) });
  const owners: OwnerIndex = { nodes: new Set(hosts), workloads: new Set() };
  const gc = new IpamGarbageCollector(admin, { owners: { owners: async () => ({ nodes: new Set(owners.nodes), workloads: new Set(owners.workloads) }) }, gracePeriodMs: 10 });
  const model = new Map<string, string>(); // ip -> handle (the truth the test keeps)
  let now = 0;
  let nextHandle = 0;
  const busy = new Set<string>(); // handles an operation of the running batch already touches

  const ops: Record<string, () => Promise<void>> = {
    allocate: async () => {
      const host = pick(hosts);
      const handleId = `w${nextHandle++}`;
      owners.workloads.add(workloadKey('ns', handleId));
      try {
        const r = await clients.get(host)!.autoAssign({ handleId, host, num4: Math.floor(rnd() * 4), num6: Math.floor(rnd() * 3), attrs: { namespace: 'ns', workload: handleId } });
        for (const ip of [...r.ipv4, ...r.ipv6]) {
          assert.ok(!model.has(ip), `${ip} handed out twice (to ${model.get(ip)} and ${handleId})`);
          assert.ok(!isReserved(ip), `reserved ${ip} handed out`);
          model.set(ip, handleId);
        }
      } catch (err) {
        if (!isIpamError(err, 'pool-exhausted')) throw err;
        exercised.exhausted++;
      }
    },
    releaseHandle: async () => {
      const handles = [...new Set(model.values())].filter((h) => !busy.has(h));
      if (handles.length === 0) return;
      const h = pick(handles);
      busy.add(h);
      for (const [ip, owner] of model) if (owner === h) model.delete(ip);
      await admin.releaseByHandle(h);
    },
    releaseOne: async () => {
      const ips = [...model.keys()].filter((ip) => !busy.has(model.get(ip)!));
      if (ips.length === 0) return;
      const ip = pick(ips);
      const handleId = model.get(ip)!;
      busy.add(handleId);
      model.delete(ip);
      await admin.releaseIps([{ ip, handleId }]);
    },
    leakWorkload: async () => {
      const handles = [...new Set(model.values())];
      if (handles.length > 0) owners.workloads.delete(workloadKey('ns', pick(handles)));
    },
    gc: async () => {
      now += 7;
      const r = await gc.runRound(now);
      exercised.gcReleased += r.releasedIps.length;
      for (const ip of r.releasedIps) {
        assert.ok(!owners.workloads.has(workloadKey('ns', model.get(ip) ?? '')), `GC released ${ip} of a live workload`);
        model.delete(ip);
      }
    },
  };
  const weights: [string, number][] = [['allocate', 5], ['releaseHandle', 2], ['releaseOne', 1], ['leakWorkload', 1], ['gc', 1]];
  const total = weights.reduce((n, [, w]) => n + w, 0);
  const draw = (): string => {
    let x = rnd() * total;
    for (const [name, w] of weights) if ((x -= w) < 0) return name;
    return 'allocate';
  };
  for (let batch = 0; batch < 60; batch++) {
    const names = Array.from({ length: 1 + Math.floor(rnd() * 4) }, draw);
    // GC runs alone: the model cannot know which of a concurrent release and GC wins.
    const run = names.includes('gc') ? ['gc'] : names;
    busy.clear();
    await Promise.all(run.map((n) => ops[n]!()));
    const snap = await admin.snapshot();
    const report = checkIpam(snap);
    assert.deepEqual(report.inconsistencies, [], `seed ${seed} batch ${batch}`);
    assert.deepEqual(report.reservedInUse, []);
    const stored = new Map<string, string>();
    for (const b of snap.blocks) {
      b.value.allocations.forEach((a, o) => {
        if (a === null) return;
        const c = b.value.cidr.split('/')[0]!;
        stored.set(`${c}#${o}`, b.value.attributes[a]!.handle_id!);
      });
    }
    assert.equal(stored.size, model.size, `seed ${seed} batch ${batch}: counts consistent`);
    assert.equal(report.summary.allocated, model.size);
    exercised.borrowed = Math.max(exercised.borrowed, report.borrowed.length);
    for (const [ip, h] of model) assert.equal((await admin.ownerOf(ip)).allocation?.handleId, h, `${ip} owned by ${h}`);
  }
  // Release everything: the store must come back clean (no handles left).
  for (const h of new Set(model.values())) await admin.releaseByHandle(h);
  const end = checkIpam(await admin.snapshot());
  assert.equal(end.summary.allocated, 0);
  assert.equal(end.summary.handles, 0);
}

test('property: random interleaved claim/allocate/release/GC across 4 hosts keep every invariant', async () => {
  for (let seed = 1; seed <= 12; seed++) await runScenario(seed);
  // The runs must have reached the interesting paths, or the properties say little.
  assert.ok(exercised.gcReleased > 0, 'GC released leaks');
  assert.ok(exercised.exhausted > 0, 'pools ran full');
  assert.ok(exercised.borrowed > 0, 'hosts borrowed');
});
