import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyCalcUpdate, emptyDesiredState, ipVersionOf, namedPortMember, parseNamedPortMember } from './output.js';

test('named-port members round-trip for both families', () => {
  for (const [addr, proto, port] of [['10.0.0.1', 6, 8080], ['2001:db8::1', 17, 53]] as const) {
    const m = namedPortMember(addr, proto, port);
    assert.deepEqual(parseNamedPortMember(m), { address: addr, protocol: proto, port });
    assert.equal(ipVersionOf(m), addr.includes(':') ? 6 : 4);
  }
  assert.equal(ipVersionOf('10.1.0.0/16'), 4);
  assert.equal(ipVersionOf('2001:db8::/64'), 6);
});

test('applyCalcUpdate folds set deltas into sorted members', () => {
  const s = emptyDesiredState();
  applyCalcUpdate(s, { type: 'ipSetUpserted', ipSet: { id: 'sa', kind: 'net', description: 'all()', members: ['10.0.0.2/32', '10.0.0.1/32'] } });
  applyCalcUpdate(s, { type: 'ipSetDelta', id: 'sa', added: ['10.0.0.0/32'], removed: ['10.0.0.2/32'] });
  assert.deepEqual(s.ipSets.get('sa')?.members, ['10.0.0.0/32', '10.0.0.1/32']);
  applyCalcUpdate(s, { type: 'ipSetRemoved', id: 'sa' });
  assert.equal(s.ipSets.size, 0);
  assert.throws(() => applyCalcUpdate(s, { type: 'ipSetDelta', id: 'sa', added: [], removed: [] }));
  applyCalcUpdate(s, { type: 'inSync' });
  assert.equal(s.inSync, true);
});
