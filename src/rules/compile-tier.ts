// Cross-policy compilation: the rules of all policies of one tier (as they
// apply to an endpoint, in order), or of one profile, -> one chain whose cost
// for a packet depends on the number of action changes and match shapes, not
// on the number of rules or policies. See docs/design/policy-compiler.md.
//
// Within a tier, policies are evaluated one after another and the first
// matching Allow/Deny/Pass decides, so the tier IS the concatenation of its
// policies' rules. In that list, a run of consecutive rules with the same
// terminal action can be reordered freely: whichever of them matches first,
// the verdict is the same, and none has a side effect. So a run is compiled
// as a union: rules of the same "shape" (which of saddr, daddr, proto, sport,
// dport they constrain) and the same remaining matches (the residual) become
// ONE lookup of the packet's key in a set of tuples. Log rules (side effect)
// and action changes end a run; Pass is terminal for the tier and merges like
// Allow and Deny; tier boundaries are chain boundaries.

import { canonicalCidr, familyOf, prefixLength } from './cidr.js';
import { normalizePorts, protocolFor, ruleAlternatives, compilePlainRule } from './compile-policy.js';
import type { Action, IpSet, KeyField, Match, Rule, TupleMember } from './ir.js';
import type { IpVersion, NormalizedRule, RuleAction, RuleSide, SetMember } from '../calc/output.js';
import type { PolicyRules } from './model.js';
import { hasProtocolName, setNames } from './names.js';
import { fitComment, sourceComment, type RuleSource } from './rule-comments.js';
import type { SetRegistry } from './sets.js';
import { KEY_ORDER, cartesian, coalescePorts, disjointBuckets, uniqueTuples, type KeyValues } from './tuple-sets.js';

export type CompileTarget = 'nftables' | 'iptables';

/** Most tuples one rule may expand to (nets x ports x ...); past it the rule stays a plain rule. */
export const TUPLE_LIMIT = 4096;
/** Largest selector whose members are written into merged keys; a bigger one stays a set match (churn would rewrite too many elements). */
export const INLINE_SELECTOR_LIMIT = 256;
/** iptables: ipset stores port ranges port by port; a rule spanning more ports keeps its ports as a multiport match. */
const IPSET_PORT_LIMIT = 1024;
const PORT_PROTOCOLS: ReadonlySet<number> = new Set([6, 17, 132]);

/** Felix's default log prefix (FelixConfiguration logPrefix, not configurable here yet). */
const LOG_PREFIX = 'calico-packet: ';

/** Which of the program's actions a terminal rule action becomes. */
const TERMINAL: Record<Exclude<RuleAction, 'Log'>, keyof ProgramOptions['actions']> = { Allow: 'allow', Deny: 'deny', Pass: 'pass' };

export interface ProgramEntry {
  rule: NormalizedRule;
  /** A fixed comment (a missing policy's drop); such an entry is a run of its own. */
  comment?: string;
  /** The user rule it is (policy or profile id, rule number): becomes the kernel rule's comment. */
  source?: RuleSource;
}

const NO_CONSTRAINT: RuleSide = { nets: [], notNets: [], ipSetIds: [], notIpSetIds: [], ports: [], notPorts: [], namedPortIpSetIds: [], notNamedPortIpSetIds: [] };
/** What stands in for a policy the calc graph did not send: deny (fail closed), never a skip. */
const DENY_ALL: NormalizedRule = { action: 'Deny', source: NO_CONSTRAINT, destination: NO_CONSTRAINT };

/** A policy's or profile's rules for one chain direction (`inbound`: the calc graph's ingress). */
export const rulesOf = (p: PolicyRules, dir: 'inbound' | 'outbound') => (dir === 'inbound' ? p.inboundRules : p.outboundRules);

/**
 * A tier chain's rule list: its policies' rules in order, each with its
 * source; a policy we were not given is a deny (fail closed), never a skip.
 * The calc graph keeps never-matching rules in place, so a rule's position
 * is the user's rule number. The trace tool rebuilds the same list to
 * resolve "run N" comments.
 */
