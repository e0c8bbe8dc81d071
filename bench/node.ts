// calico-node as a whole, in a throw-away network namespace (etcd, the agent and
// the workloads' host-side veths all inside it): with 10k endpoints and 1k
// policies in etcd, (1) time from start to ready, (2) policy change -> enforced
// in nftables latency p50/p99, (3) resident memory and idle CPU of the agent,
// (4) full resync: a restart with the dataplane already programmed, to ready;
// with --cpu-prof, one more restart under `node --cpu-prof`, summarised into
// the functions that used the most CPU (the profile the report shows).
// Needs root. Prints a table and writes bench/results/node.json.
// With --heap-snapshot DIR, after the memory reading the agent (preloaded with
// bench/memory/agent-probe.ts) writes DIR/memory.json (process.memoryUsage, V8
// heap spaces) and DIR/agent.heapsnapshot (summarise: bench/memory/heap-summary.ts).
//   node dist/bench/node.js [--quick] [--cpu-prof] [--heap-snapshot DIR]   (re-runs itself inside the namespace)
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadDatastoreConfig, openDatastore } from '../src/datastore/open-datastore.js';
import type { Resource } from '../src/api/resource.js';
import { gnp, np, nsProfile, wep } from '../src/calc/fixtures.test-support.js';
import { summariseCpuProfile, type CpuProfile } from '../src/perf-report/cpu-profile.js';
import { descendants, procStats } from './harness.js';

const quick = process.argv.includes('--quick');
const cpuProf = process.argv.includes('--cpu-prof');
const heapDir = process.argv.includes('--heap-snapshot') ? process.argv[process.argv.indexOf('--heap-snapshot') + 1] : undefined;
const ENDPOINTS = Number(process.env.NODE_BENCH_ENDPOINTS ?? (quick ? 1_000 : 10_000));
const POLICIES = Number(process.env.NODE_BENCH_POLICIES ?? (quick ? 100 : 1_000));
const LOCAL = 20;
const NAMESPACES = 50;
const APPS = 200;
const CHANGES = quick ? 10 : 30;
const IDLE_SECONDS = quick ? 2 : 10;
const ROOT = new URL('../../', import.meta.url).pathname;
const NETNS = `ctsb-node-${process.pid}`;

