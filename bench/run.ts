// The benchmark suite: runs every benchmark, one at a time, each as its own
// process (a crash or a leaked handle in one cannot skew the next), collects
// their JSON with the machine and its load into bench/results/<date>.json and
// renders docs/performance.md with SVG charts in docs/performance/.
//   npm run bench                 full sizes (the reference report; run on a quiet machine)
//   npm run bench -- --quick      every benchmark at small sizes, under two minutes
//   node dist/bench/run.js [--quick] [--only a,b] [--skip a,b] [--render bench/results/X.json]
//   node dist/bench/run.js --only a,b --update bench/results/X.json
//                                 re-run some benchmarks into a saved run (each marked
//                                 with its own date and commit in the report)
// Needs root for the benchmarks that build network namespaces (they report
// themselves skipped otherwise).

import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { renderPerformanceReport } from '../src/perf-report/report.js';
import type { BenchRun, MachineInfo, RunRecord } from '../src/perf-report/run-record.js';
import { arg, quick } from './harness.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const RESULTS = join(ROOT, 'bench/results');

interface BenchSpec {
  name: string;
  /** Arguments for a full run, and for --quick (null: not run by --quick, with the reason). */
  full: string[];
  quick: string[] | { skip: string };
  env?: { full?: Record<string, string>; quick?: Record<string, string> };
  nodeArgs?: string[];
  /** Minutes before the runner gives up on it. */
  timeoutMin: number;
}

/** The suite, in running order: the issue's measurements first, then the older benchmarks. */
const SUITE: BenchSpec[] = [
  { name: 'dataplane-compare', full: [], quick: ['--quick'], timeoutMin: 20 },
  { name: 'dataplane', full: [], quick: ['--quick'], timeoutMin: 20 },
  { name: 'policy-scale', full: [], quick: ['--quick'], timeoutMin: 20 },
  { name: 'control-plane', full: [], quick: ['--quick'], nodeArgs: ['--expose-gc'], timeoutMin: 30 },
  { name: 'node', full: ['--cpu-prof'], quick: ['--quick', '--cpu-prof'], timeoutMin: 20 },
  { name: 'cni', full: [], quick: ['--quick'], timeoutMin: 20 },
  { name: 'scale', full: [], quick: ['--quick'], timeoutMin: 40 },
  { name: 'xlat', full: ['--rounds', '5'], quick: ['--seconds', '3', '--rounds', '1'], timeoutMin: 15 },
  { name: 'calc', full: [], quick: [], env: { quick: { CALC_BENCH_ENDPOINTS: '5000', CALC_BENCH_POLICIES: '100' } }, nodeArgs: ['--expose-gc'], timeoutMin: 20 },
  { name: 'selector', full: [], quick: ['--endpoints', '10000', '--rounds', '1'], timeoutMin: 10 },
  { name: 'api', full: [], quick: ['--rounds', '1'], timeoutMin: 10 },
  { name: 'datastore', full: [], quick: ['--stored', '500', '--ops', '200', '--samples', '100'], timeoutMin: 20 },
  { name: 'ipam', full: [], quick: ['--allocs', '10'], timeoutMin: 20 },
  { name: 'cli', full: [], quick: ['--count', '100', '--etcd-count', '10'], timeoutMin: 20 },
  { name: 'bgp-routes', full: [], quick: ['--sizes', '1000'], timeoutMin: 30 },
  { name: 'bgp-propagation', full: [], quick: ['--rounds', '2', '--hosts', '3'], timeoutMin: 20 },
  { name: 'lab', full: [], quick: { skip: 'not in --quick: bringing a lab up takes minutes' }, timeoutMin: 30 },
];

const round2 = (l: number[]) => l.map((x) => Math.round(x * 100) / 100);

function version(cmd: string, args: string[], re: RegExp): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status === null) return undefined;
  return re.exec(`${r.stdout}${r.stderr}`)?.[1];
}

function machineInfo(): MachineInfo {
  const osRelease = existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : '';
  const tools: Record<string, string> = {};
  const probes: [string, string, string[], RegExp][] = [
    ['nft', 'nft', ['--version'], /v([\d.]+)/],
    ['iptables', 'iptables', ['--version'], /v([\d.]+ \(\w+\))/],
    ['iperf3', 'iperf3', ['--version'], /iperf ([\d.]+)/],
    ['etcd', 'etcd', ['--version'], /etcd Version: ([\d.]+)/],
    ['bird', 'bird', ['--version'], /version ([\d.]+)/],
  ];
  for (const [name, cmd, args, re] of probes) {
    const v = version(cmd, args, re);
    if (v) tools[name] = v;
  }
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: totalmem() / 2 ** 30,
    kernel: release(),
    os: /^PRETTY_NAME="?([^"\n]+)"?/m.exec(osRelease)?.[1] ?? 'unknown',
    node: process.version,
    tools,
  };
}

