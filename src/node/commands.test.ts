import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runNodeCommand } from './commands.js';
import type { ProbePorts } from './probes.js';

const SHOW_ALL = readFileSync(fileURLToPath(new URL('../../../src/bgp/testdata/show-protocols-all.txt', import.meta.url)), 'utf8');

function io(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { env, out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

const ports = (answer: boolean): ProbePorts & { asked: string[] } => {
  const asked: string[] = [];
  return {
    asked,
    httpGet: async () => 200,
    birdc: async (socket, command) => (asked.push(`${socket} ${command.join(' ')}`), answer ? { ok: true, text: SHOW_ALL } : { ok: false, text: 'Unable to connect' }),
    mtime: async () => new Date(0),
    now: () => new Date('2026-11-23T12:00:00Z'),
  };
};

test('calico-node -v / -h print and exit 0 without starting anything', async () => {
  const v = io({ CALICO_TS_GIT_COMMIT: 'abc1234' });
  assert.equal(await runNodeCommand({ action: 'version' }, v.io, ports(false)), 0);
  assert.deepEqual(v.out, ['Version:      v0.1.0', 'Git commit:   abc1234']);
  const h = io();
  assert.equal(await runNodeCommand({ action: 'help' }, h.io, ports(false)), 0);
  assert.match(h.out.join('\n'), /^Usage: calico-node \[flag\]/);
});

test('calico-node -show-status reads BIRD under CALICO_RUN_DIR; exit 1 with the reason when BIRD does not answer', async () => {
  const up = io({ CALICO_RUN_DIR: '/run/n1' });
  const p = ports(true);
  assert.equal(await runNodeCommand({ action: 'show-status' }, up.io, p), 0);
  assert.deepEqual(p.asked, ['/run/n1/bird/bird.ctl show protocols all']);
  assert.match(up.out[0]!, /^Calico process is running\.\n\nIPv4 BGP status\n/);
  assert.match(up.out[0]!, /192\.0\.2\.99 +\| global +\| start/);
  const down = io({ CALICO_RUN_DIR: '/run/n1' });
  assert.equal(await runNodeCommand({ action: 'show-status' }, down.io, ports(false)), 1);
  assert.match(down.err[0]!, /Calico process is not running: BIRD does not answer on \/run\/n1\/bird\/bird\.ctl/);
});

test('calico-node health flags: exit 0 / 1 with one line', async () => {
  const ok = io();
  assert.equal(await runNodeCommand({ action: 'health', checks: ['felix-live'], thresholdMs: 30000 }, ok.io, ports(true)), 0);
  assert.deepEqual(ok.out, ['calico/node is live: Felix is live']);
  const bad = io();
  assert.equal(await runNodeCommand({ action: 'health', checks: ['bird-live'], thresholdMs: 30000 }, bad.io, ports(false)), 1);
  assert.equal(bad.out.length, 1);
  assert.match(bad.out[0]!, /^calico\/node is not ready: bird is not live/);
});
