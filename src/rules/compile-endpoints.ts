// The whole desired ruleset for this host: hooks, conntrack, dispatch,
// per-endpoint chains, policy/profile chains, NAT and sets.
//
// Verdict flow (forward path):
//   cali-FORWARD: ct established,related accept; ct invalid drop;
//     from cali*  -> cali-from-wl-dispatch -> goto cali-fw-<if> (or drop: unknown cali*)
//     to cali*    -> cali-to-wl-dispatch   -> goto cali-tw-<if> (or drop)
//     ("cali" stands for each configured interface prefix, plus the exact
//     name of any workload endpoint outside them: see workloadInterfaces)
//     an endpoint chain either drops or RETURNs with MARK_ACCEPT, so after
//     both dispatches the packet is allowed and accepted here.
// Each tier's policies (as they apply to the endpoint) are ONE merged chain,
// shared by every endpoint with the same policy list (compile-tier.ts): Allow
// and Pass go to cali-allow / cali-pass, which set MARK_ACCEPT / MARK_PASS and
// return to the endpoint chain; Deny drops. The endpoint chain checks the mark
// after each tier (Allow wins, Pass goes to the next tier, a tier that applied
// but did not decide drops) and then runs the profiles the same way.

import type { Chain, HookName, IpSet, Match, Rule, TableKind } from './ir.js';
import { canonicalCidr, familyOf } from './cidr.js';
import { compileProgram, profileEntries, rulesOf, tierEntries, type CompileTarget, type ProgramEntry } from './compile-tier.js';
import { hostEndpointChains, hostStages, hostTopRules } from './compile-host-endpoints.js';
import { accept, clearMarks, drop, failsafeRules, policyBody, ret, stageTiers, type ChainDirection } from './endpoint-body.js';
import { MARK_ACCEPT, MARK_PASS } from './names.js';
import type { DataplaneModel, IpSetSpec, LocalEndpoint } from './model.js';
import { WORKLOAD_PREFIX, chainNames, setNames } from './names.js';
import { SetRegistry, withoutCovered } from './sets.js';
import { flowLogDenyChain, flowLogDenyRules, withFlowLogs } from './flow-log.js';
import type { Ruleset } from './ir.js';

/**
 * Allowed interface prefixes (FelixConfiguration interfacePrefix): plain
 * names only, so a prefix can never smuggle syntax into a rule.
 */
const PREFIX_TEXT = /^[a-zA-Z0-9_.-]+$/;

/**
 * Interface matches that mark workload traffic: one prefix match per
 * configured prefix, plus the exact name of every workload endpoint whose
 * interface starts with none of them. Without the latter such an endpoint
 * (e.g. "tap0") would get chains but no traffic would reach them, leaving it to
 * the base chains' accept: no policy, no anti-spoofing (fail open).
 */
function workloadInterfaces(prefixesIn: string[] | undefined, workloads: LocalEndpoint[]): string[] {
  const valid = (prefixesIn ?? []).map((p) => p.trim()).filter((p) => PREFIX_TEXT.test(p));
  const prefixes = valid.length ? [...new Set(valid)] : [WORKLOAD_PREFIX];
  const out = prefixes.map((p) => `${p}*`);
  for (const ep of workloads) {
    const name = ep.interfaceName;
    if (!PREFIX_TEXT.test(name) || prefixes.some((p) => name.startsWith(p)) || out.includes(name)) continue;
    out.push(name);
  }
  return out;
}

function antiSpoof(ep: LocalEndpoint, sets: SetRegistry): Rule[] {
  const rules: Rule[] = [];
  if (ep.mac) rules.push({ matches: [{ kind: 'srcMac', mac: ep.mac.toLowerCase(), negate: true }], action: drop, comment: 'anti-spoof MAC' });
  for (const family of [4, 6] as const) {
    const nets = [...(family === 4 ? ep.ipv4Nets : ep.ipv6Nets)].map(canonicalCidr).filter((n) => familyOf(n) === family);
    const fam: Match = { kind: 'family', family };
    if (nets.length === 0) rules.push({ matches: [fam], action: drop, comment: `no IPv${family} address` });
    else if (nets.length === 1) rules.push({ matches: [fam, { kind: 'addr', dir: 'src', family, cidr: nets[0]!, negate: true }], action: drop, comment: 'anti-spoof IP' });
    else rules.push({ matches: [fam, { kind: 'set', dir: 'src', family, set: sets.derivedNets(family, nets), negate: true }], action: drop, comment: 'anti-spoof IP' });
  }
  return rules;
}

