// Static (permanent) neighbour entries for local workload addresses: recorded
// by the endpoint manager, written by the apply loop, swept when unwanted.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplyLoop } from './apply-loop.js';
import { DataplaneManagers } from './managers.js';
import { FakeClock, fakePorts } from './fakes.js';
import { NftBackend } from './policy-backend.js';
import { defaultDataplaneConfig } from '../rules/model.js';
import { workload } from './testing-fixtures.js';
import type { CalcUpdate } from '../calc/output.js';

function setup() {
  const ports = fakePorts();
  for (const d of ['cali0000000001', 'cali0000000002']) ports.routes.devices.add(d);
  const clock = new FakeClock();
  const managers = new DataplaneManagers();
  const loop = new ApplyLoop({ managers, backend: new NftBackend(ports.nft), ports, clock, config: defaultDataplaneConfig(), minIntervalMs: 100, backoff: { initialMs: 200, maxMs: 1600, maxPolicyAttempts: 5 } });
  const record = async (...u: CalcUpdate[]) => {
    for (const x of u) managers.record(x);
    loop.kick();
    clock.advance(100);
    await loop.roundFinished();
  };
  const entries = () => [...ports.neighbors.entries.values()].map((n) => `${n.ip} ${n.mac} ${n.dev}`).sort();
  return { ports, clock, managers, loop, record, entries };
}

const wlA = workload({ name: 'a', iface: 'cali0000000001', ipv4: ['198.18.1.1/32'], ipv6: ['2001:db8::1/128'], mac: 'EE:EE:EE:EE:EE:01', profiles: ['kns.default'] });
const wlB = workload({ name: 'b', iface: 'cali0000000002', ipv4: ['198.18.1.2/32'], profiles: ['kns.default'] });

test('endpoint manager: one entry per single address of an endpoint with a MAC (lower case); none without a MAC or for wider nets', () => {
  const m = new DataplaneManagers();
  m.record({ type: 'workloadEndpointUpserted', endpoint: { ...wlA, ipv4Nets: ['198.18.1.1/32', '198.18.2.0/26'] } });
  m.record({ type: 'workloadEndpointUpserted', endpoint: wlB });
  assert.deepEqual(m.endpoints.desiredNeighbors(), [
    { ip: '198.18.1.1', mac: 'ee:ee:ee:ee:ee:01', dev: 'cali0000000001', family: 4 },
    { ip: '2001:db8::1', mac: 'ee:ee:ee:ee:ee:01', dev: 'cali0000000001', family: 6 },
  ]);
});

test('apply loop writes a permanent entry for each IPv4 and IPv6 address, only once', async () => {
  const t = setup();
  await t.record({ type: 'workloadEndpointUpserted', endpoint: wlA }, { type: 'workloadEndpointUpserted', endpoint: wlB }, { type: 'inSync' });
  assert.deepEqual(t.entries(), ['198.18.1.1 ee:ee:ee:ee:ee:01 cali0000000001', '2001:db8::1 ee:ee:ee:ee:ee:01 cali0000000001']);
  const writes = t.ports.neighbors.log.filter((l) => !l.startsWith('list'));
  await t.record({ type: 'workloadEndpointUpserted', endpoint: wlB });
  assert.deepEqual(t.ports.neighbors.log.filter((l) => !l.startsWith('list')), writes, 'an unrelated change rewrites nothing');
  assert.equal(t.ports.neighbors.log.filter((l) => l.startsWith('list')).length, 2, 'the kernel is read once');
});

