// Policy at scale (issue 11), a benchmark (not a test), in throwaway network
// namespaces: new TCP connections per second between two workloads when
// N GlobalNetworkPolicies x R rules of mixed shapes (nets, ports, selectors,
// a deny list) stand in front of the policy that allows the flow, as a ratio
// to the same flow allowed by that policy alone. Target (nft) >= 0.85.
// Both backends side by side; runs alternate to cancel drift.
// Usage: node dist/bench/policy-scale.js [--policies 1000] [--rules 10] [--seconds 3] [--rounds 3] [--backend nftables|iptables|both]
//        --quick: 50 policies, 1 s, 1 round (a smoke run of the script itself)
// Prints a table and writes bench/results/policy-scale.json.

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { spawnSync } from 'node:child_process';
import type { CalcUpdate } from '../src/calc/output.js';
import { ALLOW_POLICY, SCALE_TIER, policyScaleWorld } from '../src/dataplane/policy-scale-fixtures.js';
import { allowAll, workload } from '../src/dataplane/testing-fixtures.js';
import { modelFromCalc } from '../src/dataplane/model-from-calc.js';
import { compileRuleset } from '../src/rules/compile-endpoints.js';
import { defaultDataplaneConfig } from '../src/rules/model.js';
import { TestAgent } from '../test/kernel/dataplane/agent.js';
import { PROBE, Topology, sh } from '../test/kernel/dataplane/topology.js';

const quick = process.argv.includes('--quick');
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : process.argv[i + 1]!;
};
const POLICIES = Number(arg('policies', quick ? '50' : '1000'));
const RULES = Number(arg('rules', '10'));
const SECONDS = Number(arg('seconds', quick ? '1' : '3'));
const ROUNDS = Number(arg('rounds', quick ? '1' : '3'));
const which = arg('backend', 'both');
const backends = (which === 'both' ? ['nftables', 'iptables'] : [which]) as ('nftables' | 'iptables')[];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface BackendResult {
  backend: string;
  programMs: number;
  none: number[];
  many: number[];
  errors: number;
  ruleset: { chains: number; tierChainRules: number; sets: number; setElements: number };
}

async function measureBackend(backend: 'nftables' | 'iptables'): Promise<BackendResult> {
  const topo = new Topology();
  try {
    const { h1 } = topo.hosts();
    const w1 = topo.workload(h1, { name: 'ps', iface: 'calipsserver001', ip: '198.18.1.1', ip6: '2001:db8:1::1', mac: '02:00:00:00:01:01' });
    const w2 = topo.workload(h1, { name: 'pc', iface: 'calipsclient002', ip: '198.18.1.2', ip6: '2001:db8:1::2', mac: '02:00:00:00:01:02' });
    sh(['ip', '-n', h1, 'route', 'add', 'default', 'via', '192.0.2.2']);
    await topo.background(w1.ns, ['serve', '8080', '']);
    const world = policyScaleWorld({ policies: POLICIES, rulesPerPolicy: RULES, client: w2.ip, port: 8080 });
    const agent = new TestAgent(h1, backend);
    const server = (ingress: string[]) => {
      const ep = workload({ name: 'ps', iface: w1.iface, ipv4: [`${w1.ip}/32`], mac: w1.mac, profiles: ['kns.default'] });
      ep.policies.ingress = [{ tier: SCALE_TIER, policies: ingress, defaultAction: 'Deny' }];
      ep.hasIngressPolicy = true;
      return ep;
    };
    const t0 = performance.now();
    await agent.apply([
      ...world.updates,
      { type: 'profileUpserted', profile: allowAll('kns.default') },
      { type: 'workloadEndpointUpserted', endpoint: server(world.ingress) },
      { type: 'workloadEndpointUpserted', endpoint: workload({ name: 'pc', iface: w2.iface, ipv4: [`${w2.ip}/32`], mac: w2.mac, profiles: ['kns.default'] }) },
      { type: 'inSync' },
    ] satisfies CalcUpdate[]);
    const programMs = performance.now() - t0;
    // What the agent compiled (the same function it applies with).
    const compiled = compileRuleset(modelFromCalc(agent.managers.snapshot(), defaultDataplaneConfig()), { backend });
    const ruleset = {
      chains: compiled.chains.length,
      tierChainRules: compiled.chains.filter((c) => c.name.startsWith('cali-ti-')).reduce((n, c) => n + c.rules.length, 0),
      sets: compiled.sets.length,
      setElements: compiled.sets.reduce((n, x) => n + x.members.length, 0),
    };
    const measure = () => {
      const r = spawnSync('ip', ['netns', 'exec', w2.ns, process.execPath, PROBE, 'connrate', w1.ip, '8080', String(SECONDS), '8'], { encoding: 'utf8' });
      const [done, errors] = r.stdout.trim().split(' ').map(Number) as [number, number];
      return { perSecond: done / SECONDS, errors };
    };
    const none: number[] = [];
    const many: number[] = [];
    let errors = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // "none": only the allowing policy; "many": the N policies in front of it.
      for (const [ingress, into] of [[[ALLOW_POLICY], none], [world.ingress, many]] as const) {
        await agent.apply([{ type: 'workloadEndpointUpserted', endpoint: server([...ingress]) }]);
        const r = measure();
        into.push(r.perSecond);
        errors += r.errors;
      }
    }
    await agent.loop.stop();
    return { backend, programMs, none, many, errors, ruleset };
  } finally {
    topo.teardown();
  }
}

const results: BackendResult[] = [];
for (const b of backends) results.push(await measureBackend(b));

const rows: [string, ...string[]][] = [
  ['', ...results.map((r) => r.backend)],
  [`program ${POLICIES}x${RULES} rules (ms)`, ...results.map((r) => String(Math.round(r.programMs)))],
  ['new TCP conn/s, allowing policy only (median)', ...results.map((r) => String(Math.round(median(r.none))))],
  [`new TCP conn/s, ${POLICIES} policies in front (median)`, ...results.map((r) => String(Math.round(median(r.many))))],
  ['ratio (target nft >= 0.85)', ...results.map((r) => (median(r.many) / median(r.none)).toFixed(2))],
  ['connect errors', ...results.map((r) => String(r.errors))],
  ['rules in the merged tier chain', ...results.map((r) => String(r.ruleset.tierChainRules))],
  ['set elements (all sets)', ...results.map((r) => String(r.ruleset.setElements))],
];
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
console.log(`\npolicy at scale: ${POLICIES} policies x ${RULES} rules, ${SECONDS}s x ${ROUNDS} rounds (${cpus().length} CPUs, ${cpus()[0]?.model ?? '?'})${quick ? ' [--quick smoke run: numbers mean nothing]' : ''}`);
for (const r of rows) console.log('  ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
mkdirSync(new URL('../../bench/results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('../../bench/results/policy-scale.json', import.meta.url),
  JSON.stringify({ policies: POLICIES, rules: RULES, seconds: SECONDS, rounds: ROUNDS, quick, machine: { cpus: cpus().length, model: cpus()[0]?.model }, results: results.map((r) => ({ ...r, ratio: median(r.many) / median(r.none) })) }, null, 2) + '\n',
);
