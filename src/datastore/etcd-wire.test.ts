import { test } from 'node:test';
import assert from 'node:assert/strict';
import { b64, fromWire, prefixEnd, unb64 } from './etcd-wire.js';

test('prefixEnd: the first key after every key with the prefix', () => {
  const bytes = (prefix: string): number[] => [...Buffer.from(prefixEnd(prefix), 'base64')];
  assert.equal(Buffer.from(prefixEnd('/calico/'), 'base64').toString(), '/calico0');
  assert.equal(Buffer.from(prefixEnd('a'), 'base64').toString(), 'b');
  // On UTF-8 bytes: 'ÿ' is c3 bf -> c3 c0.
  assert.deepEqual(bytes('\u00ff'), [0xc3, 0xc0]);
  // Empty prefix: the whole keyspace ("\0" as range_end means "to the end").
  assert.deepEqual(bytes(''), [0]);
});

test('fromWire: omitted default fields read as zero / empty', () => {
  assert.deepEqual(fromWire({ key: b64('/a') }), { key: '/a', value: '', createRevision: 0, modRevision: 0, version: 0 });
  assert.deepEqual(fromWire({ key: b64('/a'), value: b64('{"x":1}'), create_revision: '5', mod_revision: '9', version: '3' }), {
    key: '/a',
    value: '{"x":1}',
    createRevision: 5,
    modRevision: 9,
    version: 3,
  });
  assert.equal(unb64(undefined), '');
  assert.equal(unb64(b64('ключ')), 'ключ');
});
