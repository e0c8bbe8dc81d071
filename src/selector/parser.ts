// Recursive-descent parser. Precedence, loosest first:  ||  then  &&  then
// unary ! (which applies to one operation or parenthesised group, as in
// Calico, so `!a == "x" && b == "y"` is `(!(a == "x")) && (b == "y")`).
//
//   selector   = [ or-expr ] ;                      (empty or blank = all())
//   or-expr    = and-expr { "||" and-expr } ;
//   and-expr   = operation { "&&" operation } ;
//   operation  = { "!" } ( "(" or-expr ")" | "all()" | "global()" | "has(" label ")" | label op ) ;
//
// The AST keeps the user's structure (so evaluation short-circuits in the
// order written); canonical.ts does the normalising.
import type { SelectorNode, SetOperator, ValueOperator } from './ast.js';
import { normaliseSetValues } from './ast.js';
import { SelectorParseError } from './parse-error.js';
import { describeToken, scanTokens, type Token, type TokenKind } from './tokenizer.js';

/** Parentheses may nest this deep; deeper input is rejected rather than risking stack exhaustion. */
export const MAX_NESTING = 100;

const ALL: SelectorNode = Object.freeze({ kind: 'all' });

const VALUE_OPERATORS: Partial<Record<TokenKind, ValueOperator>> = {
  eq: 'eq',
  ne: 'ne',
  contains: 'contains',
  startsWith: 'startsWith',
  endsWith: 'endsWith',
};
const SET_OPERATORS: Partial<Record<TokenKind, SetOperator>> = { in: 'in', notIn: 'notIn' };
const OPERATION_START = 'a label name, has(...), all(), global(), "!" or "("';

/** Parses selector text into an AST. Throws SelectorParseError with the position of the first problem. */
export function parseSelectorNode(text: string): SelectorNode {
  const tokens = scanTokens(text);
  let at = 0;
  let depth = 0;

  const peek = (): Token => {
    const t = tokens[at]!;
    if (t.error !== undefined) throw t.error;
    return t;
  };
  const fail = (reason: string, position: number): never => {
    throw new SelectorParseError(reason, { position, selector: text });
  };
  const unexpected = (t: Token, expected: string): never =>
    fail(`unexpected ${describeToken(t)} at position ${t.start}; expected ${expected}`, t.start);

  if (peek().kind === 'eof') return ALL; // Calico: the empty selector selects everything.
  const root = parseOr();
  const last = peek();
  if (last.kind !== 'eof') {
    unexpected(last, last.kind === 'rparen' ? '"&&", "||" or end of selector (this ")" has no matching "(")' : '"&&", "||" or end of selector');
  }
  return root;

  function parseOr(): SelectorNode {
    const operands = [parseAnd()];
    while (peek().kind === 'or') {
      at++;
      operands.push(parseAnd());
    }
    return operands.length === 1 ? operands[0]! : { kind: 'or', operands };
  }

  function parseAnd(): SelectorNode {
    const operands = [parseOperation()];
    while (peek().kind === 'and') {
      at++;
      operands.push(parseOperation());
    }
    return operands.length === 1 ? operands[0]! : { kind: 'and', operands };
  }

  function parseOperation(): SelectorNode {
    // A run of "!" collapses to one negation or none, iteratively, so "!!!!..." cannot exhaust the stack.
    let negated = false;
    while (peek().kind === 'not') {
      negated = !negated;
      at++;
    }
    const node = parsePositive();
    return negated ? { kind: 'not', operand: node } : node;
  }

  function parsePositive(): SelectorNode {
    const t = peek();
    switch (t.kind) {
      case 'all':
        at++;
        return ALL;
      case 'global':
        at++;
        return { kind: 'global' };
      case 'has':
        at++;
        return { kind: 'has', key: t.value };
      case 'label':
        at++;
        return parseLabelOperation(t);
      case 'lparen': {
        if (depth >= MAX_NESTING) fail(`parentheses nest deeper than ${MAX_NESTING} levels at position ${t.start}`, t.start);
        at++;
        depth++;
        const inner = parseOr();
        depth--;
        const close = peek();
        if (close.kind !== 'rparen') unexpected(close, `"&&", "||" or ")" to close the "(" at position ${t.start}`);
        at++;
        return inner;
      }
      default:
        return unexpected(t, OPERATION_START);
    }
  }

  function parseLabelOperation(label: Token): SelectorNode {
    const op = peek();
    const valueOp = VALUE_OPERATORS[op.kind];
    if (valueOp !== undefined) {
      at++;
      const value = peek();
      if (value.kind !== 'string') unexpected(value, `a quoted string after ${describeToken(op)}`);
      at++;
      return { kind: valueOp, key: label.value, value: value.value };
    }
    const setOp = SET_OPERATORS[op.kind];
    if (setOp !== undefined) {
      at++;
      const open = peek();
      if (open.kind !== 'lbrace') unexpected(open, `"{" to start the set of values after ${describeToken(op)}`);
      at++;
      return { kind: setOp, key: label.value, values: normaliseSetValues(parseSetBody(open)) };
    }
    return unexpected(
      op,
      `an operator after label name ${JSON.stringify(label.value)} (==, !=, in, not in, contains, starts with, ends with)`,
    );
  }

  // `{}`, `{"a"}`, `{"a", "b"}`; a trailing comma (`{"a",}`) is accepted as Calico accepts it.
  function parseSetBody(open: Token): string[] {
    const values: string[] = [];
    for (;;) {
      const t = peek();
      if (t.kind === 'rbrace') {
        at++;
        return values;
      }
      if (t.kind !== 'string') {
        unexpected(t, values.length === 0 ? 'a quoted string or "}"' : `a quoted string or "}" to close the "{" at position ${open.start}`);
      }
      at++;
      values.push(t.value);
      const sep = peek();
      if (sep.kind === 'comma') at++;
      else if (sep.kind !== 'rbrace') unexpected(sep, `"," or "}" to close the "{" at position ${open.start}`);
    }
  }
}
