import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyCalcUpdate, emptyDesiredState, sortedMembers, type CalcUpdate, type SetMember } from '../calc/output.js';
import { seededRandom } from '../base/prng.js';
import { DataplaneManagers } from './managers.js';

const net = (i: number): SetMember => ({ net: `198.18.${i >> 8}.${i & 255}/32` });

test('ipset deltas: folded once when a round reads the sets (one new set object), with the same members as applying each delta in turn', () => {
  const r = seededRandom(11);
  const m = new DataplaneManagers();
  const mirror = emptyDesiredState();
  const record = (u: CalcUpdate) => {
    m.record(u);
    applyCalcUpdate(mirror, u);
  };
  record({ type: 'ipSetUpserted', ipSet: { id: 's', kind: 'net', description: 's', members: Array.from({ length: 500 }, (_, i) => net(i)) } });
  const before = m.view().ipSets.get('s')!;
  for (let k = 0; k < 200; k++) record({ type: 'ipSetDelta', id: 's', added: [net(Math.floor(r() * 1000))], removed: [net(Math.floor(r() * 1000))] });
  // Unknown sets' deltas are dropped, and do not mark anything changed.
  m.clearChanged();
  m.record({ type: 'ipSetDelta', id: 'nope', added: [net(1)], removed: [] });
  assert.equal(m.anyChanged(), false);
  const after = m.view().ipSets.get('s')!;
  assert.notEqual(after, before);
  assert.deepEqual(sortedMembers(after.members), mirror.ipSets.get('s')!.members);
  // Read again with nothing new: the same object (the compiler's caches key on it).
  assert.equal(m.view().ipSets.get('s'), after);
  assert.equal(m.snapshot().ipSets.get('s'), after);
  // An upsert after pending deltas replaces them; a removal drops them.
  m.record({ type: 'ipSetDelta', id: 's', added: [net(4000)], removed: [] });
  m.record({ type: 'ipSetUpserted', ipSet: { id: 's', kind: 'net', description: 's', members: [net(1)] } });
  assert.deepEqual(m.view().ipSets.get('s')!.members, [net(1)]);
  m.record({ type: 'ipSetDelta', id: 's', added: [net(2)], removed: [] });
  m.record({ type: 'ipSetRemoved', id: 's' });
  assert.equal(m.view().ipSets.has('s'), false);
});
