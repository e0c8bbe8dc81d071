// Public API of the selector language. Everything here is pure.
//
// Semantics follow Calico's (libcalico-go) selector language: see
// docs/design/selectors.md for the grammar, the decisions and the canonical form.
import type { Labels, SelectorNode } from './ast.js';
import { canonicalString } from './canonical.js';
import { compileMatcher, type Matcher } from './evaluate.js';
import { SelectorParseError } from './parse-error.js';
import { parseSelectorNode } from './parser.js';
import { base64url, sha224 } from './sha224.js';

export type {
  AllNode,
  BooleanNode,
  GlobalNode,
  HasNode,
  Labels,
  NotNode,
  SelectorNode,
  SetNode,
  SetOperator,
  ValueNode,
  ValueOperator,
} from './ast.js';
export { SelectorParseError } from './parse-error.js';
export { prefixKeys } from './ast.js';
export { canonicalNode, canonicalString, quoteValue, renderSelector } from './canonical.js';
export { isValidLabelKey, MAX_LABEL_LENGTH } from './tokenizer.js';
export { MAX_NESTING } from './parser.js';
export { labelRestrictions, referencedKeys, requiredLabels, usesGlobal, type LabelRestriction } from './restrictions.js';

export interface Selector {
  /** The parsed AST, in the structure the user wrote. */
  readonly ast: SelectorNode;
  /** True if `labels` match. Allocation-free; safe to call in hot loops. */
  evaluate(labels: Labels): boolean;
  /** The canonical form: selectors that are "equal" (see canonical.ts) render identically. */
  toString(): string;
  /**
   * `'s:' + base64url(sha224('s:' + canonical form))`, 40 characters. Stable across
   * processes; built the way Calico builds selector ids, so it equals Calico's id
   * whenever the two canonical forms coincide (e.g. `all()`, single comparisons).
   */
  readonly uniqueId: string;
}

const utf8 = new TextEncoder();

class ParsedSelector implements Selector {
  readonly ast: SelectorNode;
  /**
   * Compiled on first use, then replaced by the compiled matcher itself, so
   * validating a resource never pays for compilation and evaluating never
   * goes through a wrapper (a caller that kept the first function still gets
   * correct answers, one indirection slower).
   */
  evaluate: Matcher;
  #canonical: string | undefined;
  #uniqueId: string | undefined;

  constructor(ast: SelectorNode) {
    this.ast = ast;
    let compiled: Matcher | undefined;
    this.evaluate = (labels) => {
      if (compiled === undefined) {
        compiled = compileMatcher(ast);
        this.evaluate = compiled;
      }
      return compiled(labels);
    };
  }

  toString(): string {
    return (this.#canonical ??= canonicalString(this.ast));
  }

  get uniqueId(): string {
    return (this.#uniqueId ??= 's:' + base64url(sha224(utf8.encode('s:' + this.toString()))));
  }
}

/**
 * Parses selector text. The empty (or blank) selector is `all()`, as Calico
 * treats it. Throws SelectorParseError (kind 'validation') with the 0-based
 * position of the first problem.
 */
export function parseSelector(text: string): Selector {
  return new ParsedSelector(parseSelectorNode(text));
}

/** Wraps an AST built in code (e.g. by the policy layer) as a Selector. */
export function selectorFromNode(ast: SelectorNode): Selector {
  return new ParsedSelector(ast);
}

/** The parse error for `text`, or undefined if it is a valid selector. */
export function validateSelector(text: string): SelectorParseError | undefined {
  try {
    parseSelectorNode(text);
    return undefined;
  } catch (err) {
    if (err instanceof SelectorParseError) return err;
    throw err;
  }
}
