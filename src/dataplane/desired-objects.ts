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

import { setUsers, type Chain, type IpSet, type Ruleset } from '../rules/ir.js';

/** Deep equality of plain data (the IR has no functions, classes or cycles); no allocation, stops at the first difference. */
function samePlain(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!samePlain(a[i], b[i])) return false;
    return true;
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!samePlain((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

// Members are structured (net, protocol, port; or a merged lookup's fields), so a set compares as plain data.
const sameSet = (a: IpSet, b: IpSet): boolean => samePlain(a, b);

function sameChain(a: Chain, b: Chain): boolean {
  return a.table === b.table && a.hook === b.hook && samePlain(a.alsoIn ?? [], b.alsoIn ?? []) && samePlain(a.rules, b.rules);
}

export interface DesiredRound {
  /** The whole desired ruleset, with unchanged objects replaced by last round's. */
  ruleset: Ruleset;
  /** Names of chains and sets that are new, changed or gone and not yet confirmed in the kernel. */
  dirty: ReadonlySet<string>;
}

/** Last round's object of each name, and the round that last saw it (entries are updated in place: no per-round maps). */
interface Entry<T> {
  object: T;
  round: number;
}

export class DesiredObjects {
  private readonly chains = new Map<string, Entry<Chain>>();
  private readonly sets = new Map<string, Entry<IpSet>>();
  private readonly dirty = new Set<string>();
  private round = 0;
  /** set name -> the chains looking it up; built when first asked in a round (only rounds that replace a set do). */
  private usersIndex: Map<string, Chain[]> | undefined;

  /** Takes this round's compiled ruleset; returns it (unchanged objects deduplicated) and the dirty names. */
  next(compiled: Ruleset): DesiredRound {
    const round = ++this.round;
    this.usersIndex = undefined;
    const chains = this.adopt(this.chains, compiled.chains, sameChain, round);
    const sets = this.adopt(this.sets, compiled.sets, sameSet, round);
    return { ruleset: { chains, sets }, dirty: this.dirty };
  }

  private adopt<T extends { name: string }>(known: Map<string, Entry<T>>, compiled: T[], same: (a: T, b: T) => boolean, round: number): T[] {
    const out: T[] = new Array(compiled.length);
    for (let i = 0; i < compiled.length; i++) {
      const c = compiled[i]!;
      const entry = known.get(c.name);
      if (entry === undefined) {
        known.set(c.name, { object: c, round });
        this.dirty.add(c.name);
      } else {
        entry.round = round;
        if (entry.object !== c && !same(entry.object, c)) {
          entry.object = c;
          this.dirty.add(c.name);
        }
      }
      out[i] = known.get(c.name)!.object;
    }
    if (known.size > compiled.length) {
      for (const [name, entry] of known) {
        if (entry.round === round) continue;
        known.delete(name);
        this.dirty.add(name);
      }
    }
    return out;
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
      if (c) chains.push(c.object);
      const s = this.sets.get(n);
      if (s) sets.push(s.object);
    }
    const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    return { chains: chains.sort(byName), sets: sets.sort(byName) };
  }

  /** The chains of the current desired ruleset that look up a set (RulesetIndex). */
  users(set: string): readonly Chain[] {
    this.usersIndex ??= setUsers([...this.chains.values()].map((e) => e.object));
    return this.usersIndex.get(set) ?? [];
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
