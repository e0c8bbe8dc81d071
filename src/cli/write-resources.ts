// The flow shared by create, apply and replace:
//   read every -f document -> validate ALL -> (any invalid: write nothing, exit 1)
//   -> connect -> write each in order -> one outcome per resource -> report.
// Decision: validation happens before the first write, so a file with one bad
// document changes nothing (calicoctl would have written the good ones before it).
import { isCalicoError } from '../base/errors.js';
import { isResourceKind, KIND_INFO } from '../api/kinds.js';
import type { Resource } from '../api/resource.js';
import { fieldWarnings } from '../api/index.js';
import type { Datastore } from '../datastore/datastore.js';
import { boolFlag, stringFlag, invalidArgument, type FlagSpec } from './args.js';
import { ALLOW_VERSION_MISMATCH_FLAG, CONFIG_FLAG, NAMESPACE_FLAG, type CommandContext } from './command.js';
import { issuesText, reasonFor, rejectedReport, summarize, type Report, type ResourceOutcome, type WriteAction } from './outcome.js';
import { checkDocuments, readDocuments, type CheckedDocument } from './resource-input.js';
import { validateDocument, validateEnvelope } from './validation.js';

export const FILENAME_FLAG: FlagSpec = {
  name: 'filename',
  short: 'f',
  type: 'string',
  placeholder: 'FILENAME',
  description:
    'File to read resources from: a .yaml/.yml/.json file, a directory of them, or "-" for stdin. Multi-document YAML and kind: List work.',
};
export const RECURSIVE_FLAG: FlagSpec = { name: 'recursive', short: 'R', type: 'boolean', description: 'Process the directory given with -f recursively.' };
export const SKIP_EMPTY_FLAG: FlagSpec = { name: 'skip-empty', type: 'boolean', description: 'Do not fail when a file or directory given with -f holds no resources.' };

/** Flags of every command that reads resources from -f. */
export const FILE_INPUT_FLAGS: FlagSpec[] = [FILENAME_FLAG, RECURSIVE_FLAG, SKIP_EMPTY_FLAG, CONFIG_FLAG, NAMESPACE_FLAG, ALLOW_VERSION_MISMATCH_FLAG];

/** Reads and checks -f input; shared with validate and delete. Throws invalid-argument when -f is missing or unreadable. */
export async function readCheckedDocuments(ctx: CommandContext, opts: { envelopeOnly?: boolean } = {}): Promise<CheckedDocument[]> {
  const filename = stringFlag(ctx.args, 'filename');
  if (filename === undefined) throw invalidArgument('missing -f/--filename');
  if (ctx.args.positionals.length > 0) throw invalidArgument(`unexpected argument '${ctx.args.positionals[0]}'`);
  const docs = await readDocuments(ctx.io, filename, { recursive: boolFlag(ctx.args, 'recursive'), skipEmpty: boolFlag(ctx.args, 'skip-empty') });
  const namespace = stringFlag(ctx.args, 'namespace');
  return checkDocuments(docs, { validate: opts.envelopeOnly ? validateEnvelope : validateDocument, ...(namespace !== undefined ? { namespace } : {}) });
}

export function invalidOutcomes(checked: CheckedDocument[]): ResourceOutcome[] {
  return checked
    .filter((c) => c.issues !== undefined)
    .map((c) => ({ kind: c.kind, label: c.label, origin: c.origin, ok: false, reason: issuesText(c.label, c.issues ?? []) }));
}

/**
 * Fields calico-ts accepts but does not act on (docs/fields.md "warned"): one
 * line each on stderr, so a user copying a Calico configuration knows.
 */
export function printFieldWarnings(ctx: CommandContext, checked: CheckedDocument[]): void {
  for (const c of checked) {
    if (!c.resource) continue;
    for (const w of fieldWarnings(c.resource)) ctx.err(`Warning: ${c.label}: ${w.path} ${w.message}`);
  }
}

export function printReport(ctx: CommandContext, report: Report): number {
  for (const l of report.stdout) ctx.out(l);
  for (const l of report.stderr) ctx.err(l);
  return report.exitCode;
}

/**
 * apply = create, or update what is there. With metadata.resourceVersion in the
 * input it is an update conditional on that version (a CAS), as in calicoctl.
 * The datastore carries uid and creationTimestamp over on update.
 */
async function applyOne(ds: Datastore, resource: Resource): Promise<void> {
  if (resource.metadata.resourceVersion) {
    await ds.update(resource);
    return;
  }
  try {
    await ds.create(resource);
  } catch (err) {
    if (!isCalicoError(err, 'already-exists')) throw err;
    await ds.update(resource);
  }
}

/** Server-owned metadata a create must not carry (a file saved from `get -o yaml` has them). */
function forCreate(resource: Resource): Resource {
  const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, ...metadata } = resource.metadata;
  return { ...resource, metadata };
}

/** Read-only kinds (BlockAffinity) are refused with the other invalid documents, before any write. */
function refuseReadOnly(checked: CheckedDocument[]): CheckedDocument[] {
  return checked.map((c) => {
    const why = c.resource && isResourceKind(c.resource.kind) ? KIND_INFO[c.resource.kind].readOnly : undefined;
    if (why === undefined) return c;
    const { resource: _r, ...rest } = c;
    return { ...rest, issues: [{ path: '', message: why }] };
  });
}

export async function runWrite(ctx: CommandContext, action: 'create' | 'apply' | 'replace'): Promise<number> {
  const checked = refuseReadOnly(await readCheckedDocuments(ctx));
  const invalid = invalidOutcomes(checked);
  if (invalid.length > 0) return printReport(ctx, rejectedReport(action, { invalid, total: checked.length }));
  printFieldWarnings(ctx, checked);

  const ds = await ctx.datastore();
  const skipExists = action === 'create' && boolFlag(ctx.args, 'skip-exists');
  const outcomes: ResourceOutcome[] = [];
  for (const c of checked) {
    const resource = c.resource as Resource;
    const base = { kind: c.kind, label: c.label, origin: c.origin };
    try {
      if (action === 'create') await ds.create(forCreate(resource));
      else if (action === 'apply') await applyOne(ds, resource);
      // replace: the datastore refuses a missing resource and, given a resourceVersion, does a CAS.
      else await ds.update(resource);
      outcomes.push({ ...base, ok: true });
    } catch (err) {
      // An unreachable datastore fails every later resource too: stop and say so once.
      if (isCalicoError(err, 'unavailable')) throw err;
      if (skipExists && isCalicoError(err, 'already-exists')) outcomes.push({ ...base, ok: true, skipped: true });
      else outcomes.push({ ...base, ok: false, reason: reasonFor(c.label, err) });
    }
  }
  return printReport(ctx, summarize(action as WriteAction, outcomes));
}
