import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateGoals } from './goals.js';
import { dataplaneRatios, PATHS, type PathMedians, type PathName } from './ratios.js';
import { renderPerformanceReport } from './report.js';
import type { BenchRun, ControlPlaneResult, DataplaneCompareResult, PolicyScaleResult, PolicyScalingResult, RunRecord, StreamSamples } from './run-record.js';
import type { GoalResult } from './goals.js';

const medians = (tcp1: Record<PathName, number>): Record<PathName, PathMedians> =>
  Object.fromEntries(PATHS.map((p) => [p, { tcp1Gbps: tcp1[p], tcp4Gbps: tcp1[p] * 1.2, connPerSecond: 5000, connectP50Us: 150 }])) as Record<PathName, PathMedians>;

function compare(tcp1: Record<PathName, number>, cpu = 95): DataplaneCompareResult {
  const m = medians(tcp1);
  return {
    backend: 'nftables',
    rounds: 3,
    seconds: 5,
    samples: Object.fromEntries(PATHS.map((p) => [p, { tcp1Gbps: [m[p].tcp1Gbps * 0.99, m[p].tcp1Gbps, m[p].tcp1Gbps * 1.01], tcp4Gbps: [], connPerSecond: [], connectP50Us: [] }])) as unknown as DataplaneCompareResult['samples'],
    medians: m,
    ratios: dataplaneRatios(m),
    profile: Object.fromEntries(PATHS.map((p) => [p, { mtu: p === 'overlay' ? 1450 : 1500, senderCpuPct: 40, receiverCpuPct: 60, machineBusyPct: cpu, softirqPct: 30, retransmits: 0, connectErrors: 0, nftRulesetLines: { h1: p === 'routedPolicy' ? 140 : 120, h2: p === 'routedPolicy' ? 150 : 120 } }])) as DataplaneCompareResult['profile'],
  };
}

const scaling = (rates: number[]): PolicyScalingResult => ({
  workloads: 1500,
  points: [0, 100, 1000, 10000],
  seconds: 3,
  rounds: 3,
  results: [{ backend: 'nftables', program: { programMs: 1600, addP50: 30, addP99: 60 }, scaling: { points: [0, 100, 1000, 10000].map((rules, i) => ({ rules, connPerSecond: [rates[i]!], connectP50Us: [150] })), linear: { rules: 10000, connPerSecond: [2000] }, rulesetLines: { 'np/default/rules-0': 100, 'np/default/rules-10000': 10100 } } }],
});

const bench = (name: string, result: unknown, status: BenchRun['status'] = 'ok', note?: string): BenchRun => ({ name, status, seconds: 12, loadBefore: [1, 1, 1], loadAfter: [1.5, 1, 1], ...(result === undefined ? {} : { result }), ...(note ? { note } : {}) });

const run = (benches: BenchRun[], quick = false): RunRecord => ({
  date: '2026-12-06T10:00:00.000Z',
  quick,
  command: 'npm run bench',
  commit: 'abc1234',
  machine: { cpuModel: 'AMD EPYC', cores: 2, memoryGiB: 23.5, kernel: '6.1.0', os: 'Debian GNU/Linux 12', node: 'v20.19.0', tools: { iperf3: '3.12' } },
  loadBefore: [0.5, 0.4, 0.3],
  loadAfter: [1.2, 0.8, 0.5],
  seconds: 1800,
  benches,
});

const both = { routedPolicy: 20, routed: 20.2, overlay: 16, bare: 25 };

/** The goals with these ids, in that order (the report's order may grow). */
const pick = (gs: GoalResult[], ids: string[]) => ids.map((id) => gs.find((g) => g.id === id)!);
const FIRST = ['routed-overlay', 'policy-cost', 'policy-scaling', 'xlat'];
const CONTROL = ['policy-enforced', 'round-proportional', 'agent-rss', 'density-program', 'density-add'];

