// The field-support table: what calico-ts does with every field of every kind
// (see model.ts). Validation refuses what the table refuses, writers and the
// agent warn about what it warns about, and docs/fields.md is rendered from it,
// so the three cannot disagree.
import type { FieldIssue } from '../../base/errors.js';
import { collectFields, type SchemaField, type SchemaSections } from '../schema-fields.js';
import type { Check } from '../validate.js';
import { ENDPOINT_SUPPORT } from './endpoints.js';
import { FELIX_SUPPORT } from './felix.js';
import type { FieldSupport, FieldTable } from './model.js';
import { NETWORK_SUPPORT } from './network.js';
import { POLICY_SUPPORT } from './policy.js';

export type { FieldSupport, FieldTable, TestRef } from './model.js';

/** Section (kind or shared type) -> field path -> support. */
export const FIELD_SUPPORT: Readonly<Record<string, FieldTable>> = {
  ...POLICY_SUPPORT,
  ...ENDPOINT_SUPPORT,
  ...NETWORK_SUPPORT,
  ...FELIX_SUPPORT,
};

export function supportOf(section: string, path: string): FieldSupport | undefined {
  return FIELD_SUPPORT[section]?.[path];
}

const sectionCache = new Map<string, SchemaSections>();

/** The schema's sections for a kind (its own fields plus the shared types it uses), cached per kind. */
export function schemaSections(kind: string, spec: Check): SchemaSections {
  let sections = sectionCache.get(kind);
  if (!sections) {
    sections = { sections: new Map() };
    collectFields(kind, spec, 'spec', sections);
    sectionCache.set(kind, sections);
  }
  return sections;
}

export interface FieldValue {
  /** Where in the document: `spec.ingress[0].http.methods`. */
  path: string;
  /** Where in the table: section and field path. */
  section: string;
  field: string;
  value: unknown;
  support: FieldSupport | undefined;
}

/**
 * The fields set in `doc` (a resource with `spec`) whose support has one of
 * `statuses`, with their entries. Only those fields are looked up (validation
 * runs this on every write and every stored resource the agent reads, and
 * most kinds have nothing refused).
 */
export function fieldsSetIn(kind: string, doc: { spec?: unknown }, sections: SchemaSections, statuses: readonly FieldSupport['status'][]): FieldValue[] {
  const out: FieldValue[] = [];
  visitSection(kind, doc, '', { sections, wanted: wantedFields(sections, statuses) }, out);
  return out;
}

interface Visit {
  sections: SchemaSections;
  /** Section -> the fields worth resolving: a wanted status, or a type that holds one. */
  wanted: Map<string, SchemaField[]>;
}

const wantedCache = new WeakMap<SchemaSections, Map<string, Map<string, SchemaField[]>>>();

function wantedFields(sections: SchemaSections, statuses: readonly FieldSupport['status'][]): Map<string, SchemaField[]> {
  const key = [...statuses].sort().join(',');
  let byKey = wantedCache.get(sections);
  if (!byKey) wantedCache.set(sections, (byKey = new Map()));
  const hit = byKey.get(key);
  if (hit) return hit;
  const wanted = new Map<string, SchemaField[]>();
  const holds = (section: string, seen: Set<string>): SchemaField[] => {
    const done = wanted.get(section);
    if (done) return done;
    if (seen.has(section)) return [];
    seen.add(section);
    const list = (sections.sections.get(section) ?? []).filter((f) => {
      const s = supportOf(section, f.path);
      return (s !== undefined && statuses.includes(s.status)) || (f.type !== undefined && holds(f.type, seen).length > 0);
    });
    wanted.set(section, list);
    return list;
  };
  for (const section of sections.sections.keys()) holds(section, new Set());
  byKey.set(key, wanted);
  return wanted;
}

function visitSection(section: string, root: unknown, prefix: string, visit: Visit, out: FieldValue[]): void {
  for (const field of visit.wanted.get(section) ?? []) {
    for (const hit of resolve(root, field.path, prefix)) visitField(section, field, hit, visit, out);
  }
}

function visitField(section: string, field: SchemaField, hit: { path: string; value: unknown }, visit: Visit, out: FieldValue[]): void {
  // A typed field (e.g. a rule's `source`) is walked into, and may have its own entry too.
  if (field.type) visitSection(field.type, hit.value, hit.path, visit, out);
  out.push({ path: hit.path, section, field: field.path, value: hit.value, support: supportOf(section, field.path) });
}

/** Values at a schema path (`a.b[].c`), with their concrete paths (`a.b[2].c`). */
function resolve(root: unknown, path: string, prefix: string): Array<{ path: string; value: unknown }> {
  let at: Array<{ path: string; value: unknown }> = [{ path: prefix, value: root }];
  for (const segment of path.split('.')) {
    const many = segment.endsWith('[]') ? 'list' : segment.endsWith('{}') ? 'map' : undefined;
    const key = many ? segment.slice(0, -2) : segment;
    const next: typeof at = [];
    for (const { path: p, value } of at) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) continue;
      const v = (value as Record<string, unknown>)[key];
      if (v === undefined || v === null) continue;
      const here = p ? `${p}.${key}` : key;
      if (many === 'list') {
        if (Array.isArray(v)) v.forEach((item, i) => next.push({ path: `${here}[${i}]`, value: item }));
      } else if (many === 'map') {
        if (typeof v === 'object' && !Array.isArray(v)) for (const [k, item] of Object.entries(v)) next.push({ path: `${here}[${JSON.stringify(k)}]`, value: item });
      } else next.push({ path: here, value: v });
    }
    at = next;
  }
  return at;
}

const sameValue = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Issues for fields set to a value the table refuses (one per field). */
export function refusedFieldIssues(fields: FieldValue[]): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const f of fields) {
    const s = f.support;
    if (s?.status !== 'refused') continue;
    if (s.allowed.some((a) => sameValue(a, f.value))) continue;
    issues.push({ path: f.path, message: `is not supported by calico-ts: ${s.message}` });
  }
  return issues;
}

export interface FieldWarning {
  path: string;
  message: string;
}

/** Fields set that calico-ts accepts but does not act on (quiet when set to what we do anyway). */
export function warnedFields(fields: FieldValue[]): FieldWarning[] {
  const out: FieldWarning[] = [];
  for (const f of fields) {
    const s = f.support;
    if (s?.status !== 'warned') continue;
    if (s.quietWhen?.some((q) => sameValue(q, f.value))) continue;
    out.push({ path: f.path, message: `is accepted but not acted on by calico-ts: ${s.reason}` });
  }
  return out;
}
