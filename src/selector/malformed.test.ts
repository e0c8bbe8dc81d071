// Malformed selectors: each must be rejected with a SelectorParseError (a
// 'validation' CalicoError) whose position points at the problem and whose
// message names that position and what was expected there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCalicoError } from '../base/errors.js';
import { MAX_NESTING, parseSelector, SelectorParseError, validateSelector } from './index.js';

// [selector, position, a fragment the message must contain]
const malformed: Array<[string, number, string]> = [
  ['a', 1, 'expected an operator after label name "a"'],
  ['a ', 2, 'expected an operator'],
  ['b == b', 5, 'expected a quoted string after "=="'],
  ['b contains b', 11, 'quoted string after "contains"'],
  ['b starts with b', 14, 'quoted string after "starts with"'],
  ['b ends with b', 12, 'quoted string after "ends with"'],
  ['b != ', 5, 'quoted string after "!="'],
  ["'b1' == b", 0, 'unexpected string "b1"'],
  ['a b', 2, 'unexpected "b" at position 2; expected an operator'],
  ['!', 1, 'unexpected end of selector'],
  ['!!!', 3, 'unexpected end of selector'],
  ['foo == "bar" &', 13, 'use "&&"'],
  ['foo == "bar" |', 13, 'use "||"'],
  ['foo == "bar" & x', 13, 'use "&&"'],
  ['foo != ||', 7, 'quoted string after "!="'],
  ['foo in {"", ||', 12, 'expected a quoted string or "}"'],
  ['foo in {"",', 11, 'expected a quoted string or "}"'],
  ['foo in {,}', 8, 'expected a quoted string or "}"'],
  ['foo in {"a",,}', 12, 'quoted string or "}"'],
  ['foo in {"a" "b"}', 12, 'expected "," or "}"'],
  ['foo in {"a"', 11, 'expected "," or "}"'],
  ['foo in ""', 7, 'expected "{"'],
  ['foo in', 6, 'expected "{"'],
  ['foo not in "x"', 11, 'expected "{"'],
  ['foo in {a}', 8, 'unexpected label name "a"'],
  ['"FOO', 0, 'unterminated string'],
  [`"FOO'`, 0, 'unterminated string'],
  ["'FOO", 0, 'unterminated string'],
  ['a == "b', 5, 'unterminated string'],
  ["a in {'x', 'y}", 11, 'unterminated string'],
  ['(', 1, 'unexpected end of selector'],
  ['(a == "foo"', 11, 'expected "&&", "||" or ")" to close the "(" at position 0'],
  ['((a == "foo")', 13, 'to close the "(" at position 0'],
  [')', 0, 'unexpected ")" at position 0'],
  ['()', 1, 'unexpected ")" at position 1; expected a label name'],
  ['a == "b")', 8, 'has no matching "("'],
  ['a == "b" && (c == "d"))', 22, 'has no matching "("'],
  ['%', 0, 'unexpected "%"'],
  ['a == "b" && %', 12, 'unexpected "%"'],
  ['a == "b" || %', 12, 'unexpected "%"'],
  ['has(foo) &&', 11, 'unexpected end of selector'],
  ['has(foo) ||', 11, 'unexpected end of selector'],
  ['&& a == "b"', 0, 'unexpected "&&"'],
  ['|| a == "b"', 0, 'unexpected "||"'],
  ['a == "b" && && c == "d"', 12, 'unexpected "&&"'],
  ['a == "b" c == "d"', 9, 'expected "&&", "||" or end of selector'],
  ['a == "b" "c"', 9, 'expected "&&", "||" or end of selector'],
  ['a = "b"', 2, 'use "=="'],
  ['a === "b"', 4, 'use "=="'],
  ['a => "b"', 2, 'use "=="'],
  ['a == == "b"', 5, 'quoted string after "=="'],
  ['a !== "b"', 4, 'use "=="'],
  ['a > "b"', 2, 'unexpected ">"'],
  ['a ~= "b"', 2, 'unexpected "~"'],
  ['a like "b"', 2, 'unexpected "like"'],
  ['a inx {"b"}', 2, 'unexpected "inx"'],
  ['a containsx "b"', 2, 'unexpected "containsx"'],
  ['a starts "b"', 2, 'unexpected "starts"'],
  ['a ends "b"', 2, 'unexpected "ends"'],
  ['a not "b"', 2, 'unexpected "not"'],
  ['has(', 4, 'expected a label name'],
  ['has()', 4, 'expected a label name'],
  ['has(a', 5, 'expected ")" to close "has("'],
  ['has(a b)', 6, 'expected ")" to close "has("'],
  ['has(a == "b")', 6, 'expected ")"'],
  ['has("a")', 4, 'expected a label name'],
  ['has (a)', 4, 'expected an operator after label name "has"'],
  ['all', 3, 'expected an operator after label name "all"'],
  ['all(', 4, 'all() takes no arguments'],
  ['all(a)', 4, 'all() takes no arguments'],
  ['global(x)', 7, 'global() takes no arguments'],
  ['global(', 7, 'global() takes no arguments'],
  ['all() all()', 6, 'expected "&&", "||" or end of selector'],
  ['all() == "x"', 6, 'expected "&&", "||" or end of selector'],
  ['has(a) == "x"', 7, 'expected "&&", "||" or end of selector'],
  ['!= "x"', 0, 'unexpected "!="'],
  ['== "x"', 0, 'unexpected "=="'],
  ['{"x"}', 0, 'unexpected "{"'],
  ['a == "x",', 8, 'expected "&&", "||" or end of selector'],
  ['a == "x"\n', 8, 'unexpected newline at position 8; only spaces and tabs'],
  ['a ==\n"x"', 4, 'unexpected newline'],
  ['a ==\r\n"x"', 4, 'unexpected carriage return'],
  ['a == "x" \u0000', 9, 'control character U+0000'],
  ['ä == "x"', 0, 'unexpected "ä"'],
  ['a == "x" && 🙂 == "y"', 12, 'unexpected "🙂"'],
  ['a:b == "x"', 1, 'unexpected ":"'],
  ['a\\b == "x"', 1, 'unexpected "\\\\"'],
  ['a == "x" && !', 13, 'unexpected end of selector'],
  ['a == "x" && !(', 14, 'unexpected end of selector'],
  ['!(a == "x"', 10, 'to close the "(" at position 1'],
  [`${'x'.repeat(513)} == "y"`, 0, 'the limit is 512'],
  [`has(${'x'.repeat(600)})`, 4, 'the limit is 512'],
  [`${'('.repeat(MAX_NESTING + 1)}a == "b"${')'.repeat(MAX_NESTING + 1)}`, MAX_NESTING, 'nest deeper than'],
];

