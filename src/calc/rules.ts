// Normalizes v3 rules for the output contract: selectors become IP set ids,
// named ports become named-port set ids, protocols become numbers. It also
// returns the set definitions the rules reference, so the graph can refcount
// them. NetworkPolicy scoping follows Calico: a rule side with any of
// selector / notSelector / namespaceSelector is confined to the policy's
// namespace unless namespaceSelector says which namespaces.
import { createHash } from 'node:crypto';
import type { IpSetDefinition } from './ip-set-index.js';
import { buildMatchSpec } from './match-spec.js';
import type { MatchSpec, MatchSpecInput, SelectorCompiler } from './match-spec.js';
import { exact, protocolNumber, toCidr } from './model.js';
import type { RawRule, RuleEntity } from './model.js';
import { ipVersionOf } from './output.js';
import type { IpVersion, NormalizedRule, PortRange, RuleAction, RuleSide } from './output.js';

export interface NormalizedRules {
  inbound: NormalizedRule[];
  outbound: NormalizedRule[];
  /** Every set the rules reference, de-duplicated by id. */
  sets: IpSetDefinition[];
}

export interface RuleContext {
  /** Set for NetworkPolicy (and namespaced profiles, which do not exist in v3). */
  namespace?: string;
  compile: SelectorCompiler;
}

/** Short stable id from a canonical description: prefix + 20 base-32 characters of SHA-256. */
export function setIdOf(prefix: 's' | 'n', canonical: string): string {
  const digest = createHash('sha256').update(canonical).digest();
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  // Built from character codes in one go: appending character by character
  // leaves V8 a chain of ~8 cons strings per id (~320 bytes instead of ~40),
  // and there is one id per set, kept by every policy and index that uses it.
  const codes = [prefix.charCodeAt(0)];
  // 20 characters x 5 bits = 100 bits of the digest: collisions are not a practical concern.
  let bits = 0;
  let acc = 0;
  for (const byte of digest) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5 && codes.length < 21) {
      codes.push(alphabet.charCodeAt((acc >>> (bits - 5)) & 31));
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
    if (codes.length >= 21) break;
  }
  return String.fromCharCode(...codes);
}

export function netSetOf(spec: MatchSpec): IpSetDefinition {
  return { id: setIdOf('s', spec.key), kind: 'net', description: spec.key, spec };
}

export function namedPortSetOf(spec: MatchSpec, protocol: number | 'any', name: string): IpSetDefinition {
  const description = `${spec.key} port=${protocol}:${name}`;
  return { id: setIdOf('n', description), kind: 'named-port', description, spec, namedPort: { protocol, name } };
}

export function normalizeRules(ingress: RawRule[], egress: RawRule[], ctx: RuleContext): NormalizedRules {
  const sets = new Map<string, IpSetDefinition>();
  const inbound = exact(ingress.map((r) => normalizeRule(r, ctx, sets)));
  const outbound = exact(egress.map((r) => normalizeRule(r, ctx, sets)));
  return { inbound, outbound, sets: exact([...sets.values()]) };
}

/** Protocols whose packets have ports (TCP, UDP, SCTP): a rule with another protocol resolves no named port. */
const PORT_PROTOCOLS: ReadonlySet<number> = new Set([6, 17, 132]);

const ACTIONS: readonly RuleAction[] = ['Allow', 'Deny', 'Log', 'Pass'];

