// A kernel packet trace (the rules of our table one packet met) mapped back to
// endpoint, tier, policy and rule names. Pure.
//
// Everything is recomputed from the node's calc state with the compiler's own
// code: endpoint chains from interface names, tier chains from (tier, ordered
// policy list) and profile chains from ids (rules/names.ts), and each tier or
// profile chain's runs (compile-tier.ts programSegments). A matched rule's
// comment (rules/rule-comments.ts) names its rules, or only its run when the
// list is long; which of them the packet matched is found by re-evaluating
// those candidates with the reference interpreter (calc/verdict.ts). nft's
// trace does not print which set element matched, so this is the only way to
// name one rule of a merged lookup.
import type { DesiredPolicyState, NormalizedRule as CalcRule } from '../calc/output.js';
import { ruleMatches, type PolicyPacket } from '../calc/verdict.js';
import { modelFromCalc } from '../dataplane/model-from-calc.js';
import { profileEntries, programSegments, tierEntries, type ProgramSegment } from '../rules/compile-tier.js';
import { stageTiers } from '../rules/endpoint-body.js';
import { defaultDataplaneConfig } from '../rules/model.js';
import { CHAIN_HASH_PREFIX, NFT_FAMILY, NFT_TABLE, chainNames } from '../rules/names.js';
import { parseSourceComment, type RuleSource } from '../rules/rule-comments.js';
import type { TraceEvent } from './trace-parse.js';

export type Direction = 'ingress' | 'egress';
/** Where a kernel rule decided: a tier's chain or a profile's. */
export type Owner = { tier: string } | { profile: string };

/** What the kernel decided for one endpoint, in names. */
export type TracedDecision =
  | {
      kind: 'rule';
      /** Pass only in TracedStage.passed. */
      action: 'Allow' | 'Deny' | 'Pass';
      where: Owner;
      /** The run of the chain's rule list the kernel rule belongs to, and all rules of that run. */
      run: number;
      runSources: RuleSource[];
      /** The rules the matched kernel rule stands for (its comment, or its whole run). */
      candidates: RuleSource[];
      /** The first candidate the packet matches (re-evaluated with calc/verdict.ts); absent if none does. */
      matched?: RuleSource;
    }
  | { kind: 'end-of-tier'; action: 'Deny'; tier: string }
  | { kind: 'missing-policy'; action: 'Deny'; tier: string; policy: string }
  | { kind: 'missing-profile'; action: 'Deny'; profile: string }
  | { kind: 'nothing-allowed'; action: 'Deny' }
  /** Any other verdict of our table (anti-spoofing, unknown interface, conntrack invalid, reverse path ...). */
  | { kind: 'other'; action: 'Allow' | 'Deny'; chain: string; comment?: string };

export interface TracedHop {
  chain: string;
  /** The chain in names: `ingress of workload default/server`, `tier security (ingress)` ... */
  meaning: string;
  rule: string;
  verdict?: string;
}

export interface TracedStage {
  direction: Direction;
  /** `workload:<namespace>/<name>` or `host:<name>`. */
  endpoint: string;
  chain: string;
  decision?: TracedDecision;
  /** Pass rules taken on the way (they move evaluation to the next tier, or end a profile). */
  passed: TracedDecision[];
}

export interface TraceResult {
  traceId: string;
  stages: TracedStage[];
  /** A drop outside any endpoint chain (conntrack invalid, unknown interface, reverse path ...). */
  outside?: TracedDecision;
  hops: TracedHop[];
}

type ChainRole =
  | { kind: 'endpoint'; direction: Direction; endpoint: string }
  | { kind: 'program'; direction: Direction; owner: Owner; segments: ProgramSegment[] };

const dirOf = (d: 'inbound' | 'outbound'): Direction => (d === 'inbound' ? 'ingress' : 'egress');

/** Our endpoint, tier and profile chains on this node, by kernel name. */
export function chainRoles(state: DesiredPolicyState): Map<string, ChainRole> {
  const model = modelFromCalc(state, defaultDataplaneConfig());
  const policies = new Map(model.policies.map((p) => [p.id, p]));
  const roles = new Map<string, ChainRole>();
  for (const ep of model.endpoints) {
    const [egress, ingress] =
      ep.kind === 'workload' ? [chainNames.fromWorkload(ep.interfaceName), chainNames.toWorkload(ep.interfaceName)] : [chainNames.fromHost(ep.interfaceName), chainNames.toHost(ep.interfaceName)];
    roles.set(egress, { kind: 'endpoint', direction: 'egress', endpoint: ep.id });
    roles.set(ingress, { kind: 'endpoint', direction: 'ingress', endpoint: ep.id });
    for (const stage of ['normal', 'forward', 'untracked', 'preDnat'] as const) {
      for (const dir of ['inbound', 'outbound'] as const) {
        for (const t of stageTiers(ep, stage, dir)) {
          const segments = programSegments(tierEntries(t.policies, dir, policies));
          roles.set(chainNames.tier(t.tier, t.policies, dir), { kind: 'program', direction: dirOf(dir), owner: { tier: t.tier }, segments });
        }
      }
    }
  }
  for (const p of model.profiles) {
    for (const dir of ['inbound', 'outbound'] as const) {
      roles.set(chainNames.profile(p.id, dir), { kind: 'program', direction: dirOf(dir), owner: { profile: p.id }, segments: programSegments(profileEntries(p, dir)) });
    }
  }
  return roles;
}

function meaningOf(role: ChainRole | undefined): string {
  if (!role) return '';
  if (role.kind === 'endpoint') return `${role.direction} of ${role.endpoint.replace(':', ' ')}`;
  return 'tier' in role.owner ? `tier ${role.owner.tier} (${role.direction})` : `profile ${role.owner.profile} (${role.direction})`;
}

