// Canonical form: which selectors are "equal" (render identically) and which
// are not, uniqueId, and idempotence on hand-picked cases. The randomized
// round-trip property lives in fuzz.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseSelector, renderSelector, selectorFromNode } from './index.js';
import { base64url, sha224 } from './sha224.js';

// Each group: selectors that must all have the canonical form given first.
const equalGroups: Array<[canonical: string, ...variants: string[]]> = [
  ['all()', '', '   ', 'all()', ' all( ) ', '(all())', '!!all()', 'all() && all()', 'all() || has(a)', 'a not in {}'],
  ['!all()', '!all()', 'a in {}', '!(all())', 'has(a) && !all()', '!all() || !all()'],
  ['global()', 'global()', ' global( )', '(global())', 'global() && all()'],
  ['a == "b"', 'a=="b"', "a == 'b'", '  a  ==  "b"  ', '(a == "b")', '!!a == "b"', '!(a != "b")', 'a in {"b"}', 'a in {"b", "b"}', "a in {'b',}", 'a == "b" && a == "b"', 'a == "b" || a == "b"', '!a not in {"b"}'],
  ['a != "b"', 'a!="b"', '!a == "b"', '!(a == "b")', 'a not in {"b"}', 'a notin {"b"}', '!a in {"b"}'],
  ["a == '\"'", "a == '\"'", `a in {'"'}`],
  [`a == "'"`, `a == "'"`, `a == "'"`],
  ['a in {"x", "y", "z"}', 'a in {"z", "y", "x"}', "a in {'x','y','z','x'}", '!a not in {"y", "x", "z"}', 'a in {"x","y","z",}'],
  ['a not in {"x", "y"}', 'a not in {"y", "x"}', 'a notin{"x","y"}', '!(a in {"y", "x", "y"})'],
  ['has(a)', 'has(a)', 'has( a )', 'has(\ta\t)', '!!has(a)', '!(!has(a))'],
  ['!has(a)', '!has(a)', '! has(a)', '!!!has(a)', '!(has(a))'],
  ['a contains "x"', 'a contains "x"', "a contains 'x'", 'a   contains"x"'],
  ['!(a contains "x")', '!a contains "x"', '!(a contains "x")', '!!!a contains "x"'],
  ['a starts with "x"', 'a startswith "x"', "a starts   with 'x'"],
  ['a ends with "x"', 'a endswith "x"', 'a ends with "x"'],
  ['a == "1" && b == "2"', 'a == "1" && b == "2"', 'b == "2" && a == "1"', '(b == "2") && (a == "1")', 'a == "1" && b == "2" && a == "1"', '!(a != "1" || b != "2")'],
  ['a == "1" || b == "2"', 'b == "2" || a == "1"', '!(a != "1" && b != "2")', 'a == "1" || (b == "2" || a == "1")'],
  [
    'a == "1" && b == "2" && c == "3"',
    'a == "1" && (b == "2" && c == "3")',
    '(a == "1" && b == "2") && c == "3"',
    'c == "3" && b == "2" && a == "1"',
  ],
  [
    '(a == "1" || b == "2") && c == "3"',
    'c == "3" && (b == "2" || a == "1")',
    '(a == "1" || b == "2") && c == "3" && all()',
  ],
  ['a == "1" || b == "2" && c == "3"', 'c == "3" && b == "2" || a == "1"', 'a == "1" || (b == "2" && c == "3")'],
  ['!has(a) || has(b)', '!(has(a) && !has(b))', 'has(b) || !has(a)'],
  [
    'a != "1" || b not in {"x", "y"} || has(c)',
    '!(a == "1" && b in {"x", "y"} && !has(c))',
  ],
  [
    'pcns.team == "red" && projectcalico.org/namespace == "ns"',
    'projectcalico.org/namespace == "ns" && pcns.team == "red"',
    "pcns.team == 'red' && projectcalico.org/namespace == 'ns'",
  ],
];

