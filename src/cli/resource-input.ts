// Turning `-f <file|dir|->` or `<KIND> <NAME>...` into resources, each with
// where it came from (file and document index) for error lines. Reading goes
// through CliIO; decoding, namespace rules and validation are pure.
import { parseDocuments, type ParsedDocument } from '../api/index.js';
import { KIND_INFO, isResourceKind, resolveKind, type ResourceKind } from '../api/kinds.js';
import { describeKey, type Resource, type ResourceKey } from '../api/resource.js';
import { CalicoError, ValidationError, type FieldIssue } from '../base/errors.js';
import { invalidArgument } from './args.js';
import type { CliIO } from './command.js';

/** Where a document came from: `examples/x.yaml` document 2 (1-based), or stdin. */
export interface DocumentOrigin {
  source: string;
  /** 1-based document number in the file. */
  index: number;
  /** 1-based item number inside a List document. */
  item?: number;
  /** 1-based line where the document (or item) starts. */
  line?: number;
}

/**
 * Input that cannot be read or parsed (missing file, malformed YAML, no
 * documents). Printed as `Failed to execute command: ...`, not as a usage error.
 */
export class InputError extends CalicoError {
  constructor(message: string) {
    super('invalid-argument', message);
    this.name = 'InputError';
  }
}

export interface InputDocument {
  doc: unknown;
  origin: DocumentOrigin;
}

/** A document after checking: either a resource ready to write, or why not. */
export interface CheckedDocument {
  origin: DocumentOrigin;
  /** Best-effort kind for messages (`IPPool`), even for an invalid document. */
  kind: string;
  /** `IPPool(pool-a)` or `IPPool(<unnamed>)`. */
  label: string;
  resource?: Resource;
  issues?: FieldIssue[];
}

/**
 * Validates one decoded document: returns the resource (with defaults, if the
 * validator applies them) or the issues. Supplied by the API layer.
 */
export type ResourceValidator = (doc: unknown) => { resource: Resource } | { issues: FieldIssue[] };

export const STDIN = '-';
const RESOURCE_FILE = /\.(ya?ml|json)$/i;

/** The files `-f` names: the file itself, or a directory's .yaml/.yml/.json files (sorted; -R descends). */
export async function resolveFiles(io: CliIO, path: string, opts: { recursive: boolean }): Promise<string[]> {
  if (path === STDIN) return [STDIN];
  const kind = await io.statPath(path);
  if (kind === undefined) throw new InputError(`file or directory '${path}' does not exist`);
  if (kind === 'file') return [path];
  const names = (await io.listDirectory(path)).sort();
  const out: string[] = [];
  for (const name of names) {
    const child = path.endsWith('/') ? path + name : `${path}/${name}`;
    const childKind = await io.statPath(child);
    if (childKind === 'directory' && opts.recursive) out.push(...(await resolveFiles(io, child, opts)));
    else if (childKind === 'file' && RESOURCE_FILE.test(name)) out.push(child);
  }
  return out;
}

/**
 * Splits one file's text into documents (multi-document YAML or JSON; a
 * `kind: List`, `<Kind>List` or top-level array expands into its items).
 * Malformed YAML is an InputError naming the file, document and line.
 */
export function decodeDocuments(text: string, source: string): InputDocument[] {
  let parsed: ParsedDocument[];
  try {
    parsed = parseDocuments(text, source);
  } catch (err) {
    if (err instanceof ValidationError) throw new InputError(err.message);
    throw err;
  }
  return parsed.map((d) => ({
    doc: d.value,
    origin: { source, index: d.index + 1, ...(d.item !== undefined ? { item: d.item + 1 } : {}), ...(d.line !== undefined ? { line: d.line } : {}) },
  }));
}

export async function readDocuments(io: CliIO, path: string, opts: { recursive: boolean; skipEmpty: boolean }): Promise<InputDocument[]> {
  const files = await resolveFiles(io, path, opts);
  const out: InputDocument[] = [];
  for (const file of files) {
    const text = file === STDIN ? await io.readStdin() : await io.readFile(file);
    const docs = decodeDocuments(text, file === STDIN ? 'stdin' : file);
    if (docs.length === 0 && !opts.skipEmpty) throw new InputError(`No resources specified in file ${file === STDIN ? 'stdin' : file}`);
    out.push(...docs);
  }
  if (out.length === 0 && !opts.skipEmpty) throw new InputError(`No resources specified in directory ${path}`);
  return out;
}

