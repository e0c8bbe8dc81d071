import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../base/errors.js';
import type { Resource } from '../api/resource.js';
import { MemoryKV } from '../datastore/memory-kv.js';
import { ResourceStore } from '../datastore/resource-store.js';
import { datastorePoolSource } from './datastore-sources.js';
import { IpamClient } from './ipam-client.js';
import { guardPoolWrites } from './pool-guard.js';

const pool = (name: string, cidr: string, extra: Record<string, unknown> = {}): Resource => ({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr, ...extra } });

test('guarded datastore refuses overlapping pools and cidr changes while in use, and writes nothing', async () => {
  const raw = new ResourceStore(new MemoryKV());
  const ds = guardPoolWrites(raw);
  await ds.create(pool('a', '192.0.2.0/24'));
  await assert.rejects(ds.create(pool('b', '192.0.2.128/25')), (e) => e instanceof ValidationError && e.issues[0]!.path === 'spec.cidr');
  await assert.rejects(ds.create(pool('tiny', '198.51.100.0/28', { blockSize: 26 })), (e) => e instanceof ValidationError && e.issues[0]!.path === 'spec.blockSize');
  assert.equal((await raw.list({ kind: 'IPPool' })).items.length, 1);
  const ipam = new IpamClient({ kv: ds.kv, pools: datastorePoolSource(ds) });
  await ipam.autoAssign({ handleId: 'h', host: 'n', num4: 1 });
  const a = await ds.get({ kind: 'IPPool', name: 'a' });
  await assert.rejects(ds.update({ ...a, spec: { cidr: '203.0.113.0/24' } }), /while 1 block\(s\) hold addresses/);
  await ds.update({ ...a, spec: { cidr: '192.0.2.0/24', disabled: true } }); // other fields may change
  await ipam.releaseByHandle('h');
  await ds.update({ ...(await ds.get({ kind: 'IPPool', name: 'a' })), spec: { cidr: '203.0.113.0/24' } });
});
