import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelRestrictions, parseSelector, prefixKeys, referencedKeys, requiredLabels, selectorFromNode, usesGlobal } from './index.js';

const restrictionsOf = (text: string) => Object.fromEntries(labelRestrictions(parseSelector(text)));

test('requiredLabels: pairs every match must carry', () => {
  const cases: Array<[string, Array<{ key: string; value: string }>]> = [
    ['', []],
    ['all()', []],
    ['a == "1"', [{ key: 'a', value: '1' }]],
    ['a in {"1"}', [{ key: 'a', value: '1' }]],
    ['a in {"1", "2"}', []],
    ['a != "1"', []],
    ['!(a != "1")', [{ key: 'a', value: '1' }]],
    ['b == "2" && a == "1" && has(c)', [{ key: 'a', value: '1' }, { key: 'b', value: '2' }]],
    ['a in {"1", "2"} && a in {"2", "3"}', [{ key: 'a', value: '2' }]],
    ['a == "1" || b == "2"', []],
    ['a == "1" || a == "1" && b == "2"', [{ key: 'a', value: '1' }]],
    ['(a == "1" && b == "2") || (a == "1" && c == "3")', [{ key: 'a', value: '1' }]],
    ['!(a == "1" && b == "2")', []],
  ];
  for (const [text, expected] of cases) assert.deepEqual(requiredLabels(parseSelector(text)), expected, text);
});

test('labelRestrictions: presence, absence and value sets', () => {
  assert.deepEqual(restrictionsOf('has(a) && !has(b)'), {
    a: { mustBePresent: true, mustBeAbsent: false },
    b: { mustBePresent: false, mustBeAbsent: true },
  });
  assert.deepEqual(restrictionsOf('a contains "x" || a == "y"'), { a: { mustBePresent: true, mustBeAbsent: false } });
  assert.deepEqual(restrictionsOf('a == "x" || a in {"y", "z"}'), {
    a: { mustBePresent: true, mustBeAbsent: false, values: ['x', 'y', 'z'] },
  });
  assert.deepEqual(restrictionsOf('a == "x" && a == "y"'), { a: { mustBePresent: true, mustBeAbsent: false, values: [] } });
  assert.deepEqual(restrictionsOf('!has(a) || !has(a) && has(b)'), { a: { mustBePresent: false, mustBeAbsent: true } });
  assert.deepEqual(restrictionsOf('has(a) || !has(a)'), {});
  assert.deepEqual(restrictionsOf('a not in {"x", "y"} && !(a contains "z")'), {});
});

test('restrictions are sound: every matching label set satisfies them', () => {
  const texts = [
    'a == "1" && (b in {"x", "y"} || b == "z") && !has(c)',
    '(a == "1" || a == "2") && has(d)',
    '!(a != "1" || has(c))',
  ];
  const values = ['1', '2', 'x', 'y', 'z'];
  for (const text of texts) {
    const sel = parseSelector(text);
    const r = labelRestrictions(sel);
    // Enumerate label sets over keys a-d with values (absent | one of values).
    const keys = ['a', 'b', 'c', 'd'];
    const total = (values.length + 1) ** keys.length;
    for (let n = 0; n < total; n++) {
      const labels: Record<string, string> = {};
      let m = n;
      for (const k of keys) {
        const v = m % (values.length + 1);
        m = Math.floor(m / (values.length + 1));
        if (v > 0) labels[k] = values[v - 1]!;
      }
      if (!sel.evaluate(labels)) continue;
      for (const [key, rule] of r) {
        if (rule.mustBePresent) assert.ok(key in labels, `${text}: ${key} present in ${JSON.stringify(labels)}`);
        if (rule.mustBeAbsent) assert.ok(!(key in labels), `${text}: ${key} absent`);
        if (rule.values) assert.ok(rule.values.includes(labels[key]!), `${text}: ${key} value`);
      }
    }
  }
});

test('referencedKeys lists every label name once, sorted', () => {
  assert.deepEqual(referencedKeys(parseSelector('all()')), []);
  assert.deepEqual(
    referencedKeys(parseSelector('z == "1" && !(has(a) || m in {"x"}) && a contains "q" && global()')),
    ['a', 'm', 'z'],
  );
});

test('prefixKeys scopes a namespaceSelector to pcns. labels', () => {
  const sel = selectorFromNode(prefixKeys(parseSelector('team == "red" && !has(quarantine) || all()').ast, 'pcns.'));
  assert.equal(sel.toString(), 'all()');
  const scoped = selectorFromNode(prefixKeys(parseSelector('team in {"red", "blue"} && !has(x)').ast, 'pcns.'));
  assert.equal(scoped.toString(), '!has(pcns.x) && pcns.team in {"blue", "red"}');
  assert.equal(scoped.evaluate({ 'pcns.team': 'red' }), true);
  assert.equal(scoped.evaluate({ team: 'red' }), false);
});

test('usesGlobal looks at the AST, not the text', () => {
  assert.equal(usesGlobal(parseSelector('global()')), true);
  assert.equal(usesGlobal(parseSelector('a == "x" || !(global() && has(b))')), true);
  assert.equal(usesGlobal(parseSelector('a == "global()"')), false);
  assert.equal(usesGlobal(parseSelector('')), false);
});
