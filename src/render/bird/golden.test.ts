// Golden files: test/golden/bird/<case>/input.json -> bird.conf.
// Regenerate on purpose with UPDATE_GOLDEN=1. Each expected file is also fed
// to `bird -p` (parse only, no root) when BIRD is installed, so a golden file
// can never drift into syntax BIRD 2 rejects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { computeBgpPlan } from '../../bgp/plan.js';
import type { BgpInputs } from '../../bgp/model.js';
import { renderBirdConfig, type BirdRenderOptions } from './bird-conf.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const goldenDir = join(root, 'test/golden/bird');
const update = process.env.UPDATE_GOLDEN === '1';
const bird = ['/usr/sbin/bird', '/usr/bin/bird'].find((p) => existsSync(p));

const cases = readdirSync(goldenDir).filter((d) => existsSync(join(goldenDir, d, 'input.json'))).sort();

test('there are golden cases', () => {
  assert.ok(cases.length >= 8, `expected golden cases in ${goldenDir}`);
});

for (const name of cases) {
  test(`golden bird.conf: ${name}`, () => {
    const dir = join(goldenDir, name);
    const input = JSON.parse(readFileSync(join(dir, 'input.json'), 'utf8')) as { inputs: BgpInputs; render?: BirdRenderOptions };
    const text = renderBirdConfig(computeBgpPlan(input.inputs), input.render ?? {});
    const expectedPath = join(dir, 'bird.conf');
    if (update || !existsSync(expectedPath)) writeFileSync(expectedPath, text);
    assert.equal(text, readFileSync(expectedPath, 'utf8'), `re-rendered ${name} differs; run with UPDATE_GOLDEN=1 if intended`);
  });

  test(`golden bird.conf parses with bird -p: ${name}`, { skip: bird ? false : 'bird not installed' }, () => {
    const r = spawnSync(bird!, ['-p', '-c', join(goldenDir, name, 'bird.conf')], { encoding: 'utf8' });
    assert.equal(r.status, 0, `bird -p rejected ${name}: ${r.stderr}`);
  });
}
