// The CNI plugin on a real host (a network namespace with calico-node, etcd
// on the bridge; test/kernel/cni/cni-lab.ts): (1) ADD latency p50/p99, one
// at a time and CNI_BENCH_PARALLEL at once, each measured from spawning
// bin/calico to its exit, as a runtime sees it; (2) ADD returning -> first
// packet the policy allows: a client keeps connecting to a new pod's port,
// and the gap between the ADD's return and the first connection that gets
// through is recorded, once without waiting for policy and once with
// policy_setup_timeout_seconds (calico-node's status file). A gap <= 0 means
// the pod was reachable before the ADD returned. The same for a pod on
// another host (two hosts, calico-node with BIRD on each: the first such pod
// also waits for its block's route to arrive over BGP).
// Needs root. Prints a table and writes bench/results/cni.json.
//   node dist/bench/cni.js [--quick]   CNI_BENCH_N=20 CNI_BENCH_PARALLEL=20 CNI_BENCH_GAPS=10
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CniLab, ETCD, isRoot } from '../test/kernel/cni/cni-lab.js';

const quick = process.argv.includes('--quick');
const N = Number(process.env.CNI_BENCH_N ?? (quick ? 3 : 20));
const PARALLEL = Number(process.env.CNI_BENCH_PARALLEL ?? (quick ? 3 : 20));
const GAPS = Number(process.env.CNI_BENCH_GAPS ?? (quick ? 1 : 10));
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const round = (x: number): number => Number(x.toFixed(1));

interface Row {
  scenario: string;
  samples: number;
  p50ms: number;
  p99ms: number;
  maxms: number;
}
const row = (scenario: string, xs: number[]): Row => ({ scenario, samples: xs.length, p50ms: round(pct(xs, 50)), p99ms: round(pct(xs, 99)), maxms: round(Math.max(...xs)) });

/**
 * A client in its own container that starts a connection to `ip:port` every
 * 10 ms (without waiting for the previous one: a dropped SYN would otherwise
 * hide the next 200 ms) and prints the wall-clock time (ms since the epoch)
 * of the first handshake that completes.
 */
const CLIENT = `
const net = require('node:net');
const [ip, port] = process.argv.slice(1);
setInterval(() => {
  const s = net.connect({ host: ip, port: Number(port) });
  const t = setTimeout(() => s.destroy(), 200);
  s.on('connect', () => { console.log(Date.now()); process.exit(0); });
  s.on('error', () => undefined);
  s.on('close', () => clearTimeout(t));
}, 10);`;
const SERVER = `require('node:net').createServer((s) => s.end('ok')).listen(80, '0.0.0.0');`;