test('goals: met, missed and not measured, from the comparison and the scaling results', () => {
  const ok = evaluateGoals(run([bench('dataplane-compare', compare(both)), bench('dataplane', scaling([6000, 6000, 5900, 5800]))]));
  assert.deepEqual(pick(ok, FIRST).map((g) => [g.id, g.status, g.measured]), [
    ['routed-overlay', 'met', '1.26'],
    ['policy-cost', 'met', '1.0 %'],
    ['policy-scaling', 'met', '0.97 (10000 rules)'],
    ['xlat', 'not measured', 'not measured'],
  ]);
  const bad = evaluateGoals(run([bench('dataplane-compare', compare({ routedPolicy: 16, routed: 18, overlay: 16, bare: 25 })), bench('dataplane', scaling([6000, 5000, 3000, 1000]))]));
  assert.deepEqual(pick(bad, FIRST).map((g) => g.status), ['missed', 'missed', 'missed', 'not measured']);
  assert.equal(bad[1]!.measured, '11.1 %');
  assert.deepEqual(evaluateGoals(run([])).map((g) => g.status), Array(11).fill('not measured'));
});

test('goals: the address-space path against the native one, met or missed with its table', () => {
  const xlat = (native: number, translated: number, rounds = 5) => ({ seconds: 10, rounds, rows: [{ path: 'native', gbps: native, coresPerGbps: 0.15, retransmits: 3 }, { path: 'translated', gbps: translated, coresPerGbps: 0.18, retransmits: 4 }], ratio: translated / native });
  const met = evaluateGoals(run([bench('xlat', xlat(12, 10.5))])).find((g) => g.id === 'xlat')!;
  assert.deepEqual([met.status, met.measured], ['met', '0.88']);
  const missed = evaluateGoals(run([bench('xlat', xlat(12, 9, 1))])).find((g) => g.id === 'xlat')!;
  assert.deepEqual([missed.status, missed.measured], ['missed', '0.75']);
  assert.match(missed.profile.join('\n'), /\| translated \| 9\.00 \|/);
  assert.match(missed.profile.join('\n'), /One sample per path/);
});

const controlPlane = (p99: number, rounds: [number, number][]): ControlPlaneResult => ({
  endpoints: 10000,
  policies: 1000,
  local: 20,
  changes: 50,
  enforce: { p50Ms: p99 / 2, p99Ms: p99, samplesMs: [p99 / 2, p99] },
  rssMb: 80,
  loadMs: 4000,
  rows: rounds.map(([policies, p50Ms]) => ({ policies, local: Math.max(20, policies / 50), p50Ms, p99Ms: p50Ms * 1.5, objects: 1, fullReconcileMs: policies })),
});

test('control-plane goals: policy change -> kernel p99, round time flat across policy counts, agent RSS, density', () => {
  const node = { endpoints: 10000, policies: 1000, readyMs: 9000, latenciesMs: [20, 30, 40], rssMb: 140, idleCpuPct: 1, applyRounds: 10, applySeconds: 1 };
  const ok = evaluateGoals(run([bench('control-plane', controlPlane(30, [[100, 4], [1000, 5], [5000, 7]])), bench('node', node), bench('dataplane', scaling([6000, 6000, 5900, 5800]))]));
  assert.deepEqual(pick(ok, CONTROL).map((g) => [g.id, g.status, g.measured]), [
    ['policy-enforced', 'met', '30.0 ms (p50 15.0)'],
    ['round-proportional', 'met', '1.75 (100: 4.0 ms, 5000: 7.0 ms)'],
    ['agent-rss', 'met', '140 MiB'],
    ['density-program', 'met', '1.6 s'],
    ['density-add', 'met', '60 ms (p50 30)'],
  ]);
  const bad = evaluateGoals(run([bench('control-plane', controlPlane(80, [[100, 4], [5000, 40]])), bench('node', { ...node, rssMb: 200 })]));
  assert.deepEqual(pick(bad, CONTROL).map((g) => g.status), ['missed', 'missed', 'missed', 'not measured', 'not measured']);
  const [enforced, , rss] = pick(bad, CONTROL);
  assert.ok(enforced!.profile.some((l) => l.includes('| 5000 (100) | 40.0 / 60.0 | 1 | 5000.0 |')), enforced!.profile.join('\n'));
  assert.match(rss!.profile.join('\n'), /80 MiB/);
  assert.doesNotMatch(enforced!.profile.join('\n'), /Changes that add set elements/, 'older results have no split');
  const split = controlPlane(80, [[100, 4], [5000, 40]]);
  split.enforce = { ...split.enforce, adding: { p50Ms: 12, p99Ms: 24 }, removing: { p50Ms: 30, p99Ms: 80 } };
  const [withSplit] = pick(evaluateGoals(run([bench('control-plane', split)])), ['policy-enforced']);
  assert.match(withSplit!.profile.join('\n'), /add set elements: p50 12\.0 \/ p99 24\.0 ms; changes that remove them: p50 30\.0 \/ p99 80\.0 ms/);
  // The agent's helper processes count towards its memory.
  const [helped] = pick(evaluateGoals(run([bench('node', { ...node, helperRssMb: 15 })])), ['agent-rss']);
  assert.deepEqual([helped!.status, helped!.measured], ['missed', '155 MiB (agent 140 + 15 in its nft/ip/sh sessions)']);
});

