// calicoctl benchmark (not a test: prints numbers, asserts nothing).
//   - in-process (FakeIO, in-memory datastore): apply / get -o ps / get -o yaml
//     of N IPPools from one multi-document file; validate only;
//   - the real binary: process start (`calicoctl --help`, `version` against a
//     dead endpoint), and apply / get / delete of N pools against a private etcd.
// Prints a table and writes bench/results/cli.json.
// Run: npm run build && node dist/bench/cli.js [--count 1000] [--etcd-count 200]
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FakeIO } from '../src/cli/fake-io.js';
import { startEtcd } from '../test/support/etcd.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const COUNT = arg('count', 1000);
const ETCD_COUNT = arg('etcd-count', 200);
const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/calicoctl');

const poolsYaml = (n: number): string =>
  Array.from({ length: n }, (_, i) => {
    const a = 18 + Math.floor(i / 256);
    return `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: pool-${i}\n  labels:\n    zone: z${i % 4}\nspec:\n  cidr: 198.${a}.${i % 256}.0/24\n  natOutgoing: true\n`;
  }).join('---\n');

interface Row {
  case: string;
  n: number;
  ms: number;
  perSecond: number;
}
const rows: Row[] = [];
const record = (name: string, n: number, ms: number): void => {
  rows.push({ case: name, n, ms: Math.round(ms * 10) / 10, perSecond: Math.round((n / ms) * 1000) });
};

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

// In-process.
{
  const io = new FakeIO({ files: { 'pools.yaml': poolsYaml(COUNT) } });
  record('in-process validate -f (N docs)', COUNT, await timed(() => io.run('validate -f pools.yaml')));
  record('in-process apply -f (create N)', COUNT, await timed(() => io.run('apply -f pools.yaml')));
  record('in-process apply -f (update N)', COUNT, await timed(() => io.run('apply -f pools.yaml')));
  record('in-process get ippools -o ps', COUNT, await timed(() => io.run('get ippools')));
  record('in-process get ippools -o wide -l zone=="z1"', COUNT, await timed(() => io.run(['get', 'ippools', '-o', 'wide', '-l', 'zone == "z1"'])));
  record('in-process get ippools -o yaml', COUNT, await timed(() => io.run('get ippools -o yaml')));
  record('in-process delete -f (N)', COUNT, await timed(() => io.run('delete -f pools.yaml')));
}

// The real binary.
const run = (args: string[], env: Record<string, string>): number => {
  const t0 = performance.now();
  const r = spawnSync(BIN, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0 && !(args[0] === 'version')) throw new Error(`calicoctl ${args.join(' ')} failed: ${r.stderr}`);
  return ms;
};
record('process: calicoctl --help (median of 5)', 1, median(Array.from({ length: 5 }, () => run(['--help'], {}))));
record('process: get, dead etcd -> error (median of 3)', 1, median(Array.from({ length: 3 }, () => run(['version'], { ETCD_ENDPOINTS: 'http://127.0.0.1:1' }))));

const scratch = mkdtempSync(join(tmpdir(), 'calicoctl-bench-'));
const etcd = await startEtcd();
try {
  const file = join(scratch, 'pools.yaml');
  writeFileSync(file, poolsYaml(ETCD_COUNT));
  record('etcd: apply -f (create N)', ETCD_COUNT, run(['apply', '-f', file], etcd.env));
  record('etcd: apply -f (update N)', ETCD_COUNT, run(['apply', '-f', file], etcd.env));
  record('etcd: get ippools -o yaml', ETCD_COUNT, run(['get', 'ippools', '-o', 'yaml'], etcd.env));
  record('etcd: delete -f (N)', ETCD_COUNT, run(['delete', '-f', file], etcd.env));
} finally {
  await etcd.stop();
  rmSync(scratch, { recursive: true, force: true });
}

const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`;
const width = Math.max(...rows.map((r) => r.case.length));
console.log(`calicoctl benchmark (${machine})`);
console.log(`${'case'.padEnd(width)}  ${'n'.padStart(6)}  ${'ms'.padStart(9)}  ${'per second'.padStart(10)}`);
for (const r of rows) console.log(`${r.case.padEnd(width)}  ${String(r.n).padStart(6)}  ${r.ms.toFixed(1).padStart(9)}  ${String(r.perSecond).padStart(10)}`);
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/cli.json'), JSON.stringify({ machine, date: new Date().toISOString(), rows }, null, 2) + '\n');