test(`there are 50+ malformed selectors (${malformed.length})`, () => {
  assert.ok(malformed.length >= 50);
});

for (const [text, position, fragment] of malformed) {
  test(`rejects ${JSON.stringify(text.length > 60 ? text.slice(0, 57) + '...' : text)}`, () => {
    let caught: unknown;
    try {
      parseSelector(text);
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof SelectorParseError, `expected SelectorParseError, got ${String(caught)}`);
    assert.ok(isCalicoError(caught, 'validation'));
    assert.equal(caught.retryable, false);
    assert.equal(caught.selector, text);
    assert.equal(caught.position, position, caught.reason);
    assert.ok(caught.reason.includes(fragment), `message ${JSON.stringify(caught.reason)} lacks ${JSON.stringify(fragment)}`);
    assert.ok(caught.reason.includes(`position ${position}`), caught.reason);
    assert.ok(caught.message.includes(caught.reason));
    assert.equal(validateSelector(text)?.position, position);
  });
}

test('nesting up to the limit is accepted', () => {
  const text = `${'('.repeat(MAX_NESTING)}a == "b"${')'.repeat(MAX_NESTING)}`;
  assert.equal(parseSelector(text).toString(), 'a == "b"');
  assert.equal(parseSelector(`${'x'.repeat(512)} == "y"`).evaluate({ ['x'.repeat(512)]: 'y' }), true);
});

test('long runs of "!" do not recurse', () => {
  assert.equal(parseSelector(`${'!'.repeat(100_001)}has(a)`).evaluate({}), true);
  assert.equal(parseSelector(`${'!'.repeat(100_000)}has(a)`).evaluate({}), false);
});