function normalizeRule(raw: RawRule, ctx: RuleContext, sets: Map<string, IpSetDefinition>): NormalizedRule {
  // An unknown action must not become Allow: treat it as Deny (fail closed).
  const action = ACTIONS.find((a) => a.toLowerCase() === String(raw.action ?? '').toLowerCase()) ?? 'Deny';
  const protocol = protocolNumber(raw.protocol);
  const rule: NormalizedRule = {
    action,
    source: normalizeSide(raw.source ?? {}, protocol, ctx, sets),
    destination: normalizeSide(raw.destination ?? {}, protocol, ctx, sets),
  };
  let neverMatches = false;
  if (raw.protocol !== undefined) {
    if (protocol === undefined) neverMatches = true;
    else rule.protocol = protocol;
  }
  const notProtocol = protocolNumber(raw.notProtocol);
  if (notProtocol !== undefined) rule.notProtocol = notProtocol;
  if (raw.icmp && typeof raw.icmp.type === 'number') rule.icmp = icmpOf(raw.icmp.type, raw.icmp.code);
  if (raw.notICMP && typeof raw.notICMP.type === 'number') rule.notIcmp = icmpOf(raw.notICMP.type, raw.notICMP.code);

  // The families a rule can match: narrowed by ipVersion, by the ICMP flavour and,
  // as in Felix, by every CIDR list: a non-empty nets OR notNets list with no
  // CIDR of a family rules that family out. (A notNets list of only IPv4 CIDRs
  // must not become "any IPv6 address".)
  let families = new Set<IpVersion>([4, 6]);
  const narrow = (allowed: Iterable<IpVersion>) => {
    const keep = new Set(allowed);
    families = new Set([...families].filter((f) => keep.has(f)));
  };
  if (raw.ipVersion === 4 || raw.ipVersion === 6) narrow([raw.ipVersion]);
  if (protocol === 1) narrow([4]);
  if (protocol === 58) narrow([6]);
  for (const side of [rule.source, rule.destination]) {
    for (const nets of [side.nets, side.notNets]) {
      if (nets.length > 0) narrow(nets.map(ipVersionOf));
    }
  }
  if (families.size === 0) neverMatches = true;
  else if (families.size === 1) rule.ipVersion = [...families][0]!;
  if (sideNeverMatches(rule.source) || sideNeverMatches(rule.destination)) neverMatches = true;
  // A notPorts name that cannot be resolved (the rule's protocol has no ports) cannot be
  // excluded; dropping the exclusion would widen the rule. Fail closed: an
  // Allow/Pass/Log rule then matches nothing; a Deny rule keeps matching
  // without the exclusion (it denies more, never less).
  if (unresolvedNotPorts(rule.source) || unresolvedNotPorts(rule.destination)) {
    if (action !== 'Deny') neverMatches = true;
  }
  if (neverMatches) rule.neverMatches = true;
  return rule;
}

const icmpOf = (type: number, code: number | undefined) => (typeof code === 'number' ? { type, code } : { type });

type RawSide = RuleSide & { unresolvedPorts?: boolean; unresolvedNotPorts?: boolean };

function unresolvedNotPorts(side: RawSide): boolean {
  const unresolved = side.unresolvedNotPorts === true;
  delete side.unresolvedNotPorts;
  return unresolved;
}

/** A side whose ports list was given but resolved to nothing (only named ports under a protocol without ports). */
function sideNeverMatches(side: RawSide): boolean {
  const unresolved = side.unresolvedPorts === true;
  delete side.unresolvedPorts;
  return unresolved && side.ports.length === 0 && side.namedPortIpSetIds.length === 0;
}