export function tierEntries(ids: readonly string[], dir: 'inbound' | 'outbound', policies: ReadonlyMap<string, PolicyRules>): ProgramEntry[] {
  return ids.flatMap((id): ProgramEntry[] => {
    const p = policies.get(id);
    if (!p) return [{ rule: DENY_ALL, comment: fitComment(`missing policy ${id}`) }];
    return rulesOf(p, dir).map((rule, index) => ({ rule, source: { owner: id, index } }));
  });
}

/** A profile chain's rule list. */
export function profileEntries(profile: PolicyRules, dir: 'inbound' | 'outbound'): ProgramEntry[] {
  return rulesOf(profile, dir).map((rule, index) => ({ rule, source: { owner: profile.id, index } }));
}

/**
 * The program cut where evaluation order matters: Log rules (side effect) in
 * place, and runs of same-terminal-action rules, numbered in order. Rules
 * that can never match are left out (kept by the calc graph only so rule
 * numbers match the source: nothing to compile, and they must not split a
 * run). The rule compiler and the trace tool (which resolves "run N"
 * comments) both use it.
 */
export type ProgramSegment = { kind: 'log'; entry: ProgramEntry } | { kind: 'run'; run: number; action: Exclude<RuleAction, 'Log'>; entries: ProgramEntry[] };

export function programSegments(entries: readonly ProgramEntry[]): ProgramSegment[] {
  const out: ProgramSegment[] = [];
  let run: Extract<ProgramSegment, { kind: 'run' }> | undefined;
  let runs = 0;
  for (const entry of entries) {
    if (entry.rule.neverMatches) continue;
    const action = entry.rule.action;
    if (action === 'Log') {
      run = undefined;
      out.push({ kind: 'log', entry });
      continue;
    }
    if (!run || run.action !== action) out.push((run = { kind: 'run', run: runs++, action, entries: [] }));
    run.entries.push(entry);
    // A commented entry (a missing policy's drop) is kept apart so its comment survives.
    if (entry.comment) run = undefined;
  }
  return out;
}

export interface ProgramOptions {
  backend: CompileTarget;
  sets: SetRegistry;
  /** The calc graph's net sets (selectors) by id, both families mixed. */
  netSets: ReadonlyMap<string, readonly SetMember[]>;
  /** Names this program's merged sets: stable across content changes, so a change is an element delta. */
  setKey: string;
  /** What the terminal actions become in this chain. */
  actions: { allow: Action; deny: Action; pass: Action };
}

/** One rule in one family: not there at all, not mergeable, or a key (fields + tuples) and the rest. */
type Decomposed = 'none' | 'plain' | { fields: KeyField[]; members: TupleMember[]; residual: Match[] };
/** Where an address key came from, so the residual drops exactly that. */
type AddrSource = 'nets' | 'selector' | 'any';

/** Every address of the family in two halves: ipset's hash:net takes no /0. */
const ANY_ADDRESS: Record<IpVersion, string[]> = { 4: ['0.0.0.0/1', '128.0.0.0/1'], 6: ['::/1', '8000::/1'] };

