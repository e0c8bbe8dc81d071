// The "policy at scale" world (issue 11), shared by the unit check, the
// kernel check and bench/policy-scale.ts: N GlobalNetworkPolicies of R rules
// of mixed shapes (source nets x ports, protocol x ports, selectors x ports,
// destination nets, deny lists) in front of the one policy that allows the
// measured traffic. None of the N matches that traffic, so every new flow
// has to get past all of them. The deny lists come first, as a security
// team's would: the cost the compiler promises depends on the number of
// action changes, and this world has one.

import type { CalcUpdate, IpSetState, NormalizedRule, PolicyState } from '../calc/output.js';
import { rule, side } from './testing-fixtures.js';

export interface PolicyScaleOptions {
  policies: number;
  rulesPerPolicy: number;
  /** Every `denyEvery`-th policy (counted from the front) is a deny list; they are ordered first. Default 10. */
  denyEvery?: number;
  /** The client the allowing policy admits, and the port it admits it to. */
  client: string;
  port: number;
}

export const SCALE_TIER = 'default';
export const ALLOW_POLICY = 'gnp/scale-allow';
const SELECTORS = 50;

const octets = (k: number) => [(k >> 8) & 255, k & 255] as const;

function allowRule(k: number): NormalizedRule {
  const [a, b] = octets(k);
  switch (k % 4) {
    case 0: // source net x port
      return rule({ action: 'Allow', protocol: 6, source: side({ nets: [`10.${100 + (k % 50)}.${b}.0/24`] }), destination: side({ ports: [{ first: 10000 + (k % 5000), last: 10000 + (k % 5000) }] }) });
    case 1: // protocol x port range
      return rule({ action: 'Allow', protocol: k % 8 === 1 ? 17 : 6, destination: side({ ports: [{ first: 20000 + (k % 10000), last: 20000 + (k % 10000) + (k % 3) }] }) });
    case 2: // selector x port
      return rule({ action: 'Allow', protocol: 6, source: side({ ipSetIds: [`sscale${k % SELECTORS}`] }), destination: side({ ports: [{ first: 30000 + (k % 1000), last: 30000 + (k % 1000) }] }) });
    default: // destination net
      return rule({ action: 'Allow', destination: side({ nets: [`10.250.${a}.${b}/32`] }) });
  }
}

function denyRule(k: number): NormalizedRule {
  const [a, b] = octets(k);
  return k % 2 === 0
    ? rule({ action: 'Deny', source: side({ nets: [`10.66.${a}.${b}/32`] }) })
    : rule({ action: 'Deny', protocol: 6, destination: side({ ports: [{ first: 6000 + (k % 1000), last: 6000 + (k % 1000) }] }) });
}

const gnp = (id: string, inbound: NormalizedRule[]): PolicyState => ({ id, tier: SCALE_TIER, inboundRules: inbound, outboundRules: [], doNotTrack: false, preDnat: false, applyOnForward: false });

/** The sets, the N policies and the allowing one, plus the ingress policy list (in order) of the protected endpoint. */
export function policyScaleWorld(opts: PolicyScaleOptions): { updates: CalcUpdate[]; ingress: string[]; sourceRules: number } {
  const sets: IpSetState[] = Array.from({ length: SELECTORS }, (_, i) => ({
    id: `sscale${i}`,
    kind: 'net',
    description: `app == scale-${i}`,
    members: [1, 2, 3, 4].map((h) => ({ net: `10.${200 + (i % 50)}.${i}.${h}/32` })),
  }));
  const denyEvery = opts.denyEvery ?? 10;
  const denies = Math.floor(opts.policies / denyEvery);
  const policies: PolicyState[] = [];
  for (let i = 0; i < opts.policies; i++) {
    const deny = i < denies;
    const id = `gnp/scale-${String(i).padStart(5, '0')}`;
    policies.push(gnp(id, Array.from({ length: opts.rulesPerPolicy }, (_, j) => (deny ? denyRule : allowRule)(i * opts.rulesPerPolicy + j))));
  }
  const allow = gnp(ALLOW_POLICY, [rule({ action: 'Allow', protocol: 6, source: side({ nets: [`${opts.client}/32`] }), destination: side({ ports: [{ first: opts.port, last: opts.port }] }) })]);
  return {
    updates: [
      ...sets.map((ipSet): CalcUpdate => ({ type: 'ipSetUpserted', ipSet })),
      ...[...policies, allow].map((policy): CalcUpdate => ({ type: 'policyUpserted', policy })),
    ],
    ingress: [...policies.map((p) => p.id), ALLOW_POLICY],
    sourceRules: opts.policies * opts.rulesPerPolicy + 1,
  };
}
