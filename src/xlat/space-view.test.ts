// The address-space view: endpoints in a space leave with their translated
// addresses; a space change re-emits its endpoints; no hysteresis.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../api/resource.js';
import type { WatchEvent } from '../datastore/datastore.js';
import { AddressSpaceView, ORIGINAL_NETWORKS_ANNOTATION } from './space-view.js';

const space = (name: string, prefix: string, created = '2026-01-01T00:00:00Z', services?: unknown[]): Resource =>
  ({ apiVersion: 'projectcalico.org/v3', kind: 'AddressSpace', metadata: { name, creationTimestamp: created }, spec: { prefix, ...(services ? { services } : {}) } }) as Resource;
const wep = (name: string, spec: Record<string, unknown>): Resource =>
  ({ apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { name, namespace: 'ns' }, spec: { node: 'h1', orchestrator: 'cni', endpoint: 'eth0', interfaceName: `cali-${name}`, mac: 'ee:ee:ee:ee:ee:01', ...spec } }) as Resource;
const added = (resource: Resource): WatchEvent => ({ type: 'added', resource });
const nets = (evs: WatchEvent[]) =>
  Object.fromEntries(evs.filter((e) => e.type !== 'deleted' && e.resource.kind === 'WorkloadEndpoint').map((e) => [(e as { resource: Resource }).resource.metadata.name, (e as { resource: Resource }).resource.spec!['ipNetworks']]));

test('an endpoint in a space is rewritten to prefix|ipv4 /128; an endpoint in no space passes untouched', () => {
  const v = new AddressSpaceView();
  const plain = wep('plain', { ipNetworks: ['198.18.5.1/32', '2001:db8::1/128'] });
  const out = v.onEvents([added(space('tenant-a', '2001:db8:64:1::/96')), added(wep('a1', { ipNetworks: ['198.18.5.1/32'], addressSpace: 'tenant-a' })), added(plain)]);
  assert.deepEqual(nets(out), { a1: ['2001:db8:64:1::c612:501/128'], plain: ['198.18.5.1/32', '2001:db8::1/128'] });
  const a1 = out.find((e) => e.type !== 'deleted' && e.resource.metadata.name === 'a1') as { resource: Resource };
  assert.equal(a1.resource.metadata.annotations?.[ORIGINAL_NETWORKS_ANNOTATION], '198.18.5.1/32');
  assert.ok(out.some((e) => e.type === 'added' && e.resource === plain), 'the very same object: endpoints in no space pay nothing');
});

test('the same IPv4 in two spaces: two different addresses', () => {
  const v = new AddressSpaceView();
  const out = v.onEvents([added(space('a', '2001:db8:64:1::/96')), added(space('b', '2001:db8:64:2::/96')), added(wep('x', { ipNetworks: ['198.18.5.1/32'], addressSpace: 'a' })), added(wep('y', { ipNetworks: ['198.18.5.1/32'], addressSpace: 'b' }))]);
  assert.deepEqual(nets(out), { x: ['2001:db8:64:1::c612:501/128'], y: ['2001:db8:64:2::c612:501/128'] });
});

test('a missing space gives no addresses (fail closed); creating or changing the space re-emits its endpoints', () => {
  const v = new AddressSpaceView();
  assert.deepEqual(nets(v.onEvents([added(wep('a1', { ipNetworks: ['198.18.5.1/32'], addressSpace: 'late' }))])), { a1: [] });
  assert.deepEqual(nets(v.onEvents([added(space('late', '2001:db8:64:9::/96'))])), { a1: ['2001:db8:64:9::c612:501/128'] });
  assert.deepEqual(nets(v.onEvents([{ type: 'modified', resource: space('late', '2001:db8:64:a::/96') }])), { a1: ['2001:db8:64:a::c612:501/128'] });
  assert.deepEqual(nets(v.onEvents([{ type: 'deleted', key: { kind: 'AddressSpace', name: 'late' } }])), { a1: [] });
  assert.deepEqual(nets(v.onEvents([added(space('other', '2001:db8:64:b::/96'))])), {}, 'an unrelated space re-emits nothing');
});

test('overlapping prefixes: the older space wins, the other is reported and its endpoints get nothing', () => {
  const v = new AddressSpaceView();
  const out = v.onEvents([
    added(space('newer', '2001:db8:64:1::/96', '2026-02-01T00:00:00Z')),
    added(space('older', '2001:db8:64:1::/96', '2026-01-01T00:00:00Z')),
    added(wep('n', { ipNetworks: ['198.18.5.1/32'], addressSpace: 'newer' })),
  ]);
  assert.deepEqual(nets(out), { n: [] });
  const eff = v.effective();
  assert.deepEqual([...eff.spaces.keys()], ['older']);
  assert.match(eff.problems[0]!.message, /overlaps address space older's/);
});

test('no hysteresis: the same resources in any order give the same endpoints and spaces', () => {
  const events = [added(space('a', '2001:db8:64:1::/96', undefined, [{ ipv4: '198.18.200.10', ipv6: '2001:db8:f00::10' }])), added(space('b', '2001:db8:64:2::/96')), added(wep('x', { ipNetworks: ['198.18.5.1/32'], addressSpace: 'a' })), added(wep('y', { ipNetworks: ['198.18.5.2/32'], addressSpace: 'b' }))];
  const final = (evs: WatchEvent[][]) => {
    const v = new AddressSpaceView();
    for (const b of evs) v.onEvents(b);
    return JSON.stringify([v.spaceEndpoints(), [...v.effective().spaces.values()]]);
  };
  const forwards = final(events.map((e) => [e]));
  assert.equal(final([...events].reverse().map((e) => [e])), forwards);
  assert.equal(final([events]), forwards);
});

test('a space whose prefix overlaps an IPPool is ignored (its /128s would collide with pool routes) until the pool goes', () => {
  const v = new AddressSpaceView();
  const pool = { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'v6' }, spec: { cidr: '2001:db8:64::/48' } } as Resource;
  assert.deepEqual(nets(v.onEvents([added(pool), added(space('a', '2001:db8:64:1::/96')), added(wep('x', { ipNetworks: ['198.18.5.1/32'], addressSpace: 'a' }))])), { x: [] });
  assert.match(v.effective().problems[0]!.message, /overlaps IPPool v6 \(2001:db8:64::\/48\)/);
  assert.deepEqual(nets(v.onEvents([{ type: 'deleted', key: { kind: 'IPPool', name: 'v6' } }])), { x: ['2001:db8:64:1::c612:501/128'] });
});