function decompose(rule: NormalizedRule, family: IpVersion, opts: ProgramOptions): Decomposed {
  if (rule.ipVersion && rule.ipVersion !== family) return 'none';
  // Named ports are an OR with the numeric ports, and ICMP fields need their own matches.
  if (rule.source.namedPortIpSetIds.length || rule.destination.namedPortIpSetIds.length) return 'plain';
  if (rule.icmp || rule.notIcmp) return 'plain';
  const keyed: KeyValues = {};
  const from: Partial<Record<'saddr' | 'daddr', AddrSource>> = {};
  for (const [field, { nets, ipSetIds: ids }] of [
    ['saddr', rule.source],
    ['daddr', rule.destination],
  ] as const) {
    if (nets.length) {
      const mine = nets.filter((n) => familyOf(n) === family).map(canonicalCidr);
      if (mine.length === 0) return 'none'; // as in Felix: a list without the family rules it out
      if (!mine.some((n) => prefixLength(n) === 0)) [keyed[field], from[field]] = [mine, 'nets'];
    } else if (ids.length === 1 && opts.netSets.has(ids[0]!)) {
      // A selector's members become key values (kept current as element deltas).
      const members = opts.netSets.get(ids[0]!)!.filter((m) => familyOf(m.net) === family).map((m) => canonicalCidr(m.net));
      if (members.length === 0) return 'none'; // an empty positive set matches nothing
      if (members.length <= INLINE_SELECTOR_LIMIT) [keyed[field], from[field]] = [members, 'selector'];
    }
  }
  if (rule.protocol !== undefined) {
    const p = protocolFor(rule.protocol, family);
    if (!p) return 'none';
    if (hasProtocolName(rule.protocol)) {
      keyed.proto = [rule.protocol];
      if (PORT_PROTOCOLS.has(rule.protocol)) {
        if (rule.source.ports.length) keyed.sport = normalizePorts(rule.source.ports);
        if (rule.destination.ports.length) keyed.dport = normalizePorts(rule.destination.ports);
      }
    }
  }
  // ipset needs an address in every key: "any address" stands in for protocol x port rules.
  if (opts.backend === 'iptables' && !keyed.saddr && !keyed.daddr && keyed.proto && (keyed.dport || keyed.sport)) {
    [keyed.saddr, from.saddr] = [ANY_ADDRESS[family], 'any'];
  }
  const fields = shapeFor(keyed, rule, opts.backend);
  if (fields.length === 0) return 'plain';
  const members = cartesian(fields, keyed, TUPLE_LIMIT);
  if (!members) return 'plain';
  const residual = residualOf(rule, fields, from);
  const alts = ruleAlternatives(residual, family, opts.sets);
  if (alts.length === 0) return 'none';
  if (alts.length > 1) return 'plain';
  return { fields, members, residual: alts[0]! };
}

/**
 * Which of the keyable fields the backend's sets can take as one key.
 * nftables: any concatenation. iptables (ipset hash:net, hash:net,port; this
 * kernel has no hash:net,net): one address, optionally with protocol and one port.
 */
function shapeFor(keyed: KeyValues, rule: NormalizedRule, backend: CompileTarget): KeyField[] {
  const present = KEY_ORDER.filter((f) => keyed[f] !== undefined);
  if (backend === 'nftables') {
    // Ports without the protocol in the key would read a port out of any protocol.
    return present.filter((f) => (f !== 'sport' && f !== 'dport') || keyed.proto);
  }
  const addr = keyed.saddr ? 'saddr' : keyed.daddr ? 'daddr' : undefined;
  if (!addr) return [];
  const port = keyed.dport ? 'dport' : keyed.sport ? 'sport' : undefined;
  const ports = port === 'dport' ? rule.destination.ports : rule.source.ports;
  const span = ports.reduce((n, r) => n + r.last - r.first + 1, 0);
  if (port && keyed.proto && span <= IPSET_PORT_LIMIT) return [addr, 'proto', port];
  return [addr];
}

/** The rule without what the key now matches. */
function residualOf(rule: NormalizedRule, fields: KeyField[], from: Partial<Record<'saddr' | 'daddr', AddrSource>>): NormalizedRule {
  const has = (f: KeyField) => fields.includes(f);
  const side = (s: RuleSide, addr: KeyField, port: KeyField): RuleSide => {
    const out = { ...s };
    const source = from[addr as 'saddr' | 'daddr'];
    if (has(addr) && source === 'nets') out.nets = [];
    if (has(addr) && source === 'selector') out.ipSetIds = [];
    if (has(port)) out.ports = [];
    return out;
  };
  const r: NormalizedRule = { ...rule, source: side(rule.source, 'saddr', 'sport'), destination: side(rule.destination, 'daddr', 'dport') };
  if (has('proto')) delete r.protocol;
  return r;
}

interface Group {
  family: IpVersion;
  fields: KeyField[];
  residual: Match[];
  members: TupleMember[];
  entries: ProgramEntry[];
}

/** Comments the entries' rules with their sources (of run `run`; Log rules are in none); rules without a source stay as they are. */
function commented(rules: Rule[], run: number | undefined, entries: readonly ProgramEntry[]): Rule[] {
  const sources = entries.map((e) => e.source).filter((s): s is RuleSource => s !== undefined);
  if (sources.length === 0) return rules;
  const comment = sourceComment(run, sources);
  return rules.map((r) => ({ ...r, comment }));
}

