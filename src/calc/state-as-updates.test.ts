import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CalcGraph } from './graph.js';
import { canonicalState, fold, gnp, load, nsProfile, res, wep } from './fixtures.test-support.js';
import { stateAsUpdates } from './output.js';

test('stateAsUpdates: a late consumer folds the one batch to the graph state, in dependency order', () => {
  const g = new CalcGraph({ nodeName: 'node-a' });
  load(g, [
    nsProfile('default'),
    res('IPPool', 'pool', { cidr: '10.0.0.0/16', natOutgoing: true }),
    wep({ name: 'web', ips: ['10.0.0.1/32'], labels: { app: 'web' } }),
    wep({ name: 'db', node: 'node-b', ips: ['10.0.1.1'], labels: { app: 'db' } }),
    gnp('web-egress', { selector: "app == 'web'", egress: [{ action: 'Allow', destination: { selector: "app == 'db'" } }] }),
  ]);
  g.onInSync();
  g.flush();
  const s = g.snapshot();
  const batch = stateAsUpdates(s);
  assert.deepEqual(canonicalState(fold([batch])), canonicalState(s));
  const types = batch.map((u) => u.type);
  assert.ok(types.indexOf('ipSetUpserted') < types.indexOf('policyUpserted'));
  assert.ok(types.indexOf('profileUpserted') < types.indexOf('workloadEndpointUpserted'));
  assert.equal(types.at(-1), 'inSync');
  assert.ok(types.includes('ipPoolUpserted'));
  // Not in sync yet: no inSync in the batch (nothing may be written before it).
  const h = new CalcGraph({ nodeName: 'node-a' });
  load(h, [wep({ name: 'web', ips: ['10.0.0.1/32'] })]);
  assert.ok(!stateAsUpdates(h.snapshot()).some((u) => u.type === 'inSync'));
});
