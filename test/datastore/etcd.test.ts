// The datastore conformance suite against a real etcd (started here, on loopback),
// plus what only a real etcd can show: restarts and kill -9 mid-stream, TLS, auth.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runDatastoreConformance, WatchRecorder, eventually, pool, storeVersions } from '../../src/datastore/conformance.js';
import { EtcdKV } from '../../src/datastore/etcd-kv.js';
import { ResourceStore } from '../../src/datastore/resource-store.js';
import type { Datastore } from '../../src/datastore/datastore.js';
import type { Resource } from '../../src/api/resource.js';
import { isCalicoError } from '../../src/base/errors.js';
import { datastoreConfigFromEnv } from '../../src/datastore/config.js';
import { openDatastore } from '../../src/datastore/open-datastore.js';
import { startEtcd, type EtcdHandle } from '../support/etcd.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

let etcd: EtcdHandle;
before(async () => {
  etcd = await startEtcd();
});
after(async () => {
  await etcd?.stop();
});

const fastBackoff = { initialMs: 20, maxMs: 200 };

runDatastoreConformance('etcd', async ({ validate }) => {
  await etcd.etcdctl(['del', '', '--from-key']); // every case starts from an empty store
  const datastore = new ResourceStore(new EtcdKV({ endpoints: [etcd.endpoint] }), validate ? { validate } : {});
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: etcd.clientPort });
  const watchDatastore = new ResourceStore(new EtcdKV({ endpoints: [`http://127.0.0.1:${proxy.port}`], watchBackoff: fastBackoff }));
  return {
    datastore,
    watchDatastore,
    partitionWatch: async () => proxy.cut(),
    healWatch: async () => proxy.heal(),
    compact: () => etcd.compact(),
    close: async () => {
      await watchDatastore.close();
      await datastore.close();
      await proxy.close();
    },
  };
});

/** Writes through outages: retries while etcd is unavailable; an ambiguous create that turns out done is resolved by reading it. */
async function createWithRetry(ds: Datastore, r: Resource): Promise<Resource> {
  for (;;) {
    try {
      return await ds.create(r);
    } catch (err) {
      if (isCalicoError(err, 'already-exists')) return ds.get({ kind: r.kind, name: r.metadata.name });
      if (!isCalicoError(err, 'unavailable')) throw err;
      await new Promise((res) => setTimeout(res, 20));
    }
  }
}

async function writerThroughOutage(outage: (e: EtcdHandle) => Promise<void>): Promise<void> {
  const own = await startEtcd();
  const writer = new ResourceStore(new EtcdKV({ endpoints: [own.endpoint], requestTimeoutMs: 2000 }));
  const watcher = new ResourceStore(new EtcdKV({ endpoints: [own.endpoint], watchBackoff: fastBackoff }));
  const rec = new WatchRecorder();
  const w = watcher.watch({ kinds: ['IPPool'] }, rec.handlers);
  try {
    await eventually(() => rec.inSyncCount === 1, 'in sync');
    const acked: Resource[] = [];
    let stop = false;
    const writing = (async () => {
      for (let i = 0; !stop; i++) acked.push(await createWithRetry(writer, pool(`p${i}`, `198.18.${i % 256}.0/24`)));
    })();
    await eventually(() => acked.length >= 20, '20 writes before the outage');
    await outage(own);
    const afterOutage = acked.length;
    await eventually(() => acked.length >= afterOutage + 20, '20 writes after the outage');
    stop = true;
    await writing;
    const expected = await storeVersions(writer, ['IPPool']);
    await eventually(() => JSON.stringify(rec.versions()) === JSON.stringify(expected), 'watcher view equals the store');
    assert.deepEqual(rec.problems, []);
    // Every acknowledged write seen exactly once, in order.
    const seen = rec.events.map((e) => (e.type === 'deleted' ? '' : `${e.resource.metadata.name}@${e.resource.metadata.resourceVersion}`));
    const ackedIds = acked.map((r) => `${r.metadata.name}@${r.metadata.resourceVersion}`);
    assert.deepEqual(seen, ackedIds);
    assert.ok(rec.statuses.includes('reconnecting'), `statuses: ${rec.statuses.join(',')}`);
  } finally {
    w.stop();
    await writer.close();
    await watcher.close();
    await own.stop();
  }
}

