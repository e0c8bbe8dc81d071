// The CNI plugin is a new process on every ADD, so what it loads at start-up
// is ADD latency (bench/cni.ts). Two heavy modules stay out of its static
// import graph: api/index.js (every kind's schema and the field-support
// tables) and the YAML parser (only needed for a calicoctl.cfg file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST_SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Every module reachable from `entry` through static imports and re-exports, with the bare packages they name. */
function staticGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gm)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) visit(join(dirname(file), spec));
      else if (!spec.startsWith('node:')) packages.add(spec);
    }
  };
  visit(join(DIST_SRC, entry));
  return { files, packages };
}

test('CNI plugin start-up: no api/index.js and no YAML parser in the static import graph', () => {
  const { files, packages } = staticGraph('cni/main.js');
  const heavy = [...files].map((f) => relative(DIST_SRC, f)).filter((f) => f === 'api/index.js' || f.startsWith('api/field-support/'));
  assert.deepEqual(heavy, [], 'import the kind modules (api/kinds/*.js) the plugin needs instead');
  assert.ok(!packages.has('yaml'), 'load yaml lazily where a file is parsed');
  // The test can fail: calicoctl's entry does pull both in.
  const cli = staticGraph('cli/main.js');
  assert.ok([...cli.files].some((f) => f.endsWith('/api/index.js')));
});
