import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desiredMaps, diffMaps, u32le } from './maps.js';
import type { EffectiveSpace } from './space-view.js';

test('map layout matches xlat.c: ifindex (host order) -> prefix[12] + space id; EAM keys space id + address', () => {
  const spaces = new Map<string, EffectiveSpace>([['a', { name: 'a', prefix: '2001:db8:64:7::/96', id: 3, services: [{ ipv4: '198.18.200.10', ipv6: '2001:db8:f00::10' }] }]]);
  const m = desiredMaps(spaces, [{ interfaceName: 'cali1', ifindex: 0x102, space: 'a' }]);
  assert.equal(u32le(0x102), '02010000');
  assert.deepEqual([...m.xlat_ifaces], [['02010000', '20010db8006400070000000003000000']]);
  assert.deepEqual([...m.xlat_eam4], [['03000000c612c80a', '20010db80f0000000000000000000010']]);
  assert.deepEqual([...m.xlat_eam6], [['0300000020010db80f0000000000000000000010', 'c612c80a']]);
  assert.equal(desiredMaps(spaces, []).xlat_eam4.size, 0, 'mappings only for spaces with an endpoint here');
});

test('diff: only changed or missing entries are written, stale ones deleted', () => {
  const want = { xlat_ifaces: new Map([['01000000', 'aa'], ['02000000', 'bb']]), xlat_eam4: new Map(), xlat_eam6: new Map() };
  const have = { xlat_ifaces: new Map([['01000000', 'aa'], ['02000000', 'cc'], ['03000000', 'dd']]), xlat_eam4: new Map(), xlat_eam6: new Map() };
  assert.deepEqual(diffMaps(want, have), [{ map: 'xlat_ifaces', upserts: [['02000000', 'bb']], deletes: ['03000000'] }]);
  assert.deepEqual(diffMaps(want, want), []);
});
