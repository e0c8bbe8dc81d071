import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Exec, ExecResult } from '../ports.js';
import { MONITOR_ARGV, NftCommits } from './nft-commits.js';

/** An Exec whose one stream is driven by the test. */
class ScriptedMonitor implements Exec {
  starts: string[][] = [];
  stops = 0;
  private handlers: { onLine(line: string): void; onExit(code: number, stderr: string): void } | undefined;
  async run(): Promise<ExecResult> {
    return { code: 0, stdout: '', stderr: '' };
  }
  stream(argv: string[], handlers: { onLine(line: string): void; onExit(code: number, stderr: string): void }, opts?: { background?: boolean }) {
    assert.equal(opts?.background, true, 'the monitor never keeps the agent alive');
    this.starts.push(argv);
    this.handlers = handlers;
    return { stop: () => void this.stops++ };
  }
  emit(line: string): void {
    this.handlers?.onLine(line);
  }
  die(): void {
    this.handlers?.onExit(1, 'gone');
  }
}

const settledWithin = async (p: Promise<void>) => {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
};

test('a transaction resolves at the kernel announcement of its own process, not at another one', async () => {
  const exec = new ScriptedMonitor();
  const commits = new NftCommits(exec);
  const a = commits.wait(100);
  const b = commits.wait(200);
  assert.deepEqual(exec.starts, [MONITOR_ARGV], 'one monitor for both');
  exec.emit('add rule inet calico cali-x accept');
  exec.emit('# new generation 7 by process 200 (nft)');
  assert.equal(await settledWithin(b.done), true);
  assert.equal(await settledWithin(a.done), false, 'process 100 has not committed');
  exec.emit('# new generation 8 by process 1000 (nft)');
  assert.equal(await settledWithin(a.done), false, 'pid 1000 is not pid 100');
  exec.emit('# new generation 9 by process 100 (nft)');
  assert.equal(await settledWithin(a.done), true);
  commits.stop();
  assert.equal(exec.stops, 1);
});

test('a process that exited first is forgotten; a dead monitor is restarted by the next transaction', async () => {
  const exec = new ScriptedMonitor();
  const commits = new NftCommits(exec);
  const a = commits.wait(100);
  a.cancel();
  exec.emit('# new generation 7 by process 100 (nft)');
  assert.equal(await settledWithin(a.done), false, 'cancelled: the exit already answered');
  exec.die();
  const b = commits.wait(101);
  assert.equal(exec.starts.length, 2, 'started again');
  exec.emit('# new generation 8 by process 101 (nft)');
  assert.equal(await settledWithin(b.done), true);
  commits.stop();
});

test('without event streams nothing resolves early (the exit decides)', async () => {
  const exec: Exec = { run: async () => ({ code: 0, stdout: '', stderr: '' }) };
  const commits = new NftCommits(exec);
  const a = commits.wait(100);
  assert.equal(await settledWithin(a.done), false);
  commits.stop();
});
