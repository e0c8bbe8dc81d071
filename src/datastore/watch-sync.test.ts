import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCalicoError } from '../base/errors.js';
import type { KVPair } from './kv.js';
import { KnownRevisions, WatcherStateMachine, type KeyChange } from './watch-sync.js';

const kv = (key: string, modRevision: number): KVPair => ({ key, value: '{}', modRevision, createRevision: modRevision, version: 1 });
const show = (changes: KeyChange[]): string[] => changes.map((c) => `${c.type} ${c.type === 'deleted' ? c.key : `${c.kv.key}@${c.kv.modRevision}`}`);

test('reconcile: first list is all added; re-list emits only differences, deletions first', () => {
  const k = new KnownRevisions();
  assert.deepEqual(show(k.reconcile([kv('/b', 3), kv('/a', 2), kv('/c', 4)], 4)), ['added /a@2', 'added /b@3', 'added /c@4']);
  assert.deepEqual(show(k.reconcile([kv('/a', 2), kv('/c', 9), kv('/d', 8)], 9)), ['deleted /b', 'modified /c@9', 'added /d@8']);
  assert.deepEqual(k.reconcile([kv('/a', 2), kv('/c', 9), kv('/d', 8)], 10), []);
  assert.equal(k.revision, 10);
  assert.equal(k.size, 3);
});

test('apply: replayed revisions, stale puts and deletes of unknown keys are dropped', () => {
  const k = new KnownRevisions();
  k.reconcile([kv('/a', 5)], 5);
  const cases: [string, Parameters<KnownRevisions['apply']>, string[]][] = [
    ['put of a key at the list revision (replay)', [[{ type: 'put', kv: kv('/a', 5) }], 5], []],
    ['newer put', [[{ type: 'put', kv: kv('/a', 6) }], 6], ['modified /a@6']],
    ['same revision again', [[{ type: 'put', kv: kv('/a', 6) }], 6], []],
    ['new key', [[{ type: 'put', kv: kv('/b', 7) }], 7], ['added /b@7']],
    ['delete unknown key', [[{ type: 'delete', key: '/zzz', modRevision: 8 }], 8], []],
    ['delete known key', [[{ type: 'delete', key: '/b', modRevision: 9 }], 9], ['deleted /b']],
    ['older revision after newer', [[{ type: 'put', kv: kv('/c', 3) }], 3], []],
    ['two events in one revision', [[{ type: 'put', kv: kv('/c', 10) }, { type: 'delete', key: '/a', modRevision: 10 }], 10], ['added /c@10', 'deleted /a']],
  ];
  for (const [name, args, expected] of cases) assert.deepEqual(show(k.apply(...args)), expected, name);
  assert.equal(k.revision, 10);
});

test('state machine: legal path, and illegal transitions throw', () => {
  const m = new WatcherStateMachine();
  for (const s of ['listing', 'listing', 'watching', 'resyncing', 'resyncing', 'watching', 'stopped'] as const) m.move(s);
  assert.deepEqual(m.history, ['idle', 'listing', 'listing', 'watching', 'resyncing', 'resyncing', 'watching', 'stopped']);
  assert.throws(() => m.move('listing'), (e) => isCalicoError(e, 'internal'));
  const fresh = new WatcherStateMachine();
  assert.throws(() => fresh.move('watching'), (e) => isCalicoError(e, 'internal'));
  fresh.move('listing');
  fresh.move('watching');
  assert.equal(fresh.canMove('listing'), false);
});
