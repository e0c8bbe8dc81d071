// Policy at scale (issue 11), a benchmark (not a test), in throwaway network
// namespaces: two workloads on one host, N GlobalNetworkPolicies x R rules of
// mixed shapes (nets, ports, selectors, a deny list) in front of the policy
// that allows the flow ("many"), against that policy alone ("none"). Measured
// through both rulesets in one run, both backends side by side:
//   - new TCP connections per second (8 loops of connect -> reply -> close):
//     every new flow walks the rules in front; target (nft) many / none >= 0.85;
//   - single-stream TCP throughput (iperf3): established packets should be
//     accepted by conntrack before any policy rule, so a long flow should not
//     pay for the rules; target (nft) many / none >= 0.95. Each sample also
//     records how busy the machine was (a CPU-bound stream on a shared machine
//     moves with whatever else runs), iperf3's own CPU and retransmits.
// Rounds alternate the two rulesets, order swapped every round, to cancel drift;
// medians and sample ranges are reported.
// Needs root and iperf3. Usage:
//   node dist/bench/policy-scale.js [--policies 1000] [--rules 10] [--seconds 3] [--stream-seconds 5] [--rounds 5] [--backend nftables|iptables|both]
//   --quick: 50 policies, 1 s samples, 1 round (a smoke run of the script itself)
// Prints a table and writes bench/results/policy-scale.json.

import { spawnSync } from 'node:child_process';
import type { CalcUpdate } from '../src/calc/output.js';
import { ALLOW_POLICY, SCALE_TIER, policyScaleWorld } from '../src/dataplane/policy-scale-fixtures.js';
import { allowAll, workload } from '../src/dataplane/testing-fixtures.js';
import { modelFromCalc } from '../src/dataplane/model-from-calc.js';
import type { PolicyScaleResult, StreamSamples } from '../src/perf-report/run-record.js';
import { compileRuleset } from '../src/rules/compile-endpoints.js';
import { defaultDataplaneConfig } from '../src/rules/model.js';
import { TestAgent } from '../test/kernel/dataplane/agent.js';
import { PROBE, Topology, sh } from '../test/kernel/dataplane/topology.js';
import { arg, iperf3Tcp, machineLine, median, printTable, quick, requireIperf3, writeResult, type Iperf3Sample } from './harness.js';

const POLICIES = Number(arg('policies', quick ? '50' : '1000'));
const RULES = Number(arg('rules', '10'));
const SECONDS = Number(arg('seconds', quick ? '1' : '3'));
const STREAM_SECONDS = Number(arg('stream-seconds', quick ? '1' : '5'));
const ROUNDS = Number(arg('rounds', quick ? '1' : '5'));
const which = arg('backend', 'both');
const backends = (which === 'both' ? ['nftables', 'iptables'] : [which]) as ('nftables' | 'iptables')[];
const PROBE_PORT = 8080;
const IPERF_PORT = 5201;

type BackendResult = PolicyScaleResult['results'][number] & { throughput: NonNullable<PolicyScaleResult['results'][number]['throughput']> };

/**
 * The fixture's allowing policy admits the client to the probe's port only;
 * the same rule must also admit iperf3's, so that both measurements go
 * through the same rulesets (the rules in front are untouched).
 */
function admitIperf(updates: CalcUpdate[]): CalcUpdate[] {
  return updates.map((u) =>
    u.type === 'policyUpserted' && u.policy.id === ALLOW_POLICY
      ? { ...u, policy: { ...u.policy, inboundRules: u.policy.inboundRules.map((r) => ({ ...r, destination: { ...r.destination, ports: [...r.destination.ports, { first: IPERF_PORT, last: IPERF_PORT }] } })) } }
      : u,
  );
}

const noSamples = (): StreamSamples => ({ gbps: [], senderCpuPct: [], receiverCpuPct: [], machineBusyPct: [], softirqPct: [], retransmits: [] });

function record(into: StreamSamples, x: Iperf3Sample): void {
  for (const k of Object.keys(into) as (keyof StreamSamples)[]) into[k].push(x[k]);
}

