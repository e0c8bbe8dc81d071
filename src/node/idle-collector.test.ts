import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../dataplane/fakes.js';
import { IdleCollector } from './idle-collector.js';

function setup(opts: { quietMs?: number; settleMs?: number; minWork?: number }) {
  const clock = new FakeClock();
  const log: string[] = [];
  const works: number[] = [];
  const c = new IdleCollector({ clock, collectYoung: () => log.push(`young@${clock.now()}`), onSettled: (work) => works.push(work), ...opts });
  return { clock, c, log, works };
}

test('idle collector: once quiet after a burst, a young collection, then another settleMs later', () => {
  const { clock, c, log, works } = setup({ quietMs: 5000, settleMs: 6000, minWork: 100 });
  c.noteWork(80);
  clock.advance(1000);
  c.noteWork(40); // 120 >= 100: the quiet period starts
  clock.advance(4999);
  assert.deepEqual(log, []);
  clock.advance(1);
  assert.deepEqual(log, ['young@6000']);
  clock.advance(6000);
  assert.deepEqual(log, ['young@6000', 'young@12000']);
  assert.deepEqual(works, [120]);
  clock.advance(60_000);
  assert.equal(log.length, 2, 'nothing more while nothing happens');
});

test('idle collector: work restarts the quiet period, also between the two collections', () => {
  const { clock, c, log } = setup({ quietMs: 5000, settleMs: 6000, minWork: 10 });
  c.noteWork(10);
  clock.advance(4000);
  c.noteWork(1);
  clock.advance(4000);
  assert.deepEqual(log, []);
  clock.advance(1000);
  assert.deepEqual(log, ['young@9000']);
  clock.advance(3000);
  c.noteWork(1); // busy again: no second collection yet
  clock.advance(5000);
  assert.deepEqual(log, ['young@9000', 'young@17000']);
  clock.advance(6000);
  assert.deepEqual(log, ['young@9000', 'young@17000', 'young@23000']);
});

test('idle collector: small work accumulates across bursts until it is worth a collection', () => {
  const { clock, c, log, works } = setup({ quietMs: 1000, settleMs: 1000, minWork: 10 });
  for (let i = 0; i < 9; i++) {
    c.noteWork(1);
    clock.advance(10_000);
  }
  assert.equal(log.length, 0);
  c.noteWork(1);
  clock.advance(2000);
  assert.deepEqual(log, ['young@91000', 'young@92000']);
  assert.deepEqual(works, [10]);
  // The count starts again once settled.
  c.noteWork(9);
  clock.advance(10_000);
  assert.equal(works.length, 1);
});

test('idle collector: stop cancels a pending collection and ignores later work', () => {
  const { clock, c, log } = setup({ quietMs: 1000, minWork: 1 });
  c.noteWork(5);
  c.stop();
  assert.equal(clock.pendingTimers(), 0);
  c.noteWork(5);
  clock.advance(10_000);
  assert.deepEqual(log, []);
});
