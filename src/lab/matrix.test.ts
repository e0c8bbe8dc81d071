import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cellKey, expected, formatMatrix, mismatches, parseExpectation, parseProbe, targetsFor, type MatrixResult } from './matrix.js';

const expectation = parseExpectation(
  { rules: ['allow * -> *', 'deny * -> db-1', 'allow web-* -> db-1 tcp/5432', 'deny client-1 -> internet icmp'] },
  'expect.yaml',
);

test('the last matching rule wins, with globs on every side', () => {
  assert.equal(expected(expectation, 'web-1', 'web-2', 'tcp/80'), true);
  assert.equal(expected(expectation, 'client-1', 'db-1', 'tcp/5432'), false);
  assert.equal(expected(expectation, 'web-2', 'db-1', 'tcp/5432'), true);
  assert.equal(expected(expectation, 'web-2', 'db-1', 'tcp/80'), false);
  assert.equal(expected(expectation, 'client-1', 'internet', 'icmp'), false);
  assert.equal(expected(expectation, 'client-1', 'internet', 'tcp/80'), true);
  assert.equal(expected(parseExpectation({ rules: ['deny a -> b'] }, 'x'), 'c', 'd', 'icmp'), undefined);
});

test('mismatches lists exactly the cells that differ', () => {
  const cells = new Map<string, boolean>([
    [cellKey('web-1', 'db-1', 'tcp/5432'), true],
    [cellKey('client-1', 'db-1', 'tcp/5432'), true], // should be denied
    [cellKey('web-1', 'web-2', 'tcp/80'), false], // should be allowed
  ]);
  const m: MatrixResult = { probes: ['tcp/5432', 'tcp/80'], sources: ['web-1', 'client-1'], destinations: ['web-2', 'db-1'], cells };
  assert.deepEqual(mismatches(m, expectation), [
    'client-1 -> db-1 tcp/5432: expected denied, got allowed',
    'web-1 -> web-2 tcp/80: expected allowed, got denied',
  ]);
  const table = formatMatrix(m);
  assert.match(table, /tcp\/5432 {2}\(rows: from, columns: to\)/);
  assert.match(table, /client-1 +\?/);
});

test('probe specs are checked against what the probe servers answer', () => {
  assert.deepEqual(parseProbe('tcp/80'), { protocol: 'tcp', port: 80 });
  assert.deepEqual(parseProbe('icmp'), { protocol: 'icmp' });
  assert.throws(() => parseProbe('tcp/81'), /answer tcp on 80, 5432 only/);
  assert.throws(() => parseProbe('sctp/1'), /is not one of/);
  assert.throws(() => parseExpectation({ rules: ['permit a -> b'] }, 'e.yaml'), /e\.yaml: rules\[0\]/);
  assert.equal(targetsFor(['tcp/80', 'icmp'], [{ name: 'a', address: '198.19.0.1' }]).length, 2);
});