const stream = (gbps: number[], busy: number): StreamSamples => ({ gbps, senderCpuPct: gbps.map(() => 60), receiverCpuPct: gbps.map(() => 70), machineBusyPct: gbps.map(() => busy), softirqPct: gbps.map(() => 30), retransmits: gbps.map(() => 100) });
const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** One backend of bench/policy-scale.ts: conn/s and (unless an older result) Gbit/s samples, alone / with the policies in front. */
const atScale = (backend: string, conn: [number[], number[]], gbps?: [number[], number[]], busy = 95): PolicyScaleResult['results'][number] => ({
  backend,
  programMs: 900,
  none: conn[0],
  many: conn[1],
  ratio: mid(conn[1]) / mid(conn[0]),
  errors: 0,
  ruleset: { chains: 19, tierChainRules: 7, sets: 111, setElements: 11701 },
  ...(gbps ? { throughput: { none: stream(gbps[0], busy), many: stream(gbps[1], busy), ratio: mid(gbps[1]) / mid(gbps[0]) } } : {}),
});
const policyScale = (...results: PolicyScaleResult['results']): PolicyScaleResult => ({ policies: 1000, rules: 10, seconds: 3, streamSeconds: 5, rounds: 5, results });
const AT_SCALE = ['policy-scale-conn', 'policy-scale-throughput'];
const iptablesOk = atScale('iptables', [[8000, 8100, 7900], [7600, 7700, 7500]], [[17, 17.2, 16.8], [16.5, 16.7, 16.3]]);

test('policy at scale goals: conn/s and throughput ratios, decided by nftables with iptables beside them', () => {
  const met = pick(evaluateGoals(run([bench('policy-scale', policyScale(atScale('nftables', [[9000, 9100, 8900], [8500, 8600, 8400]], [[16, 16.2, 15.8], [15.9, 16.1, 15.7]]), iptablesOk))])), AT_SCALE);
  assert.deepEqual(met.map((g) => [g.status, g.measured, g.target]), [['met', '0.94 (iptables 0.95)', '>= 0.85'], ['met', '0.99 (iptables 0.97)', '>= 0.95']]);
  assert.match(met[1]!.goal, /^TCP throughput \(1 stream\), 1,000 policies x 10 rules in front vs the allowing policy alone \(nftables; iptables beside it\)$/);
  // A result from before the throughput part: connections measured, throughput not.
  const older = pick(evaluateGoals(run([bench('policy-scale', policyScale(atScale('nftables', [[9000, 9100, 8900], [6000, 6100, 5900]]), atScale('iptables', [[8000], [7600]])))])), AT_SCALE);
  assert.deepEqual(older.map((g) => [g.status, g.measured]), [['missed', '0.67 (iptables 0.95)'], ['not measured', 'not measured']]);
  assert.match(older[0]!.profile.join('\n'), /\| nftables \| 9000, 9100, 8900 \| 6000, 6100, 5900 \| 0\.67 \| 7 \| 11701 \|/);
  assert.match(older[0]!.profile.join('\n'), /The 10000 rules in front compile to 7 rules in the merged tier chain/);
  assert.doesNotMatch(older[0]!.profile.join('\n'), /overlap/);
  // iptables alone does not decide the nftables goal.
  assert.deepEqual(pick(evaluateGoals(run([bench('policy-scale', policyScale(iptablesOk))])), AT_SCALE).map((g) => g.status), ['not measured', 'not measured']);
});