function normalizeSide(
  e: RuleEntity,
  protocol: number | undefined,
  ctx: RuleContext,
  sets: Map<string, IpSetDefinition>,
): RawSide {
  const side: RawSide = {
    nets: (e.nets ?? []).map(toCidr),
    notNets: (e.notNets ?? []).map(toCidr),
    ipSetIds: [],
    notIpSetIds: [],
    ports: [],
    notPorts: [],
    namedPortIpSetIds: [],
    notNamedPortIpSetIds: [],
  };
  const use = (def: IpSetDefinition): string => {
    sets.set(def.id, def);
    return def.id;
  };
  // As in Calico (Go), an empty selector string is the same as no selector.
  const selector = given(e.selector);
  const notSelector = given(e.notSelector);
  const namespaceSelector = given(e.namespaceSelector);
  const saSelector = given(e.serviceAccounts?.selector);
  const saNames = e.serviceAccounts?.names;
  const hasSelection = selector !== undefined || notSelector !== undefined || namespaceSelector !== undefined;
  const hasServiceAccounts = !!saNames?.length || saSelector !== undefined;
  const positive: MatchSpecInput = { endpointsOnly: hasServiceAccounts };
  if (hasSelection || hasServiceAccounts) {
    if (namespaceSelector !== undefined) positive.namespaceSelector = namespaceSelector;
    else if (ctx.namespace !== undefined) positive.namespace = ctx.namespace;
    if (selector !== undefined) positive.selector = selector;
    if (saNames?.length) positive.serviceAccountNames = saNames;
    if (saSelector !== undefined) positive.serviceAccountSelector = saSelector;
  }
  const positiveSpec = buildMatchSpec(positive, ctx.compile);
  // Only constrain addresses when the rule said something about them; a side with
  // only a notSelector keeps the namespace scope in the positive set, as Calico does.
  if (hasSelection || hasServiceAccounts) side.ipSetIds.push(use(netSetOf(positiveSpec)));
  if (notSelector !== undefined) {
    side.notIpSetIds.push(use(netSetOf(buildMatchSpec({ endpointsOnly: false, selector: notSelector }, ctx.compile))));
  }
  // Named ports select endpoints' (address, port) pairs, restricted by the same selection.
  const namedSpec = hasSelection || hasServiceAccounts ? buildMatchSpec({ ...positive, endpointsOnly: true }, ctx.compile) : buildMatchSpec({ endpointsOnly: true }, ctx.compile);
  const notNamedSpec = buildMatchSpec({ endpointsOnly: true }, ctx.compile);
  for (const [list, into, namedInto, spec] of [
    [e.ports, side.ports, side.namedPortIpSetIds, namedSpec],
    [e.notPorts, side.notPorts, side.notNamedPortIpSetIds, notNamedSpec],
  ] as const) {
    for (const p of list ?? []) {
      const range = portRangeOf(p);
      if (range) {
        into.push(range);
      } else if (typeof p === 'string' && protocol === undefined) {
        // No protocol: the name matches each endpoint port of that name with
        // that port's own protocol (the set members carry it), as Felix does.
        namedInto.push(use(namedPortSetOf(spec, 'any', p)));
      } else if (typeof p === 'string' && protocol !== undefined && PORT_PROTOCOLS.has(protocol)) {
        namedInto.push(use(namedPortSetOf(spec, protocol, p)));
      } else if (list === e.ports) {
        side.unresolvedPorts = true;
      } else {
        side.unresolvedNotPorts = true;
      }
    }
  }
  // Kept for as long as the policy exists (one side per rule and direction): exact lists, shared empties (model.ts).
  side.nets = exact(side.nets);
  side.notNets = exact(side.notNets);
  side.ipSetIds = exact(side.ipSetIds);
  side.notIpSetIds = exact(side.notIpSetIds);
  side.ports = exact(side.ports);
  side.notPorts = exact(side.notPorts);
  side.namedPortIpSetIds = exact(side.namedPortIpSetIds);
  side.notNamedPortIpSetIds = exact(side.notNamedPortIpSetIds);
  return side;
}

/** A selector string that says something: undefined and "" (and whitespace) are both "not given". */
const given = (s: string | undefined): string | undefined => (s === undefined || s.trim() === '' ? undefined : s);

/** `80`, `"80"`, `"1000:2000"` -> range; a name -> undefined. */
export function portRangeOf(p: number | string): PortRange | undefined {
  if (typeof p === 'number') return { first: p, last: p };
  const m = /^([0-9]+)(?::([0-9]+))?$/.exec(p.trim());
  if (!m) return undefined;
  const first = Number(m[1]);
  return { first, last: m[2] === undefined ? first : Number(m[2]) };
}
