// The apply loop at scale (issue 11), a benchmark (not a test), against the
// real kernel (nftables) in a throwaway network namespace, driven the way
// calico-node drives it (calc output -> managers -> apply loop -> nft):
//  (1) policy change -> enforced: E endpoints (the local ones on veths,
//      the rest only set members), P policies with a selector set each, every
//      policy active on some local endpoint; one policy's rules change, the
//      time until the nft transaction holding it has been committed. p50/p99.
//  (2) round time against the size of the ruleset: the same one-policy change
//      at several policy counts (default 100 / 1k / 5k), with the objects the
//      round compared, and a full reconcile (every object read back and
//      compared) at each size for contrast: incremental rounds should stay
//      flat while full ones grow.
//  (3) resident memory of this process (managers, apply loop, compile caches,
//      kernel views) holding E / P (the whole agent: bench/node.ts).
// Usage: node --expose-gc dist/bench/control-plane.js [--endpoints 10000] [--policies 1000]
//        [--points 100,1000,5000] [--changes 50] [--quick]
// Prints a table and writes bench/results/control-plane.json. Needs root (else: skipped).

import { cpus } from 'node:os';
import type { CalcUpdate, IpSetState, PolicyState, WorkloadEndpointState } from '../src/calc/output.js';
import { allowAll, rule, side, workload } from '../src/dataplane/testing-fixtures.js';
import { TestAgent } from '../test/kernel/dataplane/agent.js';
import { Topology, canRunKernelTests, sh } from '../test/kernel/dataplane/topology.js';
import { arg, median, percentile, printTable, quick, writeResult } from './harness.js';

const ENDPOINTS = Number(arg('endpoints', quick ? '1000' : '10000'));
const POLICIES = Number(arg('policies', quick ? '100' : '1000'));
const POINTS = arg('points', quick ? '20,100,250' : '100,1000,5000').split(',').map(Number);
const CHANGES = Number(arg('changes', quick ? '10' : '50'));
/**
 * Local endpoints: one per 10 policies (at least 10), so every local endpoint
 * has 10 policies in one merged tier chain whatever the policy count: the
 * change a round handles is the same size at every point.
 */
const PER_ENDPOINT = 10;
const localFor = (policies: number) => Math.max(10, Math.ceil(policies / PER_ENDPOINT));
const APPS = 200;

