import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffLinks, InterfaceMonitor, snapshotOf, type InterfaceChange } from './interface-monitor.js';
import { FakeClock, FakeLinks } from './fakes.js';
import { parseLinkNotice } from './linux/drivers.js';

test('diffLinks: new names, new indexes and links that came up; deletions and unchanged links report nothing', () => {
  const before = snapshotOf([
    { name: 'lo', index: 1, up: true },
    { name: 'cali1', index: 5, up: true },
    { name: 'cali2', index: 6, up: false },
    { name: 'cali3', index: 7, up: true },
    { name: 'cali4', index: 8, up: true },
    { name: 'gone', index: 9, up: true },
  ]);
  const now = [
    { name: 'lo', index: 1, up: true },
    { name: 'cali1', index: 12, up: true },
    { name: 'cali2', index: 6, up: true },
    { name: 'cali3', index: 7, up: true },
    { name: 'cali4', index: 8, up: false },
    { name: 'new', index: 13, up: false },
  ];
  assert.deepEqual(diffLinks(before, now), [
    { name: 'cali1', index: 12, reason: 'recreated' },
    { name: 'cali2', index: 6, reason: 'up' },
    { name: 'new', index: 13, reason: 'appeared' },
  ]);
  // A notification showed cali3 going down in between: up again, same index, still a change.
  assert.deepEqual(diffLinks(before, now, new Set(['cali3', 'cali4'])).map((c) => `${c.name}:${c.reason}`), ['cali1:recreated', 'cali2:up', 'cali3:up', 'new:appeared']);
});

test('parseLinkNotice reads `ip -o monitor link` lines', () => {
  assert.deepEqual(parseLinkNotice('3: calia@calib: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default \\    link/ether f2:57'), { name: 'calia', index: 3, up: true, deleted: false });
  assert.deepEqual(parseLinkNotice('3: calia@calib: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN'), { name: 'calia', index: 3, up: false, deleted: false });
  assert.deepEqual(parseLinkNotice('Deleted 12: cali0123456789a@NONE: <BROADCAST,MULTICAST,UP> mtu 1400'), { name: 'cali0123456789a', index: 12, up: true, deleted: true });
  assert.deepEqual(parseLinkNotice('7: eth0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500'), { name: 'eth0', index: 7, up: true, deleted: false });
  assert.equal(parseLinkNotice('garbage'), undefined);
});

function setup(opts: { rescanIntervalMs?: number } = {}) {
  const links = new FakeLinks();
  links.links = [
    { name: 'lo', index: 1, up: true },
    { name: 'cali1', index: 5, up: true },
  ];
  const clock = new FakeClock();
  const seen: InterfaceChange[][] = [];
  const logs: string[] = [];
  const monitor = new InterfaceMonitor({ links, clock, rescanIntervalMs: opts.rescanIntervalMs ?? 90_000, settleMs: 50, onChanges: (c) => seen.push(c), log: (level, msg) => logs.push(`${level} ${msg}`) });
  const step = async (ms: number) => {
    clock.advance(ms);
    await monitor.idle();
  };
  return { links, clock, seen, logs, monitor, step };
}

test('monitor: the first listing is the baseline; a re-created link is reported after one settle delay', async () => {
  const t = setup();
  t.monitor.start();
  await t.step(0);
  assert.equal(t.links.lists, 1);
  assert.deepEqual(t.seen, [], 'baseline reports nothing');
  t.links.recreate('cali1');
  // A runtime's burst: delete, add, set MAC, up.
  for (let i = 0; i < 4; i++) t.links.notify();
  await t.step(10);
  assert.equal(t.links.lists, 1, 'waits for the settle delay');
  await t.step(40);
  assert.equal(t.links.lists, 2, 'one listing for the burst');
  assert.deepEqual(t.seen, [[{ name: 'cali1', index: 6, reason: 'recreated' }]]);
  await t.monitor.stop();
});

test('monitor: down and up between two listings is still reported (IPv4 routes went with "down")', async () => {
  const t = setup();
  t.monitor.start();
  await t.step(0);
  t.links.setUp('cali1', false);
  t.links.setUp('cali1', true);
  await t.step(50);
  assert.deepEqual(t.seen, [[{ name: 'cali1', index: 5, reason: 'up' }]]);
  // A notice that leaves it up (an MTU change) is not a change.
  t.links.notify({ name: 'cali1', index: 5, up: true, deleted: false });
  await t.step(50);
  assert.equal(t.seen.length, 1);
  await t.monitor.stop();
});

test('monitor: without notifications the periodic rescan (interfaceRefreshInterval) finds the change; 0 disables it', async () => {
  const t = setup({ rescanIntervalMs: 1000 });
  t.monitor.start();
  await t.step(0);
  t.links.recreate('cali1');
  await t.step(999);
  assert.equal(t.seen.length, 0);
  await t.step(1);
  assert.deepEqual(t.seen.flat().map((c) => c.reason), ['recreated']);
  await t.monitor.stop();
  assert.equal(t.clock.pendingTimers(), 0, 'stop cancels every timer');

  const u = setup({ rescanIntervalMs: 0 });
  u.monitor.start();
  await u.step(0);
  u.links.recreate('cali1');
  await u.step(10 * 90_000);
  assert.equal(u.links.lists, 1);
  assert.deepEqual(u.seen, []);
  await u.monitor.stop();
});

test('monitor: a broken notification stream is resubscribed with backoff and followed by a listing', async () => {
  const t = setup();
  t.monitor.start();
  await t.step(0);
  t.links.breakSubscriptions('ip monitor exited 1');
  assert.equal(t.links.subscriptions, 0);
  assert.ok(t.logs.some((l) => /^warn interface notifications stopped/.test(l)));
  t.links.recreate('cali1');
  await t.step(999);
  assert.equal(t.links.subscriptions, 0);
  await t.step(1);
  assert.equal(t.links.subscriptions, 1, 'resubscribed after 1 s');
  assert.deepEqual(t.seen.flat().map((c) => c.name), ['cali1'], 'what happened meanwhile is found by the listing that follows');
  t.links.breakSubscriptions();
  await t.step(1000);
  assert.equal(t.links.subscriptions, 0, 'the second attempt waits longer (2 s)');
  await t.step(1000);
  assert.equal(t.links.subscriptions, 1);
  await t.monitor.stop();
  assert.equal(t.links.subscriptions, 0);
});

test('monitor: a failed listing is logged and retried by the next notification; nothing is reported after stop', async () => {
  const t = setup();
  t.monitor.start();
  await t.step(0);
  t.links.failNext('list');
  t.links.recreate('cali1');
  t.links.notify();
  await t.step(50);
  assert.equal(t.seen.length, 0);
  assert.equal(t.monitor.counters.listFailures, 1);
  t.links.notify();
  await t.step(50);
  assert.deepEqual(t.seen.flat().map((c) => c.reason), ['recreated']);
  await t.monitor.stop();
  t.links.recreate('cali1');
  t.links.notify();
  await t.step(1000);
  assert.equal(t.seen.length, 1);
  assert.throws(() => t.monitor.start(), /illegal transition stopped -> running/);
});
