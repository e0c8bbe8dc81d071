import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BirdSupervisor } from './supervisor.js';
import { FakeBirdProcess, FakeClock, FakeConfigFiles } from './fakes.js';
import { silentLogger, type Logger } from './ports.js';

function setup() {
  const files = new FakeConfigFiles();
  const process = new FakeBirdProcess(files);
  const clock = new FakeClock();
  const errors: string[] = [];
  const logger: Logger = { ...silentLogger, error: (m, f) => errors.push(`${m}: ${String(f?.error ?? '')}`) };
  const sup = new BirdSupervisor({ process, files, clock, logger, runDir: '/run/x/', backoff: { initialMs: 1000, maxMs: 8000, resetAfterMs: 60_000 } });
  return { files, process, clock, sup, errors };
}
const flush = () => new Promise((r) => setImmediate(r));

test('first good config: checked, swapped in, daemon started with socket and pid under the run dir', async () => {
  const { sup, process, files } = setup();
  const r = await sup.apply('router id 1.1.1.1;\n');
  assert.deepEqual(r, { applied: true, unchanged: false });
  assert.deepEqual(process.log, [
    'check /run/x/bird/bird.conf.candidate',
    'adopt /run/x/bird/bird.ctl', // nothing left by an earlier agent
    'start /run/x/bird/bird.conf /run/x/bird/bird.ctl /run/x/bird/bird.pid',
  ]);
  assert.equal(files.files.get('/run/x/bird/bird.conf'), 'router id 1.1.1.1;\n');
  assert.equal(sup.state, 'running');
});

test('a change reloads with birdc configure; the same text again does nothing', async () => {
  const { sup, process } = setup();
  await sup.apply('a;\n');
  await sup.apply('b;\n');
  assert.deepEqual((await sup.apply('b;\n')).unchanged, true);
  assert.deepEqual(process.log.slice(3), ['check /run/x/bird/bird.conf.candidate', 'configure /run/x/bird/bird.ctl']);
  assert.deepEqual(sup.history, ['idle', 'starting', 'running', 'reloading', 'running']);
});

test('a graceful stop leaves BIRD running; the next agent adopts and reloads it instead of starting another', async () => {
  const first = setup();
  await first.sup.apply('a;\n');
  await first.sup.stop({ leaveRunning: true });
  assert.equal(first.process.log.at(-1), 'detach');
  assert.equal(first.process.leftRunning, true);
  // The next agent on the same host finds it.
  const next = new BirdSupervisor({ process: first.process, files: first.files, clock: first.clock, logger: silentLogger, runDir: '/run/x/' });
  first.process.log.length = 0;
  await next.apply('a;\n');
  assert.deepEqual(first.process.log, ['check /run/x/bird/bird.conf.candidate', 'adopt /run/x/bird/bird.ctl', 'configure /run/x/bird/bird.ctl']);
  assert.equal(next.state, 'running');
  // A plain stop does stop it.
  await next.stop();
  assert.equal(first.process.log.at(-1), 'stop');
  assert.equal(first.process.leftRunning, false);
});

test('a config BIRD rejects never replaces the good one, and the error is logged', async () => {
  const { sup, process, files, errors } = setup();
  await sup.apply('good;\n');
  const r = await sup.apply('syntax error here;\n');
  assert.equal(r.applied, false);
  assert.match(r.error!, /bird\.conf\.candidate:1:1 syntax error/);
  assert.equal(files.files.get('/run/x/bird/bird.conf'), 'good;\n');
  assert.ok(!process.log.includes('configure /run/x/bird/bird.ctl'));
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /keeping the running one: bird: .*syntax error/);
  assert.equal(sup.status().lastError, r.error);
  // fixing it afterwards works
  assert.equal((await sup.apply('good2;\n')).applied, true);
  assert.equal(sup.status().lastError, undefined);
});

test('a bad first config never starts BIRD', async () => {
  const { sup, process } = setup();
  await sup.apply('syntax error\n');
  assert.equal(sup.state, 'idle');
  assert.ok(!process.log.some((l) => l.startsWith('start')));
});

test('BIRD dying is restarted with exponential backoff, capped, on the injected clock', async () => {
  const { sup, process, clock } = setup();
  await sup.apply('a;\n');
  const delays: number[] = [];
  for (let i = 0; i < 5; i++) {
    process.die(1);
    assert.equal(sup.state, 'backoff');
    delays.push(clock.pending()[0]!);
    clock.advance(delays[i]! - 1);
    await flush();
    assert.equal(sup.state, 'backoff', 'not restarted before the delay');
    clock.advance(1);
    await flush();
    assert.equal(sup.state, 'running');
  }
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 8000]);
  assert.equal(process.log.filter((l) => l.startsWith('start')).length, 6);
});

test('backoff starts over after BIRD ran healthy for a while', async () => {
  const { sup, process, clock } = setup();
  await sup.apply('a;\n');
  process.die();
  clock.advance(1000);
  await flush();
  process.die();
  assert.deepEqual(clock.pending(), [2000]);
  clock.advance(2000);
  await flush();
  clock.advance(60_000);
  process.die();
  assert.deepEqual(clock.pending(), [1000]);
});

test('a config applied during backoff is what the restart runs; a failed start retries', async () => {
  const { sup, process, clock, files } = setup();
  await sup.apply('a;\n');
  process.die();
  await sup.apply('b;\n');
  assert.equal(files.files.get('/run/x/bird/bird.conf'), 'b;\n');
  assert.ok(!process.log.includes('configure /run/x/bird/bird.ctl'));
  process.failNextStart = 'spawn bird ENOENT';
  clock.advance(1000);
  await flush();
  assert.equal(sup.state, 'backoff');
  clock.advance(2000);
  await flush();
  assert.equal(sup.state, 'running');
});

test('birdc configure failing is reported, the daemon keeps running', async () => {
  const { sup, process } = setup();
  await sup.apply('a;\n');
  process.failNextConfigure = 'Reconfiguration rejected';
  const r = await sup.apply('b;\n');
  assert.equal(r.error, 'Reconfiguration rejected');
  assert.equal(sup.state, 'running');
});

test('stop is final: no restart, no apply, illegal transitions throw', async () => {
  const { sup, process, clock } = setup();
  await sup.apply('a;\n');
  process.die();
  await sup.stop();
  clock.advance(100_000);
  await flush();
  assert.equal(sup.state, 'stopped');
  assert.ok(process.log.includes('stop'));
  await assert.rejects(sup.apply('b;\n'), { kind: 'invalid-argument' });
});
