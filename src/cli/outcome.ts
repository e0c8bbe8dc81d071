// Per-resource outcomes of a multi-resource command and the lines calicoctl
// prints for them: `Successfully applied 3 'IPPool' resource(s)`, or one
// `Failed to apply 'IPPool' resource: [IPPool(pool-a)] spec.cidr: ... (x.yaml document 2)`
// line per failure. Pure.
import { isCalicoError, type FieldIssue } from '../base/errors.js';
import { originText, type DocumentOrigin } from './resource-input.js';

export type WriteAction = 'apply' | 'create' | 'replace' | 'delete' | 'validate' | 'patch';

const PAST: Record<WriteAction, string> = {
  apply: 'applied',
  create: 'created',
  replace: 'replaced',
  delete: 'deleted',
  validate: 'validated',
  patch: 'patched',
};

export function pastTense(action: WriteAction): string {
  return PAST[action];
}

export interface ResourceOutcome {
  kind: string;
  /** `IPPool(pool-a)` */
  label: string;
  origin?: DocumentOrigin;
  ok: boolean;
  /** Counted as success because of --skip-exists / --skip-not-exists. */
  skipped?: boolean;
  /** Why it failed, without the `Failed to ...` prefix. */
  reason?: string;
}

export function issuesText(label: string, issues: FieldIssue[]): string {
  return `[${label}] ` + issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
}

/**
 * The reason text for an error from the datastore, phrased as calicoctl
 * phrases it, branching on the error kind (never on message text).
 */
export function reasonFor(label: string, err: unknown): string {
  if (isCalicoError(err, 'not-found')) return `resource does not exist: ${label}`;
  if (isCalicoError(err, 'already-exists')) return `resource already exists: ${label}`;
  if (isCalicoError(err, 'conflict')) return `update conflict: ${label} was modified by someone else; re-read it and try again`;
  if (isCalicoError(err, 'validation')) {
    const issues = (err as { issues?: FieldIssue[] }).issues;
    return issues && issues.length > 0 ? issuesText(label, issues) : `[${label}] ${(err as Error).message}`;
  }
  return `${label}: ${err instanceof Error ? err.message : String(err)}`;
}

export function failureLine(action: WriteAction, o: ResourceOutcome): string {
  const where = o.origin ? ` (${originText(o.origin)})` : '';
  return `Failed to ${action} '${o.kind}' resource: ${o.reason ?? 'unknown error'}${where}`;
}

export interface Report {
  stdout: string[];
  stderr: string[];
  exitCode: number;
}

/** The whole report of a command that handled each resource in turn. */
export function summarize(action: WriteAction, outcomes: ResourceOutcome[], opts: { singleKind?: string } = {}): Report {
  const kinds = new Set(outcomes.map((o) => o.kind));
  const singleKind = opts.singleKind ?? (kinds.size === 1 ? [...kinds][0] : undefined);
  const okCount = outcomes.filter((o) => o.ok).length;
  const failed = outcomes.filter((o) => !o.ok);
  const past = PAST[action];
  if (outcomes.length === 0) return { stdout: ['No resources specified'], stderr: [], exitCode: 0 };
  if (failed.length === 0) {
    const what = singleKind ? `'${singleKind}' resource(s)` : 'resource(s)';
    const line = action === 'patch' ? `Successfully patched ${okCount} '${singleKind}' resource` : `Successfully ${past} ${okCount} ${what}`;
    return { stdout: [line], stderr: [], exitCode: 0 };
  }
  const stdout: string[] = [];
  if (okCount > 0) {
    // A mixed result lists every resource, so nobody has to work out which ones landed.
    stdout.push(`Partial success: ${past} ${okCount} out of ${outcomes.length} resources:`);
    for (const o of outcomes) stdout.push(`  ${o.label}: ${o.ok ? (o.skipped ? 'skipped' : past) : 'failed'}`);
  }
  return { stdout, stderr: failed.map((o) => failureLine(action, o)), exitCode: 1 };
}

/**
 * The report when validation rejected some documents before anything was
 * written: every invalid one on its own line, then a line saying nothing changed.
 */
export function rejectedReport(action: WriteAction, opts: { invalid: ResourceOutcome[]; total: number }): Report {
  const { invalid, total } = opts;
  return {
    stdout: [],
    stderr: [
      ...invalid.map((o) => failureLine(action, o)),
      `Nothing was ${PAST[action]}: ${invalid.length} of ${total} resource(s) are invalid; fix them and run the command again`,
    ],
    exitCode: 1,
  };
}
