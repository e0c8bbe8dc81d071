import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidLabelKey, scanTokens, tokenize } from './tokenizer.js';

const kinds = (text: string): string[] => tokenize(text).map((t) => (t.value ? `${t.kind}:${t.value}` : t.kind));

test('token streams', () => {
  const cases: Array<[string, string[]]> = [
    ['a=="b"', ['label:a', 'eq', 'string:b', 'eof']],
    ["k8s-app == 'kube-dns'", ['label:k8s-app', 'eq', 'string:kube-dns', 'eof']],
    ['contains contains "contains"', ['label:contains', 'contains', 'string:contains', 'eof']],
    ['startswith starts with "x"', ['label:startswith', 'startsWith', 'string:x', 'eof']],
    ['endswith endswith"x"', ['label:endswith', 'endsWith', 'string:x', 'eof']],
    ['a notin"bar"&&!has(foo)||b in"c"', ['label:a', 'notIn', 'string:bar', 'and', 'not', 'has:foo', 'or', 'label:b', 'in', 'string:c', 'eof']],
    ['  has( calico/k8s_NS-.1/role )  ', ['has:calico/k8s_NS-.1/role', 'eof']],
    ['a not in {"a",\'B\'}', ['label:a', 'notIn', 'lbrace', 'string:a', 'comma', 'string:B', 'rbrace', 'eof']],
    ['!global()||all( )', ['not', 'global', 'or', 'all', 'eof']],
    ['a != ""', ['label:a', 'ne', 'string', 'eof']],
    ['in in {}', ['label:in', 'in', 'lbrace', 'rbrace', 'eof']],
    ['', ['eof']],
  ];
  for (const [text, expected] of cases) assert.deepEqual(kinds(text), expected, text);
});

test('token positions are 0-based start/end indexes', () => {
  const tokens = tokenize(' ab == "x y" ');
  assert.deepEqual(
    tokens.map((t) => [t.kind, t.start, t.end]),
    [
      ['label', 1, 3],
      ['eq', 4, 6],
      ['string', 7, 12],
      ['eof', 13, 13],
    ],
  );
});

test('a lexical error becomes a trailing error token; tokenize throws it', () => {
  const tokens = scanTokens('a == "b" && %');
  const last = tokens[tokens.length - 1]!;
  assert.equal(last.kind, 'error');
  assert.equal(last.error?.position, 12);
  assert.throws(() => tokenize('a == "b" && %'), { name: 'SelectorParseError', position: 12 });
});

test('isValidLabelKey', () => {
  for (const ok of ['a', 'projectcalico.org/namespace', 'pcns.team', 'A_b-c.d/e', 'x'.repeat(512)]) assert.ok(isValidLabelKey(ok), ok);
  for (const bad of ['', 'a b', 'ä', 'a:b', 'x'.repeat(513), 'a"', '(a)']) assert.ok(!isValidLabelKey(bad), bad);
});
