// Dataplane benchmarks (not tests), in throwaway network namespaces, for each backend:
//  (b) time to program N local workloads (density, default 1,500), and p50/p99 of adding one more;
//  (c) policy scaling: new TCP connections/s and connect time (the first packet of a new flow
//      through the ruleset and back) between two workloads with 0, 100, 1k, 10k rules in front
//      of the one that allows the flow (the agent's own compile: mergeable rules become set
//      lookups), and, at the largest point, the same rules made unmergeable (alternating
//      actions: what per-rule matching costs). Points alternate within a round to cancel drift.
// Usage: node dist/bench/dataplane.js [--backend nftables|iptables|both] [--workloads 1500]
//        [--points 0,100,1000,10000] [--seconds 3] [--rounds 3] [--quick]
// Prints a table and writes bench/results/dataplane.json.

import { cpus } from 'node:os';
import type { CalcUpdate } from '../src/calc/output.js';
import { allowAll, policy, rule, side, workload } from '../src/dataplane/testing-fixtures.js';
import { TestAgent } from '../test/kernel/dataplane/agent.js';
import { PROBE, Topology, sh } from '../test/kernel/dataplane/topology.js';
import { spawnSync } from 'node:child_process';
import { arg, median, nftRulesetLines, printTable, quick, writeResult } from './harness.js';

const which = arg('backend', 'both');
const backends = (which === 'both' ? ['nftables', 'iptables'] : [which]) as ('nftables' | 'iptables')[];
const WORKLOADS = Number(arg('workloads', quick ? '100' : '1500'));
const POINTS = arg('points', '0,100,1000,10000').split(',').map(Number);
const SECONDS = Number(arg('seconds', quick ? '0.5' : '3'));
const ROUNDS = Number(arg('rounds', quick ? '1' : '3'));
const CONNECTS = Number(arg('connects', quick ? '50' : '500'));
const ADDS = quick ? 10 : 50;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const ms = (n: number) => Math.round(n * 10) / 10;
const ifaceOf = (i: number) => `calib${String(i).padStart(10, '0')}`;
const ipOf = (i: number) => `198.18.${(i >> 8) & 255}.${i & 255}`;

async function programWorkloads(topo: Topology, backend: 'nftables' | 'iptables') {
  const h = topo.ns('bench-h');
  // Veth pairs whose peers stay in the host namespace: the agent only needs the cali side to exist.
  const total = WORKLOADS + ADDS;
  const batch = Array.from({ length: total }, (_, i) => `link add ${ifaceOf(i)} type veth peer name p${String(i).padStart(10, '0')}\nlink set ${ifaceOf(i)} up`).join('\n');
  sh(['ip', '-n', h, '-batch', '-'], { input: batch + '\n' });
  const agent = new TestAgent(h, backend);
  const setMembers = (n: number) => Array.from({ length: n }, (_, i) => ({ net: `${ipOf(i + 1)}/32` }));
  const ep = (i: number) => workload({ name: `w${i}`, iface: ifaceOf(i), ipv4: [`${ipOf(i + 1)}/32`], mac: '02:00:00:00:00:01', ingress: ['np/default/web'], profiles: ['kns.default'] });
  const base: CalcUpdate[] = [
    { type: 'ipSetUpserted', ipSet: { id: 'sall', kind: 'net', description: 'all()', members: setMembers(WORKLOADS) } },
    { type: 'policyUpserted', policy: policy('np/default/web', { inbound: [rule({ action: 'Allow', protocol: 6, source: side({ ipSetIds: ['sall'] }), destination: side({ ports: [{ first: 80, last: 80 }] }) })] }) },
    { type: 'profileUpserted', profile: allowAll('kns.default') },
    { type: 'ipPoolUpserted', pool: { name: 'p', cidr: '198.18.0.0/15', ipVersion: 4, natOutgoing: true, disabled: false } },
  ];
  const t0 = performance.now();
  await agent.apply([...base, ...Array.from({ length: WORKLOADS }, (_, i): CalcUpdate => ({ type: 'workloadEndpointUpserted', endpoint: ep(i) })), { type: 'inSync' }]);
  const programMs = performance.now() - t0;
  const adds: number[] = [];
  for (let k = 0; k < ADDS; k++) {
    const i = WORKLOADS + k;
    const t = performance.now();
    await agent.apply([
      { type: 'ipSetDelta', id: 'sall', added: [{ net: `${ipOf(i + 1)}/32` }], removed: [] },
      { type: 'workloadEndpointUpserted', endpoint: ep(i) },
    ]);
    adds.push(performance.now() - t);
  }
  await agent.loop.stop();
  return { programMs, addP50: pct(adds, 50), addP99: pct(adds, 99), rounds: agent.loop.metrics.rounds };
}

