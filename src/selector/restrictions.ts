// What a selector demands of a label set, for the calc graph's indexes: if
// every match must carry `role == "db"`, only endpoints in the (role, db)
// bucket need evaluating. Computed on the canonical AST so negations have
// already been pushed to the leaves (`!(a != "x")` requires a == "x").
//
// The results are sound but not complete: a label listed is truly required
// (or forbidden); a label not listed may still be implied.
import { compareStrings, type SelectorNode } from './ast.js';
import { canonicalNode } from './canonical.js';

export interface LabelRestriction {
  /** Every matching label set has this label. */
  readonly mustBePresent: boolean;
  /** No matching label set has this label (`!has(key)`). */
  readonly mustBeAbsent: boolean;
  /**
   * If defined, every matching label set has this label with one of these
   * values (sorted). Empty means the selector can match nothing
   * (e.g. `a == "x" && a == "y"`).
   */
  readonly values?: readonly string[];
}

type Restrictions = Map<string, LabelRestriction>;

/** Per-label requirements that every match satisfies, by label name. */
export function labelRestrictions(sel: { readonly ast: SelectorNode }): ReadonlyMap<string, LabelRestriction> {
  return restrict(canonicalNode(sel.ast));
}

/** Label name/value pairs every match must have (a label restricted to exactly one value), sorted by name. */
export function requiredLabels(sel: { readonly ast: SelectorNode }): Array<{ key: string; value: string }> {
  const out: Array<{ key: string; value: string }> = [];
  for (const [key, r] of labelRestrictions(sel)) {
    if (r.mustBePresent && r.values !== undefined && r.values.length === 1) out.push({ key, value: r.values[0]! });
  }
  return out.sort((a, b) => compareStrings(a.key, b.key));
}

/** Every label name the selector mentions, sorted and de-duplicated. */
export function referencedKeys(sel: { readonly ast: SelectorNode }): string[] {
  const keys = new Set<string>();
  const walk = (n: SelectorNode): void => {
    switch (n.kind) {
      case 'all':
      case 'global':
        return;
      case 'not':
        return walk(n.operand);
      case 'and':
      case 'or':
        for (const o of n.operands) walk(o);
        return;
      default:
        keys.add(n.key);
    }
  };
  walk(sel.ast);
  return [...keys].sort(compareStrings);
}

/** True if the selector contains `global()` anywhere (only a rule's namespaceSelector may, per Calico's validation). */
export function usesGlobal(sel: { readonly ast: SelectorNode }): boolean {
  const walk = (n: SelectorNode): boolean => {
    switch (n.kind) {
      case 'global':
        return true;
      case 'not':
        return walk(n.operand);
      case 'and':
      case 'or':
        return n.operands.some(walk);
      default:
        return false;
    }
  };
  return walk(sel.ast);
}

function restrict(n: SelectorNode): Restrictions {
  switch (n.kind) {
    case 'eq':
      return new Map([[n.key, { mustBePresent: true, mustBeAbsent: false, values: [n.value] }]]);
    case 'in':
      return new Map([[n.key, { mustBePresent: true, mustBeAbsent: false, values: n.values }]]);
    case 'has':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return new Map([[n.key, { mustBePresent: true, mustBeAbsent: false }]]);
    case 'not':
      // In the canonical AST `not` wraps only leaves; only !has() says something definite.
      return n.operand.kind === 'has'
        ? new Map([[n.operand.key, { mustBePresent: false, mustBeAbsent: true }]])
        : new Map();
    case 'and':
      return n.operands.map(restrict).reduce(intersect);
    case 'or':
      return n.operands.map(restrict).reduce(union);
    default:
      // ne, notIn, all, global: hold on label sets without the label too.
      return new Map();
  }
}

/** Both restrictions hold. */
function intersect(a: Restrictions, b: Restrictions): Restrictions {
  const out = new Map(a);
  for (const [key, rb] of b) {
    const ra = out.get(key);
    if (ra === undefined) {
      out.set(key, rb);
      continue;
    }
    let values = ra.values ?? rb.values;
    if (ra.values !== undefined && rb.values !== undefined) {
      const other = new Set(rb.values);
      values = ra.values.filter((v) => other.has(v));
    }
    out.set(key, {
      mustBePresent: ra.mustBePresent || rb.mustBePresent,
      mustBeAbsent: ra.mustBeAbsent || rb.mustBeAbsent,
      ...(values === undefined ? {} : { values }),
    });
  }
  return out;
}

/** At least one of the restrictions holds: keep only what both guarantee. */
function union(a: Restrictions, b: Restrictions): Restrictions {
  const out: Restrictions = new Map();
  for (const [key, ra] of a) {
    const rb = b.get(key);
    if (rb === undefined) continue;
    const mustBePresent = ra.mustBePresent && rb.mustBePresent;
    const mustBeAbsent = ra.mustBeAbsent && rb.mustBeAbsent;
    if (!mustBePresent && !mustBeAbsent) continue;
    const values =
      mustBePresent && ra.values !== undefined && rb.values !== undefined
        ? [...new Set([...ra.values, ...rb.values])].sort(compareStrings)
        : undefined;
    out.set(key, { mustBePresent, mustBeAbsent, ...(values === undefined ? {} : { values }) });
  }
  return out;
}
