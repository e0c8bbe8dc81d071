// Golden-file plumbing shared by the nft and iptables renderer tests and the
// kernel acceptance test: models live in test/golden/nft/<case>/model.json,
// rendered text beside them; UPDATE_GOLDEN=1 rewrites the expected files.
// (Test support only: it reads files, so nothing in the agent imports it.)

import { existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { NormalizedRule } from '../calc/output.js';
import { side } from '../dataplane/testing-fixtures.js';
import type { DataplaneModel, PolicyRules } from '../rules/model.js';

export const GOLDEN_ROOT = new URL('../../../test/golden/', import.meta.url).pathname;

export function goldenCases(): { name: string; model: DataplaneModel }[] {
  const dir = join(GOLDEN_ROOT, 'nft');
  return readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, 'model.json')))
    .sort()
    .map((name) => ({ name, model: withFullSides(JSON.parse(readFileSync(join(dir, name, 'model.json'), 'utf8')) as DataplaneModel) }));
}

/** The files leave out a rule side's empty lists (most of them are empty); the calc graph's rules always carry all of them. */
function withFullSides(model: DataplaneModel): DataplaneModel {
  const rule = (r: NormalizedRule): NormalizedRule => ({ ...r, source: side(r.source), destination: side(r.destination) });
  const rules = (p: PolicyRules): PolicyRules => ({ ...p, inboundRules: p.inboundRules.map(rule), outboundRules: p.outboundRules.map(rule) });
  return { ...model, policies: model.policies.map(rules), profiles: model.profiles.map(rules) };
}

/** Returns the expected text, writing `actual` first when UPDATE_GOLDEN=1. */
export function golden(relPath: string, actual: string): string {
  const path = join(GOLDEN_ROOT, relPath);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, actual);
  }
  if (!existsSync(path)) throw new Error(`golden file ${path} is missing; run with UPDATE_GOLDEN=1 to create it`);
  return readFileSync(path, 'utf8');
}
