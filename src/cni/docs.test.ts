// docs/cni.md stays true: every classified field is in its tables with the
// same status, and every test its requirements table points at exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { CALICO_FIELDS, CALICO_IPAM_FIELDS } from './config-fields.js';

const root = new URL('../../../', import.meta.url).pathname;
const doc = readFileSync(`${root}docs/cni.md`, 'utf8');

test('docs/cni.md lists every configuration field with the status the code gives it', () => {
  for (const f of [...CALICO_FIELDS, ...CALICO_IPAM_FIELDS]) {
    const line = doc.split('\n').find((l) => l.startsWith(`| \`${f.field}\` |`));
    assert.ok(line, `${f.field} is missing from docs/cni.md`);
    assert.equal(line.split('|')[2]!.trim(), f.status, f.field);
  }
});

test('docs/cni.md: every test the requirements table names exists', () => {
  const refs = [...doc.matchAll(/`((?:src|test)\/[\w/.-]+\.test\.ts)` :: ([^`|]+)/g)];
  assert.ok(refs.length > 15, 'the table names its tests');
  for (const [, file, names] of refs) {
    assert.ok(existsSync(`${root}${file}`), `${file} does not exist`);
    const tests = [...readFileSync(`${root}${file}`, 'utf8').matchAll(/test\('((?:[^'\\]|\\.)*)'/g)].map((m) => m[1]!.replace(/\\'/g, "'"));
    // Names are separated by "; " but may contain "; " themselves, and may be cut short with "...":
    // at each piece take the longest run of pieces that starts a real test's name.
    const pieces = names!.trim().split('; ');
    const known = (text: string): boolean => {
      const prefix = text.split(' ...')[0]!.replace(/[(;]\s*$/, '').trim();
      return !prefix || /^\(|^and |^same/.test(prefix) || tests.some((t) => t.startsWith(prefix));
    };
    for (let i = 0; i < pieces.length; ) {
      let j = pieces.length - 1;
      while (j >= i && !known(pieces.slice(i, j + 1).join('; '))) j--;
      assert.ok(j >= i, `${file} has no test named like '${pieces[i]}'`);
      i = j + 1;
    }
  }
});
