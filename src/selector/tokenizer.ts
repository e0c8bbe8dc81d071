// Splits selector text into tokens. Like Calico's tokenizer it is
// context-sensitive in one place: right after a label name the next word must
// be an operator (`in`, `not in`, `contains`, `starts with`, `ends with`), so
// a label may itself be called `in` or `contains`. Calls (`has(`, `all(`,
// `global(`) are recognised only with the "(" immediately after the name,
// again as Calico does, so `has` alone is an ordinary label name.
import { SelectorParseError } from './parse-error.js';

export type TokenKind =
  | 'label'
  | 'string'
  | 'lbrace'
  | 'rbrace'
  | 'comma'
  | 'eq'
  | 'ne'
  | 'in'
  | 'notIn'
  | 'contains'
  | 'startsWith'
  | 'endsWith'
  | 'not'
  | 'and'
  | 'or'
  | 'lparen'
  | 'rparen'
  | 'has'
  | 'all'
  | 'global'
  | 'eof'
  // Stands in for the rest of the input after a lexical error, so the parser
  // reports whichever problem comes first in the text.
  | 'error';

export interface Token {
  readonly kind: TokenKind;
  /** Label name for `label` and `has`, the unquoted text for `string`, "" otherwise. */
  readonly value: string;
  /** 0-based index of the token's first character. */
  readonly start: number;
  /** Index just past the token's last character. */
  readonly end: number;
  /** Only on `error` tokens. */
  readonly error?: SelectorParseError;
}

/** Calico's limit on a label name's length inside a selector. */
export const MAX_LABEL_LENGTH = 512;

const OPERATOR_WORDS: ReadonlyArray<{ words: readonly string[]; kind: TokenKind }> = [
  { words: ['contains'], kind: 'contains' },
  { words: ['starts', 'with'], kind: 'startsWith' },
  { words: ['ends', 'with'], kind: 'endsWith' },
  // "notin" (no space) is accepted too, as Calico does.
  { words: ['not', 'in'], kind: 'notIn' },
  { words: ['in'], kind: 'in' },
];

/** Characters a label name may contain: letters, digits and `_ . / -` (so DNS prefixes like `projectcalico.org/x` work). */
export function isLabelChar(code: number): boolean {
  return (
    (code >= 97 && code <= 122) || // a-z
    (code >= 65 && code <= 90) || // A-Z
    (code >= 48 && code <= 57) || // 0-9
    code === 95 || // _
    code === 46 || // .
    code === 47 || // /
    code === 45 // -
  );
}

/** Only space and tab separate tokens, exactly as in Calico (a newline inside a selector is an error there too). */
function isSpace(code: number): boolean {
  return code === 32 || code === 9;
}

/** True if `key` can be written in a selector as a label name. */
export function isValidLabelKey(key: string): boolean {
  if (key.length === 0 || key.length > MAX_LABEL_LENGTH) return false;
  for (let i = 0; i < key.length; i++) if (!isLabelChar(key.charCodeAt(i))) return false;
  return true;
}

/** How a token is named in error messages. */
export function describeToken(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of selector';
    case 'error':
      return 'invalid input';
    case 'label':
      return `label name ${JSON.stringify(t.value)}`;
    case 'string':
      return `string ${JSON.stringify(t.value)}`;
    case 'has':
      return `"has(${t.value})"`;
    default:
      return `"${TOKEN_TEXT[t.kind]}"`;
  }
}

const TOKEN_TEXT: Record<TokenKind, string> = {
  label: '',
  string: '',
  lbrace: '{',
  rbrace: '}',
  comma: ',',
  eq: '==',
  ne: '!=',
  in: 'in',
  notIn: 'not in',
  contains: 'contains',
  startsWith: 'starts with',
  endsWith: 'ends with',
  not: '!',
  and: '&&',
  or: '||',
  lparen: '(',
  rparen: ')',
  has: 'has(...)',
  error: '',
  all: 'all()',
  global: 'global()',
  eof: '',
};