/**
 * Reuse across compiles: endpoint chains depend only on the endpoint object,
 * which policies/profiles it references exist, and the config, so an
 * unchanged endpoint keeps its Chain objects (and the renderers' memoised
 * text). Pass the same cache to successive compiles; results are identical
 * with or without it.
 */
export class CompileCache {
  readonly endpoints = new WeakMap<LocalEndpoint, { sig: string; chains: Chain[]; sets: IpSet[] }>();
  /**
   * Merged tier and profile chains by name, with the inputs they were compiled
   * from (policy objects, selector member lists, by identity): compiling
   * thousands of rules is the expensive part of a round, and most rounds
   * change none of them.
   */
  readonly programs = new Map<string, { head: unknown[]; setIds: ProgramSetId[]; members: unknown[]; chain: Chain; sets: IpSet[] }>();
  /** The IR sets of each calc-graph set (by spec object): canonicalising a large member list is O(members). */
  readonly specs = new WeakMap<IpSetSpec, IpSet[]>();
}

/** A set a merged chain's rules name (any side, negated or not), by calc-graph id. */
interface ProgramSetId {
  id: string;
  kind: IpSetSpec['kind'];
}

function programSetIds(entries: ProgramEntry[]): ProgramSetId[] {
  const out = new Map<string, ProgramSetId>();
  for (const { rule } of entries) {
    for (const side of [rule.source, rule.destination]) {
      for (const id of [...side.ipSetIds, ...side.notIpSetIds]) out.set(`net|${id}`, { id, kind: 'net' });
      for (const id of [...side.namedPortIpSetIds, ...side.notNamedPortIpSetIds]) out.set(`port|${id}`, { id, kind: 'named-port' });
    }
  }
  return [...out.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.kind < b.kind ? -1 : 1));
}

// A tier chain's name hashes its policy list; the list is the same array
// round after round for an unchanged endpoint, so the hash is kept with it.
const tierNames = new WeakMap<readonly string[], Map<string, string>>();
function tierChainName(tier: string, ids: readonly string[], dir: ChainDirection): string {
  let byKey = tierNames.get(ids);
  if (!byKey) tierNames.set(ids, (byKey = new Map()));
  const key = `${dir}|${tier}`;
  let name = byKey.get(key);
  if (name === undefined) byKey.set(key, (name = chainNames.tier(tier, [...ids], dir)));
  return name;
}

interface TierChainUse {
  name: string;
  ids: string[];
  dir: ChainDirection;
  table: TableKind;
}

// The merged tier chains one endpoint jumps to, kept with its (immutable)
// state: a round walks every endpoint, and this is most of what it costs.
const tierChainUses = new WeakMap<LocalEndpoint, TierChainUse[]>();
function tierChainsOf(ep: LocalEndpoint): TierChainUse[] {
  let out = tierChainUses.get(ep);
  if (out) return out;
  out = [];
  for (const kind of ['normal', 'forward', 'untracked', 'preDnat'] as const) {
    const table: TableKind = kind === 'untracked' ? 'raw' : kind === 'preDnat' ? 'mangle' : 'filter';
    for (const dir of ['inbound', 'outbound'] as const) {
      for (const t of stageTiers(ep, kind, dir)) out.push({ name: tierChainName(t.tier, t.policies, dir), ids: t.policies, dir, table });
    }
  }
  tierChainUses.set(ep, out);
  return out;
}

export type { CompileTarget } from './compile-tier.js';

export interface CompileOptions {
  cache?: CompileCache;
  /** Default 'nftables'. */
  backend?: CompileTarget;
}

