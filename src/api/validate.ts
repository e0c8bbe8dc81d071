// A tiny schema walker for resource documents. A `Check` looks at one value at
// one path, records every problem it finds (never stops at the first, so a user
// fixes a file in one pass) and returns the value normalized (defaults are
// applied elsewhere). The result is only used when no issue was recorded, so a
// check may return anything after recording an issue.
import type { FieldIssue } from '../base/errors.js';

export interface Issues {
  readonly list: FieldIssue[];
  add(path: string, message: string): void;
}

export function newIssues(): Issues {
  const list: FieldIssue[] = [];
  return { list, add: (path, message) => void list.push({ path, message }) };
}

/**
 * Where a check is looking: the field path (`spec.ingress[0].destination`) and
 * the issue list every check of one document appends to.
 */
export class Cursor {
  readonly path: string;
  readonly issues: Issues;
  constructor(path: string, issues: Issues) {
    this.path = path;
    this.issues = issues;
  }
  field(key: string): Cursor {
    return new Cursor(this.path ? `${this.path}.${key}` : key, this.issues);
  }
  item(index: number): Cursor {
    return new Cursor(`${this.path}[${index}]`, this.issues);
  }
  /** A map entry: `metadata.labels["app"]`. */
  entry(key: string): Cursor {
    return new Cursor(`${this.path}[${JSON.stringify(key)}]`, this.issues);
  }
  add(message: string): void {
    this.issues.add(this.path, message);
  }
  /** Whether this exact field already has an issue (so cross-field rules can stay quiet). */
  hasIssue(): boolean {
    return this.issues.list.some((i) => i.path === this.path);
  }
}

export type Check<T = unknown> = (value: unknown, at: Cursor) => T;

/**
 * What a check looks like inside, so the field-support table can list every
 * field of every kind from the same schemas that validate them (one source of
 * truth: a field added to a schema and missing from the table fails a test).
 * Leaf checks (strings, numbers, CIDRs ...) have no shape.
 */
export type Shape =
  | { kind: 'object'; fields: Fields }
  | { kind: 'list'; item: Check }
  | { kind: 'map'; value: Check }
  | { kind: 'named'; name: string; inner: Check };

const shapes = new WeakMap<Check, Shape>();

/** The shape recorded for a check by obj/list/map/named/withShapeOf, if any. */
export function shapeOf(check: Check): Shape | undefined {
  return shapes.get(check);
}

/** Marks a check as a shared type (e.g. Rule) that the field table lists once, under its name. */
export function named<T>(name: string, check: Check<T>): Check<T> {
  const out: Check<T> = (v, at) => check(v, at);
  shapes.set(out, { kind: 'named', name, inner: check });
  return out;
}

/** For a hand-written wrapper around another check: it has the same fields. */
export function withShapeOf<T>(check: Check<T>, like: Check): Check<T> {
  const shape = shapes.get(like);
  if (shape) shapes.set(check, shape);
  return check;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? value.slice(0, 57) + '...' : value);
  return `${typeof value} ${String(value)}`;
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export interface StringOptions {
  pattern?: RegExp;
  /** Shown after "must be" when the pattern does not match. */
  patternHint?: string;
  maxLength?: number;
  allowEmpty?: boolean;
  /** Extra test run after the basic ones; returns a message or undefined. */
  test?: (s: string) => string | undefined;
  /** Returns the stored form of a valid value (e.g. a canonical CIDR). */
  normalize?: (s: string) => string;
}

/**
 * calicoctl decodes YAML straight into typed Go structs, which turns an
 * unquoted number or boolean into the string a string field wants
 * (`containerID: 1234`, `version: 2`); we do the same.
 */
export function scalarAsString(v: unknown): unknown {
  return typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' ? String(v) : v;
}

export function str(opts: StringOptions = {}): Check<string> {
  return (raw, at) => {
    const v = scalarAsString(raw);
    if (typeof v !== 'string') {
      at.add(`must be a string, got ${describe(v)}`);
      return v as string;
    }
    if (v === '' && opts.allowEmpty === false) at.add('must not be empty');
    else if (opts.maxLength !== undefined && v.length > opts.maxLength) {
      at.add(`must be at most ${opts.maxLength} characters (got ${v.length})`);
    } else if (opts.pattern && !opts.pattern.test(v)) {
      at.add(`${describe(v)} is not valid: must be ${opts.patternHint ?? `a string matching ${opts.pattern.source}`}`);
    } else if (opts.test) {
      const problem = opts.test(v);
      if (problem) at.add(problem);
      else if (opts.normalize) return opts.normalize(v);
    } else if (opts.normalize) return opts.normalize(v);
    return v;
  };
}

/** One of a fixed set of strings, compared exactly (Calico's enums are case-sensitive). */
export function oneOf<T extends string>(values: readonly T[]): Check<T> {
  return (v, at) => {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      at.add(`${describe(v)} is not valid: must be one of ${values.join(', ')}`);
    }
    return v as T;
  };
}

export function bool(): Check<boolean> {
  return (v, at) => {
    if (typeof v !== 'boolean') at.add(`must be true or false, got ${describe(v)}`);
    return v as boolean;
  };
}

export interface NumberOptions {
  min?: number;
  max?: number;
  integer?: boolean;
}

