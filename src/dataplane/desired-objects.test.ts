import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DesiredObjects } from './desired-objects.js';
import type { Chain, IpSet } from '../rules/ir.js';

const chain = (name: string, port = 80): Chain => ({ name, table: 'filter', rules: [{ matches: [{ kind: 'ports', dir: 'dst', ports: [{ first: port, last: port }] }], action: { kind: 'accept' } }] });
const set = (name: string, members: string[]): IpSet => ({ name, family: 4, kind: 'net', members: members.map((net) => ({ net })), source: name });

test('dirty objects: new, changed and gone names are dirty until confirmed; the same object or equal content is not', () => {
  const d = new DesiredObjects();
  const a = chain('cali-a');
  const s = set('cali40s-x', ['198.18.0.1']);
  let r = d.next({ chains: [a, chain('cali-b')], sets: [s] });
  assert.deepEqual([...r.dirty].sort(), ['cali-a', 'cali-b', 'cali40s-x']);
  d.allSynced();
  // Same objects, and a rebuilt but equal chain: nothing dirty, and the earlier object is handed on (render memos keep hitting).
  const rebuilt = chain('cali-b');
  r = d.next({ chains: [a, rebuilt], sets: [s] });
  assert.deepEqual([...r.dirty], []);
  assert.notEqual(r.ruleset.chains[1], rebuilt);
  assert.equal(r.ruleset.chains[1]!.name, 'cali-b');
  // A changed chain, a changed set, a removed chain.
  r = d.next({ chains: [chain('cali-a', 443)], sets: [set('cali40s-x', ['198.18.0.1', '198.18.0.2'])] });
  assert.deepEqual([...r.dirty].sort(), ['cali-a', 'cali-b', 'cali40s-x']);
  assert.deepEqual(d.subset(new Set(['cali-a', 'cali-b'])).chains.map((c) => c.rules[0]!.matches), [[{ kind: 'ports', dir: 'dst', ports: [{ first: 443, last: 443 }] }]]);
  // Only what was confirmed leaves the dirty set; the rest stays for the next round even if unchanged by then.
  d.synced(['cali-a', 'cali-b']);
  r = d.next({ chains: [chain('cali-a', 443)], sets: [set('cali40s-x', ['198.18.0.1', '198.18.0.2'])] });
  assert.deepEqual([...r.dirty], ['cali40s-x']);
  // A full reconcile confirms everything except what it could not write.
  d.allSynced(['cali40s-x']);
  assert.deepEqual([...d.pending()], ['cali40s-x']);
  d.allSynced();
  assert.deepEqual([...d.pending()], []);
});