const same = (a: RuleSource, b: RuleSource) => a.owner === b.owner && a.index === b.index;

function calcRule(state: DesiredPolicyState, s: RuleSource, direction: Direction): CalcRule | undefined {
  const owner = state.policies.get(s.owner) ?? state.profiles.get(s.owner);
  return (direction === 'ingress' ? owner?.inboundRules : owner?.outboundRules)?.[s.index];
}

/** The kernel rule's comment -> its run, the run's rules, its candidate rules, and which one the packet matches. */
function resolveRule(role: Extract<ChainRole, { kind: 'program' }>, comment: string, ctx: { state: DesiredPolicyState; packet: PolicyPacket }) {
  const parsed = parseSourceComment(comment);
  if (!parsed) return undefined;
  const runs = role.segments.filter((s): s is Extract<ProgramSegment, { kind: 'run' }> => s.kind === 'run');
  const sourcesOf = (seg: (typeof runs)[number]) => seg.entries.map((e) => e.source).filter((s): s is RuleSource => s !== undefined);
  const seg = parsed.run !== undefined ? runs.find((r) => r.run === parsed.run) : runs.find((r) => sourcesOf(r).some((s) => same(s, parsed.sources![0]!)));
  const runSources = seg ? sourcesOf(seg) : [];
  const candidates = parsed.sources ?? runSources;
  const matched = candidates.find((s) => {
    const rule = calcRule(ctx.state, s, role.direction);
    return rule !== undefined && ruleMatches(rule, ctx.packet, ctx.state.ipSets);
  });
  return { run: seg?.run ?? -1, runSources, candidates, ...(matched ? { matched } : {}) };
}

const FLOW_LOG_DENY_CHAINS = new Set([chainNames.flowLogDeny('inbound'), chainNames.flowLogDeny('outbound')]);
const FLOW_LOG_DENY = new Set([...FLOW_LOG_DENY_CHAINS].map((c) => `goto ${c}`));

type Stage = TracedStage & { candidate?: TracedDecision };

/** Maps one packet's trace (the events of one trace id) onto this node's names. */
export function mapTrace(events: readonly TraceEvent[], ctx: { state: DesiredPolicyState; packet: PolicyPacket }): TraceResult {
  const roles = chainRoles(ctx.state);
  const out: TraceResult = { traceId: events[0]?.id ?? '', stages: [], hops: [] };
  let stage: Stage | undefined;
  for (const ev of events) {
    if (ev.family !== NFT_FAMILY || ev.table !== NFT_TABLE || ev.type !== 'rule') continue;
    // Every chain's first rule is the renderer's hash marker: bookkeeping, not a step.
    if (ev.comment?.startsWith(CHAIN_HASH_PREFIX)) continue;
    const role = roles.get(ev.chain);
    out.hops.push({ chain: ev.chain, meaning: meaningOf(role), rule: ev.text, ...(ev.verdict ? { verdict: ev.verdict } : {}) });
    const comment = ev.comment ?? '';
    const drop = ev.verdict === 'drop';
    if (role?.kind === 'endpoint') {
      if (!stage || stage.chain !== ev.chain) out.stages.push((stage = { direction: role.direction, endpoint: role.endpoint, chain: ev.chain, passed: [] }));
      let m: RegExpExecArray | null;
      if ((m = /^end of tier (.+)$/.exec(comment)) && drop) stage.decision = { kind: 'end-of-tier', action: 'Deny', tier: m[1]! };
      else if (comment === 'nothing allowed it' && drop) stage.decision = { kind: 'nothing-allowed', action: 'Deny' };
      else if ((m = /^missing profile (.+)$/.exec(comment)) && drop) stage.decision = { kind: 'missing-profile', action: 'Deny', profile: m[1]! };
      else if (ev.verdict === 'return' && stage.candidate) stage.decision = stage.candidate;
      else if (drop || ev.verdict === 'accept') stage.decision = { kind: 'other', action: drop ? 'Deny' : 'Allow', chain: ev.chain, ...(comment ? { comment } : {}) };
      continue;
    }
    if (role?.kind === 'program' && stage) {
      const m = /^missing policy (.+)$/.exec(comment);
      if (m && drop) {
        stage.decision = { kind: 'missing-policy', action: 'Deny', tier: 'tier' in role.owner ? role.owner.tier : '', policy: m[1]! };
        continue;
      }
      // With flow logs on a Deny goes to cali-fl-deny-<dir> (log, then drop) instead of dropping here (rules/flow-log.ts).
      const verdict = drop || FLOW_LOG_DENY.has(ev.verdict ?? '') ? 'Deny' : ev.verdict === `goto ${chainNames.allow}` ? 'Allow' : ev.verdict === `goto ${chainNames.pass}` ? 'Pass' : undefined;
      const resolved = verdict ? resolveRule(role, comment, ctx) : undefined;
      if (!verdict || !resolved) continue;
      const d: TracedDecision = { kind: 'rule', action: verdict, where: role.owner, ...resolved };
      // Deny drops here; Allow sets the accept mark, and the endpoint chain's return makes it final; Pass is a step.
      if (verdict === 'Deny') stage.decision = d;
      else if (verdict === 'Allow') stage.candidate = d;
      else stage.passed.push(d);
      continue;
    }
    // The flow-log deny chain carries out the Deny its caller already decided: a step, not a verdict of its own.
    if (FLOW_LOG_DENY_CHAINS.has(ev.chain) && stage?.decision?.action === 'Deny') continue;
    if (drop) out.outside = { kind: 'other', action: 'Deny', chain: ev.chain, ...(comment ? { comment } : {}) };
  }
  for (const s of out.stages as Stage[]) delete s.candidate;
  return out;
}
