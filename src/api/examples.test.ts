// examples/resources/ is what the README demo applies: every file must parse,
// every document validate, every kind appear, and every address must come
// from the documentation ranges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parseDocuments, parsePeerIP, validateResource } from './index.js';
import { KIND_INFO, RESOURCE_KINDS } from './kinds.js';
import type { Resource } from './resource.js';
import { cidrContains, parseCIDR, tryParseCIDROrIP } from '../base/ip.js';

const dir = new URL('../../../examples/resources/', import.meta.url);
const ALLOWED = ['198.18.0.0/15', '192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32'].map(parseCIDR);

function load(): Resource[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
  assert.ok(files.length >= 16, `only ${files.length} example files`);
  return files.flatMap((f) => parseDocuments(readFileSync(new URL(f, dir), 'utf8'), f).map((d) => validateResource(d.value, d)));
}

function* strings(v: unknown): Generator<string> {
  if (typeof v === 'string') yield v;
  else if (Array.isArray(v)) for (const x of v) yield* strings(x);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) yield* strings(x);
}

test('every example validates and every writable kind has one', () => {
  const resources = load();
  const kinds = new Set(resources.map((r) => r.kind));
  // Read-only kinds (BlockAffinity) cannot be applied: the demo applies this directory.
  for (const k of RESOURCE_KINDS) assert.ok(kinds.has(k) !== Boolean(KIND_INFO[k].readOnly), `${KIND_INFO[k].readOnly ? 'an' : 'no'} example of ${k}`);
});

test('examples only use documentation address ranges', () => {
  for (const r of load()) {
    for (const s of strings(r.spec)) {
      const c = tryParseCIDROrIP(s) ?? tryParseCIDROrIP(parsePeerIP(s)?.ip ?? '');
      if (!c) continue;
      assert.ok(ALLOWED.some((a) => cidrContains(a, c)), `${r.kind}(${r.metadata.name}) uses ${s}`);
    }
  }
});