test('a changed MAC or interface is rewritten; a removed endpoint or MAC removes its entries', async () => {
  const t = setup();
  await t.record({ type: 'workloadEndpointUpserted', endpoint: wlA }, { type: 'inSync' });
  await t.record({ type: 'workloadEndpointUpserted', endpoint: { ...wlA, mac: 'ee:ee:ee:ee:ee:0a' } });
  assert.deepEqual(t.entries(), ['198.18.1.1 ee:ee:ee:ee:ee:0a cali0000000001', '2001:db8::1 ee:ee:ee:ee:ee:0a cali0000000001']);
  await t.record({ type: 'workloadEndpointUpserted', endpoint: { ...wlA, interfaceName: 'cali0000000002' } });
  assert.ok(t.ports.neighbors.log.includes('remove 198.18.1.1 dev cali0000000001'), 'the entry on the old device is deleted');
  assert.deepEqual(t.entries(), ['198.18.1.1 ee:ee:ee:ee:ee:01 cali0000000002', '2001:db8::1 ee:ee:ee:ee:ee:01 cali0000000002']);
  const { mac: _mac, ...noMac } = wlA;
  await t.record({ type: 'workloadEndpointUpserted', endpoint: noMac });
  assert.deepEqual(t.entries(), []);
  await t.record({ type: 'workloadEndpointUpserted', endpoint: wlA });
  await t.record({ type: 'workloadEndpointRemoved', id: wlA.id });
  assert.deepEqual(t.entries(), []);
  assert.ok(t.ports.neighbors.log.includes('remove 2001:db8::1 dev cali0000000001'));
});

test('restart: a correct entry is left alone, a wrong MAC is fixed, a stale entry of ours is swept', async () => {
  const t = setup();
  t.ports.neighbors.entries.set('198.18.1.1', { ip: '198.18.1.1', mac: 'ee:ee:ee:ee:ee:01', dev: 'cali0000000001', family: 4 });
  t.ports.neighbors.entries.set('2001:db8::1', { ip: '2001:db8::1', mac: '02:00:00:00:00:66', dev: 'cali0000000001', family: 6 });
  t.ports.neighbors.entries.set('198.18.9.9', { ip: '198.18.9.9', mac: '02:00:00:00:00:99', dev: 'cali0000000002', family: 4 });
  await t.record({ type: 'workloadEndpointUpserted', endpoint: wlA }, { type: 'inSync' });
  assert.deepEqual(t.ports.neighbors.log, ['list 4', 'list 6', 'remove 198.18.9.9 dev cali0000000002', 'replace 2001:db8::1 lladdr ee:ee:ee:ee:ee:01 dev cali0000000001']);
  assert.deepEqual(t.entries(), ['198.18.1.1 ee:ee:ee:ee:ee:01 cali0000000001', '2001:db8::1 ee:ee:ee:ee:ee:01 cali0000000001']);
});

test('an entry whose interface does not exist yet backs off and is retried; others are written', async () => {
  const t = setup();
  const wlC = workload({ name: 'c', iface: 'cali0000000003', ipv4: ['198.18.1.3/32'], mac: 'ee:ee:ee:ee:ee:03', profiles: ['kns.default'] });
  await t.record({ type: 'workloadEndpointUpserted', endpoint: wlA }, { type: 'workloadEndpointUpserted', endpoint: wlC }, { type: 'inSync' });
  assert.equal(t.loop.failing().get('neighbor:198.18.1.3')?.kind, 'neighbor');
  assert.ok(t.ports.neighbors.entries.has('198.18.1.1'));
  t.ports.routes.devices.add('cali0000000003');
  t.clock.advance(2000);
  await t.loop.roundFinished();
  assert.equal(t.ports.neighbors.entries.get('198.18.1.3')?.mac, 'ee:ee:ee:ee:ee:03');
  assert.equal(t.loop.failing().size, 0);
});

test('a failed read of the neighbour table is retried; nothing is written blind', async () => {
  const t = setup();
  t.ports.neighbors.failNext('list 4');
  await t.record({ type: 'workloadEndpointUpserted', endpoint: wlA }, { type: 'inSync' });
  assert.deepEqual(t.ports.neighbors.log, ['list 4']);
  assert.equal(t.loop.failing().get('neighbors-read')?.kind, 'neighbor');
  t.clock.advance(2000);
  await t.loop.roundFinished();
  assert.equal(t.entries().length, 2);
});
