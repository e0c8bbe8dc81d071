// IR -> nftables script text. Pure. Two forms:
//  - renderNftFull: one `table inet calico { ... }` block, for the first sync
//    (table absent) and for golden files;
//  - renderNftDelta (delta.ts): `add/flush/delete` commands for only the
//    chains and sets that differ from what the kernel holds, applied as ONE
//    `nft -f` transaction (nft applies a whole file atomically).
// Every chain starts with a marker rule `continue comment "cali:h=<hash>"`;
// the hash covers the chain's rendered rules, so a restarted agent can tell
// from the kernel alone whether a chain is already right.

import type { Action, Chain, HookName, IpSet, KeyField, Match, Rule, Ruleset } from '../../rules/ir.js';
import { CHAIN_HASH_PREFIX, NFT_FAMILY, NFT_TABLE, chainNames, nftBaseChain, shortHash } from '../../rules/names.js';
import type { IpVersion, PortRange } from '../../calc/output.js';
import { memberValues } from '../../rules/set-members.js';

export const T = `${NFT_FAMILY} ${NFT_TABLE}`;
const hex = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
const quote = (s: string) => `"${s.replace(/["\\]/g, '')}"`;
const ipKw = (family: IpVersion) => (family === 4 ? 'ip' : 'ip6');
const portsText = (ports: PortRange[]) => {
  const items = ports.map((p) => (p.first === p.last ? String(p.first) : `${p.first}-${p.last}`));
  return items.length === 1 ? items[0]! : `{ ${items.join(', ')} }`;
};
const ifname = (name: string) => quote(name);

/** The packet field of each key component, and its set element type. */
const KEY_EXPR: Record<KeyField, (family: IpVersion) => string> = {
  saddr: (f) => `${ipKw(f)} saddr`,
  daddr: (f) => `${ipKw(f)} daddr`,
  proto: () => 'meta l4proto',
  sport: () => 'th sport',
  dport: () => 'th dport',
};
const KEY_TYPE: Record<KeyField, (family: IpVersion) => string> = {
  saddr: (f) => (f === 4 ? 'ipv4_addr' : 'ipv6_addr'),
  daddr: (f) => (f === 4 ? 'ipv4_addr' : 'ipv6_addr'),
  proto: () => 'inet_proto',
  sport: () => 'inet_service',
  dport: () => 'inet_service',
};

function renderMatch(m: Match): string {
  const not = 'negate' in m && m.negate ? '!= ' : '';
  switch (m.kind) {
    case 'family':
      return `meta nfproto ${m.family === 4 ? 'ipv4' : 'ipv6'}`;
    case 'protocol':
      return `meta l4proto ${not}${m.protocol}`;
    case 'addr':
      return `${ipKw(m.family)} ${m.dir[0]}addr ${not}${m.cidr}`;
    case 'set':
      return `${ipKw(m.family)} ${m.dir[0]}addr ${not}@${m.set}`;
    case 'tupleSet':
      return `${m.fields.map((f) => KEY_EXPR[f](m.family)).join(' . ')} @${m.set}`;
    case 'namedPortSet':
      return `${ipKw(m.family)} ${m.dir[0]}addr . meta l4proto . th ${m.dir === 'src' ? 'sport' : 'dport'} ${not}@${m.set}`;
    case 'ports':
      return `th ${m.dir === 'src' ? 'sport' : 'dport'} ${not}${portsText(m.ports)}`;
    case 'icmp': {
      const kw = m.family === 4 ? 'icmp' : 'icmpv6';
      if (m.code === undefined) return `${kw} type ${not}${m.type}`;
      if (!m.negate) return `${kw} type ${m.type} ${kw} code ${m.code}`;
      // notICMP {type, code} excludes only that pair, so the negation must cover
      // both fields at once (negating the type alone would let other codes of the
      // type escape a Deny). nft takes a concatenation only against a set.
      return `${kw} type . ${kw} code != { ${m.type} . ${m.code} }`;
    }
    case 'ct':
      return `ct state ${m.states.join(',')}`;
    case 'iif':
      return `iifname ${not}${ifname(m.name)}`;
    case 'oif':
      return `oifname ${not}${ifname(m.name)}`;
    case 'mark':
      return `meta mark & ${hex(m.mask)} ${m.negate ? '!=' : '=='} ${hex(m.value)}`;
    case 'srcMac':
      return `ether saddr ${not}${m.mac}`;
    case 'rpfFail':
      return 'fib saddr . iif oif missing';
  }
}

function renderAction(a: Action, mapName?: string): string {
  switch (a.kind) {
    case 'accept':
    case 'drop':
    case 'return':
    case 'masquerade':
    case 'notrack':
      return a.kind;
    case 'jump':
    case 'goto':
      return `${a.kind} ${a.chain}`;
    case 'log':
      return a.group === undefined ? `log prefix ${quote(a.prefix)}` : `log prefix ${quote(a.prefix)} group ${a.group}`;
    case 'setMark':
      return a.value === 0 ? `meta mark set meta mark & ${hex(~a.mask)}` : `meta mark set meta mark & ${hex(~a.mask)} | ${hex(a.value)}`;
    case 'dispatch':
      // A named verdict map: adding or removing an endpoint is one element change, not a rule rewrite.
      if (mapName) return `${a.by}name vmap @${mapName}`;
      return `${a.by}name vmap { ${a.targets.map(mapElement).join(', ')} }`;
  }
}

const mapElement = (t: { iface: string; chain: string }) => `${ifname(t.iface)} : goto ${t.chain}`;

export function renderNftRule(rule: Rule, mapName?: string): string {
  const parts = rule.matches.map(renderMatch);
  parts.push(renderAction(rule.action, mapName));
  if (rule.comment) parts.push(`comment ${quote(rule.comment)}`);
  return parts.join(' ');
}