const iface = (i: number) => `calicp${String(i).padStart(9, '0')}`;
/** Endpoint i's address: 198.18.0.0/15 has room for 131k. */
const ipOf = (i: number) => `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

/** P policies, each allowing its app's endpoints (a selector set) to one port, and a net; the local endpoints share them out. */
function world(endpoints: number, policies: number, LOCAL: number) {
  const sets: IpSetState[] = Array.from({ length: Math.min(APPS, policies) }, (_, a) => ({
    id: `app-${a}`,
    kind: 'net',
    description: `app == 'a${a}'`,
    members: Array.from({ length: Math.ceil(endpoints / APPS) }, (_, k) => k * APPS + a).filter((i) => i < endpoints).map((i) => ({ net: `${ipOf(i)}/32` })),
  }));
  const pol = (k: number, port: number): PolicyState => ({
    id: `np/ns${k % 50}/p${k}`,
    tier: 'default',
    inboundRules: [
      rule({ action: 'Allow', protocol: 6, source: side({ ipSetIds: [`app-${k % sets.length}`] }), destination: side({ ports: [{ first: port, last: port }] }) }),
      rule({ action: 'Allow', protocol: 17, source: side({ nets: [`10.${k >> 8}.${k & 255}.0/24`] }) }),
    ],
    outboundRules: [],
    doNotTrack: false,
    preDnat: false,
    applyOnForward: false,
  });
  const policiesOf = (local: number) => Array.from({ length: policies }, (_, k) => k).filter((k) => k % LOCAL === local).map((k) => `np/ns${k % 50}/p${k}`);
  const local = (i: number): WorkloadEndpointState => workload({ name: `w${i}`, iface: iface(i), ipv4: [`${ipOf(i)}/32`], mac: '02:00:00:00:00:01', ingress: policiesOf(i), profiles: ['kns.default'] });
  const updates: CalcUpdate[] = [
    { type: 'profileUpserted', profile: allowAll('kns.default') },
    { type: 'ipPoolUpserted', pool: { name: 'p', cidr: '198.18.0.0/15', ipVersion: 4, natOutgoing: true, disabled: false } },
    ...sets.map((ipSet): CalcUpdate => ({ type: 'ipSetUpserted', ipSet })),
    ...Array.from({ length: policies }, (_, k): CalcUpdate => ({ type: 'policyUpserted', policy: pol(k, 8000 + (k % 100)) })),
    ...Array.from({ length: LOCAL }, (_, i): CalcUpdate => ({ type: 'workloadEndpointUpserted', endpoint: local(i) })),
  ];
  return { updates, pol };
}

function hostWithInterfaces(topo: Topology, name: string, LOCAL: number): string {
  const h = topo.ns(name);
  // Veth pairs whose peers stay in the host namespace: the agent needs the interfaces, not traffic.
  const batch = Array.from({ length: LOCAL }, (_, i) => `link add ${iface(i)} type veth peer name p${String(i).padStart(9, '0')}\nlink set ${iface(i)} up`).join('\n');
  sh(['ip', '-n', h, '-batch', '-'], { input: batch + '\n' });
  return h;
}

const rssMb = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss / 2 ** 20;
};

/** Loads the world, then makes CHANGES one-policy changes (a different policy each pair). */
async function run(endpoints: number, policies: number, opts: { rss?: boolean } = {}) {
  const topo = new Topology();
  try {
    const local = localFor(policies);
    const h = hostWithInterfaces(topo, 'cp-h', local);
    const agent = new TestAgent(h, 'nftables');
    const w = world(endpoints, policies, local);
    const rssBefore = opts.rss ? rssMb() : 0;
    const t0 = performance.now();
    await agent.apply([...w.updates, { type: 'inSync' }]);
    const loadMs = performance.now() - t0;
    const rss = opts.rss ? rssMb() : 0;
    const enforceMs: number[] = [];
    const roundMs: number[] = [];
    const objects: number[] = [];
    // Changes come in pairs: a policy moves to a new port (its endpoints' merged
    // sets gain elements), then back (they lose them again), so half the
    // rounds remove elements, which costs nft more than adding them.
    const addMs: number[] = [];
    const removeMs: number[] = [];
    for (let c = 0; c < CHANGES; c++) {
      const k = (Math.floor(c / 2) * 7919) % policies;
      const back = c % 2 === 1;
      const t = performance.now();
      await agent.apply([{ type: 'policyUpserted', policy: w.pol(k, back ? 8000 + (k % 100) : 9000 + c) }]);
      enforceMs.push(performance.now() - t);
      (back ? removeMs : addMs).push(enforceMs.at(-1)!);
      roundMs.push(agent.loop.metrics.lastRoundMs);
      objects.push(agent.loop.metrics.lastRoundObjects);
    }
    // For contrast: what a round costs when it reads back and compares everything.
    const fullMs: number[] = [];
    for (let i = 0; i < 3; i++) {
      agent.loop.reconcileNow();
      await agent.apply([]);
      fullMs.push(agent.loop.metrics.lastRoundMs);
    }
    const writes = agent.writes.filter((x) => x.startsWith('nft ')).length;
    await agent.loop.stop();
    return { endpoints, policies, local, loadMs, rssMb: rss, rssGrowthMb: rss - rssBefore, enforceMs, addMs, removeMs, roundMs, objects, fullMs, nftWrites: writes };
  } finally {
    topo.teardown();
  }
}

const why = canRunKernelTests();
if (why) {
  console.log(`control-plane benchmark: skipped (${why})`);
  process.exit(0);
}

const main = await run(ENDPOINTS, POLICIES, { rss: true });
const points = [];
for (const p of POINTS) points.push(p === POLICIES ? main : await run(ENDPOINTS, p));

const ms = (n: number) => (Math.round(n * 10) / 10).toString();
printTable(`apply loop at scale (nftables, real kernel): ${ENDPOINTS} endpoints (${main.local} local), ${CHANGES} one-policy changes (${cpus().length} CPUs, ${cpus()[0]?.model ?? '?'})${quick ? ' [--quick: indicative only]' : ''}`, [
  ['', `${POLICIES} policies`],
  ['load everything, first (full) round (ms)', ms(main.loadMs)],
  ['policy change -> in the kernel p50 (ms)', ms(median(main.enforceMs))],
  ['policy change -> in the kernel p99 (ms, target <= 50)', ms(percentile(main.enforceMs, 99))],
  ['  of which adding elements: p50 / p99 (ms)', `${ms(median(main.addMs))} / ${ms(percentile(main.addMs, 99))}`],
  ['  of which removing elements: p50 / p99 (ms)', `${ms(median(main.removeMs))} / ${ms(percentile(main.removeMs, 99))}`],
  ['RSS of this process, state loaded (MiB)', ms(main.rssMb)],
]);
printTable('apply round for a one-policy change, by policy count (incremental vs a full reconcile of the same state)', [
  ['policies (local endpoints)', 'round p50 (ms)', 'round p99 (ms)', 'objects compared (median)', 'full reconcile round (ms, median)'],
  ...points.map((r) => [`${r.policies} (${r.local})`, ms(median(r.roundMs)), ms(percentile(r.roundMs, 99)), String(median(r.objects)), ms(median(r.fullMs))]),
]);
writeResult('control-plane', {
  endpoints: ENDPOINTS,
  policies: POLICIES,
  local: main.local,
  changes: CHANGES,
  enforce: { p50Ms: median(main.enforceMs), p99Ms: percentile(main.enforceMs, 99), samplesMs: main.enforceMs,
    adding: { p50Ms: median(main.addMs), p99Ms: percentile(main.addMs, 99) }, removing: { p50Ms: median(main.removeMs), p99Ms: percentile(main.removeMs, 99) } },
  rssMb: main.rssMb,
  loadMs: main.loadMs,
  rows: points.map((r) => ({ policies: r.policies, local: r.local, p50Ms: median(r.roundMs), p99Ms: percentile(r.roundMs, 99), objects: median(r.objects), fullReconcileMs: median(r.fullMs) })),
});
