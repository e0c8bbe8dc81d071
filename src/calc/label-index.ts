// Two inverse indexes that keep the calc graph from rescanning everything:
// - LabelIndex: items by label key and key=value, so activating a selector only
//   scans items that carry one of its hint labels;
// - HintIndex: selectors by their hint labels, so a changed item is only
//   re-evaluated against selectors it could possibly match.
import type { Labels } from '../selector/ast.js';
import type { Hints } from './match-spec.js';

/** Items (by id) indexed by their labels. */
export class LabelIndex {
  private readonly byKeyValue = new Map<string, Map<string, Set<string>>>();
  /** Items carrying each key (any value), so key-only hints can be costed in O(1). */
  private readonly keyCounts = new Map<string, number>();
  private readonly ids = new Set<string>();

  add(id: string, labels: Labels): void {
    this.ids.add(id);
    for (const key of Object.keys(labels)) {
      this.keyCounts.set(key, (this.keyCounts.get(key) ?? 0) + 1);
      const value = labels[key]!;
      let values = this.byKeyValue.get(key);
      if (!values) this.byKeyValue.set(key, (values = new Map()));
      let set = values.get(value);
      if (!set) values.set(value, (set = new Set()));
      set.add(id);
    }
  }

  remove(id: string, labels: Labels): void {
    this.ids.delete(id);
    for (const key of Object.keys(labels)) {
      const n = (this.keyCounts.get(key) ?? 1) - 1;
      if (n > 0) this.keyCounts.set(key, n);
      else this.keyCounts.delete(key);
      const values = this.byKeyValue.get(key);
      const set = values?.get(labels[key]!);
      if (!values || !set) continue;
      set.delete(id);
      if (set.size === 0) values.delete(labels[key]!);
      if (values.size === 0) this.byKeyValue.delete(key);
    }
  }

  get size(): number {
    return this.ids.size;
  }

  /** How many candidates a hint yields (an upper bound when alternatives overlap). */
  count(hints: Hints): number {
    if (hints === null) return this.ids.size;
    let n = 0;
    for (const { key, value } of hints) {
      n += value === undefined ? (this.keyCounts.get(key) ?? 0) : (this.byKeyValue.get(key)?.get(value)?.size ?? 0);
    }
    return n;
  }

  /** Every id that could match a selector with these hints (all ids for `null`). */
  *candidates(hints: Hints): Iterable<string> {
    if (hints === null) {
      yield* this.ids;
      return;
    }
    // Alternatives may overlap (e.g. `a == "x" || has(a)`): report each id once.
    const seen = hints.length > 1 ? new Set<string>() : undefined;
    for (const { key, value } of hints) {
      const values = this.byKeyValue.get(key);
      if (!values) continue;
      const groups = value === undefined ? values.values() : [values.get(value)].filter((s): s is Set<string> => !!s);
      for (const group of groups) {
        for (const id of group) {
          if (seen) {
            if (seen.has(id)) continue;
            seen.add(id);
          }
          yield id;
        }
      }
    }
  }
}

/** Keys (selectors, policies) indexed by the hint labels an item must carry to match them. */
export class HintIndex<K> {
  private readonly byKeyValue = new Map<string, Map<string, Set<K>>>();
  private readonly byKey = new Map<string, Set<K>>();
  private readonly unhinted = new Set<K>();

  add(k: K, hints: Hints): void {
    if (hints === null) {
      this.unhinted.add(k);
      return;
    }
    for (const { key, value } of hints) {
      if (value === undefined) {
        let set = this.byKey.get(key);
        if (!set) this.byKey.set(key, (set = new Set()));
        set.add(k);
      } else {
        let values = this.byKeyValue.get(key);
        if (!values) this.byKeyValue.set(key, (values = new Map()));
        let set = values.get(value);
        if (!set) values.set(value, (set = new Set()));
        set.add(k);
      }
    }
  }

  remove(k: K, hints: Hints): void {
    if (hints === null) {
      this.unhinted.delete(k);
      return;
    }
    for (const { key, value } of hints) {
      if (value === undefined) {
        const set = this.byKey.get(key);
        set?.delete(k);
        if (set?.size === 0) this.byKey.delete(key);
      } else {
        const values = this.byKeyValue.get(key);
        const set = values?.get(value);
        set?.delete(k);
        if (set?.size === 0) values!.delete(value);
        if (values?.size === 0) this.byKeyValue.delete(key);
      }
    }
  }

  /** Adds to `out` every key an item with these labels could match. */
  collect(labels: Labels, out: Set<K>): void {
    for (const k of this.unhinted) out.add(k);
    for (const key of Object.keys(labels)) {
      const byValue = this.byKeyValue.get(key)?.get(labels[key]!);
      if (byValue) for (const k of byValue) out.add(k);
      const byKey = this.byKey.get(key);
      if (byKey) for (const k of byKey) out.add(k);
    }
  }
}