function sh(argv: string[], input?: string): { code: number; out: string; err: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { input: input ?? '', encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status ?? 1, out: r.stdout ?? '', err: r.stderr ?? '' };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

if (!process.argv.includes('--inside')) {
  if (process.getuid?.() !== 0) {
    console.log('node benchmark: skipped (needs root for network namespaces)');
    process.exit(0);
  }
  sh(['ip', 'netns', 'add', NETNS]);
  try {
    const r = spawnSync('ip', ['netns', 'exec', NETNS, process.execPath, new URL(import.meta.url).pathname, '--inside', ...process.argv.slice(2)], { stdio: 'inherit' });
    process.exitCode = r.status ?? 1;
  } finally {
    for (const pid of sh(['ip', 'netns', 'pids', NETNS]).out.split('\n').filter(Boolean)) sh(['kill', '-9', pid]);
    sh(['ip', 'netns', 'del', NETNS]);
  }
} else {
  await inside();
}

function endpoint(i: number): Resource {
  return wep({
    name: `w${i}`,
    namespace: `ns${i % NAMESPACES}`,
    node: i < LOCAL ? 'bench-host' : `node-${i % 100}`,
    ips: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`],
    labels: { app: `app${i % APPS}`, role: `role${i % 7}` },
    iface: `calib${String(i).padStart(10, '0')}`,
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
  });
}

function policy(j: number, extraPort?: number): Resource {
  const spec = {
    selector: `app == 'app${j % APPS}'`,
    order: j % 10,
    ingress: [
      { action: 'Allow', protocol: 'TCP', source: { selector: `app == 'app${(j * 7) % APPS}'` }, destination: { ports: extraPort ? [80, 'http', extraPort] : [80, 'http'] } },
      { action: 'Deny', source: { namespaceSelector: `kubernetes.io/metadata.name == 'ns${j % NAMESPACES}'` } },
    ],
    egress: [{ action: 'Allow', destination: { selector: `role == 'role${j % 7}' && app == 'app${(j * 3) % APPS}'` } }],
  };
  return j % 2 ? gnp(`g${j}`, spec) : np(`ns${j % NAMESPACES}`, `p${j}`, spec);
}


/** The node process: `bin/calico-node` execs node, so the spawned pid is the agent's. */
async function inside(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cts-bench-etcd-'));
  const runDir = mkdtempSync(join(tmpdir(), 'cts-bench-run-'));
  const procs: ChildProcess[] = [];
  try {
    sh(['ip', 'link', 'set', 'lo', 'up']);
    for (let i = 0; i < LOCAL; i++) {
      const name = `calib${String(i).padStart(10, '0')}`;
      sh(['ip', 'link', 'add', name, 'type', 'veth', 'peer', 'name', `peer${i}`]);
      sh(['ip', 'link', 'set', name, 'up']);
    }
    procs.push(spawn('etcd', ['--data-dir', dataDir, '--listen-client-urls', 'http://127.0.0.1:23791', '--advertise-client-urls', 'http://127.0.0.1:23791', '--listen-peer-urls', 'http://127.0.0.1:23801', '--quota-backend-bytes', String(4 * 2 ** 30)], { stdio: 'ignore' }));
    const env = { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: 'http://127.0.0.1:23791' };
    const ds = openDatastore(loadDatastoreConfig({ env }));
    for (let i = 0; ; i++) {
      try {
        await ds.list({ kind: 'Profile' });
        break;
      } catch {
        if (i > 100) throw new Error('etcd did not come up');
        await sleep(100);
      }
    }
    const all: Resource[] = [];
    for (let n = 0; n < NAMESPACES; n++) all.push(nsProfile(`ns${n}`, { 'kubernetes.io/metadata.name': `ns${n}` }));
    for (let i = 0; i < ENDPOINTS; i++) all.push(endpoint(i));
    for (let j = 0; j < POLICIES; j++) all.push(policy(j));
    for (let k = 0; k < all.length; k += 200) await Promise.all(all.slice(k, k + 200).map((r) => ds.create(r)));

    const nodeEnv = { ...process.env, ...env, NODENAME: 'bench-host', IP: '192.0.2.10/24', NO_DEFAULT_POOLS: 'true', CALICO_NETWORKING_BACKEND: 'none', CALICO_RUN_DIR: runDir, FELIX_HEALTHENABLED: 'true', FELIX_HEALTHHOST: '127.0.0.1', FELIX_HEALTHPORT: '29098', FELIX_PROMETHEUSMETRICSENABLED: 'true', FELIX_PROMETHEUSMETRICSHOST: '127.0.0.1', FELIX_PROMETHEUSMETRICSPORT: '29097', FELIX_LOGSEVERITYSCREEN: 'Warning' };
    if (heapDir) {
      mkdirSync(heapDir, { recursive: true });
      Object.assign(nodeEnv, { CTS_BENCH_HEAP_DIR: heapDir, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${join(ROOT, 'dist/bench/memory/agent-probe.js')}` });
    }
    /** Starts calico-node and resolves once /readiness answers, with the time that took. */
    const startNode = async (nodeFlags?: string[]) => {
      const t0 = performance.now();
      // bin/calico-node execs node on dist/src/node/main.js; node flags (--cpu-prof is not allowed in NODE_OPTIONS) need that done here.
      const [cmd, argv] = nodeFlags ? [process.execPath, [...nodeFlags, '--enable-source-maps', join(ROOT, 'dist/src/node/main.js')]] : [join(ROOT, 'bin/calico-node'), []];
      const child = spawn(cmd, argv, { env: nodeEnv, stdio: ['ignore', 'ignore', 'inherit'] });
      procs.push(child);
      for (;;) {
        const ok = await fetch('http://127.0.0.1:29098/readiness').then((r) => r.ok, () => false);
        if (ok) break;
        if (child.exitCode !== null) throw new Error(`calico-node exited ${child.exitCode}`);
        await sleep(50);
      }
      return { child, ms: performance.now() - t0 };
    };
    const stopNode = async (child: ChildProcess) => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    };
    const first = await startNode();
    const node = first.child;
    const readyMs = first.ms;

    // Policy change -> enforced: add a port to a policy active on a local endpoint (w0..w19 carry app0..app19).
    // `nft monitor` reports each committed rule as it lands, so detection does not poll the (large) ruleset.
    const monitor = spawn('nft', ['monitor', 'rules'], { stdio: ['ignore', 'pipe', 'ignore'] });
    procs.push(monitor);
    let seen = '';
    monitor.stdout!.on('data', (d: Buffer) => (seen = (seen + d.toString()).slice(-1_000_000)));
    await sleep(200);
    const latencies: number[] = [];
    for (let c = 0; c < CHANGES; c++) {
      // One change at a time, as a user makes them: 150 ms apart, more than the
      // apply throttle's refill interval (100 ms; a burst of 10 rounds, then
      // 10/s, like Felix), so each figure is what one change costs, not how a
      // storm of them is coalesced.
      if (c > 0) await sleep(150);
      const port = 20000 + c;
      const j = ((c % (LOCAL / 2)) * 2 + 1) % LOCAL; // odd j: GNP g<j> selects app<j>, carried by local w<j> for j < LOCAL
      const current = await ds.get({ kind: 'GlobalNetworkPolicy', name: `g${j}` });
      seen = '';
      const start = performance.now();
      await ds.update({ ...policy(j, port), metadata: current.metadata });
      while (!seen.includes(`${port}`)) {
        if (performance.now() - start > 30000) throw new Error(`port ${port} never appeared in nftables`);
        await sleep(1);
      }
      latencies.push(performance.now() - start);
    }
    monitor.kill();

    // The agent's own view: apply rounds (count, total seconds) from its metrics.
    const metrics = await (await fetch('http://127.0.0.1:29097/metrics')).text();
    const applySum = Number(/^felix_int_dataplane_apply_time_seconds_sum (\S+)$/m.exec(metrics)?.[1] ?? NaN);
    const applyCount = Number(/^felix_int_dataplane_apply_time_seconds_count (\S+)$/m.exec(metrics)?.[1] ?? NaN);
    await sleep(quick ? 1000 : 3000);
    const s0 = procStats(node.pid!);
    const idleSeconds = IDLE_SECONDS;
    await sleep(idleSeconds * 1000);
    const s1 = procStats(node.pid!);
    const ticks = Number(sh(['getconf', 'CLK_TCK']).out.trim()) || 100;
    const idleCpuPct = ((s1.cpuTicks - s0.cpuTicks) / ticks / idleSeconds) * 100;
    // The agent's long-lived helpers (nft -i, ip -batch, sh sessions; BIRD is not started here) hold memory too.
    const helpers = descendants(node.pid!).map((d) => ({ cmd: d.cmd, rssMb: procStats(d.pid).rssMb }));
    const helperRssMb = helpers.reduce((a, h) => a + h.rssMb, 0);
    const rssParts = /RssAnon:\s+(\d+).*RssFile:\s+(\d+)/s.exec(readFileSync(`/proc/${node.pid}/status`, 'utf8'));
    if (heapDir) {
      node.kill('SIGPWR');
      for (let i = 0; !readdirSync(heapDir).includes('done'); i++) {
        if (i > 1200) throw new Error(`no heap snapshot in ${heapDir} after 2 minutes`);
        await sleep(100);
      }
      const m = JSON.parse(readFileSync(join(heapDir, 'memory.json'), 'utf8')) as { memoryUsage: Record<string, number> };
      const mb = (k: string) => `${k} ${(m.memoryUsage[k]! / 2 ** 20).toFixed(1)}`;
      console.log(`agent memory (MiB): ${['rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'].map(mb).join(', ')}; RssAnon ${(Number(rssParts?.[1]) / 1024).toFixed(1)}, RssFile ${(Number(rssParts?.[2]) / 1024).toFixed(1)}`);
      console.log(`heap snapshot: ${join(heapDir, 'agent.heapsnapshot')}`);
    }
    await stopNode(node);
    // Full resync: a new agent lists everything again and finds the dataplane already in place.
    const again = await startNode();
    const resyncMs = again.ms;
    await stopNode(again.child);
    let cpuProfile: { phase: string; totalMs: number; top: ReturnType<typeof summariseCpuProfile>['top'] } | undefined;
    if (cpuProf) {
      const dir = mkdtempSync(join(tmpdir(), 'cts-bench-prof-'));
      try {
        const profiled = await startNode(['--cpu-prof', `--cpu-prof-dir=${dir}`]);
        await stopNode(profiled.child);
        const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
        if (file) cpuProfile = { phase: `restart -> ready (full resync; ${(profiled.ms / 1000).toFixed(2)} s under the profiler)`, ...summariseCpuProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, 12) };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    await ds.close();

    const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`;
    const rows = [
      { name: `start -> ready (${ENDPOINTS.toLocaleString('en-US')} endpoints, ${POLICIES} policies, ${LOCAL} local)`, value: `${(readyMs / 1000).toFixed(2)} s` },
      { name: `policy change -> in nftables, p50 (${CHANGES} changes, seen by nft monitor)`, value: `${percentile(latencies, 50).toFixed(0)} ms` },
      { name: 'policy change -> in nftables, p99', value: `${percentile(latencies, 99).toFixed(0)} ms` },
      { name: `dataplane apply round, mean (${applyCount} rounds, from /metrics)`, value: `${((applySum / applyCount) * 1000).toFixed(0)} ms` },
      { name: 'full resync: restart -> ready, dataplane already programmed', value: `${(resyncMs / 1000).toFixed(2)} s` },
      { name: 'agent resident memory (idle)', value: `${s1.rssMb.toFixed(0)} MiB` },
      { name: `its helper processes (${helpers.map((h) => h.cmd).join('; ') || 'none'})`, value: `${helperRssMb.toFixed(1)} MiB` },
      { name: `agent idle CPU (${idleSeconds} s)`, value: `${idleCpuPct.toFixed(2)} %` },
    ];
    console.log(`calico-node benchmark (${machine})`);
    console.log('| case | value |');
    console.log('|---|---:|');
    for (const r of rows) console.log(`| ${r.name} | ${r.value} |`);
    if (cpuProfile) {
      console.log(`\ncpu profile, ${cpuProfile.phase}:`);
      for (const h of cpuProfile.top) console.log(`  ${h.selfMs.toFixed(0).padStart(7)} ms  ${(h.share * 100).toFixed(1).padStart(5)} %  ${h.function}  ${h.where}`);
    }
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/node.json'), JSON.stringify({ bench: 'node', quick, machine, date: new Date().toISOString(), resyncMs, cpuProfile, endpoints: ENDPOINTS, policies: POLICIES, local: LOCAL, readyMs, latenciesMs: latencies, rssMb: s1.rssMb, helperRssMb, helpers, idleCpuPct, applyRounds: applyCount, applySeconds: applySum, rows }, null, 2) + '\n');
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(runDir, { recursive: true, force: true });
  }
}