function envelope(doc: unknown): { kind: string; name: string; namespace: string | undefined } {
  const d = (typeof doc === 'object' && doc !== null ? doc : {}) as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  return {
    kind: typeof d.kind === 'string' ? d.kind : '<no kind>',
    name: typeof d.metadata?.name === 'string' ? d.metadata.name : '<unnamed>',
    namespace: typeof d.metadata?.namespace === 'string' ? d.metadata.namespace : undefined,
  };
}

export interface NamespaceOptions {
  /** -n/--namespace */
  namespace?: string;
  /** -A/--all-namespaces */
  allNamespaces?: boolean;
}

/**
 * calicoctl's namespace rules: namespaced kinds take -n when the document has
 * none, else "default"; a document namespace that differs from -n is an error;
 * a namespace on a cluster-scoped kind is an error. Returns the namespace to
 * use (undefined for cluster-scoped kinds and for -A lists).
 */
export function resolveNamespace(kind: ResourceKind, opts: NamespaceOptions & { docNamespace?: string | undefined }): string | undefined {
  const docNamespace = opts.docNamespace;
  if (KIND_INFO[kind].namespaced) {
    if (opts.allNamespaces && opts.namespace) throw invalidArgument('cannot use both --namespace and --all-namespaces flags at the same time');
    if (opts.allNamespaces) return undefined;
    if (docNamespace && opts.namespace && docNamespace !== opts.namespace) {
      throw invalidArgument(`resource namespace does not match client namespace. ${docNamespace} != ${opts.namespace}`);
    }
    return docNamespace || opts.namespace || 'default';
  }
  if (docNamespace) throw invalidArgument(`namespace should not be specified for a non-namespaced resource. ${kind} is not a namespaced resource`);
  if (opts.allNamespaces || opts.namespace) throw invalidArgument(`${kind} is not namespaced`);
  return undefined;
}

/** Applies namespace rules and the validator to every document; never throws for a bad document. */
export function checkDocuments(docs: InputDocument[], opts: NamespaceOptions & { validate: ResourceValidator }): CheckedDocument[] {
  return docs.map(({ doc, origin }) => {
    const env = envelope(doc);
    const label = `${env.kind}(${env.namespace ? env.namespace + '/' : ''}${env.name})`;
    if (!isResourceKind(env.kind)) {
      // The validator explains an unknown kind best (and reports the other problems with it).
      const checked = opts.validate(doc);
      const issues = 'issues' in checked && checked.issues.length > 0 ? checked.issues : [{ path: 'kind', message: `unknown kind '${env.kind}'` }];
      return { origin, kind: env.kind, label, issues };
    }
    let namespace: string | undefined;
    try {
      namespace = resolveNamespace(env.kind, { ...opts, docNamespace: env.namespace, allNamespaces: false });
    } catch (err) {
      return { origin, kind: env.kind, label, issues: [{ path: 'metadata.namespace', message: (err as Error).message }] };
    }
    const withNs = namespace === undefined ? doc : { ...(doc as object), metadata: { ...(doc as { metadata?: object }).metadata, namespace } };
    const checked = opts.validate(withNs);
    // A WorkloadEndpoint's name may be computed from its spec by validation.
    const name = 'resource' in checked ? checked.resource.metadata.name : env.name;
    const key: ResourceKey = { kind: env.kind, name, ...(namespace ? { namespace } : {}) };
    if ('issues' in checked) return { origin, kind: env.kind, label: describeKey(key), issues: checked.issues };
    return { origin, kind: env.kind, label: describeKey(key), resource: checked.resource };
  });
}

/** `<KIND> <NAME>...` from the command line: the kind resolved (aliases, plurals), names as given. */
export function keysFromArgs(kindText: string, opts: NamespaceOptions & { names: string[] }): { kind: ResourceKind; keys: ResourceKey[]; namespace: string | undefined } {
  const { names, ...ns } = opts;
  const kind = resolveKind(kindText);
  if (!kind) throw invalidArgument(`resource type '${kindText}' is not supported`);
  if (names.some((n) => n === '')) throw invalidArgument('resource name may not be empty');
  const namespace = resolveNamespace(kind, ns);
  return { kind, namespace, keys: names.map((name) => ({ kind, name, ...(namespace ? { namespace } : {}) })) };
}

/** `examples/x.yaml document 2, line 7` or `x.yaml document 1 item 3, line 9`. */
export function originText(origin: DocumentOrigin): string {
  const item = origin.item !== undefined ? ` item ${origin.item}` : '';
  const line = origin.line !== undefined ? `, line ${origin.line}` : '';
  return `${origin.source} document ${origin.index}${item}${line}`;
}