// Pairs that match different label sets (or that we choose not to identify) and so must differ.
const unequalPairs: Array<[string, string]> = [
  ['a == "b"', 'a == "B"'],
  ['a == "b"', 'b == "a"'],
  ['a == "b"', 'a != "b"'],
  ['has(a)', '!has(a)'],
  ['a in {"x", "y"}', 'a not in {"x", "y"}'],
  ['a in {"x", "y"}', 'a in {"x", "y", "z"}'],
  ['all()', 'global()'],
  ['a == "1" && b == "2"', 'a == "1" || b == "2"'],
  ['(a == "1" || b == "2") && c == "3"', 'a == "1" || b == "2" && c == "3"'],
  ['a contains "x"', 'a starts with "x"'],
  ['a starts with "x"', 'a ends with "x"'],
  ['!(a contains "x")', 'a contains "x"'],
  ['a == ""', 'has(a)'],
  // Equivalent but deliberately not identified (documented limits of the canonical form):
  ['a == "x" || a == "y"', 'a in {"x", "y"}'],
  ['a == "x" && a == "y"', '!all()'],
];

for (const [canonical, ...variants] of equalGroups) {
  test(`canonical form ${JSON.stringify(canonical)}`, () => {
    assert.equal(parseSelector(canonical).toString(), canonical, 'the canonical form is its own canonical form');
    const ids = new Set<string>();
    for (const v of variants) {
      const sel = parseSelector(v);
      assert.equal(sel.toString(), canonical, `canonical form of ${JSON.stringify(v)}`);
      ids.add(sel.uniqueId);
    }
    assert.equal(ids.size, 1, 'equal selectors have one uniqueId');
  });
}

test('unequal selectors render differently and have different ids', () => {
  for (const [a, b] of unequalPairs) {
    const sa = parseSelector(a);
    const sb = parseSelector(b);
    assert.notEqual(sa.toString(), sb.toString(), `${a} vs ${b}`);
    assert.notEqual(sa.uniqueId, sb.uniqueId, `${a} vs ${b}`);
  }
});

test('uniqueId is s: + base64url(sha224("s:" + canonical)), as Calico builds it', () => {
  for (const text of ['', 'a == "b"', 'role in {"db", "web"} && !has(x)', 'k == "ünïcødé"']) {
    const sel = parseSelector(text);
    const expected = 's:' + createHash('sha224').update('s:' + sel.toString()).digest('base64url');
    assert.equal(sel.uniqueId, expected);
    assert.equal(sel.uniqueId.length, 40);
    assert.equal(sel.uniqueId, sel.uniqueId);
  }
  // Calico's own id for the selector "all()" (from its test suite).
  assert.equal(parseSelector('').uniqueId, 's:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug');
});

test('sha224 and base64url agree with node:crypto on many lengths (padding boundaries)', () => {
  for (let n = 0; n < 200; n++) {
    const bytes = new Uint8Array(n).map((_, i) => (i * 131 + n * 7) & 255);
    assert.equal(base64url(sha224(bytes)), createHash('sha224').update(bytes).digest('base64url'), `length ${n}`);
    assert.equal(base64url(bytes), Buffer.from(bytes).toString('base64url'), `base64url length ${n}`);
  }
});

test('renderSelector of the parsed AST parses back to the same AST', () => {
  for (const text of [
    '!a == "b" && (c == "d" || !(e in {"x", "y"} && has(f)))',
    '(a == "1" && b == "2") && c == "3"',
    'a == "1" || (b == "2" || c == "3")',
    '!global() || !all() || a ends with "z"',
  ]) {
    const ast = parseSelector(text).ast;
    assert.deepEqual(parseSelector(renderSelector(ast)).ast, ast, text);
  }
});

test('ASTs built in code are canonicalised too (unsorted sets, nested same-kind groups)', () => {
  const sel = selectorFromNode({
    kind: 'and',
    operands: [
      { kind: 'in', key: 'a', values: ['b', 'a', 'a'] },
      { kind: 'and', operands: [{ kind: 'has', key: 'z' }, { kind: 'not', operand: { kind: 'not', operand: { kind: 'global' } } }] },
    ],
  });
  assert.equal(sel.toString(), 'a in {"a", "b"} && global() && has(z)');
  assert.equal(sel.evaluate({ a: 'a', z: '' }), true);
  assert.equal(sel.evaluate({ a: 'c', z: '' }), false);
});
