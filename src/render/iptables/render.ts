// IR -> iptables-restore text (per address family) + ipset restore text. Pure.
// Compat backend for hosts that must share iptables with other tools: we only
// ever touch chains named cali-*, hook rules tagged HOOK_COMMENT in the
// built-in chains, and ipsets named cali40*/cali60*. The restore input is
// meant for `iptables-restore --noflush`, where declaring `:chain - [0:0]`
// flushes exactly that chain and nothing else.

import { CalicoError } from '../../base/errors.js';
import type { Action, Chain, HookName, IpSet, KeyField, Match, Rule, Ruleset, TableKind } from '../../rules/ir.js';
import type { IpVersion, PortRange } from '../../calc/output.js';
import { setMemberValues, tupleMemberValues } from '../../rules/set-members.js';
import { CHAIN_HASH_PREFIX, HOOK_COMMENT, chainNames, shortHash } from '../../rules/names.js';

const TABLES: TableKind[] = ['raw', 'mangle', 'filter', 'nat'];
export const BUILTIN: Record<HookName, { table: TableKind; chain: string }> = {
  prerouting: { table: 'raw', chain: 'PREROUTING' },
  'raw-output': { table: 'raw', chain: 'OUTPUT' },
  'mangle-prerouting': { table: 'mangle', chain: 'PREROUTING' },
  input: { table: 'filter', chain: 'INPUT' },
  forward: { table: 'filter', chain: 'FORWARD' },
  output: { table: 'filter', chain: 'OUTPUT' },
  postrouting: { table: 'nat', chain: 'POSTROUTING' },
};

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;
const quote = (s: string) => `"${s.replace(/["\\]/g, '')}"`;
const iface = (name: string) => (name.endsWith('*') ? `${name.slice(0, -1)}+` : name);
const bang = (negate: boolean | undefined) => (negate ? '! ' : '');

function unsupported(what: string): CalicoError {
  return new CalicoError('invalid-argument', `the iptables backend cannot express ${what}; use the nftables backend`);
}

/** Which family a rule belongs to, or undefined for both. */
function ruleFamily(rule: Rule): IpVersion | undefined {
  for (const m of rule.matches) if ('family' in m && m.family) return m.family;
  return undefined;
}

/** multiport takes at most 15 ports, a range counting as two. */
function portChunks(ports: PortRange[]): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let weight = 0;
  for (const p of ports) {
    const w = p.first === p.last ? 1 : 2;
    if (weight + w > 15) {
      chunks.push(current.join(','));
      current = [];
      weight = 0;
    }
    current.push(p.first === p.last ? String(p.first) : `${p.first}:${p.last}`);
    weight += w;
  }
  if (current.length) chunks.push(current.join(','));
  return chunks;
}

/** Renders one IR rule to one or more `-A chain ...` lines for one family. */
/** IP protocol number of an IR protocol name ("tcp", "ipv6-icmp", "6"); undefined when unknown. */
function protocolNumber(name: string): number | undefined {
  const n = name.toLowerCase();
  if (/^[0-9]+$/.test(n)) return Number(n);
  return PROTOCOL_NUMBERS[n];
}
const PROTOCOL_NUMBERS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, 'ipv6-icmp': 58, sctp: 132, udplite: 136 };

/**
 * iptables takes one -p per rule. With a positive protocol, a negated one is
 * either redundant (a different protocol) or makes the rule unmatchable (the
 * same protocol, by number: "tcp" and "6" are one). Returns false for the latter.
 */
function protocolsCanMatch(rule: Rule): boolean {
  const protos = rule.matches.filter((m): m is Extract<Match, { kind: 'protocol' }> => m.kind === 'protocol');
  const key = (p: string) => protocolNumber(p) ?? p.toLowerCase();
  const positive = new Set(protos.filter((m) => !m.negate).map((m) => key(m.protocol)));
  if (positive.size > 1) return false;
  if (positive.size === 0) {
    if (protos.length > 1) throw unsupported('two negated protocols in one rule');
    return true;
  }
  return !protos.some((m) => m.negate && positive.has(key(m.protocol)));
}

