// What the kernel holds -> the `nft -f` commands that make it the desired
// ruleset, for only the objects that differ. Pure. One transaction: nft
// applies a whole file atomically, so no packet sees a half-applied change.
//
// Costs that shape it (nft 1.0.6, kernel 6.x, measured at 10k endpoints /
// 1k policies, see docs/design/dataplane.md):
//  - `add element`, `delete element` and `flush set` make nft first dump
//    every element of every interval set of the table into its cache (~25 ms
//    here, growing with the table); declaring a set or map, with elements,
//    needs no element cache. So additions are written as declarations.
//  - Removing elements therefore costs a dump; instead a set that loses
//    elements is replaced: its other name (`<name>.b`, or back) is declared
//    with the whole new content, the chains that look it up are rewritten to
//    use it, and the old one is deleted, all in the same transaction. The
//    kernel's chain hashes cover the IR names, so which of the two names a
//    set has is invisible to reconcile and survives a restart unchanged.
//  - Only when the chains to rewrite are many (a selector used by many
//    policies) do element deletions stay cheaper.

import type { Chain, Ruleset } from '../../rules/ir.js';
import { setUsers } from '../../rules/ir.js';
import { CHAIN_HASH_PREFIX } from '../../rules/names.js';
import { MAP_DECL, T, baseSpec, mapMember, nftBaseChains, nftElements, nftMaps, renderNftChainRules, renderNftFull, setDecl } from './render.js';

/**
 * More removed elements than this and a set kept under its name is rewritten
 * whole (flush + add) instead: the break-even of nft's per-element interval
 * deletion against a full re-add is a handful of elements, whatever the set's size.
 */
export const REWRITE_AFTER_DELETIONS = 6;

/** A set is replaced (rather than elements deleted) while the chains looking it up have at most this many rules. */
export const REPLACE_MAX_USER_RULES = 1000;

/** The suffix of a set's other name; `.` never occurs in our IR set names, and nft takes it in identifiers. */
export const ALTERNATE_SUFFIX = '.b';

/** What the kernel holds in our table, as read back (see parse.ts). */
export interface NftKernelView {
  tableExists: boolean;
  /** chain name -> hash from its marker rule ('' when the marker is missing). */
  chains: Map<string, string>;
  /** set (IR) name -> its elements as nft prints them (`10.0.0.1 . tcp . 8080`; see nftElements). */
  sets: Map<string, string[]>;
  /** set (IR) name -> the name it has in the kernel, where that is its other name (`<name>.b`). */
  setNames: Map<string, string>;
  /** verdict map name -> members "iface:chain". */
  maps: Map<string, string[]>;
}

export const emptyNftView = (): NftKernelView => ({ tableExists: false, chains: new Map(), sets: new Map(), setNames: new Map(), maps: new Map() });

export interface DeltaOptions {
  /** Only objects (chain or set names) passing this are changed; others stay as the kernel has them. */
  include?: (name: string) => boolean;
  /**
   * The chains of the whole desired ruleset that look up a set. Needed when
   * `desired` is only part of it (incremental rounds); default: found in `desired`.
   */
  users?: (set: string) => readonly Chain[];
}

export interface NftDelta {
  script: string;
  /** Objects the script touches, for logs and metrics. */
  changedChains: string[];
  changedSets: string[];
  deletedChains: string[];
  deletedSets: string[];
  changedMaps: string[];
  deletedMaps: string[];
  /** The hash each written chain has in the kernel afterwards. */
  chainHashes: Map<string, string>;
  /** Sets now under another kernel name: IR name -> kernel name. */
  renamedSets: Map<string, string>;
}

/** A kernel set name's IR name: `<name>.b` and `<name>` are the same set. */
export const irSetName = (kernelName: string) => (kernelName.endsWith(ALTERNATE_SUFFIX) ? kernelName.slice(0, -ALTERNATE_SUFFIX.length) : kernelName);
const alternate = (kernelName: string) => (irSetName(kernelName) !== kernelName ? irSetName(kernelName) : kernelName + ALTERNATE_SUFFIX);

