// Crash safety: an allocator "dies" right after its k-th write (every k of a scenario);
// a later run on the same store must repair or reuse what it left, never lose a block
// and never leave an address both free and in use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryKV } from '../datastore/memory-kv.js';
import type { KVStore } from '../datastore/kv.js';
import { checkIpam, isClean, workloadKey } from './check.js';
import { IpamGarbageCollector } from './gc.js';
import { IpamClient } from './ipam-client.js';
import { poolView, staticPoolSource } from './pools.js';

class Crash extends Error {}

/** Passes calls through until the `crashAfter`-th write has been applied, then every call throws. */
function crashingKv(kv: KVStore, crashAfter: number): { store: KVStore; writes: () => number } {
  let writes = 0;
  let dead = false;
  const guard = <T>(p: () => Promise<T>, isWrite: boolean): Promise<T> => {
    if (dead) return Promise.reject(new Crash('dead'));
    return p().then((v) => {
      if (isWrite && ++writes >= crashAfter) {
        dead = true;
        throw new Crash(`crashed after write ${writes}`);
      }
      return v;
    });
  };
  const store: KVStore = {
    get: (k) => guard(() => kv.get(k), false),
    list: (p) => guard(() => kv.list(p), false),
    create: (k, v) => guard(() => kv.create(k, v), true),
    update: (k, v, o) => guard(() => kv.update(k, v, o), true),
    delete: (k, o) => guard(() => kv.delete(k, o), true),
    watch: (p, r, h) => kv.watch(p, r, h),
    revision: () => kv.revision(),
    close: async () => {},
  };
  return { store, writes: () => writes };
}

const pools = () => staticPoolSource([poolView({ name: 'v4', cidr: '192.0.2.0/26', blockSize: 28 }), poolView({ name: 'v6', cidr: '2001:db8::/122', blockSize: 124 })]);
const retry = { sleep: async () => {}, random: () => 0.5 };

type Scenario = (c: IpamClient) => Promise<void>;
const scenarios: Record<string, Scenario> = {
  'claim and assign': async (c) => {
    await c.autoAssign({ handleId: 'crashed', host: 'n1', num4: 20, num6: 3, attrs: { namespace: 'ns', workload: 'crashed' } });
  },
  'release by handle': async (c) => {
    await c.releaseByHandle('pre');
  },
  'release host affinities': async (c) => {
    await c.releaseByHandle('pre');
    await c.releaseHostAffinities('n1', { requireEmpty: true });
  },
};

for (const [name, scenario] of Object.entries(scenarios)) {
  test(`crash during '${name}' after every write: a later run repairs or reuses the state`, async () => {
    // How many writes does the scenario make when nothing crashes?
    const probeKv = new MemoryKV();
    await new IpamClient({ kv: probeKv, pools: pools(), retry }).autoAssign({ handleId: 'pre', host: 'n1', num4: 5, num6: 1, attrs: { namespace: 'ns', workload: 'pre' } });
    const probe = crashingKv(probeKv, Infinity);
    await scenario(new IpamClient({ kv: probe.store, pools: pools(), retry }));
    const total = probe.writes();
    assert.ok(total >= 3, `${name} makes ${total} writes`);

    for (let k = 1; k <= total; k++) {
      const kv = new MemoryKV();
      const healthy = new IpamClient({ kv, pools: pools(), retry });
      await healthy.autoAssign({ handleId: 'pre', host: 'n1', num4: 5, num6: 1, attrs: { namespace: 'ns', workload: 'pre' } });
      const crashing = crashingKv(kv, k);
      await assert.rejects(scenario(new IpamClient({ kv: crashing.store, pools: pools(), retry })), Crash);
      // Right after the crash: never an address both free and in use, never a lost ordinal.
      const after = checkIpam(await healthy.snapshot());
      assert.deepEqual(after.inconsistencies, [], `${name}, crash after write ${k}`);
      // The restarted node allocates again (reusing/finishing the half-claimed block)...
      const again = await healthy.autoAssign({ handleId: 'again', host: 'n1', num4: 2, num6: 1, attrs: { namespace: 'ns', workload: 'again' } });
      assert.equal(again.ipv4.length, 2);
      // ...and CNI DEL of the crashed ADD plus GC leave IPAM clean.
      await healthy.releaseByHandle('crashed');
      const live = await healthy.snapshot();
      const workloads = new Set<string>();
      for (const h of live.handles) workloads.add(workloadKey('ns', h.value.handleID));
      const gc = new IpamGarbageCollector(healthy, { owners: { owners: async () => ({ nodes: new Set(['n1']), workloads }) }, gracePeriodMs: 1 });
      for (let t = 0; t < 3; t++) await gc.runRound(t * 10);
      const report = checkIpam(await healthy.snapshot(), { nodes: new Set(['n1']), workloads });
      assert.ok(isClean(report), `${name}, crash after write ${k}: ${JSON.stringify({ ...report, borrowed: undefined })}`);
      // No block lost: every address is free or owned by a live handle.
      const sizes = report.summary.allocated;
      const expected = (await healthy.snapshot()).handles.reduce((n, h) => n + Object.values(h.value.block).reduce((a, b) => a + b, 0), 0);
      assert.equal(sizes, expected);
    }
  });
}
