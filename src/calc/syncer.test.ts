import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryKV } from '../datastore/memory-kv.js';
import { ResourceStore } from '../datastore/resource-store.js';
import type { WatchEvent } from '../datastore/datastore.js';
import { CalcGraph } from './graph.js';
import { CalcSyncer } from './syncer.js';
import type { SyncerStatus } from './syncer.js';
import { fold, gnp, res, wep } from './fixtures.test-support.js';
import type { CalcUpdate } from './output.js';

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(cond(), 'condition not reached');
}

test('syncer: datastore watch -> graph -> sink, in sync after the initial list; other kinds routed aside', async () => {
  const ds = new ResourceStore(new MemoryKV());
  await ds.create(wep({ name: 'w', ips: ['10.0.0.1'], labels: { app: 'w' } }));
  await ds.create(gnp('p', { selector: 'all()', ingress: [{ action: 'Allow', source: { selector: "app == 'db'" } }] }));
  await ds.create(res('FelixConfiguration', 'default', { logSeverityScreen: 'Debug' }));
  const batches: CalcUpdate[][] = [];
  const other: WatchEvent[] = [];
  const statuses: SyncerStatus[] = [];
  const syncer = new CalcSyncer({
    datastore: ds,
    graph: new CalcGraph({ nodeName: 'node-a' }),
    sink: (u) => batches.push(u),
    otherKinds: ['FelixConfiguration'],
    onOtherEvents: (e) => other.push(...e),
    onStatus: (s) => statuses.push(s),
  });
  syncer.start();
  await until(() => syncer.inSync);
  let state = fold(batches);
  assert.equal(state.inSync, true);
  assert.ok(state.workloadEndpoints.has('default/w'));
  assert.equal(other.length, 1);
  assert.ok(statuses.includes('in-sync'));
  await ds.create(wep({ name: 'db', node: 'node-b', ips: ['10.0.0.9'], labels: { app: 'db' } }));
  await until(() => fold(batches).ipSets.size === 1 && [...fold(batches).ipSets.values()][0]!.members.length === 1);
  state = fold(batches);
  assert.deepEqual([...state.ipSets.values()][0]!.members, [{ net: '10.0.0.9/32' }]);
  syncer.stop();
  assert.equal(syncer.status, 'stopped');
  await ds.close();
});
