import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyCalcUpdate, emptyDesiredState, ipVersionOf, memberKey, sortedMembers, withMemberDelta, type SetMember } from './output.js';

test('set members: one key per member, named-port members differ by protocol and port; families', () => {
  const named = (net: string, protocol: number, port: number): SetMember => ({ net, protocol, port });
  const keys = [{ net: '10.0.0.1/32' }, named('10.0.0.1/32', 6, 8080), named('10.0.0.1/32', 17, 8080), named('10.0.0.1/32', 6, 8081), named('2001:db8::1/128', 6, 8080)].map(memberKey);
  assert.equal(new Set(keys).size, keys.length);
  assert.equal(memberKey(named('10.0.0.1/32', 6, 8080)), memberKey({ port: 8080, protocol: 6, net: '10.0.0.1/32' }), 'field order does not matter');
  assert.deepEqual(sortedMembers([{ net: '10.0.0.2/32' }, { net: '10.0.0.1/32' }, { net: '10.0.0.2/32' }]), [{ net: '10.0.0.1/32' }, { net: '10.0.0.2/32' }]);
  assert.deepEqual(withMemberDelta([named('10.0.0.1/32', 6, 80)], { added: [named('10.0.0.1/32', 6, 81)], removed: [named('10.0.0.1/32', 6, 80)] }), [named('10.0.0.1/32', 6, 81)]);
  assert.equal(ipVersionOf('10.1.0.0/16'), 4);
  assert.equal(ipVersionOf('2001:db8::/64'), 6);
});

test('applyCalcUpdate folds set deltas into sorted members', () => {
  const s = emptyDesiredState();
  applyCalcUpdate(s, { type: 'ipSetUpserted', ipSet: { id: 'sa', kind: 'net', description: 'all()', members: [{ net: '10.0.0.2/32' }, { net: '10.0.0.1/32' }] } });
  applyCalcUpdate(s, { type: 'ipSetDelta', id: 'sa', added: [{ net: '10.0.0.0/32' }], removed: [{ net: '10.0.0.2/32' }] });
  assert.deepEqual(s.ipSets.get('sa')?.members, [{ net: '10.0.0.0/32' }, { net: '10.0.0.1/32' }]);
  applyCalcUpdate(s, { type: 'ipSetRemoved', id: 'sa' });
  assert.equal(s.ipSets.size, 0);
  assert.throws(() => applyCalcUpdate(s, { type: 'ipSetDelta', id: 'sa', added: [], removed: [] }));
  applyCalcUpdate(s, { type: 'inSync' });
  assert.equal(s.inSync, true);
});
