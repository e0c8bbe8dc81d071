// Table-driven: each selector with label sets it must match and label sets it
// must not match. Every label set is checked on the parsed selector and on the
// selector re-parsed from its canonical form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSelector, type Labels } from './index.js';

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
    for (const labels of c.match) {
      assert.equal(sel.evaluate(labels), true, `should match ${JSON.stringify(labels)}`);
      assert.equal(again.evaluate(labels), true, `canonical ${sel.toString()} should match ${JSON.stringify(labels)}`);
    }
    for (const labels of c.noMatch) {
      assert.equal(sel.evaluate(labels), false, `should not match ${JSON.stringify(labels)}`);
      assert.equal(again.evaluate(labels), false, `canonical ${sel.toString()} should not match ${JSON.stringify(labels)}`);
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
