// Scale simulation (issue 13), a benchmark (not a test). A 1,000-node cluster
// as the datastore sees it: Node resources (BGP addresses on one segment), an
// IPAM block affine to each node, 100 WorkloadEndpoints per node (100k), one
// GlobalNetworkPolicy whose source selector (parity == 'odd') puts half the
// cluster's addresses in one set; and one real calico-node (with BIRD, full
// mesh: a peer per other node) for node-0, whose 100 endpoints have veths.
// Measured: load time, start -> in sync (readiness), agent memory, then a
// writer flips remote endpoints' parity at a fixed offered rate: the rate the
// agent sustains and the lag from a write's acknowledgement to the agent's calc
// graph having processed it. Then "nothing lost": every acknowledged write is
// in etcd, the agent counts the endpoints etcd holds (after a marker endpoint
// proves its watch is live), and the kernel's set of "odd" addresses equals
// the one computed from etcd. Twice: one etcd, then a 3-member etcd cluster
// (members on loopback ports in the namespace) with the member the agent talks
// to (the first endpoint) killed halfway through the writes.
// Needs root (re-runs itself inside a fresh network namespace).
//   node dist/bench/scale.js [--nodes 1000] [--per-node 100] [--rate 1000] [--seconds 20] [--quick]
// Prints a table and writes bench/results/scale.json.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Resource } from '../src/api/resource.js';
import { gnp, nsProfile, res, wep } from '../src/calc/fixtures.test-support.js';
import { loadDatastoreConfig, openDatastore } from '../src/datastore/open-datastore.js';
import type { Datastore } from '../src/datastore/datastore.js';
import { EtcdKV } from '../src/datastore/etcd-kv.js';
import { claimBlock } from '../src/ipam/affinity-flows.js';
import { IpamClient } from '../src/ipam/ipam-client.js';
import { staticPoolSource } from '../src/ipam/pools.js';
import type { ScaleResult } from '../src/perf-report/run-record.js';
import { arg, percentile, printTable, procStats, quick, writeResult } from './harness.js';

