// Table-driven: each selector with label sets it must match and label sets it
// must not match. Every label set is checked on the parsed selector and on the
// selector re-parsed from its canonical form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { parseSelector, type Labels } from './index.js';
import { compileClosureMatcher, compileGeneratedMatcher, type Matcher } from './evaluate.js';

interface Case {
  sel: string;
  match: Labels[];
  noMatch: Labels[];
}

const NS = 'projectcalico.org/namespace';

const cases: Case[] = [
  // ==
  { sel: 'a == "b"', match: [{ a: 'b' }, { a: 'b', c: 'd' }], noMatch: [{}, { a: 'c' }, { c: 'b' }, { a: 'B' }, { a: 'b ' }] },
  { sel: "a == 'b'", match: [{ a: 'b' }], noMatch: [{ a: '' }] },
  { sel: 'a == ""', match: [{ a: '' }], noMatch: [{}, { a: 'x' }] },
  { sel: `${NS} == "prod"`, match: [{ [NS]: 'prod' }], noMatch: [{ namespace: 'prod' }, { [NS]: 'dev' }] },
  { sel: 'pcns.team=="red"', match: [{ 'pcns.team': 'red' }], noMatch: [{ team: 'red' }] },
  { sel: 'a == "\'"', match: [{ a: "'" }], noMatch: [{ a: '"' }] },
  { sel: "a == '\"'", match: [{ a: '"' }], noMatch: [{ a: "'" }] },
  { sel: 'a == "x y && z"', match: [{ a: 'x y && z' }], noMatch: [{ a: 'x y' }] },
  { sel: 'constructor == "x"', match: [{ constructor: 'x' }], noMatch: [{}] },
  // !=
  { sel: 'a != "b"', match: [{}, { a: 'c' }, { a: '' }, { c: 'b' }], noMatch: [{ a: 'b' }] },
  { sel: "a != ''", match: [{}, { a: 'x' }], noMatch: [{ a: '' }] },
  // in / not in
  { sel: 'a in {"x", "y"}', match: [{ a: 'x' }, { a: 'y' }], noMatch: [{}, { a: 'z' }, { a: '' }, { b: 'x' }] },
  { sel: `a in {"'", '"', "c"}`, match: [{ a: "'" }, { a: '"' }, { a: 'c' }], noMatch: [{}, { a: 'e' }] },
  { sel: 'a in {}', match: [], noMatch: [{}, { a: '' }, { a: 'x' }] },
  { sel: 'a in {"x",}', match: [{ a: 'x' }], noMatch: [{}] },
  { sel: 'a in{"x","x","x"}', match: [{ a: 'x' }], noMatch: [{ a: 'xx' }] },
  { sel: 'a not in {"x", "y"}', match: [{}, { a: 'z' }, { b: 'x' }], noMatch: [{ a: 'x' }, { a: 'y' }] },
  { sel: 'a not in {}', match: [{}, { a: 'x' }], noMatch: [] },
  { sel: 'a notin {"x"}', match: [{ a: 'y' }], noMatch: [{ a: 'x' }] },
  { sel: 'a not   in {"x"}', match: [{}], noMatch: [{ a: 'x' }] },
  // has
  { sel: 'has(a)', match: [{ a: '' }, { a: 'x' }], noMatch: [{}, { b: 'a' }] },
  { sel: 'has( projectcalico.org/namespace )', match: [{ [NS]: 'x' }], noMatch: [{}] },
  { sel: '!has(a)', match: [{}, { b: 'x' }], noMatch: [{ a: '' }] },
  { sel: 'has(constructor)', match: [{ constructor: '' }], noMatch: [{}] },
  { sel: 'has(__proto__)', match: [], noMatch: [{}] },
  { sel: 'has(toString)', match: [], noMatch: [{}] },
  // contains / starts with / ends with
  { sel: 'a contains "b"', match: [{ a: 'b' }, { a: 'abc' }, { a: 'bbb' }], noMatch: [{}, { a: 'a' }, { a: '' }, { b: 'b' }] },
  { sel: 'a contains ""', match: [{ a: '' }, { a: 'x' }], noMatch: [{}] },
  { sel: 'a starts with "ab"', match: [{ a: 'ab' }, { a: 'abc' }], noMatch: [{}, { a: 'a' }, { a: 'cab' }] },
  { sel: 'a startswith "ab"', match: [{ a: 'abz' }], noMatch: [{ a: 'zab' }] },
  { sel: 'a ends with "ab"', match: [{ a: 'ab' }, { a: 'cab' }], noMatch: [{}, { a: 'abc' }, { a: 'b' }] },
  { sel: 'a endswith"ab"', match: [{ a: 'xab' }], noMatch: [{ a: 'abx' }] },
  { sel: '!a contains "x"', match: [{}, { a: 'y' }], noMatch: [{ a: 'x' }] },
  // all() and global() and the empty selector
  { sel: 'all()', match: [{}, { a: 'b' }], noMatch: [] },
  { sel: ' all( ) ', match: [{}], noMatch: [] },
  { sel: '!all()', match: [], noMatch: [{}, { a: 'b' }] },
  { sel: 'global()', match: [{}, { a: 'b' }], noMatch: [] },
  { sel: '', match: [{}, { a: 'b' }], noMatch: [] },
  { sel: ' \t', match: [{}], noMatch: [] },
  // label names that are also keywords
  { sel: 'in == "x"', match: [{ in: 'x' }], noMatch: [{}] },
  { sel: 'contains contains "x"', match: [{ contains: 'axb' }], noMatch: [{ contains: 'y' }] },
  { sel: 'has == "x" && all == "y"', match: [{ has: 'x', all: 'y' }], noMatch: [{ has: 'x' }] },
  { sel: 'not in {"x"}', match: [{ not: 'x' }], noMatch: [{ not: 'y' }] },
  // negation
  { sel: '!a == "b"', match: [{}, { a: 'c' }], noMatch: [{ a: 'b' }] },
  { sel: '!!a == "b"', match: [{ a: 'b' }], noMatch: [{}, { a: 'c' }] },
  { sel: '! ! !has(a)', match: [{}], noMatch: [{ a: 'x' }] },
  { sel: '!a in {"x"}', match: [{}, { a: 'y' }], noMatch: [{ a: 'x' }] },
  { sel: '!a not in {"x"}', match: [{ a: 'x' }], noMatch: [{}, { a: 'y' }] },
  { sel: '!a != "x"', match: [{ a: 'x' }], noMatch: [{}, { a: 'y' }] },
  // && and || and precedence
  { sel: 'a == "1" && b == "2"', match: [{ a: '1', b: '2' }], noMatch: [{ a: '1' }, { b: '2' }, { a: '1', b: '3' }, {}] },
  { sel: 'a == "1" || b == "2"', match: [{ a: '1' }, { b: '2' }, { a: '1', b: '2' }], noMatch: [{}, { a: '2', b: '1' }] },
  { sel: 'a == "1" || b == "2" && c == "3"', match: [{ a: '1' }, { b: '2', c: '3' }], noMatch: [{ b: '2' }, { c: '3' }] },
  { sel: '(a == "1" || b == "2") && c == "3"', match: [{ a: '1', c: '3' }, { b: '2', c: '3' }], noMatch: [{ a: '1' }, { c: '3' }] },
  { sel: 'a == "1" && b == "2" || c == "3"', match: [{ c: '3' }, { a: '1', b: '2' }], noMatch: [{ a: '1' }, { a: '1', c: '4' }] },
  { sel: '!a == "1" && b == "2"', match: [{ b: '2' }, { a: '0', b: '2' }], noMatch: [{ a: '1', b: '2' }, {}] },
  { sel: '!(a == "1" && b == "2")', match: [{}, { a: '1' }, { a: '1', b: '3' }], noMatch: [{ a: '1', b: '2' }] },
  { sel: '!(a == "1" || b == "2")', match: [{}, { a: '2' }], noMatch: [{ a: '1' }, { b: '2' }] },
  { sel: '!(!has(a) || has(b))', match: [{ a: 'x' }], noMatch: [{}, { a: 'x', b: 'y' }] },
  { sel: 'has(a) && !has(b)', match: [{ a: '' }], noMatch: [{ b: '' }, { a: '', b: '' }] },
  { sel: '((((a == "1"))))', match: [{ a: '1' }], noMatch: [{ a: '2' }] },
  { sel: 'a=="1"&&b=="2"||c=="3"', match: [{ c: '3' }], noMatch: [{ b: '2' }] },
  { sel: 'all() && a == "1"', match: [{ a: '1' }], noMatch: [{}] },
  { sel: 'all() || a == "1"', match: [{}, { a: '2' }], noMatch: [] },
  { sel: 'global() && pcns.team == "red"', match: [{ 'pcns.team': 'red' }], noMatch: [{ 'pcns.team': 'blue' }] },
  {
    sel: `${NS} == "prod" && (role in {"db", "cache"} || tier starts with "back") && !has(quarantine)`,
    match: [
      { [NS]: 'prod', role: 'db' },
      { [NS]: 'prod', tier: 'backend' },
      { [NS]: 'prod', role: 'cache', tier: 'front' },
    ],
    noMatch: [
      { [NS]: 'dev', role: 'db' },
      { [NS]: 'prod', role: 'web' },
      { [NS]: 'prod', role: 'db', quarantine: 'true' },
      { role: 'db' },
    ],
  },
  { sel: 'a == "1" && a == "2"', match: [], noMatch: [{ a: '1' }, { a: '2' }] },
  { sel: 'a != "1" && a != "2"', match: [{}, { a: '3' }], noMatch: [{ a: '1' }, { a: '2' }] },
  { sel: '\ta\t==\t"1"\t', match: [{ a: '1' }], noMatch: [{}] },
];

