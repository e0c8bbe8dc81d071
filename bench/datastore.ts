// Datastore benchmark (not a test: prints numbers, asserts nothing).
//   creates/s and updates/s against a private etcd from one client, sequential
//   and with N requests in flight; watch latency (write issued -> event
//   delivered) p50/p99 with 10k resources stored; the same for the in-memory
//   backend as a floor. Prints a table and writes bench/results/datastore.json.
// Run: npm run build && node dist/bench/datastore.js [--stored 10000] [--ops 2000] [--inflight 16]
import { cpus } from 'node:os';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { Resource } from '../src/api/resource.js';
import type { Datastore, WatchEvent } from '../src/datastore/datastore.js';
import { EtcdKV } from '../src/datastore/etcd-kv.js';
import { MemoryKV } from '../src/datastore/memory-kv.js';
import { ResourceStore } from '../src/datastore/resource-store.js';
import { startEtcd } from '../test/support/etcd.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const STORED = arg('stored', 10_000);
const OPS = arg('ops', 2_000);
const INFLIGHT = arg('inflight', 16);
const LATENCY_SAMPLES = arg('samples', 1_000);

const wep = (name: string, i: number): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'WorkloadEndpoint',
  metadata: { name, namespace: 'bench', labels: { app: `app-${i % 50}`, 'projectcalico.org/namespace': 'bench' } },
  spec: {
    node: `node-${i % 100}`,
    orchestrator: 'k8s',
    workload: `pod-${i}`,
    endpoint: 'eth0',
    interfaceName: `cali${String(i).padStart(11, '0')}`,
    ipNetworks: [`198.18.${(i >> 8) & 255}.${i & 255}/32`],
    profiles: ['kns.bench'],
  },
});

/** Runs `count` operations with at most `inflight` outstanding; returns ops/s. */
async function rate(count: number, inflight: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (next < count) await op(next++);
    }),
  );
  return count / ((performance.now() - start) / 1000);
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

interface BackendResult {
  backend: string;
  createsPerSecSequential: number;
  createsPerSecInflight: number;
  updatesPerSecSequential: number;
  updatesPerSecInflight: number;
  storedForWatch: number;
  initialSyncMs: number;
  watchLatencyP50Ms: number;
  watchLatencyP99Ms: number;
  watchLatencyMaxMs: number;
}

async function measure(backend: string, ds: Datastore): Promise<BackendResult> {
  const half = Math.floor(OPS / 2);
  const createsSeq = await rate(half, 1, (i) => ds.create(wep(`seq-${i}`, i)));
  const createsPar = await rate(half, INFLIGHT, (i) => ds.create(wep(`par-${i}`, i)));
  // Updates as a controller does them: CAS on the version it holds (one round trip).
  const held: Resource[] = (await ds.list({ kind: 'WorkloadEndpoint', namespace: 'bench', namePrefix: 'seq-' })).items;
  const bump = async (i: number): Promise<void> => {
    const r = held[i % held.length]!;
    held[i % held.length] = await ds.update({ ...r, metadata: { ...r.metadata, labels: { ...r.metadata.labels, gen: String(i) } } });
  };
  const updatesSeq = await rate(half, 1, bump);
  const updatesPar = await rate(Math.min(half, held.length), Math.min(INFLIGHT, held.length), bump);
  // Fill up to STORED resources, then watch them all.
  const have = 2 * half;
  await rate(Math.max(0, STORED - have), INFLIGHT, (i) => ds.create(wep(`fill-${i}`, have + i)));
  const pending = new Map<string, number>();
  const latencies: number[] = [];
  let inSync = 0;
  const syncStart = performance.now();
  let initialSyncMs = 0;
  const w = ds.watch(
    { kinds: ['WorkloadEndpoint'] },
    {
      onEvents: (events: WatchEvent[]) => {
        const now = performance.now();
        for (const e of events) {
          if (e.type === 'deleted') continue;
          const t0 = pending.get(`${e.resource.metadata.name}/${e.resource.metadata.labels?.gen}`);
          if (t0 !== undefined) latencies.push(now - t0);
        }
      },
      onInSync: () => {
        inSync++;
        initialSyncMs = performance.now() - syncStart;
      },
    },
  );
  while (inSync === 0) await new Promise((r) => setTimeout(r, 5));
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const r = held[i % held.length]!;
    const gen = `lat-${i}`;
    pending.set(`${r.metadata.name}/${gen}`, performance.now());
    held[i % held.length] = await ds.update({ ...r, metadata: { ...r.metadata, labels: { ...r.metadata.labels, gen } } });
  }
  const deadline = Date.now() + 30_000;
  while (latencies.length < LATENCY_SAMPLES && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  w.stop();
  const sorted = [...latencies].sort((a, b) => a - b);
  const stored = (await ds.list({ kind: 'WorkloadEndpoint' })).items.length;
  return {
    backend,
    createsPerSecSequential: createsSeq,
    createsPerSecInflight: createsPar,
    updatesPerSecSequential: updatesSeq,
    updatesPerSecInflight: updatesPar,
    storedForWatch: stored,
    initialSyncMs,
    watchLatencyP50Ms: pct(sorted, 50),
    watchLatencyP99Ms: pct(sorted, 99),
    watchLatencyMaxMs: sorted[sorted.length - 1] ?? NaN,
  };
}