/** N distinct "allow tcp from <addr> to port <p>" rules, then the one the client needs. */
function rulesInFront(n: number, client: string) {
  const inbound = Array.from({ length: n }, (_, i) =>
    rule({ action: 'Allow', protocol: 6, source: side({ nets: [`198.19.${(i >> 8) & 255}.${i & 255}/32`] }), destination: side({ ports: [{ first: 10000 + (i % 5000), last: 10000 + (i % 5000) }] }) }),
  );
  inbound.push(rule({ action: 'Allow', protocol: 6, source: side({ nets: [`${client}/32`] }), destination: side({ ports: [{ first: 8080, last: 8080 }] }) }));
  return inbound;
}

interface PointResult {
  rules: number;
  connPerSecond: number[];
  connectP50Us: number[];
}

/** Same two workloads; the server's ingress policy switched between the points (and the unmergeable variant). */
async function policyScaling(topo: Topology, backend: 'nftables' | 'iptables') {
  const { h1 } = topo.hosts();
  const w1 = topo.workload(h1, { name: 'ca', iface: 'calibencha0001', ip: '198.18.1.1', ip6: '2001:db8:1::1', mac: '02:00:00:00:01:01' });
  const w2 = topo.workload(h1, { name: 'cb', iface: 'calibenchb0002', ip: '198.18.1.2', ip6: '2001:db8:1::2', mac: '02:00:00:00:01:02' });
  sh(['ip', '-n', h1, 'route', 'add', 'default', 'via', '192.0.2.2']);
  await topo.background(w1.ns, ['serve', '8080', '']);
  const top = Math.max(...POINTS);
  // The same rules with alternating actions cannot be merged: what per-rule matching costs.
  const linear = rulesInFront(top, w2.ip).map((r, i, all) => (i % 2 === 1 && i < all.length - 1 ? { ...r, action: 'Deny' as const } : r));
  const agent = new TestAgent(h1, backend);
  const wl = (w: typeof w1, ingress: string[]) => workload({ name: w.ns, iface: w.iface, ipv4: [`${w.ip}/32`], mac: w.mac, ingress, profiles: ['kns.default'] });
  await agent.apply([
    { type: 'profileUpserted', profile: allowAll('kns.default') },
    ...POINTS.map((n): CalcUpdate => ({ type: 'policyUpserted', policy: policy(`np/default/rules-${n}`, { inbound: rulesInFront(n, w2.ip) }) })),
    { type: 'policyUpserted', policy: policy('np/default/linear', { inbound: linear }) },
    { type: 'workloadEndpointUpserted', endpoint: wl(w2, []) },
    { type: 'inSync' },
  ]);
  const connrate = () => {
    const r = spawnSync('ip', ['netns', 'exec', w2.ns, process.execPath, PROBE, 'connrate', w1.ip, '8080', String(SECONDS), '8'], { encoding: 'utf8' });
    const [done, errors] = r.stdout.trim().split(' ').map(Number) as [number, number];
    return { perSecond: done / SECONDS, errors };
  };
  const connlat = () => {
    const r = spawnSync('ip', ['netns', 'exec', w2.ns, process.execPath, PROBE, 'connlat', w1.ip, '8080', String(CONNECTS)], { encoding: 'utf8' });
    const [p50, , errors] = r.stdout.trim().split(' ').map(Number) as [number, number, number];
    return { p50, errors };
  };
  const points: PointResult[] = POINTS.map((rules) => ({ rules, connPerSecond: [], connectP50Us: [] }));
  const lin: number[] = [];
  const rulesetLines: Record<string, number> = {};
  let errors = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const order = [...points.keys(), -1].map((_, i, all) => all[(i + round) % all.length]!);
    for (const k of order) {
      const id = k === -1 ? 'np/default/linear' : `np/default/rules-${POINTS[k]}`;
      await agent.apply([{ type: 'workloadEndpointUpserted', endpoint: wl(w1, [id]) }]);
      if (round === 0 && backend === 'nftables') rulesetLines[id] = nftRulesetLines(h1);
      const r = connrate();
      errors += r.errors;
      if (k === -1) {
        lin.push(r.perSecond);
        continue;
      }
      points[k]!.connPerSecond.push(r.perSecond);
      const l = connlat();
      errors += l.errors;
      points[k]!.connectP50Us.push(l.p50);
    }
  }
  await agent.loop.stop();
  return { points, linear: { rules: top, connPerSecond: lin }, errors, rulesetLines };
}