export function compileRuleset(model: DataplaneModel, opts: CompileOptions | CompileCache = {}): Ruleset {
  const { cache, backend = 'nftables' } = opts instanceof CompileCache ? { cache: opts } : opts;
  const sets = new SetRegistry();
  for (const spec of model.ipSets) {
    let made = cache?.specs.get(spec);
    if (!made) {
      const local = new SetRegistry();
      local.addSpec(spec);
      made = local.all();
      cache?.specs.set(spec, made);
    }
    for (const s of made) sets.put(s);
  }
  const chains: Chain[] = [];
  const add = (name: string, rules: Rule[], opts: { table?: Chain['table']; hook?: HookName } = {}) =>
    chains.push({ name, table: opts.table ?? 'filter', rules, ...(opts.hook ? { hook: opts.hook } : {}) });

  const known = { profiles: new Set(model.profiles.map((p) => p.id)) };
  const usedProfiles = new Set<string>();
  /** Merged tier chains by name: what they hold, and every table that jumps to them. */
  const tierChains = new Map<string, { ids: string[]; dir: ChainDirection; tables: Set<TableKind> }>();
  const workloads = [...model.endpoints].filter((e) => e.kind === 'workload').sort((a, b) => (a.interfaceName < b.interfaceName ? -1 : 1));
  const hosts = [...model.endpoints].filter((e) => e.kind === 'host').sort((a, b) => (a.interfaceName < b.interfaceName ? -1 : 1));

  const stages = hostStages(hosts);
  for (const ep of [...workloads, ...hosts]) {
    for (const { name, ids, dir, table } of tierChainsOf(ep)) {
      let c = tierChains.get(name);
      if (!c) tierChains.set(name, (c = { ids, dir, tables: new Set() }));
      c.tables.add(table);
    }
    for (const id of ep.profileIds) usedProfiles.add(id);
  }

  // Per-endpoint chains (reused from the cache when nothing they depend on changed).
  const configSig = JSON.stringify(model.config);
  const perEndpoint = (ep: LocalEndpoint, build: (local: SetRegistry) => Chain[]) => {
    const refs = ep.profileIds.map((id) => (known.profiles.has(id) ? 1 : 0));
    const sig = `${configSig}|${refs.join('')}|${stages.untracked.has(ep) ? 'u' : ''}${stages.preDnat.has(ep) ? 'd' : ''}`;
    const hit = cache?.endpoints.get(ep);
    if (hit && hit.sig === sig) {
      chains.push(...hit.chains);
      for (const s of hit.sets) sets.put(s);
      return;
    }
    const local = new SetRegistry();
    const built = build(local);
    chains.push(...built);
    const own = local.all();
    for (const s of own) sets.put(s);
    cache?.endpoints.set(ep, { sig, chains: built, sets: own });
  };
  const chain = (name: string, rules: Rule[]): Chain => ({ name, table: 'filter', rules });
  // Flow logs (off unless configured): log rules beside the endpoint chain's own verdicts (flow-log.ts).
  const flowLogs = model.config.flowLogs;
  const workloadBody = (ep: LocalEndpoint, dir: 'inbound' | 'outbound') => (flowLogs ? withFlowLogs(policyBody(ep, dir, known), dir, flowLogs) : policyBody(ep, dir, known));
  for (const ep of workloads) {
    perEndpoint(ep, (local) => [
      chain(chainNames.fromWorkload(ep.interfaceName), [clearMarks(), ...antiSpoof(ep, local), ...workloadBody(ep, 'outbound')]),
      chain(chainNames.toWorkload(ep.interfaceName), [clearMarks(), ...workloadBody(ep, 'inbound')]),
    ]);
  }
  for (const ep of hosts) {
    perEndpoint(ep, () => hostEndpointChains(ep, { config: model.config, known, untracked: stages.untracked.has(ep), preDnat: stages.preDnat.has(ep) }));
  }

  // Merged tier chains and profile chains, only those some local endpoint uses.
  const netSets = new Map(model.ipSets.filter((s) => s.kind === 'net').map((s) => [s.id, s.members]));
  const allSets = new Map(model.ipSets.map((s) => [s.id, s.members]));
  const usedPrograms = new Set<string>();
  /**
   * `sources`: what the entries were made from; with every set they name, the
   * cache key. All of a rule's set ids count, not only the merged selectors: a
   * set that is unknown when a chain is compiled becomes an empty placeholder
   * owned by that chain, which must not outlive the set's arrival (nor a
   * known set's departure leave a rule naming a set nobody creates).
   */
  const program = (name: string, dir: ChainDirection, sources: unknown[], makeEntries: () => ProgramEntry[], alsoIn: TableKind[] = []): Chain => {
    usedPrograms.add(name);
    const head = [backend, alsoIn.join(','), flowLogs ? flowLogs.nflogGroup : 'no-flow-logs', ...sources];
    const hit = cache?.programs.get(name);
    // Same sources (by identity) name the same sets: a hit is decided without walking the rules.
    const sameSources = hit !== undefined && hit.head.length === head.length && hit.head.every((x, i) => x === head[i]);
    const entries = sameSources ? undefined : makeEntries();
    const setIds = sameSources ? hit.setIds : programSetIds(entries!);
    // An unknown set is empty. Its placeholder belongs to the round, not to
    // one chain: a cached chain must not carry it, nor another chain depend
    // on a chain that happened to create it first.
    for (const { id, kind } of setIds) if (!allSets.has(id) && !sets.has(kind === 'net' ? setNames.selector(id, 4) : setNames.namedPort(id, 4))) sets.addSpec({ id, kind, members: [] });
    const members = setIds.map(({ id }) => allSets.get(id));
    if (sameSources && hit.members.every((m, i) => m === members[i])) {
      for (const s of hit.sets) sets.put(s);
      return hit.chain;
    }
    const local = new SetRegistry(sets);
    const rules = compileProgram(entries ?? makeEntries(), {
      backend,
      sets: local,
      netSets,
      setKey: name,
      actions: { allow: { kind: 'goto', chain: chainNames.allow }, deny: flowLogs ? { kind: 'goto', chain: flowLogDenyChain(dir) } : drop, pass: { kind: 'goto', chain: chainNames.pass } },
    });
    const own = local.all();
    for (const s of own) sets.put(s);
    const chain: Chain = { name, table: 'filter', rules, ...(alsoIn.length ? { alsoIn } : {}) };
    cache?.programs.set(name, { head, setIds, members, chain, sets: own });
    return chain;
  };
  const policies = model.policyIndex ?? new Map(model.policies.map((p) => [p.id, p]));
  const verdictTables = new Set<TableKind>(['filter']);
  for (const [name, { ids, dir, tables }] of [...tierChains].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const entries = () => tierEntries(ids, dir, policies);
    const alsoIn = [...tables].filter((t) => t !== 'filter').sort();
    for (const t of alsoIn) verdictTables.add(t);
    const sources = ids.map((id) => {
      const p = policies.get(id);
      return p && rulesOf(p, dir);
    });
    chains.push(program(name, dir, sources, entries, alsoIn));
  }
  for (const p of [...model.profiles].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    if (!usedProfiles.has(p.id)) continue;
    for (const dir of ['inbound', 'outbound'] as const) {
      const name = chainNames.profile(p.id, dir);
      const rules = rulesOf(p, dir);
      chains.push(program(name, dir, [rules], () => profileEntries(p, dir)));
    }
  }
  if (cache) for (const name of [...cache.programs.keys()]) if (!usedPrograms.has(name)) cache.programs.delete(name);
  // The verdict chains merged rules go to: they set the mark and fall off the end, back to the endpoint chain.
  const also = [...verdictTables].filter((t) => t !== 'filter').sort();
  for (const [name, bit] of [[chainNames.allow, MARK_ACCEPT], [chainNames.pass, MARK_PASS]] as const) {
    chains.push({ name, table: 'filter', rules: [{ matches: [], action: { kind: 'setMark', mask: bit, value: bit } }], ...(also.length ? { alsoIn: also } : {}) });
  }
  if (flowLogs) {
    for (const dir of ['inbound', 'outbound'] as const) chains.push({ name: flowLogDenyChain(dir), table: 'filter', rules: flowLogDenyRules(dir, flowLogs), ...(also.length ? { alsoIn: also } : {}) });
  }

  // Dispatch: known interfaces jump to their chain; any other cali* is dropped (fail closed).
  const dispatch = (by: 'iif' | 'oif', eps: LocalEndpoint[], chain: (i: string) => string): Rule[] =>
    eps.length ? [{ matches: [], action: { kind: 'dispatch', by, targets: eps.map((e) => ({ iface: e.interfaceName, chain: chain(e.interfaceName) })) } }] : [];
  add(chainNames.fromWorkloadDispatch, [...dispatch('iif', workloads, chainNames.fromWorkload), { matches: [], action: drop, comment: 'unknown workload interface' }]);
  add(chainNames.toWorkloadDispatch, [...dispatch('oif', workloads, chainNames.toWorkload), { matches: [], action: drop, comment: 'unknown workload interface' }]);

  const ctFirst: Rule[] = [
    { matches: [{ kind: 'ct', states: ['established', 'related'] }], action: accept },
    { matches: [{ kind: 'ct', states: ['invalid'] }], action: drop },
  ];
  const wlIfaces = workloadInterfaces(model.config.workloadInterfacePrefixes, workloads);
  const iifWl: Match[] = wlIfaces.map((name) => ({ kind: 'iif', name }));
  const oifWl: Match[] = wlIfaces.map((name) => ({ kind: 'oif', name }));
  const each = (ms: Match[], rest: Match[], action: Rule['action'], comment?: string): Rule[] =>
    ms.map((m) => ({ matches: [m, ...rest], action, ...(comment ? { comment } : {}) }));

  const hep = hostTopRules(hosts, stages, { iif: iifWl, oif: oifWl });
  chains.push(...hep.dispatchChains);
  add(chainNames.top.forward, [
    ...ctFirst,
    ...hep.forwardIn,
    ...each(iifWl, [], { kind: 'jump', chain: chainNames.fromWorkloadDispatch }),
    ...each(oifWl, [], { kind: 'jump', chain: chainNames.toWorkloadDispatch }),
    ...hep.forwardOut,
    ...each(iifWl, [], accept),
    ...each(oifWl, [], accept),
    ...hep.forwardEnd,
  ], { hook: 'forward' });

  // Workload -> this host: neighbour discovery and failsafe first, then the
  // workload's egress policy, then the configured action.
  const ndp = [133, 135, 136].map((type): Rule => ({
    matches: [{ kind: 'family', family: 6 }, { kind: 'protocol', protocol: 'ipv6-icmp' }, { kind: 'icmp', family: 6, type }],
    action: accept,
  }));
  const toHostAction = model.config.endpointToHostAction === 'accept' ? accept : model.config.endpointToHostAction === 'return' ? ret : drop;
  add(chainNames.workloadToHost, [
    ...ndp,
    ...failsafeRules(model.config.workloadToHostFailsafe, 'src'),
    { matches: [], action: { kind: 'jump', chain: chainNames.fromWorkloadDispatch } },
    { matches: [], action: toHostAction, comment: 'endpoint to host action' },
  ]);
  add(chainNames.top.input, [...ctFirst, ...each(iifWl, [], { kind: 'goto', chain: chainNames.workloadToHost }), ...hep.input], { hook: 'input' });
  add(chainNames.top.output, hep.output, { hook: 'output' });
  // Always present (empty without host endpoints), so the kernel hooks never change.
  add(chainNames.top['raw-output'], [...hep.clearMarks, ...hep.rawOutput], { table: 'raw', hook: 'raw-output' });
  add(chainNames.top['mangle-prerouting'], hep.manglePrerouting, { table: 'mangle', hook: 'mangle-prerouting' });

  // Strict RPF for workloads (defence in depth next to the explicit rules);
  // DHCP discovery and IPv6 DAD come from unspecified addresses and are exempt.
  // Then untracked host endpoint policy for everything else.
  add(chainNames.top.prerouting, [
    ...hep.clearMarks,
    ...each(iifWl, [{ kind: 'family', family: 4 }, { kind: 'addr', dir: 'src', family: 4, cidr: '0.0.0.0' }, { kind: 'protocol', protocol: 'udp' }, { kind: 'ports', dir: 'dst', ports: [{ first: 67, last: 67 }] }], ret),
    ...each(iifWl, [{ kind: 'family', family: 6 }, { kind: 'addr', dir: 'src', family: 6, cidr: '::' }, { kind: 'protocol', protocol: 'ipv6-icmp' }], ret),
    ...each(iifWl, [{ kind: 'rpfFail' }], drop, 'reverse path'),
    ...hep.rawPrerouting,
  ], { table: 'raw', hook: 'prerouting' });

  // natOutgoing: masquerade from natOutgoing pools to anything outside all pools.
  // Disabled pools still hold addresses, so they count as "inside a pool".
  const active = model.pools;
  const nat: Rule[] = [];
  for (const family of [4, 6] as const) {
    const all = active.filter((p) => familyOf(p.cidr) === family).map((p) => canonicalCidr(p.cidr));
    const masq = active.filter((p) => p.natOutgoing && familyOf(p.cidr) === family).map((p) => canonicalCidr(p.cidr));
    sets.put({ name: setNames.allPools(family), family, kind: 'net', members: withoutCovered(all.map((net) => ({ net }))), source: 'all IP pools' });
    sets.put({ name: setNames.masqPools(family), family, kind: 'net', members: withoutCovered(masq.map((net) => ({ net }))), source: 'natOutgoing IP pools' });
    if (masq.length)
      nat.push({
        matches: [
          { kind: 'family', family },
          { kind: 'set', dir: 'src', family, set: setNames.masqPools(family) },
          { kind: 'set', dir: 'dst', family, set: setNames.allPools(family), negate: true },
        ],
        action: { kind: 'masquerade' },
      });
  }
  add(chainNames.top.postrouting, nat, { table: 'nat', hook: 'postrouting' });

  chains.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { chains, sets: sets.all() };
}