// Chains are immutable once compiled and the compiler reuses unchanged ones,
// so rendering (and hashing) is memoised per chain object.
const rendered = new WeakMap<Chain, string[]>();

/** The chain's rule lines, starting with the hash marker. */
export function renderNftChainRules(chain: Chain): string[] {
  const hit = rendered.get(chain);
  if (hit) return hit;
  let maps = 0;
  const lines = chain.rules.map((r) => renderNftRule(r, r.action.kind === 'dispatch' ? dispatchMapName(chain.name, maps++) : undefined));
  const out = [`continue comment ${quote(CHAIN_HASH_PREFIX + nftChainHash(lines))}`, ...lines];
  rendered.set(chain, out);
  return out;
}

export function dispatchMapName(chain: string, index: number): string {
  return `${chain}-map${index === 0 ? '' : index}`;
}

/** A named verdict map; members are "iface:chain". */
export interface NftMap {
  name: string;
  members: string[];
}

/** The dispatch maps the chains use (one per dispatch rule). */
export function nftMaps(chains: Chain[]): NftMap[] {
  const out: NftMap[] = [];
  for (const chain of chains) {
    let i = 0;
    for (const r of chain.rules) {
      if (r.action.kind !== 'dispatch') continue;
      out.push({ name: dispatchMapName(chain.name, i++), members: r.action.targets.map((t) => `${t.iface}:${t.chain}`).sort() });
    }
  }
  return out;
}

export const mapMember = (m: string) => {
  const at = m.indexOf(':');
  return mapElement({ iface: m.slice(0, at), chain: m.slice(at + 1) });
};
export const MAP_DECL = 'type ifname : verdict;';

export function nftChainHash(ruleLines: string[]): string {
  return shortHash(ruleLines.join('\n'), 16);
}

const SET_TYPE: Record<Exclude<IpSet['kind'], 'tuple'>, Record<IpVersion, string>> = {
  net: { 4: 'ipv4_addr', 6: 'ipv6_addr' },
  'net-proto-port': { 4: 'ipv4_addr . inet_proto . inet_service', 6: 'ipv6_addr . inet_proto . inet_service' },
};
const setType = (set: IpSet) => (set.kind === 'tuple' ? (set.fields ?? []).map((f) => KEY_TYPE[f](set.family)).join(' . ') : SET_TYPE[set.kind][set.family]);

/** The set's members as nft elements, as `nft list` prints them back: `10.0.0.0/24 . tcp . 80-90`. */
export function nftElements(set: IpSet): string[] {
  return memberValues(set).map((values) => values.join(' . '));
}

export function setDecl(set: IpSet): string {
  return `type ${setType(set)}; flags interval; comment ${quote(set.source)};`;
}

// One base chain per stage. Priorities are the iptables tables' (raw -300 runs
// before conntrack at -200, so `notrack` works there; mangle -150 runs before
// DNAT at -100), so the stages keep iptables' order on both backends.
const BASE: Record<HookName, { type: string; hook: string; priority: string }> = {
  prerouting: { type: 'filter', hook: 'prerouting', priority: 'raw' },
  'raw-output': { type: 'filter', hook: 'output', priority: 'raw' },
  'mangle-prerouting': { type: 'filter', hook: 'prerouting', priority: 'mangle' },
  input: { type: 'filter', hook: 'input', priority: 'filter' },
  forward: { type: 'filter', hook: 'forward', priority: 'filter' },
  output: { type: 'filter', hook: 'output', priority: 'filter' },
  postrouting: { type: 'nat', hook: 'postrouting', priority: 'srcnat' },
};

/** Base chains the kernel hooks call; each just jumps to our top-level chain. The same objects every call, so their rendering is memoised too. */
export function nftBaseChains(): Chain[] {
  return BASE_CHAINS;
}
const BASE_CHAINS: Chain[] = (Object.keys(BASE) as HookName[]).map((hook) => ({
    name: nftBaseChain[hook],
    table: 'filter',
    hook,
    rules: [{ matches: [], action: { kind: 'jump', chain: chainNames.top[hook] } }],
  }));

export function baseSpec(chain: Chain): string | undefined {
  if (!chain.name.startsWith('base-') || !chain.hook) return undefined;
  const b = BASE[chain.hook];
  return `type ${b.type} hook ${b.hook} priority ${b.priority}; policy accept;`;
}

/** The complete table as one block (first sync, golden files). */
export function renderNftFull(ruleset: Ruleset): string {
  const out: string[] = [`table ${T} {`, `\tcomment "calico-ts: owned by calico-node"`];
  for (const set of ruleset.sets) {
    out.push(`\tset ${set.name} {`, `\t\t${setDecl(set)}`);
    if (set.members.length) out.push(`\t\telements = { ${nftElements(set).join(', ')} }`);
    out.push('\t}');
  }
  const maps = nftMaps(ruleset.chains);
  // nft resolves the goto targets of the whole block at once, so elements can name chains declared below.
  for (const map of maps) {
    out.push(`\tmap ${map.name} {`, `\t\t${MAP_DECL}`);
    if (map.members.length) out.push(`\t\telements = { ${map.members.map(mapMember).join(', ')} }`);
    out.push('\t}');
  }
  for (const chain of [...nftBaseChains(), ...ruleset.chains]) {
    out.push(`\tchain ${chain.name} {`);
    const spec = baseSpec(chain);
    if (spec) out.push(`\t\t${spec}`);
    for (const line of renderNftChainRules(chain)) out.push(`\t\t${line}`);
    out.push('\t}');
  }
  out.push('}');
  return out.join('\n') + '\n';
}

