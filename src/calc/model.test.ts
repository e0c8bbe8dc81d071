import { test } from 'node:test';
import assert from 'node:assert/strict';
import { res, wep } from './fixtures.test-support.js';
import { exact, flat, parseLabelled, parsePolicy, toCidr } from './model.js';

test('exact: an empty list is one shared frozen list; a non-empty one an equal copy', () => {
  const a = exact<string>([]);
  const b = exact<number>([]);
  assert.equal(a as unknown, b as unknown, 'one shared empty list');
  assert.ok(Object.isFrozen(a));
  assert.throws(() => a.push('x'), TypeError, 'a push into the shared empty list must fail loudly');
  const src = [1, 2, 3];
  src.push(4);
  const c = exact(src);
  assert.deepEqual(c, [1, 2, 3, 4]);
  assert.notEqual(c, src);
  assert.ok(!Object.isFrozen(c));
});

test('parseLabelled: labels are an own copy with the implicit ones; empty lists are the shared frozen one', () => {
  const labels = { app: 'web', role: 'db' };
  const r = wep({ name: 'w1', namespace: 'ns1', node: 'me', ips: ['10.0.0.1'], labels, ports: [{ name: 'http', port: 80 }] });
  const m = parseLabelled(r, 'me')!;
  const own: Record<string, string> = m.ownLabels;
  assert.deepEqual({ ...own }, { app: 'web', role: 'db', 'projectcalico.org/namespace': 'ns1', 'projectcalico.org/orchestrator': 'k8s' });
  own.extra = 'x';
  assert.deepEqual(labels, { app: 'web', role: 'db' }, 'the resource is not changed through the model');
  assert.deepEqual(m.nets, ['10.0.0.1/32']);
  assert.deepEqual(m.addresses, ['10.0.0.1']);
  assert.deepEqual(m.ports, [{ name: 'http', protocol: 6, port: 80 }]);
  assert.deepEqual(m.local?.ipv4Nets, ['10.0.0.1/32']);
  assert.ok(Object.isFrozen(m.local?.ipv6Nets) && Object.isFrozen(m.local?.expectedIPs));
  const gns = parseLabelled(res('GlobalNetworkSet', 'g', { nets: [] }), 'me')!;
  assert.ok(Object.isFrozen(gns.nets) && Object.isFrozen(gns.parents) && Object.isFrozen(gns.addresses) && Object.isFrozen(gns.ports));
});

test('parsePolicy: rules keep their order; a missing list is the shared empty one', () => {
  const p = parsePolicy(res('GlobalNetworkPolicy', 'g', { selector: 'all()', ingress: [{ action: 'Allow' }, null, { action: 'Deny' }] }));
  assert.deepEqual(p.ingress, [{ action: 'Allow' }, { action: 'Deny' }]);
  assert.ok(Object.isFrozen(p.egress));
});

test('flat and toCidr: the same text as concatenation', () => {
  assert.equal(flat('wep:', 'ns1', '/', 'w1'), 'wep:ns1/w1');
  assert.equal(flat(), '');
  assert.equal(toCidr(' 10.0.0.1 '), '10.0.0.1/32');
  assert.equal(toCidr('2001:DB8::1'), '2001:db8::1/128');
  assert.equal(toCidr('10.0.0.0/8'), '10.0.0.0/8');
});
