// Patches for `calicoctl patch`: JSON Merge Patch (RFC 7386) and JSON Patch
// (RFC 6902, all six operations). Pure; inputs are never mutated.
// Errors are CalicoError('invalid-argument') naming the operation and path.
import { invalidArgument } from './args.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

/** RFC 7386: objects merge recursively, `null` deletes, anything else (arrays too) replaces. */
export function applyMergePatch(target: unknown, patch: unknown): Json {
  if (!isObject(patch)) return clone(patch as Json);
  const result: Record<string, Json> = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: Json;
  from?: string;
}

/** RFC 6901: `/a/b~1c/0` -> ['a', 'b/c', '0']. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw invalidArgument(`invalid JSON pointer '${pointer}': must be empty or start with '/'`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

function arrayIndex(token: string, length: number, forAdd: boolean, where: string): number {
  if (forAdd && token === '-') return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw invalidArgument(`${where}: '${token}' is not an array index`);
  const index = Number(token);
  if (index > length || (!forAdd && index === length)) throw invalidArgument(`${where}: index ${index} is out of range`);
  return index;
}

/** Returns the parent container of `tokens` and the last token; throws if a step is missing. */
function parentOf(doc: Json, tokens: string[], where: string): { parent: Json; last: string } {
  let node: Json = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[arrayIndex(t, node.length, false, where)] as Json;
    else if (isObject(node) && Object.prototype.hasOwnProperty.call(node, t)) node = node[t] as Json;
    else throw invalidArgument(`${where}: path does not exist`);
  }
  return { parent: node, last: tokens[tokens.length - 1] as string };
}

function getAt(doc: Json, pointer: string, where: string): Json {
  let node: Json = doc;
  for (const t of parsePointer(pointer)) {
    if (Array.isArray(node)) node = node[arrayIndex(t, node.length, false, where)] as Json;
    else if (isObject(node) && Object.prototype.hasOwnProperty.call(node, t)) node = node[t] as Json;
    else throw invalidArgument(`${where}: path does not exist`);
  }
  return node;
}

function addAt(doc: Json, pointer: string, value: Json, where: string): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, last } = parentOf(doc, tokens, where);
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, true, where), 0, value);
  else if (isObject(parent)) parent[last] = value;
  else throw invalidArgument(`${where}: parent is not an object or array`);
  return doc;
}

function removeAt(doc: Json, pointer: string, where: string): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) throw invalidArgument(`${where}: cannot remove the whole document`);
  const { parent, last } = parentOf(doc, tokens, where);
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length, false, where), 1);
  else if (isObject(parent) && Object.prototype.hasOwnProperty.call(parent, last)) delete parent[last];
  else throw invalidArgument(`${where}: path does not exist`);
  return doc;
}

/** RFC 6902. Operations apply in order; the first failing one aborts the whole patch (atomic). */
export function applyJsonPatch(target: unknown, patch: unknown): Json {
  if (!Array.isArray(patch)) throw invalidArgument('a JSON patch must be an array of operations');
  let doc = clone(target as Json);
  for (const [i, raw] of patch.entries()) {
    if (!isObject(raw)) throw invalidArgument(`patch operation ${i}: must be an object`);
    const op = raw as unknown as JsonPatchOperation;
    const where = `patch operation ${i} (${String(op.op)} ${String(op.path)})`;
    if (typeof op.path !== 'string') throw invalidArgument(`patch operation ${i}: missing "path"`);
    const needValue = op.op === 'add' || op.op === 'replace' || op.op === 'test';
    if (needValue && !Object.prototype.hasOwnProperty.call(raw, 'value')) throw invalidArgument(`${where}: missing "value"`);
    const needFrom = op.op === 'move' || op.op === 'copy';
    if (needFrom && typeof op.from !== 'string') throw invalidArgument(`${where}: missing "from"`);
    switch (op.op) {
      case 'add':
        doc = addAt(doc, op.path, clone(op.value as Json), where);
        break;
      case 'remove':
        doc = removeAt(doc, op.path, where);
        break;
      case 'replace':
        getAt(doc, op.path, where); // must exist
        doc = op.path === '' ? clone(op.value as Json) : addAt(removeAt(doc, op.path, where), op.path, clone(op.value as Json), where);
        break;
      case 'move': {
        const from = op.from as string;
        if (op.path !== from && op.path.startsWith(from + '/')) throw invalidArgument(`${where}: cannot move a value into itself`);
        const value = getAt(doc, from, where);
        doc = addAt(removeAt(doc, from, where), op.path, value, where);
        break;
      }
      case 'copy':
        doc = addAt(doc, op.path, clone(getAt(doc, op.from as string, where)), where);
        break;
      case 'test':
        if (!deepEqual(getAt(doc, op.path, where), op.value)) throw invalidArgument(`${where}: test failed, value differs`);
        break;
      default:
        throw invalidArgument(`patch operation ${i}: unknown op '${String(op.op)}'`);
    }
  }
  return doc;
}

export type PatchType = 'merge' | 'json' | 'strategic';

/**
 * Parses `-p` text and applies it. `strategic` is accepted for calicoctl
 * compatibility and behaves as a merge patch: Calico's v3 types carry no
 * strategic-merge list keys, so lists are replaced either way.
 */
export function applyPatch(target: unknown, patchText: string, type: PatchType): Json {
  let patch: unknown;
  try {
    patch = JSON.parse(patchText);
  } catch (err) {
    throw invalidArgument(`patch is not valid JSON: ${(err as Error).message}`);
  }
  if (type === 'json') return applyJsonPatch(target, patch);
  if (!isObject(patch)) throw invalidArgument('a merge patch must be a JSON object');
  return applyMergePatch(target, patch);
}
