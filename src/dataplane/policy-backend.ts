// The two policy backends behind one small interface. A backend keeps its
// view of what the kernel holds (read back on start and after any failure,
// otherwise updated from what it successfully wrote), computes which objects
// differ from the desired ruleset, and writes the changes of a chosen subset
// of objects as one batch.

import type { Chain, Ruleset } from '../rules/ir.js';
import { parseNftTable } from '../render/nft/parse.js';
import { nftElements, nftMaps } from '../render/nft/render.js';
import { emptyNftView, renderNftDelta, type NftKernelView } from '../render/nft/delta.js';
import { parseIpsetSave, parseIptablesSave } from '../render/iptables/parse.js';
import { BUILTIN, iptablesChains, type IpsetKernelView, type IptablesKernelView, ipsetMembers, renderIpsetDelta, renderIptablesChainRules, renderIptablesDelta } from '../render/iptables/render.js';
import type { Ipset, IptablesRestore, Nft } from './ports.js';

export type BackendName = 'nftables' | 'iptables';

export interface PolicyBackend {
  readonly name: BackendName;
  /** Reads the kernel back (mark phase of mark-and-sweep). */
  read(): Promise<void>;
  /**
   * Names of chains and sets whose kernel state differs from `desired` (new,
   * changed or to delete), among the objects passing `include` (default all:
   * a full reconcile). With `include`, `desired` may be just those objects.
   */
  diff(desired: Ruleset, include?: (name: string) => boolean, index?: RulesetIndex): string[];
  /** Writes the changes of the objects passing `include` in one batch; the view follows on success. */
  write(desired: Ruleset, include?: (name: string) => boolean, index?: RulesetIndex): Promise<void>;
}

/** What a round that passes only part of the desired ruleset knows of the whole. */
export interface RulesetIndex {
  /** The chains of the whole desired ruleset that look up a set. */
  users(set: string): readonly Chain[];
}