export function renderIptablesRule(chain: string, rule: Rule, family: IpVersion): string[] {
  // A rule that can never match renders as nothing: dropping the negation
  // instead would turn "tcp and not tcp" into "all tcp" (fail open).
  if (!protocolsCanMatch(rule)) return [];
  const hasPositiveProtocol = rule.matches.some((m) => m.kind === 'protocol' && !m.negate);
  const parts: string[] = [];
  let protocol: string | undefined;
  let portAlternatives: string[] | undefined;
  const used = { s: false, d: false };
  for (const m of rule.matches) parts.push(...renderMatch(m));
  function renderMatch(m: Match): string[] {
    switch (m.kind) {
      case 'family':
        return [];
      case 'protocol':
        // A different positive protocol already excludes it (checked above).
        if (m.negate && hasPositiveProtocol) return [];
        if (!m.negate) {
          if (protocol) return []; // same protocol twice (checked above)
          protocol = m.protocol;
        }
        return [`${bang(m.negate)}-p ${m.protocol}`];
      case 'addr': {
        const flag = m.dir === 'src' ? 's' : 'd';
        if (used[flag]) throw unsupported(`two ${m.dir} address matches in one rule`);
        used[flag] = true;
        return [`${bang(m.negate)}-${flag} ${m.cidr}`];
      }
      case 'set':
        return [`-m set ${bang(m.negate)}--match-set ${m.set} ${m.dir}`];
      case 'namedPortSet':
        return [`-m set ${bang(m.negate)}--match-set ${m.set} ${m.dir},${m.dir}`];
      case 'tupleSet':
        return [`-m set --match-set ${m.set} ${ipsetShape(m.fields).flags}`];
      case 'ports': {
        const flag = m.dir === 'src' ? '--sports' : '--dports';
        const chunks = portChunks(m.ports);
        if (chunks.length === 1) return [`-m multiport ${bang(m.negate)}${flag} ${chunks[0]}`];
        if (m.negate) throw unsupported('a negated port list longer than 15 ports');
        if (portAlternatives) throw unsupported('two long port lists in one rule');
        portAlternatives = chunks.map((c) => `-m multiport ${flag} ${c}`);
        return ['@PORTS@'];
      }
      case 'icmp': {
        const typ = m.code !== undefined ? `${m.type}/${m.code}` : String(m.type);
        return m.family === 4 ? [`-m icmp ${bang(m.negate)}--icmp-type ${typ}`] : [`-m icmp6 ${bang(m.negate)}--icmpv6-type ${typ}`];
      }
      case 'ct':
        return [`-m conntrack --ctstate ${m.states.map((s) => s.toUpperCase()).join(',')}`];
      case 'iif':
        return [`${bang(m.negate)}-i ${iface(m.name)}`];
      case 'oif':
        return [`${bang(m.negate)}-o ${iface(m.name)}`];
      case 'mark':
        return [`-m mark ${bang(m.negate)}--mark ${hex(m.value)}/${hex(m.mask)}`];
      case 'srcMac':
        return [`-m mac ${bang(m.negate)}--mac-source ${m.mac}`];
      case 'rpfFail':
        return ['-m rpfilter --invert'];
    }
  }
  if (rule.comment) parts.push(`-m comment --comment ${quote(rule.comment)}`);
  const actions = renderAction(rule.action);
  const out: string[] = [];
  for (const action of actions) {
    const head = [`-A ${chain}`, ...action.extraMatches];
    const line = [...head, ...parts, action.target].join(' ');
    if (portAlternatives) for (const alt of portAlternatives) out.push(line.replace('@PORTS@', alt));
    else out.push(line);
  }
  void family;
  return out;
}

function renderAction(a: Action): { extraMatches: string[]; target: string }[] {
  const one = (target: string) => [{ extraMatches: [], target }];
  switch (a.kind) {
    case 'accept':
      return one('-j ACCEPT');
    case 'drop':
      return one('-j DROP');
    case 'return':
      return one('-j RETURN');
    case 'masquerade':
      return one('-j MASQUERADE');
    case 'notrack':
      return one('-j CT --notrack');
    case 'jump':
      return one(`-j ${a.chain}`);
    case 'goto':
      return one(`-g ${a.chain}`);
    case 'log':
      return one(a.group === undefined ? `-j LOG --log-prefix ${quote(a.prefix)}` : `-j NFLOG --nflog-group ${a.group} --nflog-prefix ${quote(a.prefix)}`);
    case 'setMark':
      return one(`-j MARK --set-xmark ${hex(a.value)}/${hex(a.mask)}`);
    case 'dispatch':
      return a.targets.map((t) => ({ extraMatches: [`-${a.by === 'iif' ? 'i' : 'o'} ${t.iface}`], target: `-g ${t.chain}` }));
  }
}