async function runOne(spec: BenchSpec): Promise<BenchRun> {
  const loadBefore = round2(loadavg());
  const args = quick ? spec.quick : spec.full;
  if (!Array.isArray(args)) return { name: spec.name, status: 'skipped', seconds: 0, loadBefore, loadAfter: loadBefore, note: args.skip };
  const json = join(RESULTS, `${spec.name}.json`);
  rmSync(json, { force: true }); // a stale result must not pass for this run's
  mkdirSync(join(RESULTS, 'logs'), { recursive: true });
  const logFile = join(RESULTS, 'logs', `${spec.name}${quick ? '-quick' : ''}.log`);
  const log = createWriteStream(logFile);
  const t0 = performance.now();
  process.stdout.write(`==> ${spec.name} ${args.join(' ')}`.trimEnd() + '\n');
  const child = spawn(process.execPath, [...(spec.nodeArgs ?? []), join(ROOT, 'dist/bench', `${spec.name}.js`), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...(quick ? spec.env?.quick : spec.env?.full) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (d: Buffer) => {
    log.write(d);
    tail = (tail + d.toString()).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const timer = setTimeout(() => child.kill('SIGTERM'), spec.timeoutMin * 60_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  clearTimeout(timer);
  await new Promise((r) => log.end(r));
  const seconds = (performance.now() - t0) / 1000;
  const loadAfter = round2(loadavg());
  const base = { name: spec.name, seconds, loadBefore, loadAfter };
  if (code === 0 && existsSync(json)) {
    process.stdout.write(`    ok in ${seconds.toFixed(0)} s\n`);
    return { ...base, status: 'ok', result: JSON.parse(readFileSync(json, 'utf8')) };
  }
  const skipped = code === 0 && /skipped/.test(tail);
  process.stdout.write(`    ${skipped ? 'skipped' : `FAILED (exit ${code})`} in ${seconds.toFixed(0)} s; log: ${logFile}\n`);
  return { ...base, status: skipped ? 'skipped' : 'failed', note: tail.split('\n').filter(Boolean).slice(-5).join('\n') };
}

function writeReport(record: RunRecord): void {
  const report = renderPerformanceReport(record);
  const dir = join(ROOT, 'docs/performance');
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) if (f.endsWith('.svg')) rmSync(join(dir, f));
  for (const c of report.charts) writeFileSync(join(ROOT, 'docs', c.file), c.svg);
  writeFileSync(join(ROOT, 'docs/performance.md'), report.markdown);
  console.log(`report: docs/performance.md (${report.charts.length} charts in docs/performance/)`);
}

async function main(): Promise<void> {
  const again = arg('render', '');
  if (again) return writeReport(JSON.parse(readFileSync(again, 'utf8')) as RunRecord);
  const only = arg('only', '').split(',').filter(Boolean);
  const skip = arg('skip', '').split(',').filter(Boolean);
  for (const n of [...only, ...skip]) if (!SUITE.some((s) => s.name === n)) throw new Error(`unknown benchmark '${n}'; the suite has: ${SUITE.map((s) => s.name).join(', ')}`);
  const commitNow = () => spawnSync('git', ['-C', ROOT, 'describe', '--always', '--dirty'], { encoding: 'utf8' }).stdout.trim() || 'unknown';
  const update = arg('update', '');
  if (update) {
    if (!only.length) throw new Error('--update needs --only: the benchmarks to re-run into the saved run');
    const saved = JSON.parse(readFileSync(update, 'utf8')) as RunRecord;
    if (saved.quick !== quick) throw new Error(`${update} is a ${saved.quick ? 'quick' : 'full'} run; re-run with${saved.quick ? '' : 'out'} --quick`);
    for (const spec of SUITE.filter((s) => only.includes(s.name))) {
      // The date and commit the benchmark starts from (the tree may move while it runs).
      const rerun = { date: new Date().toISOString(), commit: commitNow() };
      const fresh = { ...(await runOne(spec)), rerun };
      const i = saved.benches.findIndex((b) => b.name === spec.name);
      if (i === -1) saved.benches.push(fresh);
      else saved.benches[i] = fresh;
    }
    writeFileSync(update, JSON.stringify(saved, null, 2) + '\n');
    return writeReport(saved);
  }
  const t0 = performance.now();
  const machine = machineInfo();
  const loadBefore = round2(loadavg());
  const commit = commitNow();
  const benches: BenchRun[] = [];
  for (const spec of SUITE) {
    if ((only.length && !only.includes(spec.name)) || skip.includes(spec.name)) {
      benches.push({ name: spec.name, status: 'skipped', seconds: 0, loadBefore: round2(loadavg()), loadAfter: round2(loadavg()), note: only.length ? 'not in --only' : 'in --skip' });
      continue;
    }
    benches.push(await runOne(spec));
  }
  const date = new Date().toISOString();
  const record: RunRecord = { date, quick, command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`, commit, machine, loadBefore, loadAfter: round2(loadavg()), seconds: (performance.now() - t0) / 1000, benches };
  const file = join(RESULTS, `${date.slice(0, 10)}${quick ? '-quick' : ''}.json`);
  writeFileSync(file, JSON.stringify(record, null, 2) + '\n');
  console.log(`\nsuite: ${benches.filter((b) => b.status === 'ok').length} ok, ${benches.filter((b) => b.status === 'failed').length} failed, ${benches.filter((b) => b.status === 'skipped').length} skipped in ${(record.seconds / 60).toFixed(1)} min; ${file}`);
  writeReport(record);
  if (benches.some((b) => b.status === 'failed')) process.exitCode = 1;
}

await main();
