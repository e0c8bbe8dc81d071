// BGPFilter functions and the per-peer import/export filters that call them.
// Semantics follow Calico's confd: rules in order, the first whose conditions
// all hold accepts or rejects (which ends the peer's whole filter), a route no
// rule matches goes on to the next filter, then to the normal rules.

import type { BgpFilterRule, FilterFunction, Peering } from '../../bgp/model.js';
import type { IPFamily as Family } from '../../base/ip.js';

const quote = (s: string): string => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
/** BIRD quoted symbol: filter names may contain '-' and '.'. */
export const symbol = (s: string): string => `'${s}'`;

const OPERATOR = { Equal: '=', NotEqual: '!=', In: '~', NotIn: '!~' } as const;

function cidrCondition(r: BgpFilterRule, f: Family): string | undefined {
  if (!r.cidr || !r.matchOperator) return undefined;
  const op = OPERATOR[r.matchOperator];
  if (!r.prefixLength) return `net ${op} ${r.cidr}`;
  // A length range: a prefix set `cidr{lo,hi}`, lo never shorter than the CIDR itself (validation keeps lo <= hi).
  const own = Number(r.cidr.split('/')[1]);
  const lo = Math.max(own, r.prefixLength.min ?? own);
  const hi = Math.min(f === 4 ? 32 : 128, r.prefixLength.max ?? (f === 4 ? 32 : 128));
  return `net ${op} [ ${r.cidr}{${lo},${hi}} ]`;
}

/** `(a, b)` ~ bgp_community or `(a, b, c)` ~ bgp_large_community; validation guarantees the form. */
function communityCondition(value: string): string {
  const parts = value.split(':');
  return parts.length === 2 ? `(${parts.join(', ')}) ~ bgp_community` : `(${parts.join(', ')}) ~ bgp_large_community`;
}

function communityAdd(value: string): string {
  const parts = value.split(':');
  return parts.length === 2 ? `bgp_community.add((${parts.join(', ')}));` : `bgp_large_community.add((${parts.join(', ')}));`;
}

/** What an Accept does to the route first, in the rule's order. */
function operationStatements(r: BgpFilterRule): string[] {
  const out: string[] = [];
  for (const op of r.operations ?? []) {
    if (op.addCommunity) out.push(communityAdd(op.addCommunity.value));
    // BIRD prepends one AS at a time, each in front of the last: go backwards so the path starts with prefix[0].
    if (op.prependASPath) for (const as of [...op.prependASPath.prefix].reverse()) out.push(`bgp_path.prepend(${as});`);
  }
  return out;
}

export function ruleStatement(r: BgpFilterRule, f: Family): string {
  const conditions: string[] = [];
  const c = cidrCondition(r, f);
  if (c) conditions.push(c);
  // Only routes learnt from BGP peers (re-advertised), not this node's own.
  if (r.source === 'RemotePeers') conditions.push('source = RTS_BGP');
  // Routes without an interface (our blackholes) never match an interface rule.
  if (r.interface !== undefined) conditions.push(`defined(ifname) && ifname ~ ${quote(r.interface)}`);
  const community = r.communities?.values[0];
  if (community !== undefined) conditions.push(communityCondition(community));
  // The path starts with these AS numbers, then anything.
  if (r.asPathPrefix?.length) conditions.push(`bgp_path ~ [= ${r.asPathPrefix.join(' ')} * =]`);
  const body = [...operationStatements(r), r.action === 'Accept' ? 'accept;' : 'reject;'];
  let stmt = conditions.length
    ? `if ${conditions.map((x) => `(${x})`).join(' && ')} then ${body.length === 1 ? body[0] : `{ ${body.join(' ')} }`}`
    : body.join(' ');
  // peerType: the function's argument says whether this session is iBGP.
  if (r.peerType === 'iBGP') stmt = `if (is_ibgp) then { ${stmt} }`;
  if (r.peerType === 'eBGP') stmt = `if (!is_ibgp) then { ${stmt} }`;
  return stmt;
}

export function filterFunctions(fns: FilterFunction[], f: Family): string[] {
  const out: string[] = [];
  for (const fn of fns) {
    out.push(`# BGPFilter ${fn.filter}: ${fn.direction}V${f}`, `function ${symbol(fn.symbol)}(${fn.takesPeerType ? 'bool is_ibgp' : ''}) {`, ...fn.rules.map((r) => `  ${ruleStatement(r, f)}`), '}', '');
  }
  return out;
}

/**
 * The channel's import/export clauses for a peering. `exportRules` is the
 * function holding the normal export rules (it ends in accept or reject);
 * `takesPeerType` lists the filter functions that want to know whether the
 * session is iBGP.
 */
export function channelFilters(
  p: Peering,
  exportFilter: string,
  exportRules: string,
  takesPeerType: ReadonlySet<string> = new Set(),
): { comment?: string; clauses: string[] } {
  if (p.missingFilters?.length) {
    return {
      comment: `# BGPFilter ${p.missingFilters.join(', ')} does not exist: nothing is imported or exported on this session until it does.`,
      clauses: ['import none;', 'export none;'],
    };
  }
  const call = (s: string) => `${symbol(s)}(${takesPeerType.has(s) ? String(p.peerAs === p.localAs) : ''});`;
  const imports = p.importFunctions ?? [];
  const exports = p.exportFunctions ?? [];
  return {
    clauses: [
      imports.length ? `import filter { ${imports.map(call).join(' ')} accept; };` : 'import all;',
      exports.length ? `export filter { ${exports.map(call).join(' ')} ${exportRules}(); };` : `export filter ${exportFilter};`,
    ],
  };
}
