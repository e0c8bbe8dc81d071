// The rule sequences every endpoint chain is built from: failsafe accepts,
// clearing our mark bits, and the policy body (tiers, then profiles). One
// body, four flavours, because Calico evaluates the same tier program at four
// stages with different endings (see docs/design/dataplane.md, "Host
// endpoints"):
//   normal     end-of-tier drop, profiles, drop when nothing allowed
//   forward    end-of-tier drop, no profiles; no policy in this direction = allow
//   untracked  no end-of-tier drop (normal policy still follows); an allow also
//              exempts the packet from conntrack
//   preDNAT    no end-of-tier drop (normal policy still follows)

import { canonicalCidr, familyOf } from './cidr.js';
import type { Match, Rule } from './ir.js';
import type { TierPolicies } from '../calc/output.js';
import type { LocalEndpoint, ProtoPort } from './model.js';
import { MARK_ACCEPT, MARK_MASK, MARK_PASS, chainNames } from './names.js';
import { fitComment } from './rule-comments.js';

export const accept = { kind: 'accept' } as const;
export const drop = { kind: 'drop' } as const;
export const ret = { kind: 'return' } as const;
export const markIs = (bit: number): Match => ({ kind: 'mark', mask: bit, value: bit });
export const markNot = (bit: number): Match => ({ kind: 'mark', mask: bit, value: bit, negate: true });

export function clearMarks(): Rule {
  return { matches: [], action: { kind: 'setMark', mask: MARK_MASK, value: 0 } };
}

/**
 * Failsafe accepts. `port` says which port of the packet is matched: the
 * destination (the failsafe itself) or the source (the raw stage also lets
 * the replies of the opposite direction's failsafe connections through, so an
 * untracked Deny cannot cut them: they are tracked and conntrack accepts them
 * later). `peer` says which address a failsafe's `net` restricts (the source
 * for inbound, the destination for outbound); with a net the rule exists only
 * in that net's family. A net that is not a CIDR drops the entry: it must
 * never widen to "any peer".
 */
export function failsafeRules(ports: ProtoPort[], peer: 'src' | 'dst', port: 'src' | 'dst' = 'dst'): Rule[] {
  const rules: Rule[] = [];
  for (const p of ports) {
    const matches: Match[] = [{ kind: 'protocol', protocol: p.protocol }, { kind: 'ports', dir: port, ports: [{ first: p.port, last: p.port }] }];
    if (p.net !== undefined) {
      let cidr: string;
      try {
        cidr = canonicalCidr(p.net);
      } catch {
        continue;
      }
      const family = familyOf(cidr);
      matches.unshift({ kind: 'family', family }, { kind: 'addr', dir: peer, family, cidr });
    }
    rules.push({ matches, action: accept, comment: port === 'dst' ? 'failsafe' : 'failsafe reply' });
  }
  return rules;
}

export type BodyKind = 'normal' | 'forward' | 'untracked' | 'preDnat';

export interface Known {
  profiles: Set<string>;
}

export type ChainDirection = 'inbound' | 'outbound';

/**
 * The tiers of one endpoint for one stage and direction, in order, each with
 * at least one policy. `inbound` is the calc graph's ingress (towards the
 * endpoint), `outbound` its egress. preDNAT policy is ingress only (Calico).
 */
export function stageTiers(ep: LocalEndpoint, kind: BodyKind, dir: ChainDirection): TierPolicies[] {
  const policies = { normal: ep.policies, forward: ep.forwardPolicies, untracked: ep.untrackedPolicies, preDnat: ep.preDnatPolicies }[kind];
  if (!policies || (kind === 'preDnat' && dir === 'outbound')) return [];
  return policies[dir === 'inbound' ? 'ingress' : 'egress'].filter((t) => t.policies.length > 0);
}

/** Tiers (then profiles, then drop, for `normal`): the body of an endpoint chain. */
export function policyBody(ep: LocalEndpoint, dir: ChainDirection, known: Known, kind: BodyKind = 'normal'): Rule[] {
  const rules: Rule[] = [];
  const tiers = stageTiers(ep, kind, dir);
  if (kind === 'forward' && tiers.length === 0) {
    // Calico: forwarded traffic is allowed by a host endpoint that no
    // applyOnForward policy selects in this direction.
    return [
      { matches: [], action: { kind: 'setMark', mask: MARK_ACCEPT, value: MARK_ACCEPT }, comment: 'no forward policy: allow' },
      { matches: [], action: ret },
    ];
  }
  const endOfTierDrop = kind === 'normal' || kind === 'forward';
  for (const tier of tiers) {
    const ids = tier.policies;
    rules.push({ matches: [], action: { kind: 'setMark', mask: MARK_PASS, value: 0 }, comment: `tier ${tier.tier}` });
    // One merged chain for the tier's policies (compile-tier.ts); a missing policy is a drop inside it.
    rules.push({ matches: [], action: { kind: 'jump', chain: chainNames.tier(tier.tier, ids, dir) }, comment: fitComment(`tier ${tier.tier}: ${ids.length} ${ids.length === 1 ? 'policy' : 'policies'}`) });
    // Untracked: an allowed packet is not tracked, so its replies need their own allow.
    if (kind === 'untracked') rules.push({ matches: [markIs(MARK_ACCEPT)], action: { kind: 'notrack' } });
    rules.push({ matches: [markIs(MARK_ACCEPT)], action: ret });
    if (endOfTierDrop && tier.defaultAction === 'Deny') rules.push({ matches: [markNot(MARK_PASS)], action: drop, comment: `end of tier ${tier.tier}` });
  }
  if (kind !== 'normal') return rules;
  for (const id of ep.profileIds) {
    if (!known.profiles.has(id)) {
      rules.push({ matches: [], action: drop, comment: fitComment(`missing profile ${id}`) });
      break;
    }
    rules.push({ matches: [], action: { kind: 'jump', chain: chainNames.profile(id, dir) }, comment: fitComment(`profile ${id}`) });
    rules.push({ matches: [markIs(MARK_ACCEPT)], action: ret });
  }
  rules.push({ matches: [], action: drop, comment: 'nothing allowed it' });
  return rules;
}
