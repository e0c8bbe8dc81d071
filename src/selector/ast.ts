// Node types of a parsed selector. Nodes are plain immutable data so that the
// canonicaliser, the evaluator compiler and the index helpers can each walk
// them without knowing about the others.

/** Label operations that compare a label's value with one string. */
export type ValueOperator = 'eq' | 'ne' | 'contains' | 'startsWith' | 'endsWith';
/** Label operations that compare a label's value with a set of strings. */
export type SetOperator = 'in' | 'notIn';

/** `all()`: matches every label set. */
export interface AllNode {
  readonly kind: 'all';
}

/**
 * `global()`: evaluates to true like `all()`. Its meaning is contextual: as a
 * rule's `namespaceSelector` it selects non-namespaced endpoints, which the
 * policy layer implements as `!has(projectcalico.org/namespace)`.
 */
export interface GlobalNode {
  readonly kind: 'global';
}

/** `has(key)`: the label is present (any value, including ""). */
export interface HasNode {
  readonly kind: 'has';
  readonly key: string;
}

/** `key == "v"`, `key != "v"`, `key contains "v"`, `key starts with "v"`, `key ends with "v"`. */
export interface ValueNode {
  readonly kind: ValueOperator;
  readonly key: string;
  readonly value: string;
}

/** `key in {...}` / `key not in {...}`. `values` is sorted (by UTF-16 code unit) and free of duplicates. */
export interface SetNode {
  readonly kind: SetOperator;
  readonly key: string;
  readonly values: readonly string[];
}

/** `!operand`. */
export interface NotNode {
  readonly kind: 'not';
  readonly operand: SelectorNode;
}

/** `a && b && ...` / `a || b || ...`; always two or more operands. */
export interface BooleanNode {
  readonly kind: 'and' | 'or';
  readonly operands: readonly SelectorNode[];
}

export type SelectorNode = AllNode | GlobalNode | HasNode | ValueNode | SetNode | NotNode | BooleanNode;

/** Label values, keyed by label name. Endpoint labels after profiles' `labelsToApply` are merged in. */
export type Labels = Readonly<Record<string, string>>;

/** Sorts and de-duplicates set members the way `in {...}` stores them. */
export function normaliseSetValues(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(compareStrings);
}

/** Plain code-unit order; locale-independent so canonical forms are the same on every machine. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Rewrites every label name in `node` as `prefix + name`. The policy layer uses
 * it to scope a rule's namespaceSelector to the `pcns.` labels that namespace
 * profiles put on endpoints (as Calico's PrefixVisitor does).
 */
export function prefixKeys(node: SelectorNode, prefix: string): SelectorNode {
  switch (node.kind) {
    case 'all':
    case 'global':
      return node;
    case 'not':
      return { kind: 'not', operand: prefixKeys(node.operand, prefix) };
    case 'and':
    case 'or':
      return { kind: node.kind, operands: node.operands.map((o) => prefixKeys(o, prefix)) };
    default:
      return { ...node, key: prefix + node.key };
  }
}