function machine(): Record<string, string | number> {
  let model = 'unknown';
  try {
    model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
  } catch {
    /* not Linux */
  }
  let etcdVersion = 'unknown';
  try {
    etcdVersion = /etcd Version: (\S+)/.exec(execFileSync('etcd', ['--version'], { encoding: 'utf8' }))?.[1] ?? etcdVersion;
  } catch {
    /* reported as unknown */
  }
  return { nproc: cpus().length, cpuModel: model, node: process.version, etcd: etcdVersion };
}

async function main(): Promise<void> {
  const results: BackendResult[] = [];
  const etcd = await startEtcd();
  try {
    const ds = new ResourceStore(new EtcdKV({ endpoints: [etcd.endpoint] }));
    results.push(await measure('etcd (JSON gateway, 1 client)', ds));
    await ds.close();
  } finally {
    await etcd.stop();
  }
  const mem = new ResourceStore(new MemoryKV());
  results.push(await measure('memory', mem));
  await mem.close();

  const m = machine();
  const f = (n: number): string => (Number.isFinite(n) ? n.toFixed(n >= 100 ? 0 : 2) : '-');
  console.log(`machine: ${m.nproc} x ${m.cpuModel}; node ${m.node}; etcd ${m.etcd}`);
  console.log(`ops per phase: ${Math.floor(OPS / 2)}; in flight: ${INFLIGHT}; stored for watch: ${STORED}; latency samples: ${LATENCY_SAMPLES}\n`);
  const rows: [string, (r: BackendResult) => string][] = [
    ['creates/s (sequential)', (r) => f(r.createsPerSecSequential)],
    [`creates/s (${INFLIGHT} in flight)`, (r) => f(r.createsPerSecInflight)],
    ['updates/s (sequential, CAS)', (r) => f(r.updatesPerSecSequential)],
    [`updates/s (${INFLIGHT} in flight, CAS)`, (r) => f(r.updatesPerSecInflight)],
    ['resources stored during watch', (r) => String(r.storedForWatch)],
    ['initial list -> in sync (ms)', (r) => f(r.initialSyncMs)],
    ['watch latency p50 (ms)', (r) => f(r.watchLatencyP50Ms)],
    ['watch latency p99 (ms)', (r) => f(r.watchLatencyP99Ms)],
    ['watch latency max (ms)', (r) => f(r.watchLatencyMaxMs)],
  ];
  const w0 = Math.max(...rows.map(([n]) => n.length));
  const widths = results.map((r) => Math.max(r.backend.length, 10));
  console.log(['metric'.padEnd(w0), ...results.map((r, i) => r.backend.padStart(widths[i]!))].join(' | '));
  console.log(['-'.repeat(w0), ...widths.map((w) => '-'.repeat(w))].join('-|-'));
  for (const [name, get] of rows) console.log([name.padEnd(w0), ...results.map((r, i) => get(r).padStart(widths[i]!))].join(' | '));
  const out = new URL('../../bench/results/', import.meta.url);
  mkdirSync(out, { recursive: true });
  const file = new URL('datastore.json', out);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine: m, params: { stored: STORED, ops: OPS, inflight: INFLIGHT, latencySamples: LATENCY_SAMPLES }, results }, null, 2) + '\n');
  console.log(`\nwrote ${file.pathname}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