// Memoised per (immutable) chain object and family, as in the nft renderer.
const rendered: Record<IpVersion, WeakMap<Chain, string[]>> = { 4: new WeakMap(), 6: new WeakMap() };

/** Rule lines for one chain in one family, starting with the hash marker. */
export function renderIptablesChainRules(chain: Chain, family: IpVersion): string[] {
  const hit = rendered[family].get(chain);
  if (hit) return hit;
  const out = renderChainUncached(chain, family);
  rendered[family].set(chain, out);
  return out;
}

function renderChainUncached(chain: Chain, family: IpVersion): string[] {
  const lines: string[] = [];
  for (const rule of chain.rules) {
    const f = ruleFamily(rule);
    if (f !== undefined && f !== family) continue;
    lines.push(...renderIptablesRule(chain.name, rule, family));
  }
  const hash = shortHash(lines.join('\n'), 16);
  return [`-A ${chain.name} -m comment --comment "${CHAIN_HASH_PREFIX}${hash}"`, ...lines];
}

export function hookRule(hook: HookName): string {
  return `-I ${BUILTIN[hook].chain} 1 -m comment --comment "${HOOK_COMMENT}" -j ${chainNames.top[hook]}`;
}

export interface DeltaOptions {
  /** Only objects (chain or set names) passing this are changed; others stay as the kernel has them. */
  include?: (name: string) => boolean;
}

/** What one family's iptables hold of ours, as read back (see parse.ts). */
export interface IptablesKernelView {
  /** `${table}/${chain}` -> hash from the marker rule ('' when missing). */
  chains: Map<string, string>;
  /** `${table}/${builtin chain}` for each hook rule present. */
  hooks: Set<string>;
}

/**
 * The chains as iptables holds them: one per (table, name), a chain with
 * `alsoIn` copied into each further table (iptables cannot jump across
 * tables). Copies share the rule objects, so rendering stays memoised.
 */
const expanded = new WeakMap<Chain, Chain[]>();
export function iptablesChains(chains: Chain[]): Chain[] {
  const out: Chain[] = [];
  for (const chain of chains) {
    out.push(chain);
    if (!chain.alsoIn?.length) continue;
    let copies = expanded.get(chain);
    if (!copies) {
      copies = chain.alsoIn.filter((t) => t !== chain.table).map((table) => ({ name: chain.name, table, rules: chain.rules }));
      expanded.set(chain, copies);
    }
    out.push(...copies);
  }
  return out;
}