test('a missed throughput goal at scale shows per backend and ruleset the samples, CPU and retransmits, and whether it is CPU-bound or noise', () => {
  const bound = pick(evaluateGoals(run([bench('policy-scale', policyScale(atScale('nftables', [[9000], [8500]], [[16, 16.2, 15.8], [14, 14.2, 13.8]]), iptablesOk))])), AT_SCALE)[1]!;
  assert.deepEqual([bound.status, bound.measured], ['missed', '0.88 (iptables 0.97)']);
  const text = bound.profile.join('\n');
  assert.match(text, /\| nftables \| 1000 policies in front \| 14\.00 \| 13\.80-14\.20 \| 95 \| 30 \| 60 \/ 70 \| 100 \|/);
  assert.match(text, /\| iptables \| allowing policy alone \| 17\.00 \| 16\.80-17\.20 \|/);
  assert.match(text, /The machine is >= 90 % busy during both streams/);
  assert.doesNotMatch(text, /overlap|One sample|other work/);
  // Busy, but mostly not with the stream (iperf3 30 % + 30 % of one CPU each over 2 CPUs, plus 30 % softirq = 60 %): other work crowded it.
  const shared = policyScale(atScale('nftables', [[9000], [8500]], [[16, 16.2, 15.8], [14, 14.2, 13.8]], 100));
  for (const s of [shared.results[0]!.throughput!.none, shared.results[0]!.throughput!.many]) s.senderCpuPct = s.receiverCpuPct = [30, 30, 30];
  const crowded = pick(evaluateGoals(run([bench('policy-scale', shared)])), AT_SCALE)[1]!;
  assert.match(crowded.profile.join('\n'), /The stream itself accounts for about 60 % \(policy alone\) and 60 % \(policies in front\) of the machine \(iperf3's sender and receiver CPU over 2 CPUs, plus softirq\): the rest of the busy time was other work/);
  const noisy = pick(evaluateGoals(run([bench('policy-scale', policyScale(atScale('nftables', [[9000], [8500]], [[16, 12, 15], [13, 11, 14]], 60)))])), AT_SCALE)[1]!;
  assert.equal(noisy.status, 'missed');
  assert.match(noisy.profile.join('\n'), /below 90 % busy/);
  assert.match(noisy.profile.join('\n'), /The samples with and without the policies overlap/);
  const single = pick(evaluateGoals(run([bench('policy-scale', policyScale(atScale('nftables', [[9000], [8500]], [[16], [14]])))])), AT_SCALE)[1]!;
  assert.match(single.profile.join('\n'), /One sample per path \(a quick run\)/);
});

test('the report has a policy-at-scale section with both ratios, and says when a run has no throughput samples', () => {
  const md = renderPerformanceReport(run([bench('policy-scale', policyScale(atScale('nftables', [[9000, 9100, 8900], [8500, 8600, 8400]], [[16, 16.2, 15.8], [15.9, 16.1, 15.7]]), iptablesOk))])).markdown;
  assert.match(md, /\| TCP throughput \(1 stream\), 1,000 policies x 10 rules in front vs the allowing policy alone \(nftables; iptables beside it\) \| >= 0\.95 \| 0\.99 \(iptables 0\.97\) \| met \|/);
  assert.match(md, /## Policy at scale\n\nTwo workloads on one host; 1,000 GlobalNetworkPolicies x 10 rules .* and one iperf3 TCP stream for 5 s/);
  assert.match(md, /\| TCP 1 stream Gbit\/s, 1000 policies in front \| 15\.90 \(15\.70-16\.10\) \| 16\.50 \(16\.30-16\.70\) \|/);
  assert.match(md, /\| throughput ratio \(goal nftables >= 0\.95\) \| 0\.99 \| 0\.97 \|/);
  assert.match(md, /\| machine busy % during the stream \(alone \/ in front\) \| 95 \/ 95 \| 95 \/ 95 \|/);
  assert.doesNotMatch(md, /### policy-scale \(/, 'not also in the generic tables');
  const older = renderPerformanceReport(run([bench('policy-scale', policyScale(atScale('nftables', [[9000], [8500]])))])).markdown;
  assert.match(older, /This run has no throughput samples/);
  assert.match(older, /\| throughput ratio \(goal nftables >= 0\.95\) \| n\/a \|/);
  assert.match(older, /\| conn\/s ratio \(goal nftables >= 0\.85\) \| 0\.94 \|/);
});

test('a missed goal carries the profile that shows why: per-path CPU, MTU, ruleset size, and whether it is CPU-bound', () => {
  const [routed, policy] = evaluateGoals(run([bench('dataplane-compare', compare({ routedPolicy: 16, routed: 18, overlay: 16, bare: 25 }))]));
  const text = routed!.profile.join('\n');
  assert.match(text, /\| VXLAN overlay \(bridge\) \| 16\.00 \| 15\.84-16\.16 \| 1450 \| 95 \| 30 \| 40 \/ 60 \|/);
  assert.match(text, /The machine is >= 90 % busy during both streams/);
  assert.match(policy!.profile.join('\n'), /The policy adds 30 lines to the server host's ruleset \(120 -> 150\)/);
  const notBound = evaluateGoals(run([bench('dataplane-compare', compare({ routedPolicy: 16, routed: 18, overlay: 16, bare: 25 }, 40))]))[0]!;
  assert.match(notBound.profile.join('\n'), /not saturated/);
  assert.doesNotMatch(text, /One sample per path/);
  const single = compare({ routedPolicy: 16, routed: 18, overlay: 16, bare: 25 });
  for (const p of PATHS) single.samples[p].tcp1Gbps = [single.medians[p].tcp1Gbps];
  assert.match(evaluateGoals(run([bench('dataplane-compare', single)]))[0]!.profile.join('\n'), /One sample per path \(a quick run\)/);
});

test('the report states machine and conditions, links a missed goal to its profile, and draws the charts', () => {
  const r = renderPerformanceReport(run([bench('dataplane-compare', compare({ routedPolicy: 16, routed: 18, overlay: 16, bare: 25 })), bench('dataplane', scaling([6000, 6000, 5900, 5800]))]));
  assert.match(r.markdown, /^# Performance\n/);
  assert.match(r.markdown, /\| CPU \| 2 x AMD EPYC \|/);
  assert.match(r.markdown, /\| load average before \/ after \(1, 5, 15 min\) \| 0\.50 \/ 0\.40 \/ 0\.30 -> 1\.20 \/ 0\.80 \/ 0\.50 \|/);
  assert.match(r.markdown, /\| Routed \(no encapsulation\) vs VXLAN overlay, TCP 1 stream \| >= 1\.20 \| 1\.13 \| \*\*missed\*\* \(\[why\]\(#why-routed-overlay\)\) \|/);
  assert.match(r.markdown, /<a id="why-routed-overlay"><\/a>\n### Routed/);
  assert.doesNotMatch(r.markdown, /Quick run, not the reference numbers/);
  assert.deepEqual(r.charts.map((c) => c.file), ['performance/dataplane-throughput.svg', 'performance/dataplane-connections.svg', 'performance/policy-scaling-connections.svg', 'performance/policy-scaling-latency.svg']);
  for (const c of r.charts) assert.ok(r.markdown.includes(`](${c.file})`), `${c.file} is linked`);
});

test('a quick run is labelled as such; failed and skipped benchmarks are listed with why; other benchmarks get a table', () => {
  const r = renderPerformanceReport(run([bench('dataplane-compare', undefined, 'failed', 'line 1\niperf3: command not found'), bench('lab', undefined, 'skipped', 'not in --quick'), bench('ipam', { rows: [{ case: 'one host', perSecond: 812.5 }] })], true));
  assert.match(r.markdown, /\*\*Quick run, not the reference numbers\.\*\*/);
  assert.match(r.markdown, /## Dataplane: routed vs overlay vs bare\n\nNot measured in this run/);
  assert.match(r.markdown, /\| dataplane-compare \| failed \| line 1 \/ iperf3: command not found \|/);
  assert.match(r.markdown, /\| lab \| skipped \| not in --quick \|/);
  assert.match(r.markdown, /### ipam \(12 s\)\n\n\| case \| perSecond \|\n\|---\|---\|\n\| one host \| 813 \|/);
  assert.equal(r.charts.length, 0);
});

test('a benchmark re-run into a saved run (--update) says when and at which commit in the run log', () => {
  const again = { ...bench('ipam', { rows: [{ case: 'one host', perSecond: 90 }] }), rerun: { date: '2026-12-06T11:22:33.000Z', commit: 'def5678' } };
  const r = renderPerformanceReport(run([bench('cli', { rows: [] }), again]));
  assert.match(r.markdown, /\| ipam \(re-run 2026-12-06 11:22 UTC at def5678\) \| ok \| 12 \|/);
  assert.match(r.markdown, /\| cli \| ok \| 12 \|/);
});

test('rendering is deterministic', () => {
  const rec = run([bench('dataplane-compare', compare(both)), bench('dataplane', scaling([6000, 6000, 5900, 5800]))]);
  assert.deepEqual(renderPerformanceReport(rec), renderPerformanceReport(rec));
});
