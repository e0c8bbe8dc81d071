// Staged policies (StagedNetworkPolicy, StagedGlobalNetworkPolicy,
// StagedKubernetesNetworkPolicy) are stored but never enforced: the calc graph
// neither watches nor consumes them, so no endpoint ever gets one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CALC_KINDS, CalcGraph } from './graph.js';
import { canonicalState, fold, gnp, load, nsProfile, res, wep } from './fixtures.test-support.js';

test('the syncer does not watch staged kinds', () => {
  for (const k of ['StagedNetworkPolicy', 'StagedGlobalNetworkPolicy', 'StagedKubernetesNetworkPolicy']) {
    assert.ok(!(CALC_KINDS as readonly string[]).includes(k), `${k} is watched by the calc graph`);
  }
});

test('staged policies fed to the graph change nothing, even an Allow-all staged over a deny', () => {
  const base = [nsProfile('default'), wep({ name: 'web', ips: ['10.0.0.1'], labels: { app: 'web' } }), gnp('deny-web', { selector: "app == 'web'", ingress: [{ action: 'Deny' }] })];
  const plain = new CalcGraph({ nodeName: 'node-a' });
  const withStaged = new CalcGraph({ nodeName: 'node-a' });
  const a = load(plain, base);
  const b = load(withStaged, [
    ...base,
    res('StagedGlobalNetworkPolicy', 'allow-web', { stagedAction: 'Set', selector: "app == 'web'", order: 1, ingress: [{ action: 'Allow' }] }),
    res('StagedNetworkPolicy', 'allow-web', { stagedAction: 'Set', selector: 'all()', ingress: [{ action: 'Allow' }] }, { namespace: 'default' }),
    res('StagedKubernetesNetworkPolicy', 'allow-web', { podSelector: {}, ingress: [{}] }, { namespace: 'default' }),
    res('StagedGlobalNetworkPolicy', 'deny-web', { stagedAction: 'Delete', tier: 'default' }),
  ]);
  assert.deepEqual(canonicalState(fold([b])), canonicalState(fold([a])));
  const ep = withStaged.snapshot().workloadEndpoints.get('default/web')!;
  assert.deepEqual(ep.policies.ingress.flatMap((t) => t.policies), ['gnp/deny-web']);
});