async function measureBackend(backend: 'nftables' | 'iptables'): Promise<BackendResult> {
  const topo = new Topology();
  try {
    const { h1 } = topo.hosts();
    const w1 = topo.workload(h1, { name: 'ps', iface: 'calipsserver001', ip: '198.18.1.1', ip6: '2001:db8:1::1', mac: '02:00:00:00:01:01' });
    const w2 = topo.workload(h1, { name: 'pc', iface: 'calipsclient002', ip: '198.18.1.2', ip6: '2001:db8:1::2', mac: '02:00:00:00:01:02' });
    sh(['ip', '-n', h1, 'route', 'add', 'default', 'via', '192.0.2.2']);
    await topo.background(w1.ns, ['serve', String(PROBE_PORT), '']);
    void topo.run(w1.ns, ['iperf3', '-s', '-p', String(IPERF_PORT)]);
    const world = policyScaleWorld({ policies: POLICIES, rulesPerPolicy: RULES, client: w2.ip, port: PROBE_PORT });
    const agent = new TestAgent(h1, backend);
    const server = (ingress: string[]) => {
      const ep = workload({ name: 'ps', iface: w1.iface, ipv4: [`${w1.ip}/32`], mac: w1.mac, profiles: ['kns.default'] });
      ep.policies.ingress = [{ tier: SCALE_TIER, policies: ingress, defaultAction: 'Deny' }];
      ep.hasIngressPolicy = true;
      return ep;
    };
    const t0 = performance.now();
    await agent.apply([
      ...admitIperf(world.updates),
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
    const connRate = () => {
      const r = spawnSync('ip', ['netns', 'exec', w2.ns, process.execPath, PROBE, 'connrate', w1.ip, String(PROBE_PORT), String(SECONDS), '8'], { encoding: 'utf8' });
      const [done, errors] = r.stdout.trim().split(' ').map(Number) as [number, number];
      return { perSecond: done / SECONDS, errors };
    };
    // "none": only the allowing policy; "many": the N policies in front of it.
    const configs = {
      none: { ingress: [ALLOW_POLICY], conn: [] as number[], stream: noSamples() },
      many: { ingress: world.ingress, conn: [] as number[], stream: noSamples() },
    };
    let errors = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of round % 2 === 0 ? [configs.none, configs.many] : [configs.many, configs.none]) {
        await agent.apply([{ type: 'workloadEndpointUpserted', endpoint: server([...c.ingress]) }]);
        const r = connRate();
        c.conn.push(r.perSecond);
        errors += r.errors;
        record(c.stream, iperf3Tcp(w2.ns, w1.ip, { port: IPERF_PORT, seconds: STREAM_SECONDS, streams: 1 }));
      }
    }
    await agent.loop.stop();
    const { none, many } = configs;
    return {
      backend,
      programMs,
      none: none.conn,
      many: many.conn,
      ratio: median(many.conn) / median(none.conn),
      errors,
      ruleset,
      throughput: { none: none.stream, many: many.stream, ratio: median(many.stream.gbps) / median(none.stream.gbps) },
    };
  } finally {
    topo.teardown();
  }
}

if (process.getuid?.() !== 0) {
  console.log('policy-scale: skipped (needs root for network namespaces)');
} else {
  requireIperf3('policy-scale');
  const results: BackendResult[] = [];
  for (const b of backends) results.push(await measureBackend(b));

  const range = (xs: number[], digits: number) => `${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}`;
  const conn = (xs: number[]) => `${Math.round(median(xs))} (${range(xs, 0)})`;
  const gbps = (xs: number[]) => `${median(xs).toFixed(2)} (${range(xs, 2)})`;
  const both = (f: (s: StreamSamples) => number[]) => (r: BackendResult) => `${median(f(r.throughput.none)).toFixed(0)} / ${median(f(r.throughput.many)).toFixed(0)}`;
  printTable(`policy at scale: ${POLICIES} policies x ${RULES} rules, ${ROUNDS} rounds of ${SECONDS} s conn/s + ${STREAM_SECONDS} s iperf3 per ruleset, medians (min-max) (${machineLine()})${quick ? ' [--quick smoke run: numbers mean nothing]' : ''}`, [
    ['', ...results.map((r) => r.backend)],
    [`program ${POLICIES}x${RULES} rules (ms)`, ...results.map((r) => String(Math.round(r.programMs)))],
    ['new TCP conn/s, allowing policy only', ...results.map((r) => conn(r.none))],
    [`new TCP conn/s, ${POLICIES} policies in front`, ...results.map((r) => conn(r.many))],
    ['conn/s ratio (target nft >= 0.85)', ...results.map((r) => r.ratio.toFixed(2))],
    ['TCP 1 stream Gbit/s, allowing policy only', ...results.map((r) => gbps(r.throughput.none.gbps))],
    [`TCP 1 stream Gbit/s, ${POLICIES} policies in front`, ...results.map((r) => gbps(r.throughput.many.gbps))],
    ['throughput ratio (target nft >= 0.95)', ...results.map((r) => r.throughput.ratio.toFixed(2))],
    ['machine busy % during stream (none / many)', ...results.map(both((s) => s.machineBusyPct))],
    ['softirq % during stream (none / many)', ...results.map(both((s) => s.softirqPct))],
    ['retransmits per stream (none / many)', ...results.map(both((s) => s.retransmits))],
    ['connect errors', ...results.map((r) => String(r.errors))],
    ['rules in the merged tier chain', ...results.map((r) => String(r.ruleset.tierChainRules))],
    ['set elements (all sets)', ...results.map((r) => String(r.ruleset.setElements))],
  ]);
  writeResult('policy-scale', { policies: POLICIES, rules: RULES, seconds: SECONDS, streamSeconds: STREAM_SECONDS, rounds: ROUNDS, results } satisfies Omit<PolicyScaleResult, 'results'> & { results: BackendResult[] });
}
