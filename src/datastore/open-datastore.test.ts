// The thin config loader: calicoctl's precedence (a given file > the environment) and errors naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isCalicoError } from '../base/errors.js';
import { pool } from './conformance.js';
import { datastoreConfigFromEnv } from './config.js';
import { loadDatastoreConfig, openDatastore } from './open-datastore.js';

test('a config file given with --config wins over the environment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'calico-ts-cfg-'));
  try {
    const file = join(dir, 'calicoctl.cfg');
    writeFileSync(file, 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  etcdEndpoints: http://192.0.2.10:2379\n');
    const c = loadDatastoreConfig({ configFile: file, env: { ETCD_ENDPOINTS: 'http://198.51.100.1:2379' } });
    assert.deepEqual(c.etcdEndpoints, ['http://192.0.2.10:2379']);
    assert.equal(c.source, file);
    assert.throws(() => loadDatastoreConfig({ configFile: join(dir, 'missing.cfg') }), (e) => isCalicoError(e, 'invalid-argument') && /missing\.cfg/.test((e as Error).message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unreadable certificate files are named in the error', () => {
  assert.throws(
    () => openDatastore({ datastoreType: 'etcdv3', etcdEndpoints: ['https://127.0.0.1:2379'], etcdCACertFile: '/nonexistent/ca.pem', source: 'environment' }),
    (e) => isCalicoError(e, 'invalid-argument') && /\/nonexistent\/ca\.pem/.test((e as Error).message),
  );
});

test('DATASTORE_TYPE=memory opens a working in-memory store (tests only)', async () => {
  const ds = openDatastore(datastoreConfigFromEnv({ DATASTORE_TYPE: 'memory' }));
  try {
    await ds.create(pool('p'));
    assert.equal((await ds.list({ kind: 'IPPool' })).items.length, 1);
  } finally {
    await ds.close();
  }
});