async function measureBackend(backend: 'nftables' | 'iptables') {
  const topo = new Topology();
  let prog: Awaited<ReturnType<typeof programWorkloads>>;
  try {
    prog = await programWorkloads(topo, backend);
  } finally {
    topo.teardown();
  }
  const topoC = new Topology();
  try {
    return { backend, program: prog, scaling: await policyScaling(topoC, backend) };
  } finally {
    topoC.teardown();
  }
}

const results: Awaited<ReturnType<typeof measureBackend>>[] = [];
for (const b of backends) results.push(await measureBackend(b));
const col = (f: (r: (typeof results)[number]) => string) => results.map(f);
const base = (r: (typeof results)[number]) => median(r.scaling.points[0]!.connPerSecond);
printTable(`dataplane: ${WORKLOADS} workloads; policy scaling ${SECONDS} s x ${ROUNDS} rounds, medians (${cpus().length} CPUs, ${cpus()[0]?.model ?? '?'})${quick ? ' [--quick: indicative only]' : ''}`, [
  ['', ...col((r) => r.backend)],
  [`program ${WORKLOADS} workloads (ms)`, ...col((r) => String(ms(r.program.programMs)))],
  ['add one more workload p50 (ms)', ...col((r) => String(ms(r.program.addP50)))],
  ['add one more workload p99 (ms)', ...col((r) => String(ms(r.program.addP99)))],
  ...POINTS.flatMap((n, k) => [
    [`new TCP conn/s, ${n} rules in front`, ...col((r) => String(Math.round(median(r.scaling.points[k]!.connPerSecond))))],
    [`connect p50 (us), ${n} rules in front`, ...col((r) => String(Math.round(median(r.scaling.points[k]!.connectP50Us))))],
  ]),
  [`ratio ${Math.max(...POINTS)} rules / ${POINTS[0]} (target >= 0.85)`, ...col((r) => (median(r.scaling.points.at(-1)!.connPerSecond) / base(r)).toFixed(2))],
  [`new TCP conn/s, ${Math.max(...POINTS)} unmergeable rules`, ...col((r) => String(Math.round(median(r.scaling.linear.connPerSecond))))],
  ['connect errors', ...col((r) => String(r.scaling.errors))],
]);
writeResult('dataplane', { workloads: WORKLOADS, points: POINTS, seconds: SECONDS, rounds: ROUNDS, connects: CONNECTS, results });
