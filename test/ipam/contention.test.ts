// 8 real node processes, each posing as a different host, allocate and release
// concurrently against one real etcd. At the end: no address held twice, the store
// holds exactly what the workers hold (no leak), and `ipam check` is clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startEtcd } from '../support/etcd.js';
import { EtcdKV } from '../../src/datastore/etcd-kv.js';
import { IpamClient } from '../../src/ipam/ipam-client.js';
import { checkIpam, isClean, workloadKey } from '../../src/ipam/check.js';
import { staticPoolSource } from '../../src/ipam/pools.js';
import { CONTENTION_POOLS, type WorkerConfig, type WorkerResult } from './contention-worker.js';

const WORKER = fileURLToPath(new URL('./contention-worker.js', import.meta.url));

export function runWorker(cfg: WorkerConfig): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, JSON.stringify(cfg)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as WorkerResult) : reject(new Error(`worker ${cfg.host} exited ${code}: ${err}`))));
  });
}

test('8 processes contending for one etcd: no duplicate, no leak, ipam check clean', { timeout: 300_000 }, async () => {
  const etcd = await startEtcd();
  const kv = new EtcdKV({ endpoints: [etcd.endpoint] });
  try {
    const admin = new IpamClient({ kv, pools: staticPoolSource(CONTENTION_POOLS) });
    // Busy hosts (allocateRatio 0.9) hold ~256 addresses, more than their 24 blocks of 8:
    // once they cannot claim more they borrow from the quiet hosts' blocks.
    await admin.setConfig({ maxBlocksPerHost: 24 });
    const hosts = Array.from({ length: 8 }, (_, i) => `host-${i}`);
    const results = await Promise.all(
      hosts.map((host, i) => runWorker({ endpoint: etcd.endpoint, host, operations: 340, allocateRatio: 0.65 + (0.25 * i) / 7, ipv6Every: 4, seed: 1000 + i })),
    );
    const owner = new Map<string, string>();
    for (const r of results) {
      assert.ok(r.allocations >= 200, `${r.host} made ${r.allocations} allocations`);
      for (const [handle, ips] of Object.entries(r.live)) {
        for (const ip of ips) {
          assert.ok(!owner.has(ip), `${ip} held by both ${owner.get(ip)} and ${handle}`);
          owner.set(ip, handle);
        }
      }
    }
    const client = new IpamClient({ kv, pools: staticPoolSource(CONTENTION_POOLS) });
    const snap = await client.snapshot();
    const stored = new Map<string, string>();
    for (const b of snap.blocks) {
      for (const [o, a] of b.value.allocations.entries()) {
        if (a === null) continue;
        const ip = (await import('../../src/ipam/block.js')).ipOfOrdinal(b.value, o);
        stored.set(ip, b.value.attributes[a]!.handle_id!);
      }
    }
    assert.equal(stored.size, owner.size, 'store holds exactly what the workers hold');
    for (const [ip, handle] of owner) assert.equal(stored.get(ip), handle, ip);
    const workloads = new Set([...owner.values()].map((h) => workloadKey('bench', h)));
    const report = checkIpam(snap, { nodes: new Set(hosts), workloads });
    assert.ok(isClean(report), JSON.stringify(report.summary));
    assert.ok(report.borrowed.length > 0, 'the pool was tight enough to make hosts borrow');
    assert.equal(snap.handles.length, new Set(owner.values()).size);
    const retries = results.reduce((n, r) => n + r.casRetries, 0);
    console.log(`# contention: ${results.reduce((n, r) => n + r.allocations, 0)} allocations, ${results.reduce((n, r) => n + r.releases, 0)} releases, ${retries} CAS retries, ${results.reduce((n, r) => n + r.exhausted, 0)} exhausted, ${snap.blocks.length} blocks, ${report.borrowed.length} borrowed`);
  } finally {
    await kv.close();
    await etcd.stop();
  }
});