const NODES = Number(arg('nodes', quick ? '50' : '1000'));
const PER_NODE = Number(arg('per-node', quick ? '20' : '100'));
const RATE = Number(arg('rate', quick ? '300' : '1000'));
const SECONDS = Number(arg('seconds', quick ? '2' : '20'));
const ROOT = new URL('../../', import.meta.url).pathname;
const NETNS = `ctsb-scale-${process.pid}`;
/** /25 blocks (128 addresses, room for 100 endpoints), 1,000 of them in these pools; node addresses stay outside. */
const POOLS = ['198.18.0.0/16', '198.19.0.0/17', '198.19.128.0/18', '198.19.192.0/19', '198.19.224.0/20', '198.19.240.0/22'];
const BLOCK = 25;
const SEGMENT = { base: [198, 19, 248, 0], prefix: 22 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ipv4 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
const toInt = (a: number[]) => ((a[0]! << 24) >>> 0) + (a[1]! << 16) + (a[2]! << 8) + a[3]!;
/** Start of the i-th /25 across POOLS, in order. */
function blockStart(i: number): number {
  for (const p of POOLS) {
    const [addr, len] = p.split('/') as [string, string];
    const count = 2 ** (BLOCK - Number(len));
    if (i < count) return toInt(addr.split('.').map(Number)) + i * 128;
    i -= count;
  }
  throw new Error(`--nodes ${NODES}: the pools hold 1,000 /25 blocks, one per node; use --nodes 1000 or fewer`);
}
const nodeAddress = (i: number) => `${ipv4(toInt(SEGMENT.base) + (i === 0 ? 1000 : i))}/${SEGMENT.prefix}`;
const endpointName = (node: number, k: number) => `n${node}-w${k}`;
const endpointIp = (node: number, k: number) => ipv4(blockStart(node) + k);

if (!process.argv.includes('--inside')) {
  if (process.getuid?.() !== 0) {
    console.log('scale benchmark: skipped (needs root for network namespaces)');
    process.exit(0);
  }
  spawnSync('ip', ['netns', 'add', NETNS]);
  try {
    const r = spawnSync('ip', ['netns', 'exec', NETNS, process.execPath, new URL(import.meta.url).pathname, '--inside', ...process.argv.slice(2)], { stdio: 'inherit' });
    process.exitCode = r.status ?? 1;
  } finally {
    for (const pid of spawnSync('ip', ['netns', 'pids', NETNS], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)) spawnSync('kill', ['-9', pid]);
    spawnSync('ip', ['netns', 'del', NETNS]);
  }
} else {
  await inside();
}

interface Member {
  name: string;
  client: string;
  proc: ChildProcess;
}

/** `size` etcd members on loopback (client 2379x, peer 2389x), one cluster; resolves when every member is healthy. */
async function startEtcd(size: number, dir: string): Promise<Member[]> {
  const peers = Array.from({ length: size }, (_, i) => `m${i}=http://127.0.0.1:${23890 + i}`).join(',');
  const members = Array.from({ length: size }, (_, i) => {
    const client = `http://127.0.0.1:${23790 + i}`;
    const args = ['--name', `m${i}`, '--data-dir', join(dir, `m${i}`), '--listen-client-urls', client, '--advertise-client-urls', client, '--listen-peer-urls', `http://127.0.0.1:${23890 + i}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${23890 + i}`, '--initial-cluster', peers, '--initial-cluster-state', 'new', '--quota-backend-bytes', String(4 * 2 ** 30), '--log-level', 'error', '--logger', 'zap'];
    return { name: `m${i}`, client, proc: spawn('etcd', args, { stdio: 'ignore' }) };
  });
  for (const m of members) {
    for (let t = 0; ; t++) {
      const ok = await fetch(`${m.client}/health`).then(async (r) => r.ok && /"health":\s*"true"/.test(await r.text()), () => false);
      if (ok) break;
      if (t > 300) throw new Error(`etcd member ${m.name} not healthy after 30 s`);
      await sleep(100);
    }
  }
  return members;
}

async function inBatches<T>(items: T[], width: number, f: (x: T) => Promise<unknown>): Promise<void> {
  for (let k = 0; k < items.length; k += width) await Promise.all(items.slice(k, k + width).map(f));
}

async function metrics(): Promise<Record<string, number>> {
  const text = await fetch('http://127.0.0.1:29197/metrics').then((r) => r.text(), () => '');
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^(\w+) (\S+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

/** Addresses in the agent's nft sets: the largest set holding pod addresses is the "odd" set. */
function kernelOddSet(): Set<string> {
  const r = spawnSync('nft', ['-j', 'list', 'sets', 'inet'], { encoding: 'utf8', maxBuffer: 512 * 2 ** 20 });
  const doc = JSON.parse(r.stdout || '{"nftables":[]}') as { nftables: { set?: { elem?: unknown[] } }[] };
  let best = new Set<string>();
  for (const e of doc.nftables) {
    const elems = (e.set?.elem ?? []).map((x) => (typeof x === 'string' ? x : ((x as { prefix?: { addr: string } }).prefix?.addr ?? ''))).filter((a) => a.startsWith('198.1'));
    if (elems.length > best.size) best = new Set(elems);
  }
  return best;
}

async function oneRun(etcdSize: number, runDir: string): Promise<ScaleResult['runs'][number]> {
  const dir = mkdtempSync(join(tmpdir(), 'cts-scale-etcd-'));
  const procs: ChildProcess[] = [];
  const members = await startEtcd(etcdSize, dir);
  procs.push(...members.map((m) => m.proc));
  const endpoints = members.map((m) => m.client).join(',');
  const ds: Datastore = openDatastore(loadDatastoreConfig({ env: { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: endpoints } }));
  try {
    // The cluster as etcd holds it.
    const t0 = performance.now();
    const kv = new EtcdKV({ endpoints: members.map((m) => m.client) });
    const ipam = new IpamClient({ kv, pools: staticPoolSource([]) });
    await inBatches(POOLS.map((cidr, i) => res('IPPool', `pool-${i}`, { cidr, blockSize: BLOCK, nodeSelector: 'all()' })), 10, (p) => ds.create(p));
    await ds.create(nsProfile('scale', { 'kubernetes.io/metadata.name': 'scale' }));
    await ds.create(gnp('scale-parity', { selector: 'has(parity)', ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "parity == 'odd'" }, destination: { ports: [80] } }] }));
    const nodes = Array.from({ length: NODES - 1 }, (_, i) => i + 1);
    await inBatches(nodes, 100, (i) => ds.create(res('Node', `node-${i}`, { bgp: { ipv4Address: nodeAddress(i) } })));
    await inBatches(Array.from({ length: NODES }, (_, i) => i), 20, (i) => claimBlock(ipam.store, { host: `node-${i}`, cidr: `${ipv4(blockStart(i))}/${BLOCK}`, now: new Date().toISOString(), strictAffinity: false }));
    const current = new Map<string, Resource>();
    const all = Array.from({ length: NODES * PER_NODE }, (_, j) => [Math.floor(j / PER_NODE), j % PER_NODE] as const);
    await inBatches(all, 200, async ([n, k]) => {
      const r = await ds.create(wep({ name: endpointName(n, k), namespace: 'scale', node: `node-${n}`, ips: [`${endpointIp(n, k)}/32`], labels: { app: `app${k % 20}`, parity: k % 2 ? 'odd' : 'even' }, iface: `cali${String(n * PER_NODE + k).padStart(11, '0')}` }));
      current.set(r.metadata.name!, r);
    });
    await kv.close();
    const loadSeconds = (performance.now() - t0) / 1000;

    // The agent.
    const nodeEnv = { ...process.env, DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: endpoints, NODENAME: 'node-0', IP: nodeAddress(0), NO_DEFAULT_POOLS: 'true', CALICO_NETWORKING_BACKEND: 'bird', CALICO_RUN_DIR: runDir, FELIX_HEALTHENABLED: 'true', FELIX_HEALTHHOST: '127.0.0.1', FELIX_HEALTHPORT: '29198', FELIX_PROMETHEUSMETRICSENABLED: 'true', FELIX_PROMETHEUSMETRICSHOST: '127.0.0.1', FELIX_PROMETHEUSMETRICSPORT: '29197', FELIX_LOGSEVERITYSCREEN: 'Warning' };
    const s0 = performance.now();
    const node = spawn(join(ROOT, 'bin/calico-node'), [], { env: nodeEnv, stdio: ['ignore', 'ignore', 'inherit'] });
    procs.push(node);
    for (;;) {
      if (await fetch('http://127.0.0.1:29198/readiness').then((r) => r.ok, () => false)) break;
      if (node.exitCode !== null) throw new Error(`calico-node exited ${node.exitCode}`);
      await sleep(50);
    }
    const inSyncMs = performance.now() - s0;
    await sleep(2000);
    const rssMb = procStats(node.pid!).rssMb;
    const birdConf = join(runDir, 'bird', 'bird.conf');
    const birdPeers = (readFileSync(birdConf, 'utf8').match(/^protocol bgp /gm) ?? []).length;

    // The writer: flip remote endpoints' parity at RATE per second, up to 64 in flight.
    const remote = all.filter(([n]) => n !== 0).map(([n, k]) => endpointName(n, k));
    const before = await metrics();
    const c0 = before.felix_calc_graph_updates_processed ?? 0;
    const resyncs0 = before.felix_resyncs_started ?? 0;
    const acks: number[] = [];
    const lastAcked = new Map<string, string>();
    let writes = 0;
    let errors = 0;
    let inFlight = 0;
    let memberKilled: string | undefined;
    const samples: [number, number][] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const m = await metrics();
        if (m.felix_calc_graph_updates_processed !== undefined) samples.push([performance.now(), m.felix_calc_graph_updates_processed]);
        await sleep(25);
      }
    })();
    const w0 = performance.now();
    const total = RATE * SECONDS;
    while (writes < total) {
      const due = Math.min(total, Math.floor(((performance.now() - w0) / 1000) * RATE));
      if (etcdSize > 1 && !memberKilled && writes >= total / 2) {
        members[0]!.proc.kill('SIGKILL');
        memberKilled = `${members[0]!.name} (the agent's first endpoint) after ${writes} writes`;
      }
      while (writes < due && inFlight < 64) {
        const name = remote[writes % remote.length]!;
        writes++;
        inFlight++;
        const cur = current.get(name)!;
        const parity = cur.metadata.labels!.parity === 'odd' ? 'even' : 'odd';
        const next = { ...cur, metadata: { ...cur.metadata, labels: { ...cur.metadata.labels, parity } } };
        current.set(name, next);
        ds.update(next).then(
          (r) => {
            acks.push(performance.now());
            lastAcked.set(name, parity);
            current.set(name, r);
            inFlight--;
          },
          () => {
            // Not acknowledged: the label stays as etcd has it (read back at the end).
            errors++;
            current.set(name, cur);
            inFlight--;
          },
        );
      }
      await sleep(5);
    }
    while (inFlight > 0) await sleep(5);
    const writeSeconds = (performance.now() - w0) / 1000;
    // Wait for the agent to process every acknowledged write (or 120 s: then "sustained" is a lower bound).
    const target = c0 + acks.length;
    const deadline = performance.now() + 120_000;
    while ((samples.at(-1)?.[1] ?? 0) < target && performance.now() < deadline) await sleep(25);
    sampling = false;
    await sampler;
    const after = await metrics();
    const resyncs = (after.felix_resyncs_started ?? 0) - resyncs0;
    acks.sort((a, b) => a - b);
    const lags: number[] = [];
    if (resyncs === 0) {
      let s = 0;
      acks.forEach((t, k) => {
        while (s < samples.length && samples[s]![1] < c0 + k + 1) s++;
        if (s < samples.length) lags.push(Math.max(0, samples[s]![0] - t));
      });
    }
    const lastProcessed = samples.find(([, c]) => c >= target)?.[0] ?? performance.now();
    const sustainedPerSecond = acks.length / ((lastProcessed - w0) / 1000);

    // Nothing lost: a marker proves the agent's watch is live; then compare etcd, the agent and the kernel.
    await ds.create(wep({ name: 'marker', namespace: 'scale', node: 'node-1', ips: [`${endpointIp(1, PER_NODE)}/32`], labels: { app: 'marker' } }));
    const listed = await ds.list({ kind: 'WorkloadEndpoint', namespace: 'scale' });
    const etcdEndpoints = listed.items.length;
    let agentEndpoints = -1;
    for (let t = 0; t < 600; t++) {
      agentEndpoints = (await metrics()).felix_cluster_num_endpoints ?? -1;
      if (agentEndpoints === etcdEndpoints) break;
      await sleep(50);
    }
    let lost = 0;
    const byName = new Map(listed.items.map((r) => [r.metadata.name!, r]));
    for (const [name, parity] of lastAcked) if (byName.get(name)?.metadata.labels?.parity !== parity) lost++;
    const oddInEtcd = new Set(listed.items.filter((r) => r.metadata.labels?.parity === 'odd').map((r) => String((r.spec as { ipNetworks: string[] }).ipNetworks[0]).split('/')[0]!));
    // The kernel may still be behind the calc graph (its rounds batch many
    // updates): wait until it holds exactly etcd's set, and say how long that took.
    let kernel = new Set<string>();
    let kernelDiff = Number.NaN;
    const k0 = performance.now();
    const kernelDeadline = k0 + 180_000;
    do {
      kernel = kernelOddSet();
      kernelDiff = [...oddInEtcd].filter((a) => !kernel.has(a)).length + [...kernel].filter((a) => !oddInEtcd.has(a)).length;
      if (kernelDiff === 0) break;
      await sleep(250);
    } while (performance.now() < kernelDeadline);
    const kernelCatchUpMs = performance.now() - k0;
    node.kill('SIGTERM');
    await new Promise((r) => node.once('exit', r));
    return {
      etcd: etcdSize === 1 ? '1 member' : `${etcdSize} members`,
      loadSeconds,
      inSyncMs,
      rssMb,
      birdPeers,
      offeredPerSecond: RATE,
      writePerSecond: acks.length / writeSeconds,
      sustainedPerSecond,
      lagP50Ms: lags.length ? percentile(lags, 50) : Number.NaN,
      lagP99Ms: lags.length ? percentile(lags, 99) : Number.NaN,
      resyncs,
      writes,
      writesAcked: acks.length,
      writeErrors: errors,
      ...(memberKilled ? { memberKilled } : {}),
      agentEndpoints,
      etcdEndpoints,
      lost,
      kernelDiff,
      kernelCatchUpMs,
      kernelOddSet: kernel.size,
      etcdOddSet: oddInEtcd.size,
    };
  } finally {
    await ds.close();
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    await sleep(200);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function inside(): Promise<void> {
  spawnSync('ip', ['link', 'set', 'lo', 'up']);
  // The node's own address on the segment the other nodes' BGP addresses share.
  spawnSync('ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0']);
  spawnSync('ip', ['addr', 'add', nodeAddress(0), 'dev', 'eth0']);
  spawnSync('ip', ['link', 'set', 'eth0', 'up']);
  spawnSync('ip', ['link', 'set', 'peer0', 'up']);
  // node-0's endpoints have their host-side veths, so the agent programs them.
  const batch = Array.from({ length: PER_NODE }, (_, k) => `link add cali${String(k).padStart(11, '0')} type veth peer name p${k}\nlink set cali${String(k).padStart(11, '0')} up`).join('\n');
  spawnSync('ip', ['-batch', '-'], { input: batch + '\n' });
  const runs: ScaleResult['runs'] = [];
  for (const size of [1, 3]) {
    const runDir = mkdtempSync(join(tmpdir(), 'cts-scale-run-'));
    mkdirSync(runDir, { recursive: true });
    try {
      runs.push(await oneRun(size, runDir));
    } finally {
      rmSync(runDir, { recursive: true, force: true });
    }
  }
  const n = (x: number) => (Number.isFinite(x) ? String(Math.round(x)) : 'n/a');
  printTable(`scale simulation: ${NODES} nodes, ${(NODES * PER_NODE).toLocaleString('en-US')} endpoints, writer ${RATE}/s for ${SECONDS} s${quick ? ' [--quick: indicative only]' : ''}`, [
    ['', ...runs.map((r) => r.etcd)],
    ['load into etcd (s)', ...runs.map((r) => r.loadSeconds.toFixed(1))],
    ['calico-node start -> in sync (s)', ...runs.map((r) => (r.inSyncMs / 1000).toFixed(2))],
    ['agent RSS (MiB)', ...runs.map((r) => r.rssMb.toFixed(0))],
    ['BGP peers in bird.conf', ...runs.map((r) => String(r.birdPeers))],
    ['writes acked/s (offered)', ...runs.map((r) => `${n(r.writePerSecond)} (${r.offeredPerSecond})`)],
    ['updates/s the agent sustained', ...runs.map((r) => n(r.sustainedPerSecond))],
    ['lag p50 / p99 (ms)', ...runs.map((r) => `${n(r.lagP50Ms)} / ${n(r.lagP99Ms)}`)],
    ['agent resyncs during writes', ...runs.map((r) => String(r.resyncs))],
    ['writes acked / failed', ...runs.map((r) => `${r.writesAcked} / ${r.writeErrors}`)],
    ['member killed', ...runs.map((r) => r.memberKilled ?? '-')],
    ['endpoints: etcd / agent', ...runs.map((r) => `${r.etcdEndpoints} / ${r.agentEndpoints}`)],
    ['odd set: etcd / kernel', ...runs.map((r) => `${r.etcdOddSet} / ${r.kernelOddSet}`)],
    ['acked writes missing from etcd', ...runs.map((r) => String(r.lost))],
    ['kernel set != etcd (addresses), after waiting', ...runs.map((r) => `${r.kernelDiff} (${((r.kernelCatchUpMs ?? 0) / 1000).toFixed(1)} s)`)],
  ]);
  writeResult('scale', { nodes: NODES, perNode: PER_NODE, endpoints: NODES * PER_NODE, rate: RATE, seconds: SECONDS, runs });
}
