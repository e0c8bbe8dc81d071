import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCalicoError } from '../base/errors.js';
import { parseSelector, SelectorParseError, validateSelector } from './index.js';

test('parseSelector accepts a selector and evaluates it', () => {
  const sel = parseSelector('role == "db" && projectcalico.org/namespace in {"prod", "staging"}');
  assert.equal(sel.evaluate({ role: 'db', 'projectcalico.org/namespace': 'prod' }), true);
  assert.equal(sel.evaluate({ role: 'db', 'projectcalico.org/namespace': 'dev' }), false);
});

test('the empty selector is all()', () => {
  assert.equal(parseSelector('').toString(), 'all()');
  assert.equal(parseSelector(' \t ').evaluate({}), true);
});

test('parse errors are typed validation errors with a position', () => {
  const text = 'a == "b" && (c == "d"))';
  assert.throws(
    () => parseSelector(text),
    (err: unknown) =>
      err instanceof SelectorParseError && isCalicoError(err, 'validation') && err.position === 22 && /\)/.test(err.reason),
  );
  assert.equal(validateSelector(text)?.position, 22);
  assert.equal(validateSelector('a == "b"'), undefined);
});
