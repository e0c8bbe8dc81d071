import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CalicoError } from '../base/errors.js';
import { summariseCpuProfile, type CpuProfile } from './cpu-profile.js';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)') },
    { id: 2, callFrame: frame('(idle)') },
    { id: 3, callFrame: frame('compileRuleset', 'file:///repo/dist/src/rules/compile-endpoints.js', 41) },
    { id: 4, callFrame: frame('', 'file:///repo/dist/src/calc/graph.js', 9) },
    { id: 5, callFrame: frame('(garbage collector)') },
  ],
  samples: [3, 2, 3, 4, 5, 3, 2],
  timeDeltas: [1000, 50_000, 1000, 2000, 500, 1000, 50_000],
};

test('self time per function, idle left out, largest first, with file and 1-based line', () => {
  const s = summariseCpuProfile(profile);
  assert.equal(s.totalMs, 5.5);
  assert.deepEqual(
    s.top.map((h) => [h.function, h.where, h.selfMs]),
    [
      ['compileRuleset', 'rules/compile-endpoints.js:42', 3],
      ['(anonymous)', 'calc/graph.js:10', 2],
      ['(garbage collector)', '(native)', 0.5],
    ],
  );
  assert.ok(Math.abs(s.top[0]!.share - 3 / 5.5) < 1e-9);
});

test('limit keeps the top entries only', () => {
  assert.equal(summariseCpuProfile(profile, 1).top.length, 1);
});

test('a document that is not a cpu profile is refused, naming what is expected', () => {
  for (const bad of [{}, { nodes: [], samples: [1], timeDeltas: [] }]) {
    assert.throws(() => summariseCpuProfile(bad as CpuProfile), (e: unknown) => e instanceof CalicoError && /node --cpu-prof/.test(e.message));
  }
});
