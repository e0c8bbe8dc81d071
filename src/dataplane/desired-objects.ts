// Dirty tracking for the policy objects (chains, sets) of one backend. Pure.
//
// The compiler already reuses the Chain and IpSet objects of everything whose
// inputs did not change (CompileCache: per endpoint, per merged tier chain,
// per calc-graph set, all by object identity), and the calc graph's deltas
// become new objects only for what they touch (managers.ts). So "what changed
// since the last round" is the objects that are not the same object as last
// round's: a pointer comparison per object, no rendering, no member walks.
//
// The few objects the compiler rebuilds every round (top-level and dispatch
// chains, the verdict chains, the IP-pool sets) are compared by content
// and, when equal, replaced by last round's object, so they are not dirty
// and the renderers' per-object memos keep hitting.
//
// Dirty names accumulate until the policy sync reports them in the kernel
// (`synced`): a name skipped this round (in backoff) or whose write failed is
// still dirty next round. Outputs depend only on the current desired state
// and what has been confirmed written, never on the order updates arrived in.

import type { Chain, IpSet, Ruleset } from '../rules/ir.js';

function sameMembers(a: string[], b: string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameSet(a: IpSet, b: IpSet): boolean {
  return a.family === b.family && a.kind === b.kind && (a.fields ?? []).join() === (b.fields ?? []).join() && a.source === b.source && sameMembers(a.members, b.members);
}

// Chains are plain data (the IR has no functions or cycles), so their JSON is their content.
function sameChain(a: Chain, b: Chain): boolean {
  return a.table === b.table && a.hook === b.hook && (a.alsoIn ?? []).join() === (b.alsoIn ?? []).join() && a.rules.length === b.rules.length && JSON.stringify(a.rules) === JSON.stringify(b.rules);
}

export interface DesiredRound {
  /** The whole desired ruleset, with unchanged objects replaced by last round's. */
  ruleset: Ruleset;
  /** Names of chains and sets that are new, changed or gone and not yet confirmed in the kernel. */
  dirty: ReadonlySet<string>;
}

export class DesiredObjects {
  private chains = new Map<string, Chain>();
  private sets = new Map<string, IpSet>();
  private readonly dirty = new Set<string>();

  /** Takes this round's compiled ruleset; returns it (unchanged objects deduplicated) and the dirty names. */
  next(compiled: Ruleset): DesiredRound {
    const chains = new Map<string, Chain>();
    const outChains: Chain[] = [];
    for (const c of compiled.chains) {
      const prev = this.chains.get(c.name);
      const keep = prev !== undefined && (prev === c || sameChain(prev, c)) ? prev : c;
      if (keep !== prev) this.dirty.add(c.name);
      chains.set(c.name, keep);
      outChains.push(keep);
    }
    for (const name of this.chains.keys()) if (!chains.has(name)) this.dirty.add(name);
    const sets = new Map<string, IpSet>();
    const outSets: IpSet[] = [];
    for (const s of compiled.sets) {
      const prev = this.sets.get(s.name);
      const keep = prev !== undefined && (prev === s || sameSet(prev, s)) ? prev : s;
      if (keep !== prev) this.dirty.add(s.name);
      sets.set(s.name, keep);
      outSets.push(keep);
    }
    for (const name of this.sets.keys()) if (!sets.has(name)) this.dirty.add(name);
    this.chains = chains;
    this.sets = sets;
    return { ruleset: { chains: outChains, sets: outSets }, dirty: this.dirty };
  }

  /**
   * The part of the current desired ruleset named in `names`, in the
   * ruleset's own order; a name not in it (an object to delete) simply has
   * no entry. Renderers given this and `include = names` touch only these.
   */
  subset(names: ReadonlySet<string>): Ruleset {
    const chains: Chain[] = [];
    const sets: IpSet[] = [];
    for (const n of names) {
      const c = this.chains.get(n);
      if (c) chains.push(c);
      const s = this.sets.get(n);
      if (s) sets.push(s);
    }
    const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    return { chains: chains.sort(byName), sets: sets.sort(byName) };
  }

  /** Names changed since they were last confirmed in the kernel. */
  pending(): ReadonlySet<string> {
    return this.dirty;
  }

  /** These objects are now as desired in the kernel (written, or found right). */
  synced(names: Iterable<string>): void {
    for (const n of names) this.dirty.delete(n);
  }

  /** After a full reconcile every object was compared with the kernel. */
  allSynced(except: Iterable<string> = []): void {
    const keep = new Set(except);
    for (const n of [...this.dirty]) if (!keep.has(n)) this.dirty.delete(n);
  }
}
