import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCalicoError } from '../base/errors.js';
import { applyJsonPatch, applyMergePatch, applyPatch, parsePointer } from './patch.js';

test('merge patch: RFC 7386 appendix A examples', () => {
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, want] of cases) {
    assert.deepEqual(applyMergePatch(target, patch), want, JSON.stringify({ target, patch }));
  }
});

test('merge patch does not mutate its inputs', () => {
  const target = { spec: { a: 1, b: { c: 2 } } };
  const patch = { spec: { b: { c: null } } };
  applyMergePatch(target, patch);
  assert.deepEqual(target, { spec: { a: 1, b: { c: 2 } } });
  assert.deepEqual(patch, { spec: { b: { c: null } } });
});

test('JSON pointer parsing with escapes', () => {
  assert.deepEqual(parsePointer(''), []);
  assert.deepEqual(parsePointer('/a~1b/m~0n/0'), ['a/b', 'm~n', '0']);
  assert.throws(() => parsePointer('a/b'), /must be empty or start with/);
});

test('JSON patch: RFC 6902 operations', () => {
  const cases: [string, unknown, unknown, unknown][] = [
    ['add member', { foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux' }], { foo: 'bar', baz: 'qux' }],
    ['add array element', { foo: ['bar', 'baz'] }, [{ op: 'add', path: '/foo/1', value: 'qux' }], { foo: ['bar', 'qux', 'baz'] }],
    ['add to end with -', { foo: [1] }, [{ op: 'add', path: '/foo/-', value: 2 }], { foo: [1, 2] }],
    ['remove member', { baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }], { foo: 'bar' }],
    ['remove array element', { foo: ['bar', 'qux', 'baz'] }, [{ op: 'remove', path: '/foo/1' }], { foo: ['bar', 'baz'] }],
    ['replace', { baz: 'qux', foo: 'bar' }, [{ op: 'replace', path: '/baz', value: 'boo' }], { baz: 'boo', foo: 'bar' }],
    ['replace array element', { a: [1, 2, 3] }, [{ op: 'replace', path: '/a/1', value: 9 }], { a: [1, 9, 3] }],
    ['move member', { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } }, [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }], { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } }],
    ['move array element', { foo: ['all', 'grass', 'cows', 'eat'] }, [{ op: 'move', from: '/foo/1', path: '/foo/3' }], { foo: ['all', 'cows', 'eat', 'grass'] }],
    ['copy', { a: { b: 1 } }, [{ op: 'copy', from: '/a', path: '/c' }], { a: { b: 1 }, c: { b: 1 } }],
    ['test success', { baz: 'qux', foo: ['a', 2, 'c'] }, [{ op: 'test', path: '/baz', value: 'qux' }, { op: 'test', path: '/foo/1', value: 2 }], { baz: 'qux', foo: ['a', 2, 'c'] }],
    ['add nested object', { foo: 'bar' }, [{ op: 'add', path: '/child', value: { grandchild: {} } }], { foo: 'bar', child: { grandchild: {} } }],
    ['escaped key', { 'a/b': 1 }, [{ op: 'replace', path: '/a~1b', value: 2 }], { 'a/b': 2 }],
    ['replace whole document', { a: 1 }, [{ op: 'replace', path: '', value: { b: 2 } }], { b: 2 }],
    ['test deep equality ignores key order', { a: { x: 1, y: [1, { z: 2 }] } }, [{ op: 'test', path: '/a', value: { y: [1, { z: 2 }], x: 1 } }], { a: { x: 1, y: [1, { z: 2 }] } }],
  ];
  for (const [name, target, patch, want] of cases) assert.deepEqual(applyJsonPatch(target, patch), want, name);
});

test('JSON patch: failures are invalid-argument and leave the target alone', () => {
  const target = { baz: 'qux', foo: ['a', 2] };
  const bad: [string, unknown, RegExp][] = [
    ['test fails', [{ op: 'test', path: '/baz', value: 'bar' }], /test failed/],
    ['remove missing', [{ op: 'remove', path: '/nope' }], /does not exist/],
    ['replace missing', [{ op: 'replace', path: '/nope', value: 1 }], /does not exist/],
    ['add under missing parent', [{ op: 'add', path: '/a/b', value: 1 }], /does not exist/],
    ['index out of range', [{ op: 'add', path: '/foo/5', value: 1 }], /out of range/],
    ['bad index', [{ op: 'remove', path: '/foo/01' }], /not an array index/],
    ['unknown op', [{ op: 'frobnicate', path: '/baz' }], /unknown op/],
    ['missing value', [{ op: 'add', path: '/x' }], /missing "value"/],
    ['missing from', [{ op: 'move', path: '/x' }], /missing "from"/],
    ['move into own child', [{ op: 'move', from: '/foo', path: '/foo/0' }], /into itself/],
    ['not an array', { op: 'add' }, /array of operations/],
    ['second op fails: atomic', [{ op: 'add', path: '/new', value: 1 }, { op: 'test', path: '/baz', value: 'no' }], /test failed/],
  ];
  for (const [name, patch, re] of bad) {
    assert.throws(() => applyJsonPatch(target, patch), (e: unknown) => isCalicoError(e, 'invalid-argument') && re.test((e as Error).message), name);
  }
  assert.deepEqual(target, { baz: 'qux', foo: ['a', 2] });
});

test('applyPatch: parses text and dispatches on type', () => {
  assert.deepEqual(applyPatch({ a: 1 }, '{"b":2}', 'merge'), { a: 1, b: 2 });
  assert.deepEqual(applyPatch({ a: 1 }, '{"a":null}', 'strategic'), {});
  assert.deepEqual(applyPatch({ a: 1 }, '[{"op":"remove","path":"/a"}]', 'json'), {});
  assert.throws(() => applyPatch({}, '{nope', 'merge'), /not valid JSON/);
  assert.throws(() => applyPatch({}, '[1]', 'merge'), /must be a JSON object/);
});
