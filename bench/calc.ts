// Calc graph cost: time to load 100k endpoints + 1k policies, per-update cost
// (p50/p99) for remote endpoint, local endpoint and policy changes, and memory.
// Prints a table and writes bench/results/calc.json.
//   node --expose-gc dist/bench/calc.js      (gc makes the memory figures steadier)
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { CalcGraph } from '../src/calc/graph.js';
import type { CalcStats } from '../src/calc/graph.js';
import { gnp, np, nsProfile, wep } from '../src/calc/fixtures.test-support.js';
import type { Resource } from '../src/api/resource.js';

const ENDPOINTS = Number(process.env.CALC_BENCH_ENDPOINTS ?? 100_000);
const POLICIES = Number(process.env.CALC_BENCH_POLICIES ?? 1_000);
const LOCAL = 100;
const NAMESPACES = 50;
const APPS = 200;
const SAMPLES = 1000;

const gc = (globalThis as { gc?: () => void }).gc;
const heapMb = () => {
  gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

function endpoint(i: number, labels?: Record<string, string>): Resource {
  return wep({
    name: `w${i}`,
    namespace: `ns${i % NAMESPACES}`,
    node: i < LOCAL ? 'node-a' : `node-${i % 500}`,
    ips: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`],
    labels: labels ?? { app: `app${i % APPS}`, role: `role${i % 7}` },
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
  });
}

function policy(j: number, variant = 0): Resource {
  const spec = {
    selector: `app == 'app${j % APPS}'`,
    order: j % 10,
    ingress: [
      { action: 'Allow', protocol: 'TCP', source: { selector: `app == 'app${(j * 7 + variant) % APPS}'` }, destination: { ports: [80, 'http'] } },
      { action: 'Deny', source: { namespaceSelector: `kubernetes.io/metadata.name == 'ns${j % NAMESPACES}'` } },
    ],
    egress: [{ action: 'Allow', destination: { selector: `role == 'role${j % 7}' && app == 'app${(j * 3) % APPS}'` } }],
  };
  return j % 2 ? gnp(`g${j}`, spec) : np(`ns${j % NAMESPACES}`, `p${j}`, spec);
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

interface Row {
  name: string;
  p50Us?: number;
  p99Us?: number;
  totalMs?: number;
  selectorEvalsPerUpdate?: number;
  policyEvalsPerUpdate?: number;
  updatesOutPerChange?: number;
}

const rows: Row[] = [];
const heapBefore = heapMb();
const g = new CalcGraph({ nodeName: 'node-a' });
const resources: Resource[] = [];
for (let n = 0; n < NAMESPACES; n++) resources.push(nsProfile(`ns${n}`, { 'kubernetes.io/metadata.name': `ns${n}` }));
for (let i = 0; i < ENDPOINTS; i++) resources.push(endpoint(i));
for (let j = 0; j < POLICIES; j++) resources.push(policy(j));

let t0 = performance.now();
for (let i = 0; i < resources.length; i += 5000) g.onEvents(resources.slice(i, i + 5000).map((resource) => ({ type: 'added' as const, resource })));
g.onInSync();
const initial = g.flush();
const loadMs = performance.now() - t0;
resources.length = 0;
const heapAfter = heapMb();
rows.push({ name: `initial load: ${ENDPOINTS.toLocaleString('en-US')} endpoints + ${POLICIES} policies (${initial.length} updates out)`, totalMs: loadMs });

function measure(name: string, make: (k: number) => Resource): void {
  const times: number[] = [];
  const before: CalcStats = { ...g.stats };
  let out = 0;
  for (let k = 0; k < SAMPLES; k++) {
    const r = make(k);
    const t = performance.now();
    g.onEvents([{ type: 'modified', resource: r }]);
    out += g.flush().length;
    times.push((performance.now() - t) * 1000);
  }
  rows.push({
    name,
    p50Us: percentile(times, 50),
    p99Us: percentile(times, 99),
    selectorEvalsPerUpdate: (g.stats.selectorEvaluations - before.selectorEvaluations) / SAMPLES,
    policyEvalsPerUpdate: (g.stats.policyEvaluations - before.policyEvaluations) / SAMPLES,
    updatesOutPerChange: out / SAMPLES,
  });
}

// Deterministic pseudo-random choices so runs are comparable.
let seed = 42;
const rand = (n: number) => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
};
measure('remote endpoint relabel', (k) => endpoint(LOCAL + rand(ENDPOINTS - LOCAL), { app: `app${rand(APPS)}`, role: `role${k % 7}` }));
measure('local endpoint relabel', () => endpoint(rand(LOCAL), { app: `app${rand(APPS)}`, role: `role${rand(7)}` }));
measure('policy rule change', (k) => policy(rand(POLICIES), 1 + (k % 3)));

const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`;
const heapMbUsed = heapAfter - heapBefore;
const rssMb = process.memoryUsage().rss / 2 ** 20;
console.log(`calc graph benchmark (${machine}${gc ? ', gc exposed' : ', run with --expose-gc for steadier memory'})`);
console.log('| case | p50 | p99 | total | selector evals/update | policy evals/update | updates out/change |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
const f = (x: number | undefined, unit: string, digits = 0) => (x === undefined ? '' : `${x.toFixed(digits)} ${unit}`);
for (const r of rows) {
  console.log(`| ${r.name} | ${f(r.p50Us, 'µs')} | ${f(r.p99Us, 'µs')} | ${f(r.totalMs, 'ms')} | ${f(r.selectorEvalsPerUpdate, '', 1)} | ${f(r.policyEvalsPerUpdate, '', 1)} | ${f(r.updatesOutPerChange, '', 1)} |`);
}
console.log(`| memory: heap used by the graph | | | ${heapMbUsed.toFixed(0)} MiB | | | |`);
console.log(`| memory: process RSS | | | ${rssMb.toFixed(0)} MiB | | | |`);
mkdirSync(new URL('../../bench/results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('../../bench/results/calc.json', import.meta.url),
  JSON.stringify({ machine, date: new Date().toISOString(), endpoints: ENDPOINTS, policies: POLICIES, local: LOCAL, heapMb: heapMbUsed, rssMb, rows, counts: g.counts() }, null, 2) + '\n',
);
