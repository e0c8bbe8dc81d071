// The datastore conformance suite: one set of behaviours every backend must show,
// run against the in-memory store (memory.test.ts, unit group) and a real etcd
// (test/datastore/etcd.test.ts, etcd group). Not a test file itself: a function
// that registers node:test cases for a backend factory.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource, ResourceKey } from '../api/resource.js';
import { describeKey } from '../api/resource.js';
import { ValidationError, isCalicoError, type ConflictError } from '../base/errors.js';
import type { Datastore, WatchEvent, WatchOptions } from './datastore.js';
import type { KVEvent } from './kv.js';
import { resourceKeyPath } from './keys.js';

export interface ConformanceBackend {
  /** The store under test, used for writes and reads. */
  datastore: Datastore;
  /** Used for watches; may be `datastore`. partitionWatch() cuts only its watch connection. */
  watchDatastore: Datastore;
  /** Cut the watcher off (writes still succeed) until healWatch(). */
  partitionWatch(): Promise<void>;
  healWatch(): Promise<void>;
  /** Compact the store's history up to its current revision. */
  compact(): Promise<number>;
  close(): Promise<void>;
}

export type ConformanceFactory = (opts: { validate?: (r: Resource) => Resource }) => Promise<ConformanceBackend>;

export const policy = (name: string, namespace = 'default', order = 1): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'NetworkPolicy',
  metadata: { name, namespace },
  spec: { order, selector: 'all()' },
});

export const pool = (name: string, cidr = '198.18.0.0/24'): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'IPPool',
  metadata: { name },
  spec: { cidr },
});