const sameMembers = (a: string[] | undefined, b: string[]) => {
  if (!a || a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((m) => s.has(m));
};

/** A chain's dispatch verdict maps (`<chain>-map`, `<chain>-map1`, ...) go with the chain. */
const withMaps = (include: (name: string) => boolean) => (name: string) => {
  if (include(name)) return true;
  // Called for every object the kernel holds: a string scan, not a regular expression.
  const at = name.lastIndexOf('-map');
  if (at < 0) return false;
  for (let i = at + 4; i < name.length; i++) if (name.charCodeAt(i) < 48 || name.charCodeAt(i) > 57) return false;
  return include(name.slice(0, at));
};

const usersOf = (index?: RulesetIndex) => (index ? { users: (set: string) => index.users(set) } : {});

export class NftBackend implements PolicyBackend {
  readonly name = 'nftables';
  private view: NftKernelView = emptyNftView();
  constructor(private readonly nft: Nft) {}

  async read(): Promise<void> {
    this.view = parseNftTable(await this.nft.listTable());
  }

  diff(desired: Ruleset, include?: (name: string) => boolean, index?: RulesetIndex): string[] {
    const d = renderNftDelta(this.view, desired, { ...(include ? { include: withMaps(include) } : {}), ...usersOf(index) });
    return [...d.changedSets, ...d.changedChains, ...d.changedMaps, ...d.deletedChains, ...d.deletedMaps, ...d.deletedSets];
  }

  async write(desired: Ruleset, include: (name: string) => boolean = () => true, index?: RulesetIndex): Promise<void> {
    const d = renderNftDelta(this.view, desired, { include: withMaps(include), ...usersOf(index) });
    if (!d.script) return;
    await this.nft.apply(d.script);
    this.view.tableExists = true;
    for (const [name, hash] of d.chainHashes) this.view.chains.set(name, hash);
    for (const [name, kernelName] of d.renamedSets) {
      if (kernelName === name) this.view.setNames.delete(name);
      else this.view.setNames.set(name, kernelName);
    }
    const sets = new Map(desired.sets.map((s) => [s.name, s]));
    for (const name of d.changedSets) this.view.sets.set(name, nftElements(sets.get(name)!));
    const maps = new Map(nftMaps(desired.chains).map((m) => [m.name, m]));
    for (const name of d.changedMaps) this.view.maps.set(name, [...maps.get(name)!.members]);
    for (const name of d.deletedMaps) this.view.maps.delete(name);
    for (const name of d.deletedChains) this.view.chains.delete(name);
    for (const name of d.deletedSets) {
      this.view.sets.delete(name);
      this.view.setNames.delete(name);
    }
  }
}

export class IptablesBackend implements PolicyBackend {
  readonly name = 'iptables';
  private views: Record<4 | 6, IptablesKernelView> = { 4: { chains: new Map(), hooks: new Set() }, 6: { chains: new Map(), hooks: new Set() } };
  private sets: IpsetKernelView = new Map();
  constructor(private readonly ports: { iptables: IptablesRestore; ipset: Ipset }) {}

  async read(): Promise<void> {
    this.views = { 4: parseIptablesSave(await this.ports.iptables.save(4)), 6: parseIptablesSave(await this.ports.iptables.save(6)) };
    this.sets = parseIpsetSave(await this.ports.ipset.save());
  }

  private chainHash(chain: Ruleset['chains'][number], family: 4 | 6): string {
    return /cali:h=([^"]*)"/.exec(renderIptablesChainRules(chain, family)[0]!)![1]!;
  }

  diff(desired: Ruleset, include: (name: string) => boolean = () => true): string[] {
    const out = new Set<string>();
    for (const set of desired.sets) if (include(set.name) && !sameMembers(this.sets.get(set.name), ipsetMembers(set))) out.add(set.name);
    const want = new Set(desired.sets.map((s) => s.name));
    for (const name of this.sets.keys()) if (!want.has(name) && include(name)) out.add(name);
    for (const family of [4, 6] as const) {
      const view = this.views[family];
      const wantChains = new Set<string>();
      for (const chain of iptablesChains(desired.chains)) {
        const key = `${chain.table}/${chain.name}`;
        wantChains.add(key);
        if (!include(chain.name)) continue;
        if (view.chains.get(key) !== this.chainHash(chain, family)) out.add(chain.name);
        if (chain.hook && !view.hooks.has(`${chain.table}/${BUILTIN[chain.hook].chain}`)) out.add(chain.name);
      }
      for (const key of view.chains.keys()) {
        const name = key.slice(key.indexOf('/') + 1);
        if (!wantChains.has(key) && include(name)) out.add(name);
      }
    }
    return [...out];
  }

  async write(desired: Ruleset, include: (name: string) => boolean = () => true): Promise<void> {
    const sets = renderIpsetDelta(this.sets, desired, { include });
    const rules = { 4: renderIptablesDelta(this.views[4], desired, 4, { include }), 6: renderIptablesDelta(this.views[6], desired, 6, { include }) };
    // Sets first (rules may use new ones), then rules, then destroying sets no rule uses any more.
    if (sets.before) await this.ports.ipset.restore(sets.before);
    for (const s of desired.sets) if (include(s.name)) this.sets.set(s.name, ipsetMembers(s));
    for (const family of [4, 6] as const) {
      if (rules[family]) await this.ports.iptables.restore(family, rules[family]);
      const view = this.views[family];
      const want = new Set<string>();
      for (const chain of iptablesChains(desired.chains)) {
        const key = `${chain.table}/${chain.name}`;
        want.add(key);
        if (!include(chain.name)) continue;
        view.chains.set(key, this.chainHash(chain, family));
        if (chain.hook) view.hooks.add(`${chain.table}/${BUILTIN[chain.hook].chain}`);
      }
      for (const key of [...view.chains.keys()]) if (!want.has(key) && include(key.slice(key.indexOf('/') + 1))) view.chains.delete(key);
    }
    if (sets.after) await this.ports.ipset.restore(sets.after);
    const want = new Set(desired.sets.map((s) => s.name));
    for (const name of [...this.sets.keys()]) if (!want.has(name) && include(name)) this.sets.delete(name);
  }
}
