// BGPFilter: ordered accept/reject rules on the routes a BGPPeer imports and
// exports, per direction and address family. A peer lists filters by name
// (BGPPeer spec.filters); src/bgp turns them into BIRD functions.
//
// Rule fields are current Calico's: match conditions cidr with matchOperator
// (and prefixLength), source, interface, peerType, communities, asPathPrefix,
// priority; an action; and, for Accept, operations (addCommunity,
// prependASPath, setPriority). `priority` and `setPriority` are in the schema
// only so that the field-support table can refuse them with a reason
// (calico-ts has no route priorities): a dropped match condition would widen
// what an Accept lets through or what a Reject keeps out.
import type { IPFamily } from '../../base/ip.js';
import { tryParseCIDR } from '../../base/ip.js';
import { int, list, obj, oneOf, str, type Check, type Cursor, type KindSchema } from '../validate.js';
import { asNumber, cidr } from '../values.js';

export const BGP_FILTER_OPERATORS = ['Equal', 'NotEqual', 'In', 'NotIn'] as const;
export type BGPFilterMatchOperator = (typeof BGP_FILTER_OPERATORS)[number];
export type BGPFilterAction = 'Accept' | 'Reject';

export interface BGPFilterPrefixLength {
  min?: number;
  max?: number;
}

export type BGPFilterPeerType = 'eBGP' | 'iBGP';

/** Route modifications an Accept rule makes; each entry sets exactly one field. */
export interface BGPFilterOperation {
  /** `aa:nn` (standard) or `aa:nn:mm` (large). */
  addCommunity?: { value: string };
  /** AS numbers put in front of the AS path, in this order. */
  prependASPath?: { prefix: number[] };
  /** Refused (no route priorities here); see the file comment. */
  setPriority?: { value: number };
}

export interface BGPFilterRule {
  cidr?: string;
  prefixLength?: BGPFilterPrefixLength;
  /** RemotePeers: only routes learnt over BGP (not this node's own). */
  source?: 'RemotePeers';
  /** Interface name or pattern (`*` wildcard) of the route's outgoing interface. */
  interface?: string;
  matchOperator?: BGPFilterMatchOperator;
  /** Only on sessions of this kind: iBGP (peer AS = our AS on the session) or eBGP. */
  peerType?: BGPFilterPeerType;
  /** Only routes carrying this community (exactly one value, as Calico). */
  communities?: { values: string[] };
  /** Only routes whose AS path starts with these AS numbers. */
  asPathPrefix?: number[];
  /** Refused (no route priorities here); see the file comment. */
  priority?: number;
  action: BGPFilterAction;
  operations?: BGPFilterOperation[];
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

/**
 * Calico's BGPCommunityValue: `aa:nn` with 16-bit parts or `aa:nn:mm` with
 * 32-bit parts, decimal without leading zeros.
 */
export function bgpFilterCommunityProblem(v: string): string | undefined {
  const parts = v.split(':');
  const hint = 'use "aa:nn" (standard, each part 0-65535) or "aa:nn:mm" (large, each part 0-4294967295), without leading zeros';
  if ((parts.length !== 2 && parts.length !== 3) || !parts.every((p) => /^(0|[1-9][0-9]{0,9})$/.test(p))) return `"${v}" is not a BGP community: ${hint}`;
  const limit = parts.length === 2 ? 65535 : 4294967295;
  if (parts.some((p) => Number(p) > limit)) return `"${v}" is out of range: ${hint}`;
  return undefined;
}

const communityValue = str({ maxLength: 32, test: bgpFilterCommunityProblem });
const PRIORITY = { min: 1, max: 2147483646 };

const operation: Check<BGPFilterOperation> = obj<BGPFilterOperation>(
  {
    addCommunity: obj<{ value: string }>({ value: communityValue }, { required: ['value'] }),
    prependASPath: obj<{ prefix: number[] }>(
      { prefix: list(asNumber, { maxItems: 10 }) },
      {
        required: ['prefix'],
        refine: (p, at) => {
          if (p.prefix?.length === 0) at.field('prefix').add('must list at least one AS number');
        },
      },
    ),
    setPriority: obj<{ value: number }>({ value: int(PRIORITY) }, { required: ['value'] }),
  },
  {
    refine: (op, at) => {
      const set = Object.keys(op).filter((k) => (op as Record<string, unknown>)[k] !== undefined);
      if (set.length !== 1) at.add(`set exactly one of addCommunity, prependASPath, setPriority in each operation (got ${set.length ? set.join(', ') : 'none'})`);
    },
  },
);

function rule(family: IPFamily): Check<BGPFilterRule> {
  const maxLen = family === 4 ? 32 : 128;
  return obj<BGPFilterRule>(
    {
      cidr: cidr({ family }),
      prefixLength: obj<BGPFilterPrefixLength>({ min: int({ min: 0, max: maxLen }), max: int({ min: 0, max: maxLen }) }),
      source: oneOf(['RemotePeers'] as const),
      interface: filterInterface,
      matchOperator: oneOf(BGP_FILTER_OPERATORS),
      peerType: oneOf(['eBGP', 'iBGP'] as const),
      communities: obj<{ values: string[] }>(
        { values: list(communityValue, { maxItems: 1 }) },
        {
          required: ['values'],
          refine: (c, at) => {
            if (c.values?.length === 0) at.field('values').add('must hold exactly one community (Calico matches one value per rule)');
          },
        },
      ),
      asPathPrefix: list(asNumber),
      priority: int(PRIORITY),
      action: oneOf(['Accept', 'Reject'] as const),
      operations: list(operation, { maxItems: 10 }),
    },
    {
      required: ['action'],
      refine: (r, at) => refineRule(r, at, family),
    },
  );
}

function refineRule(r: BGPFilterRule, at: Cursor, family: IPFamily): void {
  if (r.operations !== undefined) {
    if (r.operations.length === 0) at.field('operations').add('must hold at least one operation when set (or remove operations)');
    else if (r.action !== undefined && r.action !== 'Accept') at.field('operations').add('operations may only be used with action Accept (a rejected route is not modified)');
  }
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