/** Waits until `cond` holds (a test helper, never a timing assertion: the limit only bounds a hang). */
export async function eventually(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A watch consumer that keeps the view it was told about and notes any duplicate or impossible event. */
export class WatchRecorder {
  readonly view = new Map<string, Resource>();
  readonly events: WatchEvent[] = [];
  readonly problems: string[] = [];
  readonly statuses: string[] = [];
  inSyncCount = 0;

  readonly handlers = {
    onEvents: (events: WatchEvent[]): void => {
      for (const e of events) {
        this.events.push(e);
        if (e.type === 'deleted') {
          const id = describeKey(e.key);
          if (!this.view.delete(id)) this.problems.push(`deleted unknown ${id}`);
          continue;
        }
        const id = describeKey({ kind: e.resource.kind, name: e.resource.metadata.name, ...(e.resource.metadata.namespace !== undefined && { namespace: e.resource.metadata.namespace }) });
        const had = this.view.get(id);
        if (e.type === 'added' && had) this.problems.push(`added twice ${id}`);
        if (e.type === 'modified' && !had) this.problems.push(`modified unknown ${id}`);
        if (had && Number(e.resource.metadata.resourceVersion) <= Number(had.metadata.resourceVersion)) {
          this.problems.push(`stale/duplicate ${id} rv ${e.resource.metadata.resourceVersion} after ${had.metadata.resourceVersion}`);
        }
        this.view.set(id, e.resource);
      }
    },
    onInSync: (): void => {
      this.inSyncCount++;
    },
    onStatus: (s: string): void => {
      this.statuses.push(s);
    },
  };

  /** name -> resourceVersion of the view, for comparing with a list. */
  versions(): Record<string, string> {
    return Object.fromEntries([...this.view].map(([id, r]) => [id, r.metadata.resourceVersion!]).sort());
  }
}

/** What the store holds now, in the recorder's format. */
export async function storeVersions(ds: Datastore, kinds: WatchOptions['kinds']): Promise<Record<string, string>> {
  const out: [string, string][] = [];
  for (const kind of kinds) {
    for (const r of (await ds.list({ kind })).items) {
      out.push([describeKey({ kind, name: r.metadata.name, ...(r.metadata.namespace !== undefined && { namespace: r.metadata.namespace }) }), r.metadata.resourceVersion!]);
    }
  }
  return Object.fromEntries(out.sort());
}

const names = (rs: Resource[]): string[] => rs.map((r) => (r.metadata.namespace ? `${r.metadata.namespace}/${r.metadata.name}` : r.metadata.name));

export function runDatastoreConformance(backendName: string, factory: ConformanceFactory): void {
  const withBackend = (title: string, body: (b: ConformanceBackend) => Promise<void>, opts: { validate?: (r: Resource) => Resource } = {}) =>
    test(title, async () => {
      const b = await factory(opts);
      try {
        await body(b);
      } finally {
        await b.close();
      }
    });

  describe(`datastore conformance: ${backendName}`, () => {
    withBackend('create, get, update, delete round trip with server-owned metadata', async ({ datastore: ds }) => {
      const created = await ds.create(policy('allow-dns'));
      assert.equal(created.apiVersion, 'projectcalico.org/v3');
      assert.match(created.metadata.resourceVersion!, /^[1-9][0-9]*$/);
      assert.ok(created.metadata.uid, 'uid set on create');
      assert.ok(!Number.isNaN(Date.parse(created.metadata.creationTimestamp!)), 'creationTimestamp is a date');
      const got = await ds.get({ kind: 'NetworkPolicy', namespace: 'default', name: 'allow-dns' });
      assert.deepEqual(got, created);
      const updated = await ds.update({ ...got, spec: { order: 2, selector: 'all()' } });
      assert.ok(Number(updated.metadata.resourceVersion) > Number(got.metadata.resourceVersion));
      assert.equal(updated.metadata.uid, created.metadata.uid);
      assert.equal(updated.metadata.creationTimestamp, created.metadata.creationTimestamp);
      assert.deepEqual((await ds.get({ kind: 'NetworkPolicy', namespace: 'default', name: 'allow-dns' })).spec, { order: 2, selector: 'all()' });
      const deleted = await ds.delete({ kind: 'NetworkPolicy', namespace: 'default', name: 'allow-dns' });
      assert.deepEqual(deleted.spec, { order: 2, selector: 'all()' });
      await assert.rejects(ds.get({ kind: 'NetworkPolicy', namespace: 'default', name: 'allow-dns' }), (e) => isCalicoError(e, 'not-found'));
    });

    withBackend('values are JSON under Calico keys; resourceVersion is not stored', async ({ datastore: ds }) => {
      await ds.create(policy('p1', 'ns1'));
      await ds.create(pool('pool-a'));
      const nsKey = '/calico/resources/v3/projectcalico.org/networkpolicies/ns1/p1';
      const globalKey = '/calico/resources/v3/projectcalico.org/ippools/pool-a';
      assert.equal(resourceKeyPath({ kind: 'NetworkPolicy', namespace: 'ns1', name: 'p1' }), nsKey);
      const nsKv = await ds.kv.get(nsKey);
      const globalKv = await ds.kv.get(globalKey);
      assert.ok(nsKv && globalKv);
      const stored = JSON.parse(nsKv.value) as Resource;
      assert.equal(stored.kind, 'NetworkPolicy');
      assert.equal(stored.metadata.resourceVersion, undefined);
      assert.equal((JSON.parse(globalKv.value) as Resource).spec?.cidr, '198.18.0.0/24');
    });

    withBackend('create of an existing resource -> AlreadyExistsError; create with resourceVersion -> ValidationError', async ({ datastore: ds }) => {
      const first = await ds.create(pool('p'));
      await assert.rejects(ds.create(pool('p', '198.18.1.0/24')), (e) => isCalicoError(e, 'already-exists'));
      await assert.rejects(
        ds.create({ ...pool('q'), metadata: { name: 'q', resourceVersion: first.metadata.resourceVersion! } }),
        (e) => e instanceof ValidationError && e.issues[0]!.path === 'metadata.resourceVersion',
      );
      assert.equal((await ds.get({ kind: 'IPPool', name: 'p' })).spec?.cidr, '198.18.0.0/24');
    });

    withBackend('missing resources -> NotFoundError on get, update and delete', async ({ datastore: ds }) => {
      const key: ResourceKey = { kind: 'IPPool', name: 'nope' };
      await assert.rejects(ds.get(key), (e) => isCalicoError(e, 'not-found'));
      await assert.rejects(ds.update(pool('nope')), (e) => isCalicoError(e, 'not-found'));
      await assert.rejects(ds.delete(key), (e) => isCalicoError(e, 'not-found'));
    });

    withBackend('update with a stale resourceVersion -> ConflictError carrying the current resource', async ({ datastore: ds }) => {
      const v1 = await ds.create(pool('p'));
      const v2 = await ds.update({ ...v1, spec: { cidr: '198.18.2.0/24' } });
      await assert.rejects(ds.update({ ...v1, spec: { cidr: '198.18.3.0/24' } }), (e) => {
        assert.ok(isCalicoError(e, 'conflict'));
        const current = (e as ConflictError<Resource>).current!;
        assert.equal(current.metadata.resourceVersion, v2.metadata.resourceVersion);
        assert.equal(current.spec?.cidr, '198.18.2.0/24');
        return true;
      });
      // Without uid in hand the store reads first; the CAS still applies.
      await assert.rejects(ds.update({ ...pool('p'), metadata: { name: 'p', resourceVersion: v1.metadata.resourceVersion! } }), (e) => isCalicoError(e, 'conflict'));
      assert.equal((await ds.get({ kind: 'IPPool', name: 'p' })).spec?.cidr, '198.18.2.0/24');
    });

    withBackend('update without resourceVersion is unconditional and keeps uid/creationTimestamp', async ({ datastore: ds }) => {
      const v1 = await ds.create(pool('p'));
      await ds.update({ ...v1, spec: { cidr: '198.18.2.0/24' } });
      const v3 = await ds.update(pool('p', '198.18.4.0/24'));
      assert.equal(v3.metadata.uid, v1.metadata.uid);
      assert.equal(v3.metadata.creationTimestamp, v1.metadata.creationTimestamp);
      assert.equal((await ds.get({ kind: 'IPPool', name: 'p' })).spec?.cidr, '198.18.4.0/24');
    });

    withBackend('delete: CAS with a stale resourceVersion -> ConflictError; with the current one -> deleted', async ({ datastore: ds }) => {
      const v1 = await ds.create(pool('p'));
      const v2 = await ds.update({ ...v1, spec: { cidr: '198.18.2.0/24' } });
      await assert.rejects(ds.delete({ kind: 'IPPool', name: 'p' }, { resourceVersion: v1.metadata.resourceVersion! }), (e) => {
        assert.ok(isCalicoError(e, 'conflict'));
        assert.equal((e as ConflictError<Resource>).current!.metadata.resourceVersion, v2.metadata.resourceVersion);
        return true;
      });
      const gone = await ds.delete({ kind: 'IPPool', name: 'p' }, { resourceVersion: v2.metadata.resourceVersion! });
      assert.equal(gone.metadata.resourceVersion, v2.metadata.resourceVersion);
      await assert.rejects(ds.get({ kind: 'IPPool', name: 'p' }), (e) => isCalicoError(e, 'not-found'));
    });

    withBackend('list by kind, namespace and name prefix; namespaced vs global kinds', async ({ datastore: ds }) => {
      for (const [name, ns] of [['web-a', 'prod'], ['web-b', 'prod'], ['db', 'prod'], ['web-c', 'dev'], ['x', 'prod-2']] as const) await ds.create(policy(name, ns));
      await ds.create(pool('web-pool'));
      assert.deepEqual(names((await ds.list({ kind: 'NetworkPolicy' })).items), ['dev/web-c', 'prod-2/x', 'prod/db', 'prod/web-a', 'prod/web-b']);
      assert.deepEqual(names((await ds.list({ kind: 'NetworkPolicy', namespace: 'prod' })).items), ['prod/db', 'prod/web-a', 'prod/web-b']);
      assert.deepEqual(names((await ds.list({ kind: 'NetworkPolicy', namespace: 'prod', namePrefix: 'web' })).items), ['prod/web-a', 'prod/web-b']);
      assert.deepEqual(names((await ds.list({ kind: 'NetworkPolicy', namePrefix: 'web' })).items), ['dev/web-c', 'prod/web-a', 'prod/web-b']);
      assert.deepEqual(names((await ds.list({ kind: 'IPPool' })).items), ['web-pool']);
      assert.deepEqual(names((await ds.list({ kind: 'GlobalNetworkPolicy' })).items), []);
      const listed = await ds.list({ kind: 'IPPool' });
      assert.ok(Number(listed.revision) >= Number(listed.items[0]!.metadata.resourceVersion));
    });

    withBackend('keys must be well formed: namespace required for namespaced kinds, refused for global ones', async ({ datastore: ds }) => {
      const noNs = { ...policy('p'), metadata: { name: 'p' } };
      await assert.rejects(ds.create(noNs), (e) => e instanceof ValidationError && e.issues.some((i) => i.path === 'metadata.namespace'));
      await assert.rejects(ds.create({ ...pool('p'), metadata: { name: 'p', namespace: 'x' } }), (e) => e instanceof ValidationError);
      await assert.rejects(ds.create(pool('a/b')), (e) => e instanceof ValidationError && e.issues.some((i) => i.path === 'metadata.name'));
      assert.equal((await ds.kv.list('/calico/')).pairs.length, 0);
    });

    withBackend(
      'a rejecting validation hook means nothing is written',
      async ({ datastore: ds }) => {
        const ok = await ds.create(pool('good'));
        const before = await ds.kv.revision();
        await assert.rejects(ds.create(pool('bad', 'not-a-cidr')), (e) => e instanceof ValidationError && e.issues[0]!.path === 'spec.cidr');
        await assert.rejects(ds.update({ ...ok, spec: { cidr: 'nope' } }), (e) => e instanceof ValidationError);
        assert.equal(await ds.kv.revision(), before);
        assert.deepEqual(names((await ds.list({ kind: 'IPPool' })).items), ['good']);
      },
      {
        validate: (r) => {
          if (r.kind === 'IPPool' && !/^[0-9.]+\/[0-9]+$/.test(String(r.spec?.cidr))) throw new ValidationError([{ path: 'spec.cidr', message: 'not a CIDR' }]);
          return r;
        },
      },
    );

    withBackend('KV: watch from a revision replays history in order, one batch per revision', async ({ datastore: ds }) => {
      const start = (await ds.kv.revision()) + 1;
      await ds.kv.create('/calico/test/a', '1');
      await ds.kv.update('/calico/test/a', '2');
      await ds.kv.create('/calico/test/b', '3');
      await ds.kv.delete('/calico/test/a');
      await ds.kv.create('/calico/other/x', 'ignored');
      const batches: { revision: number; events: KVEvent[] }[] = [];
      const w = ds.kv.watch('/calico/test/', start, { onEvents: (events, revision) => batches.push({ revision, events }), onError: (e) => assert.fail(e) });
      try {
        await eventually(() => batches.length >= 4, 'four batches');
        assert.deepEqual(batches.map((b) => b.revision), [start, start + 1, start + 2, start + 3]);
        assert.deepEqual(batches.map((b) => b.events.map((e) => (e.type === 'put' ? `put ${e.kv.key}=${e.kv.value} v${e.kv.version}` : `delete ${e.key}`))), [
          ['put /calico/test/a=1 v1'],
          ['put /calico/test/a=2 v2'],
          ['put /calico/test/b=3 v1'],
          ['delete /calico/test/a'],
        ]);
        const del = batches[3]!.events[0]!;
        assert.equal(del.type === 'delete' && del.modRevision, start + 3);
      } finally {
        w.cancel();
      }
    });

    withBackend('KV: a watch from a compacted revision ends with CompactedError', async (b) => {
      const start = (await b.datastore.kv.revision()) + 1;
      await b.datastore.kv.create('/calico/test/a', '1');
      await b.datastore.kv.update('/calico/test/a', '2');
      await b.compact();
      let error: unknown;
      const w = b.datastore.kv.watch('/calico/test/', start, { onEvents: () => undefined, onError: (e) => (error = e) });
      try {
        await eventually(() => error !== undefined, 'compacted error');
        assert.ok(isCalicoError(error, 'compacted'));
      } finally {
        w.cancel();
      }
    });

    withBackend('watch: initial state as added, in sync, then ordered events', async (b) => {
      await b.datastore.create(policy('p1', 'ns1'));
      await b.datastore.create(pool('pool-a'));
      await b.datastore.create(policy('other-ns', 'ns2'));
      const rec = new WatchRecorder();
      const w = b.watchDatastore.watch({ kinds: ['NetworkPolicy', 'IPPool'], namespace: 'ns1' }, rec.handlers);
      try {
        await eventually(() => rec.inSyncCount === 1, 'in sync');
        assert.deepEqual(rec.events.map((e) => `${e.type} ${e.type === 'deleted' ? e.key.name : e.resource.metadata.name}`).sort(), ['added p1', 'added pool-a']);
        const p1 = await b.datastore.get({ kind: 'NetworkPolicy', namespace: 'ns1', name: 'p1' });
        await b.datastore.update({ ...p1, spec: { order: 5 } });
        await b.datastore.create(policy('p2', 'ns1'));
        await b.datastore.create(policy('ignored', 'ns2'));
        await b.datastore.create({ ...policy('gnp'), kind: 'GlobalNetworkPolicy', metadata: { name: 'gnp' } });
        await b.datastore.delete({ kind: 'IPPool', name: 'pool-a' });
        await eventually(() => rec.events.length >= 5, 'five events');
        assert.deepEqual(rec.events.slice(2).map((e) => `${e.type} ${e.type === 'deleted' ? e.key.name : e.resource.metadata.name}`), [
          'modified p1',
          'added p2',
          'deleted pool-a',
        ]);
        const deleted = rec.events[4]!;
        assert.equal(deleted.type === 'deleted' && deleted.previous?.spec?.cidr, '198.18.0.0/24');
        assert.deepEqual(rec.problems, []);
        assert.equal(rec.inSyncCount, 1);
      } finally {
        w.stop();
      }
    });

    withBackend('watch: a cut watch connection resumes without loss or duplicates', async (b) => {
      for (let i = 0; i < 5; i++) await b.datastore.create(pool(`p${i}`));
      const rec = new WatchRecorder();
      const w = b.watchDatastore.watch({ kinds: ['IPPool'] }, rec.handlers);
      try {
        await eventually(() => rec.inSyncCount === 1, 'in sync');
        await b.partitionWatch();
        await b.datastore.delete({ kind: 'IPPool', name: 'p0' });
        await b.datastore.update(pool('p1', '198.18.9.0/24'));
        await b.datastore.create(pool('p9'));
        await b.healWatch();
        const expected = await storeVersions(b.datastore, ['IPPool']);
        await eventually(() => JSON.stringify(rec.versions()) === JSON.stringify(expected), 'view equals store');
        assert.deepEqual(rec.events.slice(5).map((e) => `${e.type} ${e.type === 'deleted' ? e.key.name : e.resource.metadata.name}`), ['deleted p0', 'modified p1', 'added p9']);
        assert.deepEqual(rec.problems, []);
        assert.ok(rec.statuses.includes('reconnecting'), `statuses: ${rec.statuses.join(',')}`);
      } finally {
        w.stop();
      }
    });

    withBackend('watch: compaction while cut off -> re-list emits only the differences, then in sync again', async (b) => {
      for (let i = 0; i < 5; i++) await b.datastore.create(pool(`p${i}`));
      const rec = new WatchRecorder();
      const w = b.watchDatastore.watch({ kinds: ['IPPool'] }, rec.handlers);
      try {
        await eventually(() => rec.inSyncCount === 1, 'in sync');
        await b.partitionWatch();
        await b.datastore.delete({ kind: 'IPPool', name: 'p0' });
        await b.datastore.update(pool('p1', '198.18.9.0/24'));
        await b.datastore.update(pool('p1', '198.18.10.0/24')); // two updates, one 'modified'
        await b.datastore.create(pool('p9'));
        await b.datastore.create(pool('p8'));
        await b.datastore.delete({ kind: 'IPPool', name: 'p8' }); // never seen: no event at all
        await b.compact();
        await b.healWatch();
        await eventually(() => rec.inSyncCount === 2, 'in sync again after re-list');
        assert.deepEqual(rec.events.slice(5).map((e) => `${e.type} ${e.type === 'deleted' ? e.key.name : e.resource.metadata.name}`), ['deleted p0', 'modified p1', 'added p9']);
        assert.deepEqual(rec.versions(), await storeVersions(b.datastore, ['IPPool']));
        assert.ok(rec.statuses.includes('resyncing'));
        assert.deepEqual(rec.problems, []);
        // And the watch goes on after the re-list.
        await b.datastore.create(pool('after'));
        await eventually(() => rec.view.has('IPPool(after)'), 'event after resync');
        assert.deepEqual(rec.problems, []);
      } finally {
        w.stop();
      }
    });
  });
}