test('selector table: every case has at least one label set, and there are 100+ checks', () => {
  let checks = 0;
  for (const c of cases) {
    assert.ok(c.match.length + c.noMatch.length > 0, c.sel);
    checks += c.match.length + c.noMatch.length;
  }
  assert.ok(checks >= 100, `only ${checks} checks`);
});

for (const c of cases) {
  test(`selector ${JSON.stringify(c.sel)}`, () => {
    const sel = parseSelector(c.sel);
    const again = parseSelector(sel.toString());
    const generated = compileGeneratedMatcher(sel.ast);
    assert.ok(generated, 'small selectors get a generated matcher');
    const matchers: Array<[string, Matcher]> = [
      ['selector', sel.evaluate],
      [`canonical ${sel.toString()}`, again.evaluate],
      ['closure matcher', compileClosureMatcher(sel.ast)],
      ['generated matcher', generated],
    ];
    for (const [name, matcher] of matchers) {
      for (const labels of c.match) assert.equal(matcher(labels), true, `${name} should match ${JSON.stringify(labels)}`);
      for (const labels of c.noMatch) assert.equal(matcher(labels), false, `${name} should not match ${JSON.stringify(labels)}`);
    }
  });
}

test('labels without a prototype and frozen labels evaluate the same', () => {
  const sel = parseSelector('a == "1" && !has(b) && c not in {"x"}');
  const bare = Object.assign(Object.create(null) as Record<string, string>, { a: '1' });
  assert.equal(sel.evaluate(bare), true);
  assert.equal(sel.evaluate(Object.freeze({ a: '1', c: 'y' })), true);
  assert.equal(sel.evaluate(Object.freeze({ a: '1', c: 'x' })), false);
});

