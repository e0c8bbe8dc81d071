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

test('tc filter lines: only ours (pref 1, an xlat_ program) with their program ids', async () => {
  const { parseFilters } = await import('./linux.js');
  const text = [
    'filter protocol all pref 1 bpf chain 0 ',
    'filter protocol all pref 1 bpf chain 0 handle 0x1 xlat_from_wl:[*fsobj] direct-action not_in_hw id 739 name xlat_from_wl tag aefbd10772cf51b2 jited ',
    'filter protocol all pref 2 bpf chain 0 handle 0x1 other:[*fsobj] direct-action not_in_hw id 12 name other tag 00 jited ',
    'filter protocol all pref 3 bpf chain 0 handle 0x1 xlat_to_wl:[*fsobj] direct-action not_in_hw id 13 name xlat_to_wl tag 00 jited ',
  ].join('\n');
  assert.deepEqual(parseFilters(text, 'cali1', 'ingress'), [{ interfaceName: 'cali1', hook: 'ingress', programId: 739 }]);
});
