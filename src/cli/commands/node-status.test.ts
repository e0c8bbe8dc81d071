import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { main } from '../calicoctl.js';
import { CommandRegistry } from '../command.js';
import { FakeIO } from '../fake-io.js';
import { nodeCommand } from './node.js';
import type { BirdStatusReader } from './node-status.js';

const captured = readFileSync(fileURLToPath(new URL('../../../../src/bgp/testdata/show-protocols-all.txt', import.meta.url)), 'utf8');

function run(reader: BirdStatusReader, argv: string[], env: Record<string, string> = {}) {
  const asked: string[] = [];
  const spy: BirdStatusReader = { showProtocolsAll: (s) => (asked.push(s), reader.showProtocolsAll(s)) };
  const registry = new CommandRegistry().register(nodeCommand({ reader: spy, now: () => new Date('2026-11-23T12:00:00Z') }));
  const io = new FakeIO({ env });
  return main(argv, io, { registry }).then((code) => ({ code, io, asked }));
}

test('calicoctl node status prints the sessions from the socket under CALICO_RUN_DIR', async () => {
  const { code, io, asked } = await run({ showProtocolsAll: async () => captured }, ['node', 'status'], { CALICO_RUN_DIR: '/run/lab/h1' });
  assert.equal(code, 0, io.errOut);
  assert.deepEqual(asked, ['/run/lab/h1/bird/bird.ctl']);
  assert.match(io.out, /^Calico process is running\./);
  assert.match(io.out, /192\.0\.2\.2 +\| node-to-node mesh \| up/);
  assert.equal(io.connects.length, 0, 'node status never needs the datastore');
});

test('--run-dir wins; BIRD not running gives a clear message and exit 1', async () => {
  const { code, io, asked } = await run({ showProtocolsAll: async () => undefined }, ['node', 'status', '--run-dir=/tmp/x']);
  assert.equal(code, 1);
  assert.deepEqual(asked, ['/tmp/x/bird/bird.ctl']);
  assert.match(io.errOut, /Calico process is not running: BIRD does not answer on \/tmp\/x\/bird\/bird\.ctl/);
});