/** iptables-restore --noflush input turning `kernel` into `desired` for one family ('' = nothing to do). */
export function renderIptablesDelta(kernel: IptablesKernelView, desired: Ruleset, family: IpVersion, opts: DeltaOptions = {}): string {
  const include = opts.include ?? (() => true);
  const out: string[] = [];
  const all = iptablesChains(desired.chains);
  for (const table of TABLES) {
    const chains = all.filter((c) => c.table === table);
    const want = new Set(chains.map((c) => `${table}/${c.name}`));
    const declare: string[] = [];
    const rules: string[] = [];
    for (const chain of chains) {
      if (!include(chain.name)) continue;
      const lines = renderIptablesChainRules(chain, family);
      const hash = /cali:h=([^"]*)"/.exec(lines[0]!)![1]!;
      if (kernel.chains.get(`${table}/${chain.name}`) === hash) continue;
      declare.push(`:${chain.name} - [0:0]`);
      rules.push(...lines);
    }
    const obsolete = [...kernel.chains.keys()].filter((k) => k.startsWith(`${table}/`) && !want.has(k)).map((k) => k.slice(table.length + 1)).filter(include).sort();
    for (const c of obsolete) declare.push(`:${c} - [0:0]`);
    const hooks: string[] = [];
    for (const chain of chains) {
      if (!chain.hook || !include(chain.name)) continue;
      if (!kernel.hooks.has(`${table}/${BUILTIN[chain.hook].chain}`)) hooks.push(hookRule(chain.hook));
    }
    if (!declare.length && !hooks.length) continue;
    out.push(`*${table}`, ...declare, ...rules, ...hooks, ...obsolete.map((c) => `-X ${c}`), 'COMMIT');
  }
  return out.length ? out.join('\n') + '\n' : '';
}

/** Full restore input for one family (golden files; first sync into empty tables). */
export function renderIptablesFull(desired: Ruleset, family: IpVersion): string {
  return renderIptablesDelta({ chains: new Map(), hooks: new Set() }, desired, family);
}

// ---- ipset ----

const IPSET_TYPE: Record<Exclude<IpSet['kind'], 'tuple'>, string> = { net: 'hash:net', 'net-proto-port': 'hash:net,port' };

/**
 * The ipset type and match flags of a merged lookup's key. Only what this
 * kernel's ipset has: hash:net (one address) and hash:net,port (an address
 * and a protocol:port); the compiler keys nothing else for iptables.
 */
export function ipsetShape(fields: KeyField[]): { type: string; flags: string } {
  const dir = (f: KeyField) => (f === 'saddr' || f === 'sport' ? 'src' : 'dst');
  if (fields.length === 1 && (fields[0] === 'saddr' || fields[0] === 'daddr')) return { type: 'hash:net', flags: dir(fields[0]) };
  const [a, p, port] = fields;
  if (fields.length === 3 && (a === 'saddr' || a === 'daddr') && p === 'proto' && (port === 'sport' || port === 'dport')) return { type: 'hash:net,port', flags: `${dir(a)},${dir(port)}` };
  throw unsupported(`a merged lookup keyed by ${fields.join(' . ')}`);
}
const ipsetType = (set: IpSet) => (set.kind === 'tuple' ? ipsetShape(set.fields).type : IPSET_TYPE[set.kind]);

/** The set's entries as `ipset save` prints them (`10.0.0.1`, `10.0.0.0/24,tcp:80`); port ranges one port at a time, as ipset stores them. */
export function ipsetMembers(set: IpSet): string[] {
  switch (set.kind) {
    case 'net':
      return set.members.map((m) => m.net);
    case 'net-proto-port':
      return set.members.map((m) => {
        const [net, protocol, port] = setMemberValues(m);
        return `${net},${protocol}:${port}`;
      });
    case 'tuple': {
      const [addr, , portField] = set.fields;
      if (set.fields.length === 1 && (addr === 'saddr' || addr === 'daddr')) return set.members.map((m) => m[addr] ?? '');
      ipsetShape(set.fields);
      const out: string[] = [];
      for (const m of set.members) {
        const [net, protocol] = tupleMemberValues(set.fields.slice(0, 2), m);
        const range = m[portField as 'sport' | 'dport']!;
        for (let p = range.first; p <= range.last; p++) out.push(`${net},${protocol}:${p}`);
      }
      // Merged members may overlap once ranges are spelled port by port; ipset takes each once.
      return [...new Set(out)];
    }
  }
}

export function ipsetCreate(set: IpSet): string {
  return `create ${set.name} ${ipsetType(set)} family ${set.family === 4 ? 'inet' : 'inet6'} hashsize 1024 maxelem 1048576`;
}

/** set name -> members as `ipset save` prints them. */
export type IpsetKernelView = Map<string, string[]>;

export interface IpsetDelta {
  /** Run BEFORE the iptables update: creates and member changes. */
  before: string;
  /** Run AFTER the iptables update: destroys of sets no rule uses any more. */
  after: string;
}

export function renderIpsetDelta(kernel: IpsetKernelView, desired: Ruleset, opts: DeltaOptions = {}): IpsetDelta {
  const include = opts.include ?? (() => true);
  const before: string[] = [];
  const want = new Set(desired.sets.map((s) => s.name));
  for (const set of desired.sets) {
    if (!include(set.name)) continue;
    const have = kernel.get(set.name);
    const members = ipsetMembers(set);
    if (!have) before.push(ipsetCreate(set));
    const haveSet = new Set(have ?? []);
    const wantSet = new Set(members);
    for (const m of members) if (!haveSet.has(m)) before.push(`add ${set.name} ${m}`);
    for (const m of have ?? []) if (!wantSet.has(m)) before.push(`del ${set.name} ${m}`);
  }
  const after = [...kernel.keys()].filter((s) => !want.has(s) && include(s)).sort().map((s) => `destroy ${s}`);
  return { before: before.length ? before.join('\n') + '\n' : '', after: after.length ? after.join('\n') + '\n' : '' };
}
