import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RESOURCE_KINDS, KIND_INFO } from '../api/kinds.js';
import type { ResourceKey } from '../api/resource.js';
import { ValidationError } from '../base/errors.js';
import { kindPrefix, parseResourceKey, resourceKeyPath } from './keys.js';

test('every kind round-trips through its etcd key', () => {
  for (const kind of RESOURCE_KINDS) {
    const key: ResourceKey = KIND_INFO[kind].namespaced ? { kind, namespace: 'ns-1', name: 'n.a-me' } : { kind, name: 'n.a-me' };
    const path = resourceKeyPath(key);
    assert.ok(path.startsWith(`/calico/resources/v3/projectcalico.org/${KIND_INFO[kind].plural}/`));
    assert.deepEqual(parseResourceKey(path), key);
  }
});

test('Calico key layout', () => {
  assert.equal(resourceKeyPath({ kind: 'WorkloadEndpoint', namespace: 'default', name: 'node1-k8s-pod-eth0' }), '/calico/resources/v3/projectcalico.org/workloadendpoints/default/node1-k8s-pod-eth0');
  assert.equal(resourceKeyPath({ kind: 'IPPool', name: 'default-ipv4-ippool' }), '/calico/resources/v3/projectcalico.org/ippools/default-ipv4-ippool');
  assert.equal(kindPrefix('NetworkPolicy'), '/calico/resources/v3/projectcalico.org/networkpolicies/');
  assert.equal(kindPrefix('NetworkPolicy', { namespace: 'a', namePrefix: 'x' }), '/calico/resources/v3/projectcalico.org/networkpolicies/a/x');
  assert.equal(kindPrefix('Tier', { namePrefix: 'sec' }), '/calico/resources/v3/projectcalico.org/tiers/sec');
});

test('keys that are not resources parse to undefined', () => {
  for (const path of [
    '/calico/ipam/v2/assignment/ipv4/block/198.18.0.0-26',
    '/calico/resources/v3/projectcalico.org/unknowns/x',
    '/calico/resources/v3/projectcalico.org/ippools/',
    '/calico/resources/v3/projectcalico.org/ippools/a/b',
    '/calico/resources/v3/projectcalico.org/networkpolicies/only-ns',
  ]) {
    assert.equal(parseResourceKey(path), undefined, path);
  }
});

test('malformed names and namespaces are validation errors naming the field', () => {
  const cases: [ResourceKey, string][] = [
    [{ kind: 'IPPool', name: '' }, 'metadata.name'],
    [{ kind: 'IPPool', name: 'a/b' }, 'metadata.name'],
    [{ kind: 'IPPool', name: '..' }, 'metadata.name'],
    [{ kind: 'IPPool', name: 'p', namespace: 'x' }, 'metadata.namespace'],
    [{ kind: 'NetworkPolicy', name: 'p' }, 'metadata.namespace'],
    [{ kind: 'NetworkPolicy', name: 'p', namespace: 'a/b' }, 'metadata.namespace'],
  ];
  for (const [key, path] of cases) {
    assert.throws(() => resourceKeyPath(key), (e) => e instanceof ValidationError && e.issues[0]!.path === path, JSON.stringify(key));
  }
});
