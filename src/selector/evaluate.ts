// Turns an AST into a matcher function once, so that evaluating a selector
// against an endpoint's labels walks no AST and allocates nothing: the calc
// graph runs this for every (selector, endpoint) pair it has to (re)consider.
//
// Two compilers, same semantics:
//  - generated: the selector becomes the body of a small JavaScript function
//    (`l["app"] === "db" && ...`). Each selector then has its own property
//    load sites, which stay monomorphic however many other selectors exist;
//    with a shared closure tree every `labels[key]` site sees every key and
//    shape in the system and goes megamorphic (4-6x slower, see
//    docs/design/selectors.md). Only label names (restricted by the
//    tokenizer, still JSON-quoted) and JSON-quoted values reach the source.
//  - closures: a tree of closures; used when code generation from strings is
//    disabled (node --disallow-code-generation-from-strings) or the selector
//    is too large for one expression.
//
// A label counts as present only if its value is a string; that also keeps
// inherited Object.prototype members (`constructor`, `__proto__`) from
// looking like labels when `labels` is an ordinary object.
import type { Labels, SelectorNode } from './ast.js';

export type Matcher = (labels: Labels) => boolean;

const matchAll: Matcher = () => true;

/** Builds the fastest matcher available for `node`. */
export function compileMatcher(node: SelectorNode): Matcher {
  return compileGeneratedMatcher(node) ?? compileClosureMatcher(node);
}

/** Builds the closure-tree matcher. Recursion depth is bounded by the parser's nesting limit. */
export function compileClosureMatcher(node: SelectorNode): Matcher {
  switch (node.kind) {
    case 'all':
    case 'global':
      return matchAll;
    case 'has': {
      const key = node.key;
      return (labels) => typeof labels[key] === 'string';
    }
    case 'eq': {
      const { key, value } = node;
      return (labels) => labels[key] === value;
    }
    case 'ne': {
      // An absent label is "not equal" (Calico semantics).
      const { key, value } = node;
      return (labels) => labels[key] !== value;
    }
    case 'contains': {
      const { key, value } = node;
      return (labels) => {
        const v = labels[key];
        return typeof v === 'string' && v.includes(value);
      };
    }
    case 'startsWith': {
      const { key, value } = node;
      return (labels) => {
        const v = labels[key];
        return typeof v === 'string' && v.startsWith(value);
      };
    }
    case 'endsWith': {
      const { key, value } = node;
      return (labels) => {
        const v = labels[key];
        return typeof v === 'string' && v.endsWith(value);
      };
    }
    case 'in': {
      const key = node.key;
      const set = new Set(node.values);
      return (labels) => {
        const v = labels[key];
        return typeof v === 'string' && set.has(v);
      };
    }
    case 'notIn': {
      // An absent label is "not in" any set (Calico semantics).
      const key = node.key;
      const set = new Set(node.values);
      return (labels) => {
        const v = labels[key];
        return typeof v !== 'string' || !set.has(v);
      };
    }
    case 'not': {
      const inner = compileClosureMatcher(node.operand);
      return (labels) => !inner(labels);
    }
    case 'and': {
      const parts = node.operands.map(compileClosureMatcher);
      if (parts.length === 2) {
        const [a, b] = parts as [Matcher, Matcher];
        return (labels) => a(labels) && b(labels);
      }
      return (labels) => {
        for (let i = 0; i < parts.length; i++) if (!parts[i]!(labels)) return false;
        return true;
      };
    }
    case 'or': {
      const parts = node.operands.map(compileClosureMatcher);
      if (parts.length === 2) {
        const [a, b] = parts as [Matcher, Matcher];
        return (labels) => a(labels) || b(labels);
      }
      return (labels) => {
        for (let i = 0; i < parts.length; i++) if (parts[i]!(labels)) return true;
        return false;
      };
    }
  }
}

/** Selectors with more leaves than this use closures: one huge expression buys nothing and costs parse time. */
const MAX_GENERATED_LEAVES = 512;
/** Sets up to this size compile to `===` chains; larger ones to a Set lookup. */
const MAX_INLINE_SET = 4;

let codeGenerationAllowed = true;

/**
 * Builds the generated-code matcher, or returns undefined if the selector is
 * too large or the runtime forbids code generation from strings.
 */
export function compileGeneratedMatcher(node: SelectorNode): Matcher | undefined {
  if (!codeGenerationAllowed) return undefined;
  const sets: ReadonlySet<string>[] = [];
  let leaves = 0;
  const q = (s: string): string => JSON.stringify(s);
  // `v` is a scratch variable of the generated function; every use assigns it first.
  const gen = (n: SelectorNode): string => {
    if (++leaves > MAX_GENERATED_LEAVES) throw new TooLarge();
    switch (n.kind) {
      case 'all':
      case 'global':
        return 'true';
      case 'has':
        return `typeof l[${q(n.key)}] === "string"`;
      case 'eq':
        return `l[${q(n.key)}] === ${q(n.value)}`;
      case 'ne':
        return `l[${q(n.key)}] !== ${q(n.value)}`;
      case 'contains':
        return `(typeof (v = l[${q(n.key)}]) === "string" && v.includes(${q(n.value)}))`;
      case 'startsWith':
        return `(typeof (v = l[${q(n.key)}]) === "string" && v.startsWith(${q(n.value)}))`;
      case 'endsWith':
        return `(typeof (v = l[${q(n.key)}]) === "string" && v.endsWith(${q(n.value)}))`;
      case 'in':
      case 'notIn': {
        let test: string;
        if (n.values.length === 0) {
          test = 'false';
        } else if (n.values.length <= MAX_INLINE_SET) {
          // An absent label reads as undefined, which equals no string.
          test = `((v = l[${q(n.key)}]) === ${n.values.map(q).join(' || v === ')})`;
        } else {
          sets.push(new Set(n.values));
          test = `(typeof (v = l[${q(n.key)}]) === "string" && s[${sets.length - 1}].has(v))`;
        }
        return n.kind === 'in' ? test : `!${test}`;
      }
      case 'not':
        return `!(${gen(n.operand)})`;
      case 'and':
        return `(${n.operands.map(gen).join(' && ')})`;
      case 'or':
        return `(${n.operands.map(gen).join(' || ')})`;
    }
  };
  let body: string;
  try {
    body = gen(node);
  } catch (err) {
    if (err instanceof TooLarge) return undefined;
    throw err;
  }
  try {
    const factory = new Function('s', `"use strict"; return function selectorMatcher(l) { let v; return ${body}; };`);
    return factory(sets) as Matcher;
  } catch (err) {
    // EvalError: code generation from strings is disabled in this runtime; stop trying.
    if (err instanceof EvalError) {
      codeGenerationAllowed = false;
      return undefined;
    }
    throw err;
  }
}

class TooLarge extends Error {}
