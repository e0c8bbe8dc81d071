// The canonical form: one string per equivalence class that we can decide
// cheaply. Two selectors are "equal" when their canonical strings are
// identical. The canonical string is produced from an AST rewritten by rules
// that never change which label sets match:
//
//  1. Layout: single spaces around binary operators, no optional parentheses,
//     values in double quotes (single quotes only when the value contains ").
//  2. Negation is pushed to the leaves (negation normal form): `!!x` is `x`,
//     De Morgan for `!(a && b)` / `!(a || b)`, `!(k == "v")` is `k != "v"`,
//     `!(k in {..})` is `k not in {..}` and back. These are exact because
//     Calico defines `!=` and `not in` as true on an absent label.
//  3. Sets: sorted, duplicates dropped; `k in {"v"}` is `k == "v"`,
//     `k not in {"v"}` is `k != "v"`; `k in {}` matches nothing (`!all()`),
//     `k not in {}` matches everything (`all()`).
//  4. `&&` and `||` are flattened, their operands sorted (by canonical text)
//     and de-duplicated; `all()` is dropped from `&&` and absorbs `||`,
//     `!all()` the other way round.
//
// Not attempted (so such pairs stay unequal although they match the same
// labels): merging `k == "a" || k == "b"` into a set, distributing && over ||,
// contradiction detection (`k == "a" && k == "b"`). `global()` is kept as
// written because its meaning depends on where the selector is used.
import { compareStrings, normaliseSetValues, type SelectorNode } from './ast.js';

const ALL: SelectorNode = Object.freeze({ kind: 'all' });
const NONE: SelectorNode = Object.freeze({ kind: 'not', operand: ALL });

interface Canonical {
  readonly node: SelectorNode;
  readonly text: string;
}

/** The canonical AST of `node` (see the rules above). */
export function canonicalNode(node: SelectorNode): SelectorNode {
  return normalise(node, false).node;
}

/** The canonical string of `node`: `renderSelector(canonicalNode(node))`. */
export function canonicalString(node: SelectorNode): string {
  return normalise(node, false).text;
}

function leaf(node: SelectorNode): Canonical {
  return { node, text: renderSelector(node) };
}

function normalise(node: SelectorNode, negate: boolean): Canonical {
  switch (node.kind) {
    case 'all':
      return leaf(negate ? NONE : ALL);
    case 'global':
    case 'has':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return leaf(negate ? { kind: 'not', operand: node } : node);
    case 'eq':
    case 'ne':
      return leaf({ kind: (node.kind === 'eq') !== negate ? 'eq' : 'ne', key: node.key, value: node.value });
    case 'in':
    case 'notIn': {
      const positive = (node.kind === 'in') !== negate;
      // The parser already sorts sets; ASTs built in code (selectorFromNode) may not be.
      const values = normaliseSetValues(node.values);
      if (values.length === 0) return leaf(positive ? NONE : ALL);
      if (values.length === 1) return leaf({ kind: positive ? 'eq' : 'ne', key: node.key, value: values[0]! });
      return leaf({ kind: positive ? 'in' : 'notIn', key: node.key, values });
    }
    case 'not':
      return normalise(node.operand, !negate);
    case 'and':
    case 'or': {
      const kind = (node.kind === 'and') !== negate ? 'and' : 'or';
      return combine(
        kind,
        node.operands.map((o) => normalise(o, negate)),
      );
    }
  }
}

function combine(kind: 'and' | 'or', parts: readonly Canonical[]): Canonical {
  const identity = kind === 'and' ? 'all()' : '!all()';
  const absorbing = kind === 'and' ? '!all()' : 'all()';
  const byText = new Map<string, SelectorNode>();
  const add = (c: Canonical): boolean => {
    if (c.text === absorbing) return false;
    if (c.text !== identity) byText.set(c.text, c.node);
    return true;
  };
  for (const part of parts) {
    if (part.node.kind === kind) {
      // Operands of an already-canonical child of the same kind are canonical; re-render each once.
      for (const o of part.node.operands) if (!add(leaf(o))) return leaf(kind === 'and' ? NONE : ALL);
    } else if (!add(part)) {
      return part;
    }
  }
  if (byText.size === 0) return leaf(kind === 'and' ? ALL : NONE);
  const texts = [...byText.keys()].sort(compareStrings);
  if (texts.length === 1) return { node: byText.get(texts[0]!)!, text: texts[0]! };
  const node: SelectorNode = { kind, operands: texts.map((t) => byText.get(t)!) };
  return { node, text: renderSelector(node) };
}

const VALUE_OPERATOR_TEXT = {
  eq: '==',
  ne: '!=',
  contains: 'contains',
  startsWith: 'starts with',
  endsWith: 'ends with',
} as const;

/** Quotes a value for a selector: double quotes unless the value contains one. */
export function quoteValue(value: string): string {
  return value.includes('"') ? `'${value}'` : `"${value}"`;
}

/**
 * Renders any AST as selector text with minimal parentheses (it parses back to
 * the same AST, up to `!!` collapsing). For the canonical string render the
 * canonical AST, or call canonicalString.
 */
export function renderSelector(node: SelectorNode): string {
  switch (node.kind) {
    case 'all':
      return 'all()';
    case 'global':
      return 'global()';
    case 'has':
      return `has(${node.key})`;
    case 'eq':
    case 'ne':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return `${node.key} ${VALUE_OPERATOR_TEXT[node.kind]} ${quoteValue(node.value)}`;
    case 'in':
    case 'notIn':
      return `${node.key} ${node.kind === 'in' ? 'in' : 'not in'} {${node.values.map(quoteValue).join(', ')}}`;
    case 'not': {
      const k = node.operand.kind;
      const inner = renderSelector(node.operand);
      return k === 'all' || k === 'global' || k === 'has' ? `!${inner}` : `!(${inner})`;
    }
    case 'and':
      return node.operands
        .map((o) => (o.kind === 'and' || o.kind === 'or' ? `(${renderSelector(o)})` : renderSelector(o)))
        .join(' && ');
    case 'or':
      return node.operands.map((o) => (o.kind === 'or' ? `(${renderSelector(o)})` : renderSelector(o))).join(' || ');
  }
}
