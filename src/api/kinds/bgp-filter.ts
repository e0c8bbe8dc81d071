// BGPFilter: ordered accept/reject rules on the routes a BGPPeer imports and
// exports, per direction and address family. A peer lists filters by name
// (BGPPeer spec.filters); src/bgp turns them into BIRD functions.
//
// Rule fields are the ones Calico's BIRD renderer (confd) acts on: cidr with
// matchOperator (and prefixLength), source, interface, action. Newer Calico
// fields (peerType, communities, asPathPrefix, priority, operations) are not
// in the schema, so a document that sets one is refused as an unknown field
// rather than having a match condition silently dropped (a dropped condition
// would widen what an Accept lets through).
import type { IPFamily } from '../../base/ip.js';
import { tryParseCIDR } from '../../base/ip.js';
import { int, list, obj, oneOf, str, type Check, type Cursor, type KindSchema } from '../validate.js';
import { cidr } from '../values.js';

export const BGP_FILTER_OPERATORS = ['Equal', 'NotEqual', 'In', 'NotIn'] as const;
export type BGPFilterMatchOperator = (typeof BGP_FILTER_OPERATORS)[number];
export type BGPFilterAction = 'Accept' | 'Reject';

export interface BGPFilterPrefixLength {
  min?: number;
  max?: number;
}

export interface BGPFilterRule {
  cidr?: string;
  prefixLength?: BGPFilterPrefixLength;
  /** RemotePeers: only routes learnt over BGP (not this node's own). */
  source?: 'RemotePeers';
  /** Interface name or pattern (`*` wildcard) of the route's outgoing interface. */
  interface?: string;
  matchOperator?: BGPFilterMatchOperator;
  action: BGPFilterAction;
}

export interface BGPFilterSpec {
  exportV4?: BGPFilterRule[];
  importV4?: BGPFilterRule[];
  exportV6?: BGPFilterRule[];
  importV6?: BGPFilterRule[];
}

const familyName = (f: IPFamily): string => (f === 4 ? 'IPv4' : 'IPv6');

/** Interface names (15 characters at most) with `*` wildcards; nothing BIRD would read as syntax. */
const filterInterface = str({
  pattern: /^[a-zA-Z0-9_.*-]{1,15}$/,
  patternHint: 'an interface name or pattern of 1-15 letters, digits, "_", ".", "-" and "*" (e.g. "eth0" or "eth*")',
});

function rule(family: IPFamily): Check<BGPFilterRule> {
  const maxLen = family === 4 ? 32 : 128;
  return obj<BGPFilterRule>(
    {
      cidr: cidr({ family }),
      prefixLength: obj<BGPFilterPrefixLength>({ min: int({ min: 0, max: maxLen }), max: int({ min: 0, max: maxLen }) }),
      source: oneOf(['RemotePeers'] as const),
      interface: filterInterface,
      matchOperator: oneOf(BGP_FILTER_OPERATORS),
      action: oneOf(['Accept', 'Reject'] as const),
    },
    {
      required: ['action'],
      refine: (r, at) => refineRule(r, at, family),
    },
  );
}

function refineRule(r: BGPFilterRule, at: Cursor, family: IPFamily): void {
  const hasCidr = r.cidr !== undefined && r.cidr !== '';
  if (hasCidr && r.matchOperator === undefined) at.field('matchOperator').add('is required with cidr: Equal, NotEqual, In or NotIn');
  if (!hasCidr && r.matchOperator !== undefined) at.field('cidr').add(`is required with matchOperator: the ${familyName(family)} CIDR to compare routes with`);
  const pl = r.prefixLength;
  if (pl === undefined) return;
  if (!hasCidr) {
    at.field('prefixLength').add('needs cidr: it narrows which prefix lengths inside the CIDR match');
    return;
  }
  if (r.matchOperator === 'Equal' || r.matchOperator === 'NotEqual') {
    at.field('prefixLength').add(`applies to In and NotIn only (${r.matchOperator} compares one exact prefix); remove prefixLength or use In/NotIn`);
  }
  const parsed = tryParseCIDR(r.cidr!);
  const own = parsed?.prefixLength ?? 0;
  const lo = Math.max(own, pl.min ?? own);
  const hi = pl.max ?? (family === 4 ? 32 : 128);
  if (pl.min !== undefined && pl.max !== undefined && pl.min > pl.max) at.field('prefixLength').field('min').add(`${pl.min} is greater than max ${pl.max}`);
  else if (hi < lo) at.field('prefixLength').field('max').add(`${hi} is shorter than the CIDR's own length /${own}: no route inside ${r.cidr} could match`);
}

export const bgpFilterSchema: KindSchema<BGPFilterSpec> = {
  spec: () =>
    obj<BGPFilterSpec>({
      exportV4: list(rule(4)),
      importV4: list(rule(4)),
      exportV6: list(rule(6)),
      importV6: list(rule(6)),
    }),
};
