// The goals the report checks (issue 13, and the dataplane bench's own
// target), and for a missed goal the measurements that show why. Pure.

import { PATH_LABELS, PATHS, type PathName } from './ratios.js';
import { resultOf, type DataplaneCompareResult, type NodeResult, type PolicyScalingResult, type RunRecord, type XlatResult } from './run-record.js';

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
const spread = (xs: number[]) => (xs.length ? `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}` : 'n/a');

/** The machine (all CPUs, softirq included) at least this busy during a stream: it is CPU-bound, not link-bound. */
const CPU_BOUND_PCT = 90;
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
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const v = med(last.connPerSecond) / med(first.connPerSecond);
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

export function evaluateGoals(run: RunRecord): GoalResult[] {
  return [routedOverOverlay(run), policyCost(run), scalingRatio(run), translatedOverNative(run)];
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