/** Describes the character at `i` for an error message. */
function describeChar(text: string, i: number): string {
  if (i >= text.length) return 'end of selector';
  const c = text.codePointAt(i) ?? 0;
  if (c === 10) return 'newline';
  if (c === 13) return 'carriage return';
  if (c < 32 || c === 127) return `control character U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
  return JSON.stringify(String.fromCodePoint(c));
}

/** Tokenizes `text`; the last token is always `eof`. Throws SelectorParseError on the first lexical error. */
export function tokenize(text: string): Token[] {
  const tokens = scanTokens(text);
  const last = tokens[tokens.length - 1]!;
  if (last.error !== undefined) throw last.error;
  return tokens;
}

/** Tokenizes `text`; the last token is `eof`, or `error` (carrying the SelectorParseError) at the first lexical error. */
export function scanTokens(text: string): Token[] {
  const tokens: Token[] = [];
  const fail = (reason: string, position: number): never => {
    throw new SelectorParseError(reason, { position, selector: text });
  };
  const skipSpace = (from: number): number => {
    let i = from;
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    return i;
  };
  const labelEnd = (from: number): number => {
    let i = from;
    while (i < text.length && isLabelChar(text.charCodeAt(i))) i++;
    return i;
  };
  const readLabel = (from: number): string => {
    const end = labelEnd(from);
    if (end === from) fail(`unexpected ${describeChar(text, from)} at position ${from}; expected a label name`, from);
    if (end - from > MAX_LABEL_LENGTH) {
      fail(`label name at position ${from} is ${end - from} characters long; the limit is ${MAX_LABEL_LENGTH}`, from);
    }
    return text.slice(from, end);
  };
  const push = (kind: TokenKind, start: number, end: number, value = ''): void => {
    tokens.push({ kind, value, start, end });
  };

  let i = skipSpace(0);
  try {
    scan();
  } catch (err) {
    if (!(err instanceof SelectorParseError)) throw err;
    tokens.push({ kind: 'error', value: '', start: err.position, end: text.length, error: err });
    return tokens;
  }
  push('eof', text.length, text.length);
  return tokens;

  function scan(): void {
    while (i < text.length) {
      const start = i;
      const c = text.charCodeAt(i);
      const prev = tokens.length > 0 ? tokens[tokens.length - 1]!.kind : undefined;
      switch (c) {
        case 40: // (
          push('lparen', i, ++i);
          break;
        case 41: // )
          push('rparen', i, ++i);
          break;
        case 123: // {
          push('lbrace', i, ++i);
          break;
        case 125: // }
          push('rbrace', i, ++i);
          break;
        case 44: // ,
          push('comma', i, ++i);
          break;
        case 34: // "
        case 39: {
          // ' -- No escapes: a value runs to the next quote of the same kind, so a value
          // containing both quote characters cannot be written (as in Calico).
          const close = text.indexOf(c === 34 ? '"' : "'", i + 1);
          if (close === -1) {
            fail(`unterminated string starting at position ${i}; add the closing ${c === 34 ? '"' : "'"}`, i);
          }
          push('string', start, close + 1, text.slice(i + 1, close));
          i = close + 1;
          break;
        }
        case 61: // =
          if (text.charCodeAt(i + 1) !== 61) fail(`"=" at position ${i}; use "==" to compare a label with a value`, i);
          push('eq', i, (i += 2));
          break;
        case 33: // !
          if (text.charCodeAt(i + 1) === 61) push('ne', i, (i += 2));
          else push('not', i, ++i);
          break;
        case 38: // &
          if (text.charCodeAt(i + 1) !== 38) fail(`"&" at position ${i}; use "&&" for "and"`, i);
          push('and', i, (i += 2));
          break;
        case 124: // |
          if (text.charCodeAt(i + 1) !== 124) fail(`"|" at position ${i}; use "||" for "or"`, i);
          push('or', i, (i += 2));
          break;
        default:
          if (prev === 'label') {
            i = readOperatorWord(i);
          } else if (text.startsWith('has(', i)) {
            const keyAt = skipSpace(i + 4);
            const key = readLabel(keyAt);
            const closeAt = skipSpace(keyAt + key.length);
            if (text.charCodeAt(closeAt) !== 41) {
              fail(
                closeAt >= text.length
                  ? `unexpected end of selector at position ${closeAt}; expected ")" to close "has(" at position ${start}`
                  : `unexpected ${describeChar(text, closeAt)} at position ${closeAt}; expected ")" to close "has(" at position ${start}`,
                closeAt,
              );
            }
            i = closeAt + 1;
            push('has', start, i, key);
          } else if (text.startsWith('all(', i) || text.startsWith('global(', i)) {
            const kind = text.startsWith('all(', i) ? 'all' : 'global';
            const closeAt = skipSpace(i + kind.length + 1);
            if (text.charCodeAt(closeAt) !== 41) {
              fail(
                `${closeAt >= text.length ? 'unexpected end of selector' : `unexpected ${describeChar(text, closeAt)}`} at position ${closeAt}; ${kind}() takes no arguments, expected ")"`,
                closeAt,
              );
            }
            i = closeAt + 1;
            push(kind, start, i);
          } else if (isLabelChar(c)) {
            const key = readLabel(i);
            i += key.length;
            push('label', start, i, key);
          } else if (c === 10 || c === 13 || c === 11 || c === 12) {
            fail(`unexpected ${describeChar(text, i)} at position ${i}; only spaces and tabs may separate tokens`, i);
          } else {
            fail(
              `unexpected ${describeChar(text, i)} at position ${i}; expected a label name, has(...), all(), global(), "!" or "("`,
              i,
            );
          }
      }
      i = skipSpace(i);
    }
  }

  // After a label, only an operator may follow; `in` etc. must end at a word
  // boundary so that `a inx` is not read as `a in x`.
  function readOperatorWord(from: number): number {
    for (const op of OPERATOR_WORDS) {
      let at = from;
      let ok = true;
      for (let w = 0; w < op.words.length; w++) {
        const word = op.words[w]!;
        if (!text.startsWith(word, at)) {
          ok = false;
          break;
        }
        at += word.length;
        if (w < op.words.length - 1) at = skipSpace(at);
      }
      if (ok && (at >= text.length || !isLabelChar(text.charCodeAt(at)))) {
        push(op.kind, from, at);
        return at;
      }
    }
    const label = tokens[tokens.length - 1]!.value;
    return fail(
      `unexpected ${describeWord(from)} at position ${from}; expected an operator after label name ${JSON.stringify(label)} ` +
        '(==, !=, in, not in, contains, starts with, ends with)',
      from,
    );
  }

  function describeWord(from: number): string {
    const end = labelEnd(from);
    return end > from ? JSON.stringify(text.slice(from, end)) : describeChar(text, from);
  }
}
