// Calico's client-side rule: a policy is created only in a tier that exists
// ("default" always does). Checked on create, like Calico; an existing policy
// still updates after its tier is gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateResource } from '../api/index.js';
import type { Resource } from '../api/resource.js';
import { isCalicoError, ValidationError } from '../base/errors.js';
import { MemoryKV } from './memory-kv.js';
import { ResourceStore } from './resource-store.js';

const r = (kind: Resource['kind'], name: string, spec: Record<string, unknown>, namespace?: string): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}) },
  spec,
});

test('policies of every tiered kind need their tier; default needs nothing', async () => {
  const kv = new MemoryKV();
  const ds = new ResourceStore(kv, { validate: (x) => validateResource(x) });
  const cases: Resource[] = [
    r('NetworkPolicy', 'p', { tier: 'security', selector: 'all()' }, 'ns'),
    r('GlobalNetworkPolicy', 'p', { tier: 'security' }),
    r('StagedNetworkPolicy', 'p', { tier: 'security' }, 'ns'),
    r('StagedGlobalNetworkPolicy', 'p', { tier: 'security', stagedAction: 'Delete' }),
  ];
  for (const c of cases) {
    await assert.rejects(ds.create(c), (e) => e instanceof ValidationError && e.issues[0]!.path === 'spec.tier' && /tier "security" does not exist: create the Tier first/.test(e.issues[0]!.message), c.kind);
  }
  assert.equal((await kv.list('')).pairs.length, 0, 'nothing written');
  await ds.create(r('GlobalNetworkPolicy', 'in-default', {}));
  await ds.create(r('Tier', 'security', { order: 10 }));
  for (const c of cases) await ds.create(c);
  // Updates do not re-check (Calico does not either); a create of an existing policy says so.
  await ds.update({ ...cases[1]!, spec: { tier: 'security', order: 5 } });
  await assert.rejects(ds.create(cases[1]!), (e) => isCalicoError(e, 'already-exists'));
});

test('a tier is deleted only when empty; default and adminnetworkpolicy never', async () => {
  const kv = new MemoryKV();
  const ds = new ResourceStore(kv, { validate: (x) => validateResource(x) });
  await ds.create(r('Tier', 'security', { order: 10 }));
  await ds.create(r('Tier', 'default', { order: 1000000 }));
  const np = await ds.create(r('NetworkPolicy', 'security.np', { tier: 'security', selector: 'all()' }, 'ns'));
  const gnp = await ds.create(r('GlobalNetworkPolicy', 'security.gnp', { tier: 'security' }));
  await ds.create(r('StagedGlobalNetworkPolicy', 'security.staged', { tier: 'security', stagedAction: 'Delete' }));
  const refused = (what: RegExp) => (e: unknown) => e instanceof ValidationError && e.issues[0]!.path === 'metadata.name' && what.test(e.issues[0]!.message);
  await assert.rejects(ds.delete({ kind: 'Tier', name: 'security' }), refused(/tier "security" is not empty \(NetworkPolicy\(ns\/security\.np\), GlobalNetworkPolicy\(security\.gnp\)\): delete those policies or move them/));
  await ds.delete({ kind: 'NetworkPolicy', namespace: 'ns', name: np.metadata.name });
  await assert.rejects(ds.delete({ kind: 'Tier', name: 'security' }), refused(/GlobalNetworkPolicy\(security\.gnp\)/));
  // Moved out of the tier: it no longer holds the tier.
  await ds.update({ ...gnp, spec: { tier: 'default' } });
  // Only the staged policy is left: it does not block (Calico's rule).
  await ds.delete({ kind: 'Tier', name: 'security' });
  await assert.rejects(ds.get({ kind: 'Tier', name: 'security' }), (e) => isCalicoError(e, 'not-found'));
  for (const name of ['default', 'adminnetworkpolicy']) {
    await assert.rejects(ds.delete({ kind: 'Tier', name }), refused(new RegExp(`the ${name} tier cannot be deleted`)));
  }
  await ds.get({ kind: 'Tier', name: 'default' });
});
