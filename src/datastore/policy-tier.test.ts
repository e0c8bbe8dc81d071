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
  await ds.delete({ kind: 'Tier', name: 'security' });
  await ds.update({ ...cases[1]!, spec: { tier: 'security', order: 5 } });
  await assert.rejects(ds.create(cases[1]!), (e) => isCalicoError(e, 'already-exists'));
});
