// Compiles an AST into a tree of closures once, so that evaluating a selector
// against an endpoint's labels walks no AST, looks nothing up by node kind and
// allocates nothing: the calc graph runs this for every (selector, endpoint)
// pair it has to (re)consider.
//
// A label counts as present only if its value is a string; that also keeps
// inherited Object.prototype members (`constructor`, `__proto__`) from
// looking like labels when `labels` is an ordinary object.
import type { Labels, SelectorNode } from './ast.js';

export type Matcher = (labels: Labels) => boolean;

const matchAll: Matcher = () => true;

/** Builds the matcher for `node`. Recursion depth is bounded by the parser's nesting limit. */
export function compileMatcher(node: SelectorNode): Matcher {
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
      const inner = compileMatcher(node.operand);
      return (labels) => !inner(labels);
    }
    case 'and': {
      const parts = node.operands.map(compileMatcher);
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
      const parts = node.operands.map(compileMatcher);
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
