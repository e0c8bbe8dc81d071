// The kernel trace next to the computed answer (calc/explain.ts): AGREE or
// MISMATCH per endpoint this node enforces, and the text for both. Pure.
import { ruleLabel, type Explanation, type SideExplanation } from '../calc/explain.js';
import type { Decision, RuleRef } from '../calc/verdict.js';
import type { RuleSource } from '../rules/rule-comments.js';
import type { Direction, TracedDecision, TraceResult } from './trace-map.js';

export interface Comparison {
  agrees: boolean;
  lines: string[];
}

/** `workload:<ns>/<name>` / `host:<name>`: how trace-map names the endpoint of a computed side. */
export function endpointKey(side: SideExplanation): string {
  return side.end.kind === 'workload' ? `workload:${side.end.namespace}/${side.end.name}` : `host:${side.end.name}`;
}

const refOf = (where: { tier: string } | { profile: string }, s: RuleSource): RuleRef => ('tier' in where ? { tier: where.tier, policy: s.owner, index: s.index } : { profile: s.owner, index: s.index });
const sameRef = (a: RuleRef, s: RuleSource) => ('tier' in a ? a.policy : a.profile) === s.owner && a.index === s.index;

/** Whether the kernel's decision is the computed one. A merged lookup agrees when the computed rule is in its run (same action). */
export function sameDecision(computed: Decision, traced: TracedDecision | undefined): boolean {
  if (!traced) return false;
  switch (computed.kind) {
    case 'rule': {
      if (traced.kind !== 'rule' || traced.action !== computed.action) return false;
      const r = computed.rule;
      const whereOk = 'tier' in r ? 'tier' in traced.where && traced.where.tier === r.tier : 'profile' in traced.where && traced.where.profile === r.profile;
      return whereOk && traced.runSources.some((s) => sameRef(r, s));
    }
    case 'end-of-tier':
      return traced.kind === 'end-of-tier' && traced.tier === computed.tier;
    case 'missing-policy':
      return traced.kind === 'missing-policy' && traced.policy === computed.policy;
    case 'missing-profile':
      return traced.kind === 'missing-profile' && traced.profile === computed.profile;
    case 'nothing-allowed':
      return traced.kind === 'nothing-allowed';
  }
}

export function describeTraced(d: TracedDecision | undefined, direction: Direction): string {
  if (!d) return 'no verdict seen (trace incomplete)';
  switch (d.kind) {
    case 'rule': {
      const merged = d.candidates.length > 1;
      const by = d.matched ? ruleLabel(refOf(d.where, d.matched), direction) : `${'tier' in d.where ? `tier ${d.where.tier}` : `Profile ${d.where.profile}`}, no rule of run ${d.run} matches this packet by the policy model`;
      return `${d.action} by ${by}${merged ? ` (one merged kernel rule for run ${d.run}: ${d.candidates.length} rules)` : ''}`;
    }
    case 'end-of-tier':
      return `Deny at the end of tier ${d.tier}`;
    case 'missing-policy':
      return `Deny: policy ${d.policy} in tier ${d.tier} is missing`;
    case 'missing-profile':
      return `Deny: Profile ${d.profile} is missing`;
    case 'nothing-allowed':
      return 'Deny: no policy or profile rule allowed it';
    case 'other':
      return `${d.action} in chain ${d.chain}${d.comment ? ` (${d.comment})` : ''}`;
  }
}

/**
 * Compares the computed sides this node enforces with the trace. `trace`
 * undefined = no packet was seen before the timeout, which agrees only when the
 * computed answer says the packet never reaches this node (denied at egress on another node).
 */
export function compareWithTrace(e: Explanation, node: string, trace: TraceResult | undefined): Comparison {
  const egressDenied = e.egress?.verdict.action === 'deny';
  // Denied at egress: the destination's ingress is never evaluated.
  const expected = [e.egress, egressDenied ? undefined : e.ingress].filter((s): s is SideExplanation => !!s && s.end.node === node);
  const deniedElsewhere = egressDenied && e.egress!.end.node !== node;
  const lines: string[] = [];
  let agrees = true;
  if (!trace) {
    if (deniedElsewhere || expected.length === 0) return { agrees: true, lines: ['no packet reached this node, as computed'] };
    return { agrees: false, lines: [`MISMATCH: no packet was traced on node ${node}, but the computed answer has it evaluated here`] };
  }
  if (deniedElsewhere) {
    agrees = false;
    lines.push(`MISMATCH: the packet reached node ${node}, but the computed answer denies it at egress on node ${e.egress!.end.node}`);
  }
  for (const s of expected) {
    const key = endpointKey(s);
    const t = trace.stages.find((x) => x.direction === s.direction && x.endpoint === key);
    const computed = s.because;
    if (!t) {
      agrees = false;
      lines.push(`MISMATCH: ${s.direction} of ${s.end.label}: computed "${computed}"; the kernel never entered its chain${trace.outside ? ` (${describeTraced(trace.outside, s.direction)})` : ''}`);
      continue;
    }
    for (const p of t.passed) lines.push(`  passed on: ${describeTraced(p, s.direction)}`);
    if (!sameDecision(s.verdict.decidedBy, t.decision)) {
      agrees = false;
      lines.push(`MISMATCH: ${s.direction} of ${s.end.label}: computed "${computed}"; kernel "${describeTraced(t.decision, s.direction)}"`);
      continue;
    }
    lines.push(`agree: ${s.direction} of ${s.end.label}: ${describeTraced(t.decision, s.direction)}`);
    const d = t.decision;
    const c = s.verdict.decidedBy;
    if (d?.kind === 'rule' && c.kind === 'rule' && d.matched && !sameRef(c.rule, d.matched)) {
      lines.push(`  (the kernel's lookup matched another rule of the same run, ${ruleLabel(refOf(d.where, d.matched), s.direction)}: same action, a run's rules are one union)`);
    }
  }
  for (const t of trace.stages) {
    if (!expected.some((s) => s.direction === t.direction && endpointKey(s) === t.endpoint)) {
      agrees = false;
      lines.push(`MISMATCH: the kernel evaluated ${t.direction} of ${t.endpoint} (${describeTraced(t.decision, t.direction)}), which the computed answer does not have on node ${node}`);
    }
  }
  return { agrees, lines };
}

/** Text for the trace under the computed answer. */
export function formatTrace(node: string, trace: TraceResult | undefined, comparison: Comparison): string {
  const lines = [''];
  if (!trace) lines.push(`Kernel trace on node ${node}: no packet of the flow was seen before the timeout`);
  else {
    lines.push(`Kernel trace on node ${node} (nft trace id ${trace.traceId}), rules of table inet calico the packet matched:`);
    for (const h of trace.hops) lines.push(`  ${h.chain}${h.meaning ? ` [${h.meaning}]` : ''}: ${h.rule}${h.verdict ? ` => ${h.verdict}` : ''}`);
  }
  for (const l of comparison.lines) lines.push(l.startsWith('MISMATCH') ? `!!! ${l}` : `  ${l}`);
  lines.push(
    comparison.agrees
      ? 'Trace: the computed answer and the kernel AGREE'
      : '!!! Trace: MISMATCH: the computed answer and the kernel DIFFER (the ruleset in the kernel is not what the datastore says: agent lagging, not running, failing to apply, or a bug)',
  );
  return lines.join('\n');
}
