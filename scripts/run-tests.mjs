#!/usr/bin/env node
// Runs groups of compiled tests with node's own test runner and prints one
// closing line for all of them: "tests: N passed, N failed, N skipped".
//   unit    dist/src/**/*.test.js    pure code and in-memory fakes; no root, no daemons
//   etcd    dist/test/datastore/**   the datastore conformance suite against a real etcd
//   cli     dist/test/cli/**         bin/calicoctl against a real etcd
//   ipam    dist/test/ipam/**        IPAM against a real etcd
//   kernel  dist/test/kernel/**      real ip/nft/ipset/bird in fresh namespaces (root)
//   e2e     dist/test/e2e/**         the lab
// Usage: run-tests.mjs [group ...] [--only substring ...]   (no group: all of them)
import { readdirSync, statSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const groups = {
  unit: { dir: 'dist/src', concurrency: 2 },
  etcd: { dir: 'dist/test/datastore', concurrency: 1 },
  cli: { dir: 'dist/test/cli', concurrency: 1 },
  ipam: { dir: 'dist/test/ipam', concurrency: 1 },
  kernel: { dir: 'dist/test/kernel', concurrency: 1 },
  e2e: { dir: 'dist/test/e2e', concurrency: 1 },
};
const args = process.argv.slice(2);
const onlyAt = args.indexOf('--only');
const names = (onlyAt === -1 ? args : args.slice(0, onlyAt)).filter(Boolean);
const filters = onlyAt === -1 ? [] : args.slice(onlyAt + 1);
const selected = names.length ? names : Object.keys(groups);
for (const n of selected) {
  if (!groups[n]) {
    console.error(`unknown test group '${n}'; groups: ${Object.keys(groups).join(', ')}`);
    process.exit(2);
  }
}

function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : path.endsWith('.test.js') ? [path] : [];
  });
}

const totals = { pass: 0, fail: 0, skipped: 0 };
let exitCode = 0;
const scratch = mkdtempSync(join(tmpdir(), 'calico-ts-tests-'));
for (const name of selected) {
  const spec = groups[name];
  const files = walk(join(root, spec.dir))
    .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
    .sort();
  if (files.length === 0) {
    console.log(`# group ${name}: no test files`);
    continue;
  }
  console.log(`\n# group ${name}: ${files.length} file(s)`);
  const tap = join(scratch, `${name}.tap`);
  const result = spawnSync(
    process.execPath,
    [
      '--enable-source-maps',
      '--test',
      `--test-concurrency=${spec.concurrency}`,
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tap}`,
      ...files.map((f) => relative(root, f)),
    ],
    { cwd: root, stdio: 'inherit' },
  );
  const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  for (const key of Object.keys(totals)) {
    const m = text.match(new RegExp(`^# ${key} (\\d+)$`, 'm'));
    if (m) totals[key] += Number(m[1]);
  }
  if (result.status !== 0) {
    exitCode = 1;
    if (!/^# fail [1-9]/m.test(text)) totals.fail += 1; // the runner itself failed
  }
}
rmSync(scratch, { recursive: true, force: true });
console.log(`\ntests: ${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped`);
process.exit(exitCode);
