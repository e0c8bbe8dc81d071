// Dataplane benchmarks (not tests), in throwaway network namespaces:
//  (b) time to program 1,500 local workloads, and p50/p99 of adding one more;
//  (c) new TCP connections/s between two workloads with 10k policy rules
//      applying, as a ratio to no policy (target >= 0.85).
// Usage: node dist/bench/dataplane.js [--backend nftables|iptables] [--workloads 1500] [--rules 10000]
// Prints a table and writes bench/results/dataplane-<backend>.json.

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { CalcUpdate } from '../src/calc/output.js';
import { allowAll, policy, rule, side, workload } from '../src/dataplane/testing-fixtures.js';
import { TestAgent } from '../test/kernel/dataplane/agent.js';
import { PROBE, Topology, sh } from '../test/kernel/dataplane/topology.js';
import { spawnSync } from 'node:child_process';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : process.argv[i + 1]!;
};
const backend = arg('backend', 'nftables') as 'nftables' | 'iptables';
const WORKLOADS = Number(arg('workloads', '1500'));
const RULES = Number(arg('rules', '10000'));
const ADDS = 50;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const ms = (n: number) => Math.round(n * 10) / 10;
const ifaceOf = (i: number) => `calib${String(i).padStart(10, '0')}`;
const ipOf = (i: number) => `198.18.${(i >> 8) & 255}.${i & 255}`;

async function programWorkloads(topo: Topology) {
  const h = topo.ns('bench-h');
  // Veth pairs whose peers stay in the host namespace: the agent only needs the cali side to exist.
  const total = WORKLOADS + ADDS;
  const batch = Array.from({ length: total }, (_, i) => `link add ${ifaceOf(i)} type veth peer name p${String(i).padStart(10, '0')}\nlink set ${ifaceOf(i)} up`).join('\n');
  sh(['ip', '-n', h, '-batch', '-'], { input: batch + '\n' });
  const agent = new TestAgent(h, backend);
  const setMembers = (n: number) => Array.from({ length: n }, (_, i) => `${ipOf(i + 1)}/32`);
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
      { type: 'ipSetDelta', id: 'sall', added: [`${ipOf(i + 1)}/32`], removed: [] },
      { type: 'workloadEndpointUpserted', endpoint: ep(i) },
    ]);
    adds.push(performance.now() - t);
  }
  await agent.loop.stop();
  return { programMs, addP50: pct(adds, 50), addP99: pct(adds, 99), rounds: agent.loop.metrics.rounds };
}

/** Same two workloads, policy switched between "none" and RULES rules; runs alternate to cancel drift. */
async function connectionRates(topo: Topology) {
  const { h1 } = topo.hosts();
  const w1 = topo.workload(h1, { name: 'ca', iface: 'calibencha0001', ip: '198.18.1.1', ip6: '2001:db8:1::1', mac: '02:00:00:00:01:01' });
  const w2 = topo.workload(h1, { name: 'cb', iface: 'calibenchb0002', ip: '198.18.1.2', ip6: '2001:db8:1::2', mac: '02:00:00:00:01:02' });
  sh(['ip', '-n', h1, 'route', 'add', 'default', 'via', '192.0.2.2']);
  await topo.background(w1.ns, ['serve', '8080', '']);
  // RULES distinct "allow tcp from <addr> to port <p>" rules; the one w2 needs is LAST.
  const inbound = Array.from({ length: RULES }, (_, i) =>
    rule({ action: 'Allow', protocol: 6, source: side({ nets: [`198.19.${(i >> 8) & 255}.${i & 255}/32`] }), destination: side({ ports: [{ first: 10000 + (i % 5000), last: 10000 + (i % 5000) }] }) }),
  );
  inbound.push(rule({ action: 'Allow', protocol: 6, source: side({ nets: [`${w2.ip}/32`] }), destination: side({ ports: [{ first: 8080, last: 8080 }] }) }));
  // The same rules with alternating actions cannot be merged: what per-rule matching costs.
  const linear = inbound.map((r, i) => (i % 2 === 1 && i < inbound.length - 1 ? { ...r, action: 'Deny' as const } : r));
  const agent = new TestAgent(h1, backend);
  const wl = (w: typeof w1, ingress: string[]) => workload({ name: w.ns, iface: w.iface, ipv4: [`${w.ip}/32`], mac: w.mac, ingress, profiles: ['kns.default'] });
  await agent.apply([
    { type: 'profileUpserted', profile: allowAll('kns.default') },
    { type: 'policyUpserted', policy: policy('np/default/many', { inbound }) },
    { type: 'policyUpserted', policy: policy('np/default/linear', { inbound: linear }) },
    { type: 'workloadEndpointUpserted', endpoint: wl(w2, []) },
    { type: 'inSync' },
  ]);
  const measure = () => {
    const seconds = 3;
    const r = spawnSync('ip', ['netns', 'exec', w2.ns, process.execPath, PROBE, 'connrate', w1.ip, '8080', String(seconds), '8'], { encoding: 'utf8' });
    const [done, errors] = r.stdout.trim().split(' ').map(Number) as [number, number];
    return { perSecond: done / seconds, errors };
  };
  const none: number[] = [];
  const many: number[] = [];
  const lin: number[] = [];
  let errors = 0;
  for (let round = 0; round < 3; round++) {
    for (const [ids, into] of [[[], none], [['np/default/many'], many], [['np/default/linear'], lin]] as const) {
      await agent.apply([{ type: 'workloadEndpointUpserted', endpoint: wl(w1, [...ids]) }]);
      const r = measure();
      into.push(r.perSecond);
      errors += r.errors;
    }
  }
  await agent.loop.stop();
  return { none: pct(none, 50), many: pct(many, 50), linear: pct(lin, 50), samples: { none, many, linear: lin }, errors };
}

const results: Record<string, unknown> = { backend, machine: { cpus: cpus().length, model: cpus()[0]?.model }, workloads: WORKLOADS, rules: RULES };
const topo = new Topology();
try {
  const prog = await programWorkloads(topo);
  results.program = prog;
  topo.teardown();
  const topoC = new Topology();
  let rates: Awaited<ReturnType<typeof connectionRates>>;
  try {
    rates = await connectionRates(topoC);
  } finally {
    topoC.teardown();
  }
  const none = { perSecond: rates.none };
  const many = { perSecond: rates.many };
  results.connections = { ...rates, ratio: many.perSecond / none.perSecond };
  const rows: [string, string][] = [
    [`program ${WORKLOADS} workloads (${backend})`, `${ms(prog.programMs)} ms`],
    ['add one more workload p50', `${ms(prog.addP50)} ms`],
    ['add one more workload p99', `${ms(prog.addP99)} ms`],
    ['new TCP conn/s, no policy (median of 3)', `${Math.round(none.perSecond)}`],
    [`new TCP conn/s, ${RULES} rules (median of 3)`, `${Math.round(many.perSecond)}`],
    ['ratio (target >= 0.85)', (many.perSecond / none.perSecond).toFixed(2)],
    [`new TCP conn/s, ${RULES} unmergeable rules (linear)`, `${Math.round(rates.linear)}`],
    ['linear ratio (for comparison)', (rates.linear / none.perSecond).toFixed(2)],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`\ndataplane benchmark (${cpus().length} CPUs, ${cpus()[0]?.model ?? '?'})`);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`);
  mkdirSync(new URL('../../bench/results/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`../../bench/results/dataplane-${backend}.json`, import.meta.url), JSON.stringify(results, null, 2) + '\n');
} finally {
  topo.teardown();
}
