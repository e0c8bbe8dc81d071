// Typed errors. Code branches on `kind`, never on message text (STYLE.md rule 7).
// User-facing messages name the file, resource, field and the fix; the CLI adds
// the file and document index, the layers below add resource and field.

export type ErrorKind =
  | 'validation' // input is wrong; retrying the same input never helps
  | 'not-found'
  | 'already-exists'
  | 'conflict' // compare-and-swap lost: someone else wrote first
  | 'unavailable' // datastore / daemon unreachable; retrying may help
  | 'compacted' // a watch asked for a revision etcd no longer has
  | 'invalid-argument' // a caller (CLI flag, API call) is wrong
  | 'internal';

export class CalicoError extends Error {
  readonly kind: ErrorKind;
  readonly retryable: boolean;
  constructor(kind: ErrorKind, message: string, opts: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'CalicoError';
    this.kind = kind;
    this.retryable = opts.retryable ?? (kind === 'unavailable' || kind === 'conflict');
  }
}

/** One problem with one field of one resource. `path` is a JSON-ish path such as `spec.ingress[0].source.nets[1]`. */
export interface FieldIssue {
  path: string;
  message: string;
}

/** Where a document came from, for messages: `policy.yaml:12 (document 2)`. */
export interface DocumentLocation {
  /** File name, `-` for stdin, or any label the caller chose. */
  source?: string;
  /** 0-based position of the document in the stream. */
  index?: number;
  /** 0-based position inside a `kind: List` document's items. */
  item?: number;
  /** 1-based line where the document (or list item) starts. */
  line?: number;
}

export function describeLocation(loc: DocumentLocation): string {
  const parts: string[] = [];
  if (loc.source !== undefined) parts.push(loc.line !== undefined ? `${loc.source}:${loc.line}` : loc.source);
  const doc: string[] = [];
  if (loc.index !== undefined) doc.push(`document ${loc.index + 1}`);
  if (loc.item !== undefined) doc.push(`item ${loc.item + 1}`);
  if (doc.length) parts.push(parts.length ? `(${doc.join(', ')})` : doc.join(', '));
  return parts.join(' ');
}

export class ValidationError extends CalicoError {
  readonly issues: FieldIssue[];
  /** e.g. `NetworkPolicy(default/allow-dns)` when known. */
  readonly resource: string | undefined;
  /** File / document the resource came from, when known. */
  readonly location: DocumentLocation | undefined;
  constructor(issues: FieldIssue[], resource?: string, location?: DocumentLocation) {
    const loc = location ? describeLocation(location) : '';
    const where = [loc, resource].filter(Boolean).join(': ');
    super('validation', (where ? `${where}: ` : '') + issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; '));
    this.name = 'ValidationError';
    this.issues = issues;
    this.resource = resource;
    this.location = location;
  }
}

export class NotFoundError extends CalicoError {
  constructor(what: string) {
    super('not-found', `${what} does not exist`);
    this.name = 'NotFoundError';
  }
}

export class AlreadyExistsError extends CalicoError {
  constructor(what: string) {
    super('already-exists', `${what} already exists`);
    this.name = 'AlreadyExistsError';
  }
}

/** A compare-and-swap lost. `current` is what is stored now (undefined if it was deleted). */
export class ConflictError<T = unknown> extends CalicoError {
  readonly current: T | undefined;
  constructor(what: string, current?: T) {
    super('conflict', `${what} was modified by someone else (update conflict); re-read it and try again`);
    this.name = 'ConflictError';
    this.current = current;
  }
}

export class UnavailableError extends CalicoError {
  constructor(message: string, cause?: unknown) {
    super('unavailable', message, { cause, retryable: true });
    this.name = 'UnavailableError';
  }
}

export class CompactedError extends CalicoError {
  readonly compactRevision: number;
  constructor(requested: number, compactRevision: number) {
    super('compacted', `revision ${requested} has been compacted (oldest available is ${compactRevision})`, {
      retryable: false,
    });
    this.name = 'CompactedError';
    this.compactRevision = compactRevision;
  }
}

export function isCalicoError(err: unknown, kind?: ErrorKind): err is CalicoError {
  return err instanceof CalicoError && (kind === undefined || err.kind === kind);
}
