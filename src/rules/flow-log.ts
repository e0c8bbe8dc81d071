// Flow-log rules: the only rules compiled differently when flow logs are on
// (DataplaneConfig.flowLogs). With them off nothing here is used, so the
// ruleset is byte-for-byte the one without flow logs (no cost on the fast path).
//
// Where a verdict for a workload is made, a copy of the packet goes to an
// NFLOG group with a prefix naming only the verdict and the direction:
//   allow: in the endpoint chain, where it returns with MARK_ACCEPT after a
//          tier or profile (only packets of NEW connections get there: the
//          forward and input chains accept established/related first);
//   deny:  a policy or profile Deny (merged runs go to cali-fl-deny-<dir>,
//          which logs and drops), the end-of-tier drop, a missing profile,
//          "nothing allowed it".
// Which tier, policy and rule decided is NOT in the prefix: merged runs stand
// for rules of many policies, so the flow-log reader re-evaluates the packet
// with the reference interpreter (src/calc/verdict.ts) on the node's calc
// state and checks that it reaches the kernel's verdict
// (src/flowlogs/attribution.ts). See docs/design/flow-logs.md.

import type { Rule } from './ir.js';
import { MARK_ACCEPT, chainNames } from './names.js';

export type FlowVerdict = 'allow' | 'deny';
export type FlowDirection = 'inbound' | 'outbound';

export interface FlowLogRendering {
  /** NFLOG group the copies go to. */
  nflogGroup: number;
}

/** NFLOG group calico-node reads flow logs from (Felix uses 1 and 2 for its own NFLOG rules; this is ours alone). */
export const DEFAULT_FLOW_LOG_GROUP = 20;

const TAG = 'cali-fl';

/** `cali-fl|A|I`: verdict (A allow, D deny) and direction (I inbound = to the endpoint, O outbound = from it). */
export function flowLogPrefix(verdict: FlowVerdict, direction: FlowDirection): string {
  return `${TAG}|${verdict === 'allow' ? 'A' : 'D'}|${direction === 'inbound' ? 'I' : 'O'}`;
}

/** The inverse of flowLogPrefix; undefined for any other prefix (someone else's NFLOG rule on the same group). */
export function parseFlowLogPrefix(text: string): { verdict: FlowVerdict; direction: FlowDirection } | undefined {
  const m = /^cali-fl\|([AD])\|([IO])$/.exec(text);
  if (!m) return undefined;
  return { verdict: m[1] === 'A' ? 'allow' : 'deny', direction: m[2] === 'I' ? 'inbound' : 'outbound' };
}

const log = (verdict: FlowVerdict, direction: FlowDirection, group: number) => ({ kind: 'log', prefix: flowLogPrefix(verdict, direction), group }) as const;

const isAcceptReturn = (r: Rule) =>
  r.action.kind === 'return' && r.matches.length === 1 && r.matches[0]!.kind === 'mark' && r.matches[0]!.mask === MARK_ACCEPT && r.matches[0]!.value === MARK_ACCEPT && !r.matches[0]!.negate;

/**
 * An endpoint chain's policy body (endpoint-body.ts policyBody) with a log
 * rule, same matches, before each verdict it makes itself: the returns that
 * mean "allowed" and the drops.
 */
export function withFlowLogs(body: Rule[], direction: FlowDirection, rendering: FlowLogRendering): Rule[] {
  const out: Rule[] = [];
  for (const r of body) {
    if (isAcceptReturn(r)) out.push({ matches: r.matches, action: log('allow', direction, rendering.nflogGroup) });
    else if (r.action.kind === 'drop') out.push({ matches: r.matches, action: log('deny', direction, rendering.nflogGroup) });
    out.push(r);
  }
  return out;
}

/** The chain a policy or profile Deny goes to when flow logs are on: log, then drop. */
export function flowLogDenyRules(direction: FlowDirection, rendering: FlowLogRendering): Rule[] {
  return [
    { matches: [], action: log('deny', direction, rendering.nflogGroup) },
    { matches: [], action: { kind: 'drop' } },
  ];
}

export const flowLogDenyChain = (direction: FlowDirection): string => chainNames.flowLogDeny(direction);
