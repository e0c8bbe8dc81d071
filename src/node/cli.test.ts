import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FLAGS, parseNodeArgs, usageText, UsageError } from './cli.js';
import type { NodeInvocation } from './cli.js';

const OK: Array<[string[], NodeInvocation]> = [
  [[], { action: 'run' }],
  [['-h'], { action: 'help' }],
  [['--help'], { action: 'help' }],
  [['-help', '-felix-ready'], { action: 'help' }],
  [['-v'], { action: 'version' }],
  [['--version'], { action: 'version' }],
  [['-v=true'], { action: 'version' }],
  [['-v=false'], { action: 'run' }],
  [['-startup'], { action: 'startup' }],
  [['--show-status'], { action: 'show-status' }],
  [['-felix-ready'], { action: 'health', checks: ['felix-ready'], thresholdMs: 30000 }],
  [['-felix-live'], { action: 'health', checks: ['felix-live'], thresholdMs: 30000 }],
  [['-bird-ready', '-felix-ready'], { action: 'health', checks: ['felix-ready', 'bird-ready'], thresholdMs: 30000 }],
  [['-bird-live', '--bird6-live', '-bird6-ready'], { action: 'health', checks: ['bird-live', 'bird6-live', 'bird6-ready'], thresholdMs: 30000 }],
  [['-bird-ready', '-threshold-time=1m30s'], { action: 'health', checks: ['bird-ready'], thresholdMs: 90000 }],
  [['-bird-ready', '-threshold-time', '10s'], { action: 'health', checks: ['bird-ready'], thresholdMs: 10000 }],
  [['-bird-ready', '--threshold-time=0'], { action: 'health', checks: ['bird-ready'], thresholdMs: 0 }],
  [['-felix-ready=1', '-bird-ready=F'], { action: 'health', checks: ['felix-ready'], thresholdMs: 30000 }],
  [['-startup', '--'], { action: 'startup' }],
];

for (const [argv, want] of OK) {
  test(`calico-node ${argv.join(' ') || '(no flags)'} -> ${want.action}`, () => {
    assert.deepEqual(parseNodeArgs(argv), want);
  });
}

const BAD: Array<[string[], RegExp]> = [
  [['-felix'], /flag provided but not defined: -felix/],
  [['--bogus=1'], /flag provided but not defined: -bogus/],
  [['run'], /unexpected argument "run": calico-node takes flags only/],
  [['-startup', '--', 'x'], /unexpected argument "x"/],
  [['-'], /unexpected argument "-"/],
  [['---v'], /bad flag syntax: ---v/],
  [['-=x'], /bad flag syntax/],
  [['-v=maybe'], /invalid boolean value "maybe" for -v/],
  [['-bird-ready', '-threshold-time'], /flag needs an argument: -threshold-time/],
  [['-bird-ready', '-threshold-time=30'], /invalid value "30" for -threshold-time: give a duration such as 30s/],
  [['-threshold-time=5s'], /-threshold-time applies only to -bird-ready/],
  [['-v', '-startup'], /More than one incompatible argument provided: -version and -startup/],
  [['-felix-ready', '-startup'], /-startup cannot be combined with the health checks \(-felix-ready\)/],
];

for (const [argv, want] of BAD) {
  test(`calico-node ${argv.join(' ')} is a usage error`, () => {
    assert.throws(() => parseNodeArgs(argv), (e) => e instanceof UsageError && e.kind === 'invalid-argument' && want.test(e.message));
  });
}

test('usage lists every flag with its help', () => {
  const text = usageText();
  for (const f of FLAGS) for (const n of f.names) assert.ok(text.includes(`-${n}`), n);
  assert.match(text, /^Usage: calico-node \[flag\]/);
  assert.match(text, /Without a flag: run the agent/);
});
