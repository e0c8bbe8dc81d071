// The translator manager against a fake kernel: nothing before sync, nothing
// without space endpoints, maps before attach, detach when an endpoint leaves,
// read-back so a re-created interface is fixed, reload swaps every program.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../dataplane/fakes.js';
import { createLogger } from '../node/log.js';
import { FakeXlatKernel } from './fake.js';
import { XlatManager } from './manager.js';
import type { EffectiveSpace, SpaceEndpoint } from './space-view.js';

const spaces = new Map<string, EffectiveSpace>([
  ['a', { name: 'a', prefix: '2001:db8:64:1::/96', id: 1, services: [{ ipv4: '198.18.200.10', ipv6: '2001:db8:f00::10' }] }],
  ['b', { name: 'b', prefix: '2001:db8:64:2::/96', id: 2, services: [] }],
]);
const ep = (iface: string, space: string): SpaceEndpoint => ({ id: `ns/${iface}`, node: 'h1', interfaceName: iface, space, ipv4: ['198.18.5.1/32'], ipv6: [] });

function setup() {
  const kernel = new FakeXlatKernel();
  kernel.interfaces.set('cali1', 7).set('cali2', 8);
  const clock = new FakeClock();
  const m = new XlatManager({ kernel, clock, log: createLogger({ level: 'none', sink: () => undefined, now: () => new Date(0) }), refreshMs: 10_000, backoff: { initialMs: 100, maxMs: 1000 } });
  return { kernel, clock, m };
}

test('nothing is loaded or written before the datastore is in sync, nor when no endpoint of this host is in a space', async () => {
  const { kernel, m } = setup();
  m.setDesired(spaces, [ep('cali1', 'a')]);
  await m.settled();
  assert.deepEqual(kernel.log, []);
  m.setDesired(spaces, []);
  m.markInSync();
  await m.settled();
  assert.deepEqual(kernel.log, [], 'endpoints in no space pay nothing: the program is not even loaded');
});

test('maps first, then both hooks; the second round writes nothing', async () => {
  const { kernel, m } = setup();
  m.markInSync();
  m.setDesired(spaces, [ep('cali1', 'a'), ep('cali2', 'b')]);
  await m.settled();
  assert.deepEqual(kernel.log, [
    'load 100,101',
    'update xlat_ifaces 07000000=20010db8006400010000000001000000',
    'update xlat_ifaces 08000000=20010db8006400020000000002000000',
    'update xlat_eam4 01000000c612c80a=20010db80f0000000000000000000010',
    'update xlat_eam6 0100000020010db80f0000000000000000000010=c612c80a',
    'attach cali1 ingress 100',
    'attach cali1 egress 101',
    'attach cali2 ingress 100',
    'attach cali2 egress 101',
  ]);
  const n = kernel.log.length;
  m.kick();
  await m.settled();
  assert.equal(kernel.log.length, n);
});

test('an endpoint leaving its space is detached before its map entry goes', async () => {
  const { kernel, m } = setup();
  m.markInSync();
  m.setDesired(spaces, [ep('cali1', 'a'), ep('cali2', 'b')]);
  await m.settled();
  kernel.log.length = 0;
  m.setDesired(spaces, [ep('cali1', 'a')]);
  await m.settled();
  assert.deepEqual(kernel.log, ['detach cali2 egress', 'detach cali2 ingress', 'delete xlat_ifaces 08000000']);
});

test('an interface that does not exist yet is retried with backoff; a re-created one (new ifindex) is re-attached on the refresh', async () => {
  const { kernel, clock, m } = setup();
  kernel.interfaces.delete('cali2');
  m.markInSync();
  m.setDesired(spaces, [ep('cali2', 'b')]);
  await m.settled();
  assert.deepEqual(m.pending, ['cali2']);
  kernel.interfaces.set('cali2', 9);
  clock.advance(100);
  await m.settled();
  assert.deepEqual(m.pending, []);
  assert.ok(kernel.filters.has('cali2/ingress') && kernel.maps.xlat_ifaces.has('09000000'));
  kernel.removeInterface('cali2');
  kernel.interfaces.set('cali2', 12);
  clock.advance(10_000);
  await m.settled();
  assert.deepEqual([...kernel.maps.xlat_ifaces.keys()], ['0c000000'], 'stale ifindex entry replaced');
  assert.equal(kernel.filters.get('cali2/egress'), 101);
});

test('a failed write is retried; reload loads a new program and replaces it on every hook', async () => {
  const { kernel, clock, m } = setup();
  m.markInSync();
  kernel.failNext = 'writeMaps';
  m.setDesired(spaces, [ep('cali1', 'a')]);
  await m.settled();
  assert.equal(m.counters.failures, 1);
  assert.equal(kernel.filters.size, 0, 'not attached while its map entry is missing');
  clock.advance(100);
  await m.settled();
  assert.equal(kernel.filters.get('cali1/ingress'), 100);
  kernel.log.length = 0;
  await m.reload();
  assert.deepEqual(kernel.log, ['load 102,103', 'attach cali1 ingress 102', 'attach cali1 egress 103', 'sweep']);
});
