// YAML / JSON in and out, in calicoctl's shapes. Input: a stream of YAML
// documents (JSON is YAML, so one parser reads both), each a resource, a
// `kind: List` / `kind: <Kind>List` with items, or a top-level array;
// empty documents are skipped. Output: one resource as itself, several as
// `<Kind>List` (or `List` when kinds are mixed). YAML keys are sorted the way
// calicoctl prints them (it converts JSON to YAML, which sorts maps); JSON
// keeps calicoctl's field order (kind, apiVersion, metadata, spec, status).
import { LineCounter, parseAllDocuments, stringify, isMap, isSeq, type Node as YamlNode } from 'yaml';
import { ValidationError } from '../base/errors.js';
import { API_VERSION } from './kinds.js';
import type { Resource } from './resource.js';
import { isPlainObject } from './validate.js';

export interface ParsedDocument {
  source: string;
  /** 0-based position of the document in the stream. */
  index: number;
  /** 0-based position inside a List document's items (absent for a plain document). */
  item?: number;
  /** 1-based line where the document or list item starts. */
  line?: number;
  value: unknown;
}

const isListKind = (kind: unknown): boolean => kind === 'List' || (typeof kind === 'string' && /^[A-Z][A-Za-z]*List$/.test(kind));

/** Splits text into documents; malformed YAML throws a ValidationError naming the file and line. */
export function parseDocuments(text: string, source: string): ParsedDocument[] {
  // JSON fast path: the YAML parser reads JSON too, but several times slower.
  // Anything that is not one valid JSON value falls through to it (and gets line numbers).
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (value !== undefined) return expand(value, source);
  }
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: false, intAsBigInt: true });
  const list = Array.isArray(docs) ? docs : [];
  const out: ParsedDocument[] = [];
  const lineOf = (offset: number | undefined): number | undefined => (offset === undefined ? undefined : lineCounter.linePos(offset).line);

  list.forEach((doc, index) => {
    const problem = doc.errors[0];
    if (problem) {
      const line = lineOf(problem.pos[0]);
      const message = problem.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      throw new ValidationError([{ path: '', message: `malformed YAML: ${message}` }], undefined, { source, index, ...(line ? { line } : {}) });
    }
    const contents = doc.contents as YamlNode | null;
    const value: unknown = safeIntegers(doc.toJS({ maxAliasCount: 100 }));
    if (value === null || value === undefined) return; // empty document ("---" alone, comments only)
    const docLine = lineOf(contents?.range?.[0]);

    const itemLines = (seqNode: unknown): (number | undefined)[] =>
      isSeq(seqNode) ? seqNode.items.map((n) => lineOf((n as YamlNode | null)?.range?.[0])) : [];

    if (Array.isArray(value)) {
      const lines = itemLines(contents);
      value.forEach((v, item) => out.push(withLine({ source, index, item, value: v }, lines[item])));
      return;
    }
    if (isPlainObject(value) && isListKind(value.kind) && 'items' in value) {
      if (!Array.isArray(value.items)) {
        throw new ValidationError([{ path: 'items', message: `a ${String(value.kind)} must have a list of items` }], undefined, { source, index, ...(docLine ? { line: docLine } : {}) });
      }
      const lines = isMap(contents) ? itemLines(contents.get('items', true)) : [];
      value.items.forEach((v, item) => out.push(withLine({ source, index, item, value: v }, lines[item])));
      return;
    }
    out.push(withLine({ source, index, value }, docLine));
  });
  return out;
}

/** One parsed JSON value: a resource, a List, or an array of resources. */
function expand(value: unknown, source: string): ParsedDocument[] {
  if (value === null) return [];
  if (Array.isArray(value)) return value.map((v, item) => ({ source, index: 0, item, value: v }));
  if (isPlainObject(value) && isListKind(value.kind) && 'items' in value) {
    if (!Array.isArray(value.items)) {
      throw new ValidationError([{ path: 'items', message: `a ${String(value.kind)} must have a list of items` }], undefined, { source, index: 0 });
    }
    return value.items.map((v, item) => ({ source, index: 0, item, value: v }));
  }
  return [{ source, index: 0, line: 1, value }];
}

/**
 * Integers are parsed as BigInt so that a long unquoted number meant as a
 * string (a container ID, a GUID) keeps every digit; the ones a double holds
 * exactly become plain numbers again.
 */
function safeIntegers(v: unknown): unknown {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  if (Array.isArray(v)) return v.map(safeIntegers);
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
    const out: Record<string, unknown> = {};
    // defineProperty: a "__proto__" key stays a plain (and then rejected) field.
    for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: safeIntegers(x), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

function withLine(d: ParsedDocument, line: number | undefined): ParsedDocument {
  return line === undefined ? d : { ...d, line };
}

export interface FormatOptions {
  /** Print a List even for a single resource (what `calicoctl get <kind>` without a name does). */
  list?: boolean;
  /** The list's metadata.resourceVersion (the datastore revision it was read at). */
  resourceVersion?: string;
}

function listOf(resources: readonly Resource[], opts: FormatOptions): Record<string, unknown> {
  const kinds = new Set(resources.map((r) => r.kind));
  const kind = kinds.size === 1 ? `${[...kinds][0]}List` : 'List';
  return {
    kind,
    apiVersion: API_VERSION,
    metadata: opts.resourceVersion !== undefined ? { resourceVersion: opts.resourceVersion } : {},
    items: resources.map(ordered),
  };
}

/** calicoctl's field order for a resource: kind, apiVersion, metadata, spec, status, then anything else. */
function ordered(r: Resource): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: r.kind, apiVersion: r.apiVersion, metadata: r.metadata };
  if (r.spec !== undefined) out.spec = r.spec;
  if (r.status !== undefined) out.status = r.status;
  for (const [k, v] of Object.entries(r)) if (!(k in out)) out[k] = v;
  return out;
}

function shape(resources: readonly Resource[], opts: FormatOptions): unknown {
  return resources.length === 1 && !opts.list ? ordered(resources[0]!) : listOf(resources, opts);
}

export function formatYaml(resources: readonly Resource[], opts: FormatOptions = {}): string {
  return stringify(shape(resources, opts), {
    sortMapEntries: true,
    indentSeq: false,
    lineWidth: 0,
    aliasDuplicateObjects: false,
  });
}

export function formatJson(resources: readonly Resource[], opts: FormatOptions = {}): string {
  return JSON.stringify(shape(resources, opts), null, 2) + '\n';
}