test('etcd restart mid-stream: the watch resumes; every acknowledged write seen once, in order', async () => {
  await writerThroughOutage((e) => e.restart({ downMs: 300 }));
});

test('etcd kill -9 mid-stream: same guarantees', async () => {
  await writerThroughOutage(async (e) => {
    await e.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    await e.start();
  });
});

test('etcd with TLS (client certificates) and auth: CRUD and watch work; wrong credentials are refused', async () => {
  const secure = await startEtcd({ tls: true, auth: true });
  const { readFileSync } = await import('node:fs');
  const tls = { ca: readFileSync(secure.tls!.caFile), cert: readFileSync(secure.tls!.certFile), key: readFileSync(secure.tls!.keyFile) };
  // Configured exactly as calico-node / calicoctl would be: from Calico's environment variables.
  const ds = openDatastore(datastoreConfigFromEnv(secure.env));
  // The watch has its own client, so it must re-authenticate on its own after the restart below.
  const watchDs = openDatastore(datastoreConfigFromEnv(secure.env));
  const bad = new ResourceStore(new EtcdKV({ endpoints: [secure.endpoint], tls, username: 'root', password: 'wrong' }));
  const noCert = new ResourceStore(new EtcdKV({ endpoints: [secure.endpoint], tls: { ca: tls.ca }, requestTimeoutMs: 2000 }));
  const rec = new WatchRecorder();
  const w = watchDs.watch({ kinds: ['IPPool'] }, rec.handlers);
  try {
    await ds.create(pool('secure'));
    await eventually(() => rec.view.has('IPPool(secure)'), 'watch over TLS');
    assert.equal((await ds.get({ kind: 'IPPool', name: 'secure' })).spec?.cidr, '198.18.0.0/24');
    await assert.rejects(bad.get({ kind: 'IPPool', name: 'secure' }), (e) => isCalicoError(e, 'invalid-argument'));
    await assert.rejects(noCert.get({ kind: 'IPPool', name: 'secure' }), (e) => isCalicoError(e, 'unavailable'));
    // An etcd restart forgets simple tokens: the client must re-authenticate by itself.
    await secure.restart();
    await ds.create(pool('after-restart'));
    await eventually(() => rec.view.has('IPPool(after-restart)'), 'watch re-authenticated after restart');
    assert.deepEqual(rec.problems, []);
  } finally {
    w.stop();
    await Promise.all([ds.close(), watchDs.close(), bad.close(), noCert.close()]);
    await secure.stop();
  }
});

test('etcd: a silently dead watch connection (black hole) is detected and the watch recovers without loss', async () => {
  await etcd.etcdctl(['del', '', '--from-key']);
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: etcd.clientPort });
  const writer = new ResourceStore(new EtcdKV({ endpoints: [etcd.endpoint] }));
  const watcher = new ResourceStore(
    new EtcdKV({ endpoints: [`http://127.0.0.1:${proxy.port}`], watchBackoff: fastBackoff, watchLivenessMs: 300, requestTimeoutMs: 500 }),
  );
  const rec = new WatchRecorder();
  const w = watcher.watch({ kinds: ['IPPool'] }, rec.handlers);
  try {
    await writer.create(pool('before'));
    await eventually(() => rec.view.has('IPPool(before)'), 'first event');
    proxy.blackhole();
    for (const name of ['during-1', 'during-2']) await writer.create(pool(name));
    await eventually(() => rec.statuses.includes('reconnecting'), 'silence detected as a lost connection');
    proxy.heal();
    const expected = await storeVersions(writer, ['IPPool']);
    await eventually(() => JSON.stringify(rec.versions()) === JSON.stringify(expected), 'view equals store');
    assert.deepEqual(rec.problems, []);
  } finally {
    w.stop();
    await Promise.all([writer.close(), watcher.close()]);
    await proxy.close();
  }
});

test('etcd: several endpoints, the first one dead: requests fail over', async () => {
  const ds = new ResourceStore(new EtcdKV({ endpoints: ['http://127.0.0.1:1', etcd.endpoint] }));
  try {
    await etcd.etcdctl(['del', '', '--from-key']);
    await ds.create(pool('failover'));
    assert.equal((await ds.list({ kind: 'IPPool' })).items.length, 1);
  } finally {
    await ds.close();
  }
});