export function num(opts: NumberOptions = {}): Check<number> {
  return (v, at) => {
    if (typeof v === 'bigint') {
      at.add(`${v} is out of range${opts.max !== undefined ? `: must be at most ${opts.max}` : ''}`);
      return Number(v);
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      at.add(`must be a number, got ${describe(v)}`);
      return v as number;
    }
    if (opts.integer && !Number.isInteger(v)) at.add(`must be a whole number, got ${v}`);
    else if ((opts.min !== undefined && v < opts.min) || (opts.max !== undefined && v > opts.max)) {
      const range =
        opts.min !== undefined && opts.max !== undefined
          ? `between ${opts.min} and ${opts.max}`
          : opts.min !== undefined
            ? `at least ${opts.min}`
            : `at most ${opts.max}`;
      at.add(`${v} is out of range: must be ${range}`);
    }
    return v;
  };
}

export const int = (opts: Omit<NumberOptions, 'integer'> = {}): Check<number> => num({ ...opts, integer: true });

export interface ListOptions {
  maxItems?: number;
  /** Reject repeated items (compared as JSON). */
  unique?: boolean;
}

export function list<T>(item: Check<T>, opts: ListOptions = {}): Check<T[]> {
  const check: Check<T[]> = (v, at) => {
    if (!Array.isArray(v)) {
      at.add(`must be a list, got ${describe(v)}`);
      return [];
    }
    if (opts.maxItems !== undefined && v.length > opts.maxItems) {
      at.add(`has ${v.length} items: at most ${opts.maxItems} allowed`);
    }
    const seen = new Set<string>();
    return v.map((x, i) => {
      if (opts.unique) {
        const k = JSON.stringify(x);
        if (seen.has(k)) at.item(i).add(`${describe(x)} is listed more than once`);
        seen.add(k);
      }
      return item(x, at.item(i));
    });
  };
  shapes.set(check, { kind: 'list', item });
  return check;
}

/** A string-keyed map (labels, annotations): every key and value checked. */
export function map<V>(key: Check<string>, value: Check<V>): Check<Record<string, V>> {
  const check: Check<Record<string, V>> = (v, at) => {
    if (!isPlainObject(v)) {
      at.add(`must be a map of keys to values, got ${describe(v)}`);
      return {};
    }
    const out: Record<string, V> = {};
    for (const [k, x] of Object.entries(v)) {
      const e = at.entry(k);
      key(k, e);
      Object.defineProperty(out, k, { value: value(x, e), enumerable: true, writable: true, configurable: true });
    }
    return out;
  };
  shapes.set(check, { kind: 'map', value });
  return check;
}

export type Fields = Record<string, Check>;

export interface ObjectOptions<T> {
  required?: readonly string[];
  /** Cross-field rules, run on the checked object (only fields that were present). */
  refine?: (out: T, at: Cursor) => void;
}

/**
 * A fixed-shape object. Unknown fields are rejected with the list of valid ones,
 * because a typo (`nodeSelecter`) silently ignored is a security hole in a policy.
 * `null` for an optional field is treated as absent (what Go's encoder emits).
 */
export function obj<T = Record<string, unknown>>(fields: Fields, opts: ObjectOptions<T> = {}): Check<T> {
  const valid = Object.keys(fields);
  const check: Check<T> = (v, at) => {
    if (!isPlainObject(v)) {
      at.add(`must be an object with fields ${valid.join(', ')}; got ${describe(v)}`);
      return {} as T;
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const check = Object.prototype.hasOwnProperty.call(fields, k) ? fields[k] : undefined;
      if (!check) {
        at.field(k).add(`unknown field "${k}"${suggest(k, valid)}; valid fields here: ${valid.join(', ')}`);
        continue;
      }
      if (x === null || x === undefined) continue;
      out[k] = check(x, at.field(k));
    }
    for (const r of opts.required ?? []) {
      if (out[r] === undefined && !at.field(r).hasIssue()) {
        at.field(r).add('is required');
      }
    }
    opts.refine?.(out as T, at);
    return out as T;
  };
  shapes.set(check, { kind: 'object', fields });
  return check;
}

/** Anything (used for free-form subtrees we pass through, e.g. status). */
export const any: Check = (v) => v;

function suggest(key: string, valid: string[]): string {
  const lower = key.toLowerCase();
  const hit = valid.find((f) => f.toLowerCase() === lower) ?? valid.find((f) => distance(f.toLowerCase(), lower) <= 2);
  return hit ? ` (did you mean "${hit}"?)` : '';
}

function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** What index.ts needs to know to validate and default one kind. */
export interface KindSchema<Spec> {
  /** The spec check; it may depend on the resource name (e.g. "default" singletons). */
  spec: (name: string) => Check<Spec>;
  /** Returns a new spec with Calico's defaults filled in; never mutates its input. */
  defaults?: (spec: Spec, name: string) => Spec;
  /** Names this kind accepts beyond the usual syntax rules (e.g. only "default"); returns a problem. */
  name?: (name: string) => string | undefined;
  /** A name computed from the (valid) spec when metadata.name is absent, as Calico's client does for WorkloadEndpoints. */
  nameFromSpec?: (spec: Spec) => string | undefined;
  /** Kind-specific metadata rules (reserved labels ...), run on the checked metadata. */
  metadata?: (meta: import('./resource.js').ObjectMeta, at: Cursor) => void;
  /** Kinds whose status the datastore stores (written by agents, passed through unchecked). */
  hasStatus?: boolean;
}
