import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, ValidationError, isCalicoError } from './errors.js';

test('errors carry a kind that code can branch on', () => {
  const conflict = new ConflictError('IPPool(pool-a)', { name: 'pool-a' });
  assert.equal(conflict.kind, 'conflict');
  assert.equal(conflict.retryable, true);
  assert.deepEqual(conflict.current, { name: 'pool-a' });
  assert.ok(isCalicoError(conflict, 'conflict'));
  assert.ok(!isCalicoError(conflict, 'validation'));
});

test('a validation error names the resource and every field', () => {
  const err = new ValidationError(
    [
      { path: 'spec.cidr', message: 'invalid CIDR "10.0.0.0/33"' },
      { path: 'spec.blockSize', message: 'must be between 20 and 32' },
    ],
    'IPPool(pool-a)',
  );
  assert.equal(err.kind, 'validation');
  assert.equal(err.retryable, false);
  assert.match(err.message, /^IPPool\(pool-a\): spec\.cidr: invalid CIDR/);
  assert.match(err.message, /spec\.blockSize: must be between 20 and 32/);
});