/** One run of same-action rules -> IR rules (merged lookups first, then what stayed plain, in order). */
function compileRun(entries: ProgramEntry[], action: Action, run: number, opts: ProgramOptions): Rule[] {
  const runKey = String(run);
  const groups = new Map<string, Group>();
  const plain = new Set<ProgramEntry>();
  const placed = new Map<ProgramEntry, Group[]>();
  for (const entry of entries) {
    const rule = entry.rule;
    const parts = ([4, 6] as const).map((f) => [f, decompose(rule, f, opts)] as const);
    if (parts.some(([, d]) => d === 'plain')) {
      plain.add(entry);
      continue;
    }
    const mine: Group[] = [];
    for (const [family, d] of parts) {
      if (d === 'none' || d === 'plain') continue;
      const key = `${family}|${d.fields.join('.')}|${JSON.stringify(d.residual)}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { family, fields: d.fields, residual: d.residual, members: [], entries: [] }));
      g.members.push(...d.members);
      g.entries.push(entry);
      mine.push(g);
    }
    placed.set(entry, mine);
  }
  // A rule alone in all its groups gains nothing from a set: it stays a plain rule.
  for (const [entry, gs] of placed) if (gs.length && gs.every((g) => g.entries.length === 1)) plain.add(entry);
  const out: Rule[] = [];
  for (const [key, g] of groups) {
    if (g.entries.length === 1 && plain.has(g.entries[0]!)) continue;
    if (g.entries.length === 1) {
      // Merged in its other family only: this family's part as plain rules.
      const rules = ruleAlternatives(g.entries[0]!.rule, g.family, opts.sets).map((matches): Rule => ({ matches, action }));
      out.push(...commented(rules, run, g.entries));
      continue;
    }
    const members = coalescePorts(g.fields, g.members);
    const buckets = opts.backend === 'nftables' ? disjointBuckets(g.fields, members) : [uniqueTuples(g.fields, members)];
    buckets.forEach((members, i) => {
      const name = setNames.merged(`${opts.setKey}|${runKey}|${key}|${i}`, g.family);
      const set: IpSet = { name, family: g.family, kind: 'tuple', fields: g.fields, members, source: `merged ${g.fields.join('.')} of ${g.entries.length} rules` };
      opts.sets.put(set);
      out.push(...commented([{ matches: [...g.residual, { kind: 'tupleSet', family: g.family, fields: g.fields, set: name }], action }], run, g.entries));
    });
  }
  for (const entry of entries) if (plain.has(entry)) out.push(...commented(compilePlainRule(entry.rule, action, opts.sets), run, [entry]));
  return out;
}

/**
 * A rule list evaluated first-match (a tier's policies concatenated, or a
 * profile) -> IR rules. Allow/Deny/Pass rules end evaluation with the given
 * actions; Log rules log and go on; falling off the end means "no verdict".
 */
export function compileProgram(entries: ProgramEntry[], opts: ProgramOptions): Rule[] {
  const out: Rule[] = [];
  for (const seg of programSegments(entries)) {
    if (seg.kind === 'log') {
      const { rule, comment } = seg.entry;
      const rules = compilePlainRule(rule, { kind: 'log', prefix: LOG_PREFIX }, opts.sets);
      out.push(...(comment ? rules.map((r) => ({ ...r, comment })) : commented(rules, undefined, [seg.entry])));
      continue;
    }
    let compiled = compileRun(seg.entries, opts.actions[TERMINAL[seg.action]], seg.run, opts);
    const fixed = seg.entries[0]!.comment;
    if (fixed) compiled = compiled.map((r) => (r.matches.length === 0 ? { ...r, comment: fixed } : r));
    // A rule matching everything ends the program: nothing after it can be reached.
    const all = compiled.find((r) => r.matches.length === 0);
    if (all) {
      out.push(all);
      break;
    }
    out.push(...compiled);
  }
  return out;
}