test('labels parsed from JSON with an own "__proto__" key', () => {
  const labels = JSON.parse('{"__proto__": "x"}') as Labels;
  assert.equal(parseSelector('__proto__ == "x"').evaluate(labels), true);
  assert.equal(parseSelector('has(__proto__)').evaluate(labels), true);
  assert.equal(parseSelector('has(__proto__)').evaluate({}), false);
});

test('evaluate keeps working when captured before and after its first call', () => {
  const sel = parseSelector('a == "1"');
  const early = sel.evaluate;
  assert.equal(early({ a: '1' }), true);
  const late = sel.evaluate;
  assert.notEqual(late, early, 'the compiled matcher replaces the lazy one');
  assert.equal(early({ a: '2' }), false);
  assert.equal(late({ a: '1' }), true);
});

test('values that need escaping in generated code', () => {
  for (const value of ['\\', '\\"', "it's", '${x}', '`', '\u2028\u2029', '\n', '\ud800', '</script>', '"); process.exit(1); ("']) {
    if (value.includes('"') && value.includes("'")) continue; // not expressible in a selector
    const text = `k == ${value.includes('"') ? `'${value}'` : `"${value}"`} || k in {"x", "y", "z", "w", ${JSON.stringify(value).includes("'") ? JSON.stringify('q') : `'${value}'`}}`;
    const sel = parseSelector(text);
    const generated = compileGeneratedMatcher(sel.ast)!;
    assert.equal(generated({ k: value }), true, text);
    assert.equal(generated({ k: value + 'x' }), false, text);
  }
});

test('selectors too large for one expression fall back to closures', () => {
  const text = Array.from({ length: 600 }, (_, i) => `k == "v${i}"`).join(' || ');
  const sel = parseSelector(text);
  assert.equal(compileGeneratedMatcher(sel.ast), undefined);
  assert.equal(sel.evaluate({ k: 'v599' }), true);
  assert.equal(sel.evaluate({ k: 'v600' }), false);
});

test('with code generation from strings disabled, evaluation falls back to closures', () => {
  const index = new URL('./index.js', import.meta.url).href;
  const script = `
    const { parseSelector } = await import(${JSON.stringify(index)});
    const sel = parseSelector('a in {"1", "2", "3", "4", "5"} && !has(b) || c starts with "x"');
    const results = [sel.evaluate({ a: '3' }), sel.evaluate({ a: '3', b: '' }), sel.evaluate({ c: 'xy' }), sel.evaluate({})];
    process.stdout.write(JSON.stringify(results));`;
  const out = spawnSync(process.execPath, ['--disallow-code-generation-from-strings', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  assert.equal(out.stderr, '');
  assert.deepEqual(JSON.parse(out.stdout), [true, false, true, false]);
});