async function main(): Promise<void> {
  if (!isRoot) {
    console.log('cni benchmark: skipped (needs root for network namespaces)');
    return;
  }
  const lab = new CniLab();
  const children: ChildProcess[] = [];
  try {
    await lab.start(['host1', 'host2']);
    lab.apply([
      { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'bench' }, spec: { cidr: '198.18.128.0/20', blockSize: 26, nodeSelector: 'all()' } },
      // Servers take traffic only from clients: the first packet gets through only once this is programmed for the new pod.
      { apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: 'servers' }, spec: { selector: "role == 'server'", types: ['Ingress'], ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "role == 'client'" }, destination: { ports: [80] } }] } },
    ]);
    for (const h of ['host1', 'host2']) lab.startNode(h, { FELIX_LOGSEVERITYSCREEN: 'Warning' });
    for (const h of ['host1', 'host2']) await lab.nodeReady(h);
    const conf = (extra: Record<string, unknown> = {}, host = 'host1') => ({
      cniVersion: '1.1.0',
      name: 'bench',
      type: 'calico',
      etcd_endpoints: ETCD,
      nodename_file: join(lab.host(host).runDir, 'nodename'),
      endpoint_status_dir: join(lab.host(host).runDir, 'endpoint-status'),
      log_level: 'warning',
      ipam: { type: 'calico-ipam', ipv4_pools: ['bench'] },
      ...extra,
    });
    let seq = 0;
    const attach = (pod: string, netns: string) => ({ CNI_CONTAINERID: `b${++seq}`, CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_ARGS: `K8S_POD_NAMESPACE=bench;K8S_POD_NAME=${pod}` });
    const timedAdd = async (env: Record<string, string>, c: object, host = 'host1'): Promise<{ ms: number; endedAt: number }> => {
      const t0 = performance.now();
      const r = await lab.plugin(host, 'calico', { CNI_COMMAND: 'ADD', ...env }, c);
      if (r.code !== 0) throw new Error(`ADD failed: ${r.out}${r.err}`);
      return { ms: performance.now() - t0, endedAt: Date.now() };
    };
    const delAll = async (envs: Record<string, string>[], host = 'host1') => {
      for (const r of await Promise.all(envs.map((e) => lab.plugin(host, 'calico', { CNI_COMMAND: 'DEL', ...e }, conf({}, host))))) if (r.code !== 0) throw new Error(`DEL failed: ${r.out}`);
    };
    const rows: Row[] = [];

    // (1) ADD latency, sequential then parallel.
    const seqEnvs = Array.from({ length: N }, (_, i) => attach(`seq-${i}`, lab.addContainer(`s${i}`)));
    const seqMs: number[] = [];
    for (const e of seqEnvs) seqMs.push((await timedAdd(e, conf())).ms);
    rows.push(row('ADD, one at a time', seqMs));
    await delAll(seqEnvs);
    const parEnvs = Array.from({ length: PARALLEL }, (_, i) => attach(`par-${i}`, lab.addContainer(`p${i}`)));
    const wall0 = performance.now();
    const parMs = (await Promise.all(parEnvs.map((e) => timedAdd(e, conf())))).map((x) => x.ms);
    const wall = performance.now() - wall0;
    rows.push(row(`ADD, ${PARALLEL} at once`, parMs));
    await delAll(parEnvs);

    // (2) ADD returning -> first packet allowed by policy.
    const clientNs = lab.addContainer('client');
    const clientEnv = attach('client', clientNs);
    await timedAdd(clientEnv, conf({ args: { cni: { labels: [{ key: 'role', value: 'client' }] } } }));
    // Same host: addresses in one block (198.18.143.0/26 ...); remote: another block, claimed by host2.
    const gaps = async (wait: boolean, host = 'host1'): Promise<number[]> => {
      const out: number[] = [];
      const remote = host !== 'host1';
      for (let i = 0; i < GAPS; i++) {
        const ip = remote ? `198.18.142.${wait ? 100 + i : i + 1}` : `198.18.143.${wait ? 100 + i : i + 1}`;
        const tag = `${remote ? 'r' : ''}${wait ? 'w' : 'n'}`;
        const netns = lab.addContainer(`g${tag}${i}`);
        children.push(spawn('ip', ['netns', 'exec', netns.split('/').pop()!, process.execPath, '-e', SERVER], { stdio: 'ignore' }));
        const client = spawn('ip', ['netns', 'exec', clientNs.split('/').pop()!, process.execPath, '-e', CLIENT, ip, '80'], { stdio: ['ignore', 'pipe', 'ignore'] });
        children.push(client);
        let line = '';
        client.stdout!.on('data', (d: Buffer) => (line += d.toString()));
        const firstOk = new Promise<number>((resolve) => client.on('exit', () => resolve(Number(line.trim()))));
        const env = attach(`gap-${tag}-${i}`, netns);
        const { endedAt } = await timedAdd(env, conf({ policy_setup_timeout_seconds: wait ? 10 : 0, args: { cni: { labels: [{ key: 'role', value: 'server' }], ips: [ip] } } }, host), host);
        const timeout = new Promise<number>((resolve) => setTimeout(() => resolve(NaN), 20_000));
        const ok = await Promise.race([firstOk, timeout]);
        client.kill('SIGKILL');
        if (Number.isNaN(ok)) throw new Error(`no connection to ${ip} within 20 s of its ADD`);
        out.push(ok - endedAt);
        await delAll([env], host);
      }
      return out;
    };
    rows.push(row('ADD returned -> first packet allowed (no wait)', await gaps(false)));
    rows.push(row('ADD returned -> first packet allowed (policy_setup_timeout_seconds)', await gaps(true)));
    rows.push(row('remote host: ADD returned -> first packet allowed (no wait)', await gaps(false, 'host2')));
    rows.push(row('remote host: ADD returned -> first packet allowed (policy_setup_timeout_seconds)', await gaps(true, 'host2')));

    console.log(`calico CNI plugin on one host with calico-node; ${cpus().length} cores; wall time for ${PARALLEL} parallel ADDs: ${round(wall)} ms`);
    console.table(rows);
    const dir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'cni.json'), JSON.stringify({ bench: 'cni', quick, date: new Date().toISOString(), cores: cpus().length, n: N, parallel: PARALLEL, parallelWallMs: round(wall), rows }, null, 2) + '\n');
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await lab.destroy();
  }
}

await main();