/**
 * Element additions as a (re-)declaration of the set or map with elements,
 * not `add element` (see the top of this file). The declaration is the one
 * the object was created with, so on an existing one it only adds.
 */
function declareWith(kind: 'set' | 'map', name: string, decl: string, elements: string[]): string {
  return elements.length ? `add ${kind} ${T} ${name} { ${decl} elements = { ${elements.join(', ')} } }` : `add ${kind} ${T} ${name} { ${decl} }`;
}

function chainHashOf(lines: string[]): string {
  return lines[0]!.slice(lines[0]!.indexOf(CHAIN_HASH_PREFIX) + CHAIN_HASH_PREFIX.length, -1);
}

/** The chains of `chains` that look each set up, built on first use. */
function usersIn(chains: readonly Chain[]): (set: string) => readonly Chain[] {
  let index: Map<string, Chain[]> | undefined;
  return (set) => (index ??= setUsers(chains)).get(set) ?? [];
}

/**
 * Commands turning `kernel` into `desired`, ordered so each reference is valid
 * inside the transaction: sets and element additions first, then new chains
 * declared, then changed chains rewritten, then obsolete chains and sets and
 * removed elements deleted. Empty script = the kernel is already right.
 */
export function renderNftDelta(kernel: NftKernelView, desired: Ruleset, opts: DeltaOptions = {}): NftDelta {
  const include = opts.include ?? (() => true);
  const delta: NftDelta = { script: '', changedChains: [], changedSets: [], deletedChains: [], deletedSets: [], changedMaps: [], deletedMaps: [], chainHashes: new Map(), renamedSets: new Map() };
  const maps = nftMaps(desired.chains);
  if (!kernel.tableExists) {
    delta.script = renderNftFull(desired);
    for (const c of [...nftBaseChains(), ...desired.chains]) {
      delta.changedChains.push(c.name);
      delta.chainHashes.set(c.name, chainHashOf(renderNftChainRules(c)));
    }
    delta.changedSets = desired.sets.map((s) => s.name);
    delta.changedMaps = maps.map((m) => m.name);
    return delta;
  }
  const users = opts.users ?? usersIn(desired.chains);
  // Kernel name of each set after this transaction (IR name unless listed).
  const kernelNames = new Map(kernel.setNames);
  const kernelName = (set: string) => kernelNames.get(set) ?? set;
  const head: string[] = [];
  const body: string[] = [];
  const mapChanges: string[] = [];
  const tail: string[] = [];
  const replacedSets: string[] = [];
  const wantMaps = new Set(maps.map((m) => m.name));
  for (const map of maps) {
    if (!include(map.name)) continue;
    const have = kernel.maps.get(map.name);
    if (!have) head.push(`add map ${T} ${map.name} { ${MAP_DECL} }`);
    const haveSet = new Set(have ?? []);
    const wantSet = new Set(map.members);
    const adds = map.members.filter((m) => !haveSet.has(m));
    const dels = (have ?? []).filter((m) => !wantSet.has(m));
    // Removed interfaces first (their chains are deleted below), then new ones (their chains exist by now).
    if (dels.length) mapChanges.push(`delete element ${T} ${map.name} { ${dels.map(mapMember).join(', ')} }`);
    if (adds.length) mapChanges.push(declareWith('map', map.name, MAP_DECL, adds.map(mapMember)));
    if (!have || adds.length || dels.length) delta.changedMaps.push(map.name);
  }
  // Chains rewritten because a set they look up was replaced, whether or not they changed themselves.
  const forced = new Map<string, Chain>();
  const wantSets = new Set(desired.sets.map((s) => s.name));
  for (const set of desired.sets) {
    if (!include(set.name)) continue;
    const have = kernel.sets.get(set.name);
    const want = nftElements(set);
    if (!have) {
      head.push(declareWith('set', set.name, setDecl(set), want));
      kernelNames.delete(set.name);
      delta.changedSets.push(set.name);
      continue;
    }
    const haveSet = new Set(have);
    const wantSet = new Set(want);
    const adds = want.filter((m) => !haveSet.has(m));
    const dels = have.filter((m) => !wantSet.has(m));
    if (!adds.length && !dels.length) continue;
    delta.changedSets.push(set.name);
    const name = kernelName(set.name);
    if (dels.length) {
      const setUsers = users(set.name);
      if (setUsers.reduce((n, c) => n + c.rules.length, 0) <= REPLACE_MAX_USER_RULES) {
        const next = alternate(name);
        head.push(declareWith('set', next, setDecl(set), want));
        for (const c of setUsers) forced.set(c.name, c);
        kernelNames.set(set.name, next);
        delta.renamedSets.set(set.name, next);
        replacedSets.push(name);
        continue;
      }
    }
    // A merged set's elements are disjoint only as a whole: an element leaving
    // may overlap one arriving, and nft refuses the add while the old one is
    // there. The transaction is atomic either way, so remove first.
    const delLine = `delete element ${T} ${name} { ${dels.join(', ')} }`;
    if (dels.length > REWRITE_AFTER_DELETIONS) {
      // nft 1.0.x deletes from an interval set in time proportional to the
      // set's size per element (~55 ms each at 50k members, measured here):
      // a few hundred deletions took longer than re-adding the whole set
      // (~0.4 s at 50k). The flush and the re-add commit together, so no
      // packet sees the set empty.
      head.push(`flush set ${T} ${name}`);
      if (want.length) head.push(declareWith('set', name, setDecl(set), want));
      continue;
    }
    if (dels.length && set.kind === 'tuple') head.push(delLine);
    if (adds.length) head.push(declareWith('set', name, setDecl(set), adds));
    if (dels.length && set.kind !== 'tuple') tail.push(delLine);
  }
  // Rule lines name sets by IR name; in the kernel a set may have its other name.
  const renamed = kernelNames.size > 0;
  const kernelLine = (line: string) => (renamed && line.includes('@') ? line.replace(/@(\S+)/g, (at, n: string) => `@${kernelName(n)}`) : line);
  const write = (chain: Chain) => {
    const lines = renderNftChainRules(chain);
    const hash = chainHashOf(lines);
    const have = kernel.chains.get(chain.name);
    if (have === hash && !forced.has(chain.name)) return;
    delta.changedChains.push(chain.name);
    delta.chainHashes.set(chain.name, hash);
    const spec = baseSpec(chain);
    if (have === undefined) head.push(`add chain ${T} ${chain.name}${spec ? ` { ${spec} }` : ''}`);
    else body.push(`flush chain ${T} ${chain.name}`);
    for (const line of lines) body.push(`add rule ${T} ${chain.name} ${kernelLine(line)}`);
  };
  const chains = [...nftBaseChains(), ...desired.chains];
  const wantChains = new Set(chains.map((c) => c.name));
  for (const chain of chains) {
    if (include(chain.name) || forced.has(chain.name)) write(chain);
    forced.delete(chain.name);
  }
  // Users of a replaced set that are not part of `desired` (an incremental round's subset).
  for (const chain of forced.values()) write(chain);
  // Sweep in reference order: empty the chains, then drop the maps that point
  // at chains, then the chains, then the sets.
  const obsoleteChains = [...kernel.chains.keys()].filter((c) => !wantChains.has(c) && include(c)).sort();
  for (const c of obsoleteChains) tail.push(`flush chain ${T} ${c}`);
  const obsoleteMaps = [...kernel.maps.keys()].filter((m) => !wantMaps.has(m) && include(m)).sort();
  for (const m of obsoleteMaps) tail.push(`delete map ${T} ${m}`);
  for (const c of obsoleteChains) tail.push(`delete chain ${T} ${c}`);
  delta.deletedChains = obsoleteChains;
  delta.deletedMaps = obsoleteMaps;
  const obsoleteSets = [...kernel.sets.keys()].filter((s) => !wantSets.has(s) && include(s)).sort();
  for (const s of obsoleteSets) tail.push(`delete set ${T} ${kernelName(s)}`);
  // The replaced sets' old names, once no rule looks them up any more.
  for (const old of replacedSets) tail.push(`delete set ${T} ${old}`);
  delta.deletedSets = obsoleteSets;
  const all = [...head, ...body, ...mapChanges, ...tail];
  delta.script = all.length ? all.join('\n') + '\n' : '';
  return delta;
}
