// The goals the report checks (issue 13, and the dataplane bench's own
// target), and for a missed goal the measurements that show why. Pure.

import { PATH_LABELS, PATHS, type PathName } from './ratios.js';
import { resultOf, type ControlPlaneResult, type DataplaneCompareResult, type NodeResult, type PolicyScaleResult, type PolicyScalingResult, type RunRecord, type StreamSamples, type XlatResult } from './run-record.js';

export interface GoalResult {
  id: string;
  goal: string;
  target: string;
  /** The measured value as text, or "not measured". */
  measured: string;
  status: 'met' | 'missed' | 'not measured';
  /** For a missed goal: what the run shows about why (Markdown lines). */
  profile: string[];
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const spread = (xs: number[]) => (xs.length ? `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}` : 'n/a');

/** The machine (all CPUs, softirq included) at least this busy during a stream: it is CPU-bound, not link-bound. */
const CPU_BOUND_PCT = 90;
/** Busy time beyond a stream's own share (iperf3's processes and softirq), in percent of the machine, from which other work crowded the stream. */
const OTHER_WORK_PCT = 25;
/** Busy share of the machine during a path's stream; older results only have iperf3's own sender figure. */
const busy = (pr: DataplaneCompareResult['profile'][PathName]) => pr.machineBusyPct ?? pr.senderCpuPct;

function compareProfile(r: DataplaneCompareResult, metric: 'tcp1Gbps'): string[] {
  const lines = ['| path | median Gbit/s | samples (min-max) | MTU | machine busy % | softirq % | iperf3 sender / receiver CPU % | retransmits | nft ruleset lines (h1/h2) |', '|---|---:|---|---:|---:|---:|---:|---:|---|'];
  const opt = (x: number | undefined) => (x === undefined ? 'n/a' : x.toFixed(0));
  for (const p of PATHS) {
    const pr = r.profile[p];
    lines.push(`| ${PATH_LABELS[p]} | ${r.medians[p][metric].toFixed(2)} | ${spread(r.samples[p][metric])} | ${pr.mtu} | ${opt(pr.machineBusyPct)} | ${opt(pr.softirqPct)} | ${pr.senderCpuPct.toFixed(0)} / ${pr.receiverCpuPct.toFixed(0)} | ${pr.retransmits} | ${pr.nftRulesetLines ? `${pr.nftRulesetLines.h1}/${pr.nftRulesetLines.h2}` : 'n/a'} |`);
  }
  return lines;
}

const ONE_SAMPLE = 'One sample per path (a quick run): there is no spread to tell a real gap from noise; the full run takes five.';

/** Whether the gap between two paths' medians is inside the run-to-run spread of either. */
function withinNoise(a: number[], b: number[]): boolean {
  if (a.length < 2 || b.length < 2) return false;
  const [amin, amax, bmin, bmax] = [Math.min(...a), Math.max(...a), Math.min(...b), Math.max(...b)];
  return amin <= bmax && bmin <= amax;
}

function routedOverOverlay(run: RunRecord): GoalResult {
  const g = { id: 'routed-overlay', goal: 'Routed (no encapsulation) vs VXLAN overlay, TCP 1 stream', target: '>= 1.20' };
  const r = resultOf<DataplaneCompareResult>(run, 'dataplane-compare');
  if (!r) return { ...g, measured: 'not measured', status: 'not measured', profile: [] };
  const v = r.ratios.routedOverOverlay.tcp1Gbps;
  if (v >= 1.2) return { ...g, measured: v.toFixed(2), status: 'met', profile: [] };
  const cpuBound = busy(r.profile.routed) >= CPU_BOUND_PCT && busy(r.profile.overlay) >= CPU_BOUND_PCT;
  const profile = [
    ...compareProfile(r, 'tcp1Gbps'),
    '',
    cpuBound
      ? `The machine is >= ${CPU_BOUND_PCT} % busy during both streams (all CPUs, softirq included): each path is bound by per-packet CPU work, so the ratio is the ratio of CPU cost per byte (the overlay adds encapsulation, a bridge and a smaller MTU; routing adds the ruleset walk and conntrack).`
      : 'The machine is not saturated during the streams: the difference comes from the path itself (hops, MTU, offloads) or from other load on the machine (see the load averages and the sample spread).',
    ...(withinNoise(r.samples.routed.tcp1Gbps, r.samples.overlay.tcp1Gbps) ? ['', 'The routed and overlay samples overlap: the gap is inside this run\'s noise; more rounds or a quieter machine would tell them apart.'] : []),
    ...(r.samples.routed.tcp1Gbps.length < 2 ? ['', ONE_SAMPLE] : []),
  ];
  return { ...g, measured: v.toFixed(2), status: 'missed', profile };
}

function policyCost(run: RunRecord): GoalResult {
  const g = { id: 'policy-cost', goal: 'Throughput cost of policy (routed + policy vs routed), TCP 1 stream', target: '<= 5 %' };
  const r = resultOf<DataplaneCompareResult>(run, 'dataplane-compare');
  if (!r) return { ...g, measured: 'not measured', status: 'not measured', profile: [] };
  const v = r.ratios.policyCost.tcp1Gbps;
  if (v <= 0.05) return { ...g, measured: pct(v), status: 'met', profile: [] };
  const a = r.profile.routedPolicy.nftRulesetLines;
  const b = r.profile.routed.nftRulesetLines;
  const profile = [
    ...compareProfile(r, 'tcp1Gbps'),
    '',
    ...(a && b ? [`The policy adds ${a.h2 - b.h2} lines to the server host's ruleset (${b.h2} -> ${a.h2}); established packets are accepted by conntrack before any policy rule, so only a flow's first packets walk them.`] : []),
    ...(withinNoise(r.samples.routed.tcp1Gbps, r.samples.routedPolicy.tcp1Gbps) ? ['', 'The samples with and without policy overlap: the cost measured is inside this run\'s noise.'] : []),
    ...(r.samples.routed.tcp1Gbps.length < 2 ? ['', ONE_SAMPLE] : []),
  ];
  return { ...g, measured: pct(v), status: 'missed', profile };
}

function scalingRatio(run: RunRecord): GoalResult {
  const g = { id: 'policy-scaling', goal: 'New TCP conn/s with 10k rules in front vs none (nftables)', target: '>= 0.85' };
  const r = resultOf<PolicyScalingResult>(run, 'dataplane');
  const nft = r?.results.find((x) => x.backend === 'nftables');
  const first = nft?.scaling.points[0];
  const last = nft?.scaling.points.at(-1);
  if (!nft || !first || !last || first === last) return { ...g, measured: 'not measured', status: 'not measured', profile: [] };
  const v = median(last.connPerSecond) / median(first.connPerSecond);
  const measured = `${v.toFixed(2)} (${last.rules} rules)`;
  if (v >= 0.85) return { ...g, measured, status: 'met', profile: [] };
  const lines = nft.scaling.rulesetLines ?? {};
  const profile = [
    '| rules in front | conn/s samples | nft ruleset lines |',
    '|---:|---|---:|',
    ...nft.scaling.points.map((p) => `| ${p.rules} | ${p.connPerSecond.map((x) => Math.round(x)).join(', ')} | ${lines[`np/default/rules-${p.rules}`] ?? 'n/a'} |`),
    '',
    'A ruleset that grows with the rules means they were not merged into set lookups: every new flow walks them one by one.',
  ];
  return { ...g, measured, status: 'missed', profile };
}

type PolicyScaleBackend = PolicyScaleResult['results'][number];

/** bench/policy-scale.ts's result: the nftables figures decide, iptables stands beside them. */
function policyScale(run: RunRecord): { r?: PolicyScaleResult; size: string; nft?: PolicyScaleBackend; ipt?: PolicyScaleBackend } {
  const r = resultOf<PolicyScaleResult>(run, 'policy-scale');
  const results = Array.isArray(r?.results) ? r.results : [];
  const size = r ? `${r.policies.toLocaleString('en-US')} policies x ${r.rules} rules` : '1,000 policies x 10 rules';
  return { r, size, nft: results.find((x) => x.backend === 'nftables'), ipt: results.find((x) => x.backend === 'iptables') };
}

const besideIptables = (v: number, ipt: number | undefined) => `${v.toFixed(2)}${ipt === undefined ? '' : ` (iptables ${ipt.toFixed(2)})`}`;
const samplesOf = (xs: number[], digits: number) => xs.map((x) => x.toFixed(digits)).join(', ');

function policyScaleConn(run: RunRecord): GoalResult {
  const { r, size, nft, ipt } = policyScale(run);
  const g = { id: 'policy-scale-conn', goal: `New TCP conn/s, ${size} in front vs the allowing policy alone (nftables; iptables beside it)`, target: '>= 0.85' };
  if (!r || !nft) return notMeasured(g);
  const measured = besideIptables(nft.ratio, ipt?.ratio);
  if (nft.ratio >= 0.85) return { ...g, measured, status: 'met', profile: [] };
  const backends = [nft, ...(ipt ? [ipt] : [])];
  return {
    ...g,
    measured,
    status: 'missed',
    profile: [
      '| backend | conn/s, allowing policy alone | conn/s, policies in front | ratio | rules in the merged tier chain | set elements |',
      '|---|---|---|---:|---:|---:|',
      ...backends.map((b) => `| ${b.backend} | ${samplesOf(b.none, 0)} | ${samplesOf(b.many, 0)} | ${b.ratio.toFixed(2)} | ${b.ruleset.tierChainRules} | ${b.ruleset.setElements} |`),
      '',
      `The ${r.policies * r.rules} rules in front compile to ${nft.ruleset.tierChainRules} rules in the merged tier chain (nftables) and set lookups: a new flow walks those. A tier chain that grows with the policies means they were not merged.`,
      ...(withinNoise(nft.none, nft.many) ? ['', 'The samples with and without the policies overlap: the gap is inside this run\'s noise.'] : []),
      ...(nft.none.length < 2 ? ['', ONE_SAMPLE] : []),
    ],
  };
}

function policyScaleThroughput(run: RunRecord): GoalResult {
  const { r, size, nft, ipt } = policyScale(run);
  const g = { id: 'policy-scale-throughput', goal: `TCP throughput (1 stream), ${size} in front vs the allowing policy alone (nftables; iptables beside it)`, target: '>= 0.95' };
  const t = nft?.throughput;
  if (!r || !t) return notMeasured(g);
  const measured = besideIptables(t.ratio, ipt?.throughput?.ratio);
  if (t.ratio >= 0.95) return { ...g, measured, status: 'met', profile: [] };
  const row = (backend: string, ruleset: string, s: StreamSamples) =>
    `| ${backend} | ${ruleset} | ${median(s.gbps).toFixed(2)} | ${spread(s.gbps)} | ${median(s.machineBusyPct).toFixed(0)} | ${median(s.softirqPct).toFixed(0)} | ${median(s.senderCpuPct).toFixed(0)} / ${median(s.receiverCpuPct).toFixed(0)} | ${median(s.retransmits).toFixed(0)} |`;
  const cpuBound = median(t.none.machineBusyPct) >= CPU_BOUND_PCT && median(t.many.machineBusyPct) >= CPU_BOUND_PCT;
  // The stream's own share of the machine: iperf3's two processes (each in percent of one CPU) spread over all CPUs, plus softirq.
  const own = (x: StreamSamples) => (median(x.senderCpuPct) + median(x.receiverCpuPct)) / Math.max(1, run.machine.cores) + median(x.softirqPct);
  const [ownNone, ownMany] = [own(t.none), own(t.many)];
  const crowded = cpuBound && Math.max(median(t.none.machineBusyPct) - ownNone, median(t.many.machineBusyPct) - ownMany) >= OTHER_WORK_PCT;
  return {
    ...g,
    measured,
    status: 'missed',
    profile: [
      '| backend | ruleset | median Gbit/s | samples (min-max) | machine busy % | softirq % | iperf3 sender / receiver CPU % | retransmits |',
      '|---|---|---:|---|---:|---:|---:|---:|',
      ...[nft!, ...(ipt?.throughput ? [ipt] : [])].flatMap((b) => [row(b.backend, 'allowing policy alone', b.throughput!.none), row(b.backend, `${r.policies} policies in front`, b.throughput!.many)]),
      '',
      cpuBound
        ? `The machine is >= ${CPU_BOUND_PCT} % busy during both streams (all CPUs, softirq included): a single stream is bound by per-packet CPU work, so the ratio is the ratio of CPU cost per byte. Established packets are accepted by conntrack before any policy rule, so that cost should not grow with the rules in front; a gap beyond the noise means per-packet work that does, or other load on the shared machine.`
        : `The machine is below ${CPU_BOUND_PCT} % busy during the streams: the rules in front are not crowding the stream out of CPU; the gap comes from other load on the shared machine (see the load averages and the sample ranges) or from the stream's own limits (iperf3's sender / receiver CPU, retransmits).`,
      ...(crowded
        ? ['', `The stream itself accounts for about ${ownNone.toFixed(0)} % (policy alone) and ${ownMany.toFixed(0)} % (policies in front) of the machine (iperf3's sender and receiver CPU over ${run.machine.cores} CPUs, plus softirq): the rest of the busy time was other work on the shared machine, which the stream competed with. The ratio says more about that load than about the ruleset; a quiet machine is needed to tell.`]
        : []),
      ...(withinNoise(t.none.gbps, t.many.gbps) ? ['', 'The samples with and without the policies overlap: the gap is inside this run\'s noise.'] : []),
      ...(t.none.gbps.length < 2 ? ['', ONE_SAMPLE] : []),
    ],
  };
}

function translatedOverNative(run: RunRecord): GoalResult {
  const g = { id: 'xlat', goal: 'Address-space (464-XLAT) vs native routed path, TCP 1 stream', target: '>= 0.80' };
  const r = resultOf<XlatResult>(run, 'xlat');
  if (!r || !Array.isArray(r.rows)) return { ...g, measured: 'not measured', status: 'not measured', profile: [] };
  const measured = r.ratio.toFixed(2);
  if (r.ratio >= 0.8) return { ...g, measured, status: 'met', profile: [] };
  const profile = [
    '| path | Gbit/s | cores busy per Gbit/s | retransmits |',
    '|---|---:|---:|---:|',
    ...r.rows.map((x) => `| ${x.path} | ${x.gbps.toFixed(2)} | ${x.coresPerGbps.toFixed(3)} | ${x.retransmits.toFixed(0)} |`),
    '',
    'Both paths keep the machine busy (a single stream is CPU-bound here); the translated path pays the header rewrite and checksum update per packet on both hosts, and its workloads run at MTU - 20.',
    ...(r.rounds < 2 ? ['', ONE_SAMPLE] : []),
  ];
  return { ...g, measured, status: 'missed', profile };
}

const notMeasured = (g: Pick<GoalResult, 'id' | 'goal' | 'target'>): GoalResult => ({ ...g, measured: 'not measured', status: 'not measured', profile: [] });

/** The one-policy-change rounds by policy count, next to a full reconcile of the same state: what a missed control-plane goal is explained by. */
function roundTable(r: ControlPlaneResult): string[] {
  return [
    '| policies (local endpoints) | one-policy round p50 / p99 ms | objects compared | full reconcile round ms |',
    '|---:|---|---:|---:|',
    ...r.rows.map((x) => `| ${x.policies} (${x.local}) | ${x.p50Ms.toFixed(1)} / ${x.p99Ms.toFixed(1)} | ${x.objects} | ${x.fullReconcileMs.toFixed(1)} |`),
  ];
}

function policyEnforced(run: RunRecord): GoalResult {
  const r = resultOf<ControlPlaneResult>(run, 'control-plane');
  const g = { id: 'policy-enforced', goal: `Policy change -> in the kernel, p99 (${r ? `${r.endpoints} endpoints / ${r.policies} policies` : '10k endpoints / 1k policies'})`, target: '<= 50 ms' };
  if (!r) return notMeasured(g);
  const measured = `${r.enforce.p99Ms.toFixed(1)} ms (p50 ${r.enforce.p50Ms.toFixed(1)})`;
  if (r.enforce.p99Ms <= 50) return { ...g, measured, status: 'met', profile: [] };
  const node = resultOf<NodeResult>(run, 'node');
  return {
    ...g,
    measured,
    status: 'missed',
    profile: [
      `Samples (ms): ${r.enforce.samplesMs.map((x) => x.toFixed(0)).join(', ')}. The time covers compiling the changed tier chain, the nft transaction and the round's host setup; how the round itself grows with the ruleset:`,
      '',
      ...(r.enforce.adding && r.enforce.removing
        ? [
            `Changes that add set elements: p50 ${r.enforce.adding.p50Ms.toFixed(1)} / p99 ${r.enforce.adding.p99Ms.toFixed(1)} ms; changes that remove them: p50 ${r.enforce.removing.p50Ms.toFixed(1)} / p99 ${r.enforce.removing.p99Ms.toFixed(1)} ms. A removal replaces the set under its other name and rewrites the chain using it (docs/design/dataplane.md); after any transaction that removes something, the nft process waits ~11 ms at exit for the kernel to free the removed objects (measured here: a one-element delete 16 ms, an add 4 ms, in a table of three sets), and that wait varies with the machine's load.`,
            '',
          ]
        : []),
      ...roundTable(r),
      ...(node ? ['', `End to end through etcd and the calc graph (bench/node.ts, ${node.endpoints} endpoints / ${node.policies} policies): p99 ${[...node.latenciesMs].sort((a, b) => a - b)[Math.min(node.latenciesMs.length - 1, Math.floor(0.99 * node.latenciesMs.length))]?.toFixed(0) ?? 'n/a'} ms.`] : []),
    ],
  };
}

function roundProportional(run: RunRecord): GoalResult {
  const g = { id: 'round-proportional', goal: 'Apply round for a one-policy change: largest / smallest policy count (p50)', target: '<= 2.0 (flat: proportional to the change)' };
  const r = resultOf<ControlPlaneResult>(run, 'control-plane');
  const rows = r ? [...r.rows].sort((a, b) => a.policies - b.policies) : [];
  if (!r || rows.length < 2) return notMeasured(g);
  const [small, large] = [rows[0]!, rows.at(-1)!];
  const v = large.p50Ms / Math.max(small.p50Ms, 0.001);
  const measured = `${v.toFixed(2)} (${small.policies}: ${small.p50Ms.toFixed(1)} ms, ${large.policies}: ${large.p50Ms.toFixed(1)} ms)`;
  if (v <= 2) return { ...g, measured, status: 'met', profile: [] };
  return { ...g, measured, status: 'missed', profile: [...roundTable(r), '', 'Objects compared stay at the change while the round grows: the per-round walk over all endpoints and compiled objects (identity checks, sorting), not the kernel write, is what grows.'] };
}

function agentRss(run: RunRecord): GoalResult {
  const n = resultOf<NodeResult>(run, 'node');
  const g = { id: 'agent-rss', goal: `calico-node resident memory (${n ? `${n.endpoints} endpoints / ${n.policies} policies` : '10k endpoints / 1k policies'})`, target: '<= 150 MiB' };
  if (!n) return notMeasured(g);
  // Its helper processes (the command sessions) count: they live as long as it does.
  const total = n.rssMb + (n.helperRssMb ?? 0);
  const measured = n.helperRssMb !== undefined ? `${total.toFixed(0)} MiB (agent ${n.rssMb.toFixed(0)} + ${n.helperRssMb.toFixed(0)} in its nft/ip/sh sessions)` : `${n.rssMb.toFixed(0)} MiB`;
  if (total <= 150) return { ...g, measured, status: 'met', profile: [] };
  const c = resultOf<ControlPlaneResult>(run, 'control-plane');
  return { ...g, measured, status: 'missed', profile: c ? [`The dataplane part alone (managers, apply loop, compile caches, kernel views; bench/control-plane.ts at ${c.endpoints} endpoints / ${c.policies} policies) holds ${c.rssMb.toFixed(0)} MiB; the rest is the calc graph, the datastore cache and the runtime.`] : [] };
}

function density(run: RunRecord, which: 'program' | 'add'): GoalResult {
  const r = resultOf<PolicyScalingResult>(run, 'dataplane');
  const nft = r?.results.find((x) => x.backend === 'nftables');
  const g = which === 'program'
    ? { id: 'density-program', goal: `${r?.workloads ?? 1500} local workloads programmed (nftables)`, target: '<= 10 s' }
    : { id: 'density-add', goal: `Adding one more workload to ${r?.workloads ?? 1500}, p99 (nftables)`, target: '<= 100 ms' };
  if (!nft) return notMeasured(g);
  const v = which === 'program' ? nft.program.programMs : nft.program.addP99;
  const measured = which === 'program' ? `${(v / 1000).toFixed(1)} s` : `${v.toFixed(0)} ms (p50 ${nft.program.addP50.toFixed(0)})`;
  if (v <= (which === 'program' ? 10_000 : 100)) return { ...g, measured, status: 'met', profile: [] };
  const iptables = r!.results.find((x) => x.backend === 'iptables');
  return { ...g, measured, status: 'missed', profile: iptables ? [`iptables on the same run: program ${(iptables.program.programMs / 1000).toFixed(1)} s, add p50 / p99 ${iptables.program.addP50.toFixed(0)} / ${iptables.program.addP99.toFixed(0)} ms.`] : [] };
}

export function evaluateGoals(run: RunRecord): GoalResult[] {
  return [routedOverOverlay(run), policyCost(run), scalingRatio(run), policyScaleConn(run), policyScaleThroughput(run), translatedOverNative(run), policyEnforced(run), roundProportional(run), agentRss(run), density(run, 'program'), density(run, 'add')];
}

/** The agent's CPU profile, when bench/node.ts recorded one: where start-up and resync time goes. */
export function agentProfile(run: RunRecord): string[] {
  const n = resultOf<NodeResult>(run, 'node');
  if (!n?.cpuProfile) return [];
  return [
    `calico-node ${n.cpuProfile.phase}, sampled by \`node --cpu-prof\` (${(n.cpuProfile.totalMs / 1000).toFixed(1)} s of samples); functions by self time:`,
    '',
    '| function | where | self ms | share |',
    '|---|---|---:|---:|',
    ...n.cpuProfile.top.map((h) => `| \`${h.function}\` | ${h.where} | ${h.selfMs.toFixed(0)} | ${pct(h.share)} |`),
  ];
}
