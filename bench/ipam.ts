// IPAM benchmark (not a test: prints numbers, asserts nothing).
//   allocations/s for one host (one process) and for 8 contending hosts (8 processes)
//   against a private etcd, plus the CAS retries they needed; the same with a tight
//   pool that forces borrowing (hosts write each other's blocks); and the in-memory
//   KV from one process as a floor. Prints a table and writes bench/results/ipam.json.
// Run: npm run build && node dist/bench/ipam.js [--allocs 300]
import { cpus } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { MemoryKV } from '../src/datastore/memory-kv.js';
import { EtcdKV } from '../src/datastore/etcd-kv.js';
import { IpamClient } from '../src/ipam/ipam-client.js';
import { claimBlock } from '../src/ipam/affinity-flows.js';
import { formatCIDR } from '../src/base/ip.js';
import { blockCount, nthBlock, parseCidr } from '../src/ipam/cidr-math.js';
import { poolView, staticPoolSource } from '../src/ipam/pools.js';
import { startEtcd } from '../test/support/etcd.js';
import type { WorkerConfig, WorkerResult } from '../test/ipam/contention-worker.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const ALLOCS = arg('allocs', 300);
const WORKER = fileURLToPath(new URL('../test/ipam/contention-worker.js', import.meta.url));

function runWorker(cfg: WorkerConfig): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, JSON.stringify(cfg)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as WorkerResult) : reject(new Error(`worker ${cfg.host}: ${err}`))));
  });
}

interface Row {
  scenario: string;
  processes: number;
  allocations: number;
  seconds: number;
  allocationsPerSecond: number;
  casRetries: number;
  retriesPerAllocation: number;
  exhausted: number;
}

async function etcdScenario(name: string, hosts: number, opts: { pools?: WorkerConfig['pools']; maxBlocksPerHost?: number; donorClaimsAll?: boolean }): Promise<Row> {
  const etcd = await startEtcd();
  try {
    if (opts.donorClaimsAll && opts.pools) {
      // Worst case: one "donor" host holds every block, so all 8 hosts borrow from the
      // same blocks in the same order and their CAS writes collide.
      const kv = new EtcdKV({ endpoints: [etcd.endpoint] });
      const donor = new IpamClient({ kv, pools: staticPoolSource(opts.pools.map((p) => poolView(p))) });
      for (const p of opts.pools) {
        const pc = parseCidr(p.cidr);
        for (let i = 0n; i < blockCount(pc, p.blockSize!); i++) {
          await claimBlock(donor.store, { host: 'donor', cidr: formatCIDR(nthBlock(pc, { blockSize: p.blockSize!, index: i })), now: new Date().toISOString(), strictAffinity: false });
        }
      }
      await kv.close();
    }
    if (opts.maxBlocksPerHost) {
      const kv = new EtcdKV({ endpoints: [etcd.endpoint] });
      await new IpamClient({ kv, pools: staticPoolSource([]) }).setConfig({ maxBlocksPerHost: opts.maxBlocksPerHost });
      await kv.close();
    }
    const start = performance.now();
    const results = await Promise.all(
      Array.from({ length: hosts }, (_, i) =>
        runWorker({ endpoint: etcd.endpoint, host: `bench-${i}`, operations: ALLOCS, allocateRatio: 1, ipv6Every: 0, seed: 7 + i, ...(opts.pools ? { pools: opts.pools } : {}) }),
      ),
    );
    const seconds = (performance.now() - start) / 1000;
    const allocations = results.reduce((n, r) => n + r.allocations, 0);
    const casRetries = results.reduce((n, r) => n + r.casRetries, 0);
    return {
      scenario: name,
      processes: hosts,
      allocations,
      seconds: round(seconds),
      allocationsPerSecond: round(allocations / seconds),
      casRetries,
      retriesPerAllocation: round(casRetries / Math.max(1, allocations), 3),
      exhausted: results.reduce((n, r) => n + r.exhausted, 0),
    };
  } finally {
    await etcd.stop();
  }
}

async function memoryScenario(): Promise<Row> {
  const kv = new MemoryKV();
  const client = new IpamClient({ kv, pools: staticPoolSource([poolView({ name: 'v4', cidr: '198.18.0.0/16' })]) });
  const n = ALLOCS * 8;
  const start = performance.now();
  for (let i = 0; i < n; i++) await client.autoAssign({ handleId: `m${i}`, host: `host-${i % 8}`, num4: 1 });
  const seconds = (performance.now() - start) / 1000;
  return { scenario: 'in-memory KV, 8 hosts, 1 process', processes: 1, allocations: n, seconds: round(seconds), allocationsPerSecond: round(n / seconds), casRetries: client.stats.casRetries, retriesPerAllocation: 0, exhausted: 0 };
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

// Just enough room for 8 x 300 addresses in /28 blocks: once every block is claimed,
// hosts borrow the last free addresses from each other's blocks.
const tight = [
  { name: 'a', cidr: '198.18.0.0/21', blockSize: 28 },
  { name: 'b', cidr: '198.18.8.0/24', blockSize: 28 },
  { name: 'c', cidr: '198.18.9.0/25', blockSize: 28 },
];
const rows: Row[] = [];
const roomy = [{ name: 'v4', cidr: '198.18.0.0/16', blockSize: 26 }];
rows.push(await etcdScenario('etcd, 1 host', 1, { pools: roomy }));
rows.push(await etcdScenario('etcd, 8 contending hosts', 8, { pools: roomy }));
rows.push(await etcdScenario('etcd, 8 hosts, tight pool, borrowing', 8, { pools: tight }));
rows.push(await etcdScenario('etcd, 8 hosts all borrowing from 1 donor', 8, { pools: [{ name: 'v4', cidr: '198.18.0.0/20', blockSize: 26 }], donorClaimsAll: true }));
rows.push(await memoryScenario());

const headings = ['scenario', 'procs', 'allocs', 'seconds', 'allocs/s', 'CAS retries', 'retries/alloc', 'exhausted'];
const table = [headings, ...rows.map((r) => [r.scenario, r.processes, r.allocations, r.seconds, r.allocationsPerSecond, r.casRetries, r.retriesPerAllocation, r.exhausted].map(String))];
const widths = headings.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
for (const row of table) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version };
console.log(`\nmachine: ${machine.cpus} x ${machine.cpuModel}, node ${machine.node}; ${ALLOCS} allocations per host, one IPv4 address each`);
const dir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}ipam.json`, JSON.stringify({ date: new Date().toISOString(), machine, allocsPerHost: ALLOCS, rows }, null, 2) + '\n');
