// A real allocator process is SIGKILLed between the CAS steps of a claim and an assign
// (after each of its writes in turn); a later run against the same etcd repairs or
// reuses what it left: no invariant broken, and after CNI DEL + GC `ipam check` is clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startEtcd } from '../support/etcd.js';
import { EtcdKV } from '../../src/datastore/etcd-kv.js';
import { checkIpam, isClean } from '../../src/ipam/check.js';
import { IpamGarbageCollector } from '../../src/ipam/gc.js';
import { IpamClient } from '../../src/ipam/ipam-client.js';
import { staticPoolSource } from '../../src/ipam/pools.js';
import { CRASH_POOLS, type CrashConfig } from './crash-worker.js';

const WORKER = fileURLToPath(new URL('./crash-worker.js', import.meta.url));

function run(cfg: CrashConfig): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WORKER, JSON.stringify(cfg)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code, signal) => resolve({ code, signal, out }));
  });
}

test('allocator killed after each write of claim+assign: a later run repairs or reuses the state', { timeout: 180_000 }, async () => {
  const etcd = await startEtcd();
  const kv = new EtcdKV({ endpoints: [etcd.endpoint] });
  try {
    // A fresh claim + assign of 2 IPv4 + 1 IPv6 makes 10 writes (3 claim + 2 assign, per family).
    const full = await run({ endpoint: etcd.endpoint, host: 'probe', handleId: 'probe', killAfterWrites: 1e9 });
    assert.equal(full.code, 0);
    const total = Number(/done after (\d+) writes/.exec(full.out)![1]);
    assert.ok(total >= 10, `claim+assign wrote ${total} times`);
    const client = new IpamClient({ kv, pools: staticPoolSource(CRASH_POOLS) });
    await client.releaseByHandle('probe');
    for (let k = 1; k < total; k++) {
      const host = `node-${k}`;
      const handleId = `crashed-${k}`;
      const r = await run({ endpoint: etcd.endpoint, host, handleId, killAfterWrites: k });
      assert.equal(r.signal, 'SIGKILL', `killed after write ${k}`);
      // Right after the crash: nothing inconsistent (an over-counted handle is allowed).
      assert.deepEqual(checkIpam(await client.snapshot()).inconsistencies, [], `after write ${k}`);
      // The restarted node on the same host allocates again, finishing or reusing its claim.
      const again = await client.autoAssign({ handleId: `again-${k}`, host, num4: 1, num6: 1 });
      const owner = await client.ownerOf(again.ipv4[0]!);
      assert.equal(owner.block?.affinity, `host:${host}`, 'the half-claimed block was finished and used, not leaked');
      // CNI DEL of the crashed ADD, then GC: clean.
      await client.releaseByHandle(handleId);
      await client.releaseByHandle(`again-${k}`);
    }
    const workloads = new Set<string>();
    const nodes = new Set(Array.from({ length: total }, (_, k) => `node-${k}`).concat('probe'));
    const gc = new IpamGarbageCollector(client, { owners: { owners: async () => ({ nodes, workloads }) }, gracePeriodMs: 1 });
    for (let t = 0; t < 3; t++) await gc.runRound(t * 10);
    const report = checkIpam(await client.snapshot(), { nodes, workloads });
    assert.ok(isClean(report), JSON.stringify(report));
    assert.equal(report.summary.allocated, 0);
    assert.equal(report.summary.handles, 0);
  } finally {
    await kv.close();
    await etcd.stop();
  }
});
