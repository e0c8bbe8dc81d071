// The conformance suite against the in-memory backend, plus the fake's own fault injection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCalicoError, UnavailableError } from '../base/errors.js';
import { runDatastoreConformance, WatchRecorder, eventually, pool } from './conformance.js';
import { MemoryKV } from './memory-kv.js';
import { ResourceStore } from './resource-store.js';

runDatastoreConformance('memory', async ({ validate }) => {
  const kv = new MemoryKV();
  const datastore = new ResourceStore(kv, validate ? { validate } : {});
  return {
    datastore,
    watchDatastore: datastore,
    partitionWatch: async () => kv.partitionWatches(),
    healWatch: async () => kv.healWatches(),
    compact: () => kv.compact(),
    close: () => datastore.close(),
  };
});

test('memory KV: failNext fails exactly the next call of that operation and logs calls', async () => {
  const kv = new MemoryKV();
  kv.failNext('create', new UnavailableError('boom'));
  await assert.rejects(kv.create('/k', 'v'), (e) => isCalicoError(e, 'unavailable'));
  await kv.create('/k', 'v');
  assert.deepEqual(kv.log, ['create /k', 'create /k']);
});

test('memory KV: watch delivery is asynchronous, never inside the writer call', async () => {
  const kv = new MemoryKV();
  const seen: number[] = [];
  kv.watch('/', 0, { onEvents: (_e, rev) => seen.push(rev), onError: assert.fail });
  const write = kv.create('/a', '1');
  assert.deepEqual(seen, []);
  await write;
  await eventually(() => seen.length === 1, 'event');
  assert.deepEqual(seen, [2]);
});

test('memory KV: list at a past revision sees the state of then', async () => {
  const kv = new MemoryKV();
  const a = await kv.create('/a', '1');
  await kv.update('/a', '2');
  await kv.create('/b', '3');
  await kv.delete('/a');
  const then = await kv.list('/', { revision: a.modRevision });
  assert.deepEqual(then.pairs.map((p) => `${p.key}=${p.value}`), ['/a=1']);
  await kv.compact(a.modRevision + 1);
  await assert.rejects(kv.list('/', { revision: a.modRevision }), (e) => isCalicoError(e, 'compacted'));
  assert.deepEqual((await kv.list('/', { revision: a.modRevision + 1 })).pairs.map((p) => `${p.key}=${p.value}`), ['/a=2']);
});

test('memory KV: an outage fails calls; the resource watch reports it and resumes without loss', async () => {
  const kv = new MemoryKV();
  const ds = new ResourceStore(kv);
  await ds.create(pool('a'));
  const rec = new WatchRecorder();
  const w = ds.watch({ kinds: ['IPPool'] }, rec.handlers);
  await eventually(() => rec.inSyncCount === 1, 'in sync');
  kv.simulateOutage();
  await assert.rejects(ds.create(pool('b')), (e) => isCalicoError(e, 'unavailable'));
  kv.endOutage();
  await ds.create(pool('b'));
  await eventually(() => rec.view.size === 2, 'b seen');
  assert.deepEqual(rec.statuses.filter((s) => s !== 'connected').slice(0, 1), ['reconnecting']);
  assert.deepEqual(rec.problems, []);
  w.stop();
});

test('resource watch: a failed initial list is retried with backoff on the injected timers', async () => {
  const kv = new MemoryKV();
  const ds0 = new ResourceStore(kv);
  await ds0.create(pool('a'));
  const timers: { fn: () => void; ms: number }[] = [];
  const ds = new ResourceStore(kv, { timers: { setTimeout: (fn, ms) => timers.push({ fn, ms }), clearTimeout: () => undefined } });
  kv.failNext('list');
  kv.failNext('list');
  const rec = new WatchRecorder();
  const w = ds.watch({ kinds: ['IPPool'] }, rec.handlers);
  await eventually(() => timers.length === 1, 'first retry scheduled');
  timers[0]!.fn();
  await eventually(() => timers.length === 2, 'second retry scheduled');
  assert.deepEqual(timers.map((t) => t.ms), [100, 200]);
  timers[1]!.fn();
  await eventually(() => rec.inSyncCount === 1, 'in sync after retries');
  assert.deepEqual([...rec.view.keys()], ['IPPool(a)']);
  w.stop();
});
