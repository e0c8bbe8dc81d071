// Selector benchmark (not a test: prints numbers, asserts nothing).
//   parses/s (tokenize + parse + compile), canonical form + uniqueId per second,
//   and evaluations/s of several selector shapes against 100k generated
//   endpoint label sets, with the number of garbage collections seen during
//   the evaluation loops (0 means evaluation did not allocate enough to
//   trigger even one young-generation collection).
// Prints a table and writes bench/results/selector.json.
// Run: npm run build && node dist/bench/selector.js [--endpoints 100000] [--rounds 5]
import { cpus } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { parseSelector, type Labels, type Selector } from '../src/selector/index.js';
import { randomSelectorText, seededRandom } from '../src/selector/selector-generator.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const ENDPOINTS = arg('endpoints', 100_000);
const ROUNDS = arg('rounds', 5);

const NS = 'projectcalico.org/namespace';
const shapes: Array<{ name: string; text: string }> = [
  { name: 'all()', text: 'all()' },
  { name: 'eq', text: 'app == "app-7"' },
  { name: 'ne', text: 'app != "app-7"' },
  { name: 'has', text: 'has(tier)' },
  { name: 'in (5 values)', text: 'app in {"app-1", "app-2", "app-3", "app-4", "app-5"}' },
  { name: 'starts with', text: 'app starts with "app-1"' },
  { name: 'namespaced policy', text: `${NS} == "ns-3" && (role in {"db", "cache"} || tier == "back") && !has(quarantine)` },
  { name: '8-way or', text: Array.from({ length: 8 }, (_, i) => `app == "app-${i * 3}"`).join(' || ') },
];

function endpointLabels(count: number): Labels[] {
  const rand = seededRandom(42);
  const roles = ['db', 'cache', 'web', 'api', 'batch'];
  return Array.from({ length: count }, (_, i) => {
    const labels: Record<string, string> = {
      app: `app-${i % 50}`,
      [NS]: `ns-${i % 20}`,
      role: roles[i % roles.length]!,
      'pcns.team': `team-${i % 7}`,
    };
    if (rand() < 0.5) labels.tier = rand() < 0.5 ? 'front' : 'back';
    if (rand() < 0.01) labels.quarantine = 'true';
    return labels;
  });
}

let gcCount = 0;
const gcObserver = new PerformanceObserver((list) => {
  gcCount += list.getEntries().length;
});
gcObserver.observe({ entryTypes: ['gc'] });
// GC entries arrive asynchronously; give the observer time to report earlier collections before counting.
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 100));

/** Best-of-ROUNDS rate of `fn` doing `n` units of work per call. */
function rate(n: number, fn: () => void): number {
  let best = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now();
    fn();
    best = Math.max(best, n / ((performance.now() - start) / 1000));
  }
  return best;
}

interface Row {
  what: string;
  perSec: number;
  gcs?: number;
  matched?: number;
}

async function main(): Promise<void> {
  const rows: Row[] = [];

  // Parsing: a fixed corpus of generated selectors of mixed depth plus the shapes above.
  const rand = seededRandom(7);
  const corpus = [
    ...shapes.map((s) => s.text),
    ...Array.from({ length: 2000 }, (_, i) => randomSelectorText(rand, { depth: 1 + (i % 4) })),
  ];
  const avgLen = Math.round(corpus.reduce((n, t) => n + t.length, 0) / corpus.length);
  let sink = 0;
  rows.push({
    what: `parseSelector (avg ${avgLen} chars)`,
    perSec: rate(corpus.length, () => {
      for (const t of corpus) sink += parseSelector(t).ast.kind.length;
    }),
  });
  rows.push({
    what: 'parse + toString() (canonical)',
    perSec: rate(corpus.length, () => {
      for (const t of corpus) sink += parseSelector(t).toString().length;
    }),
  });
  rows.push({
    what: 'parse + uniqueId (sha224)',
    perSec: rate(corpus.length, () => {
      for (const t of corpus) sink += parseSelector(t).uniqueId.length;
    }),
  });

  // Evaluation: each shape against every endpoint.
  const endpoints = endpointLabels(ENDPOINTS);
  for (const shape of shapes) {
    const sel: Selector = parseSelector(shape.text);
    let matched = 0;
    // Warm up so the JIT has settled before measuring and counting GCs.
    for (const l of endpoints) if (sel.evaluate(l)) matched++;
    await settle();
    const before = gcCount;
    const perSec = rate(endpoints.length, () => {
      for (let i = 0; i < endpoints.length; i++) if (sel.evaluate(endpoints[i]!)) sink++;
    });
    await settle();
    rows.push({ what: `evaluate ${shape.name}`, perSec, gcs: gcCount - before, matched });
  }
  gcObserver.disconnect();

  const machine = { nproc: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version };
  console.log(`selector benchmark: ${ENDPOINTS} endpoints, best of ${ROUNDS} rounds, ${machine.nproc}x ${machine.cpuModel}, node ${machine.node}\n`);
  console.log(`${'what'.padEnd(42)} ${'ops/s'.padStart(14)} ${'GCs'.padStart(5)} ${'matched'.padStart(8)}`);
  for (const r of rows) {
    console.log(
      `${r.what.padEnd(42)} ${Math.round(r.perSec).toLocaleString('en-US').padStart(14)} ${String(r.gcs ?? '').padStart(5)} ${String(r.matched ?? '').padStart(8)}`,
    );
  }
  if (sink === -1) console.log(sink); // keep the work observable so it cannot be optimised away

  const dir = new URL('../../bench/results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL('selector.json', dir);
  writeFileSync(
    file,
    JSON.stringify({ date: new Date().toISOString(), machine, params: { endpoints: ENDPOINTS, rounds: ROUNDS, corpus: corpus.length }, results: rows }, null, 2) + '\n',
  );
  console.log(`\nwrote ${file.pathname}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
