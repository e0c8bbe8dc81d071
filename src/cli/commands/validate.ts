// calicoctl validate: check resources offline, without a datastore.
import type { Command } from '../command.js';
import { issuesText, summarize, type ResourceOutcome } from '../outcome.js';
import { FILENAME_FLAG, RECURSIVE_FLAG, SKIP_EMPTY_FLAG, printFieldWarnings, printReport, readCheckedDocuments } from '../write-resources.js';
import { NAMESPACE_FLAG } from '../command.js';

export const validateCommand: Command = {
  name: 'validate',
  summary: 'Validate resources by file, directory or stdin, without a datastore.',
  usage: ['validate --filename=<FILENAME> [--recursive] [--skip-empty]'],
  examples: [
    { comment: 'Validate a policy using the data in policy.yaml.', command: 'calicoctl validate -f ./policy.yaml' },
    { comment: 'Validate a policy based on the JSON passed into stdin.', command: 'cat policy.json | calicoctl validate -f -' },
  ],
  description: `Parses and validates each resource offline (no datastore is contacted): the
same checks create/apply/replace run before writing. Prints
"Successfully validated N resource(s)", or one line per invalid resource naming
the field, the reason, the file and the document number (exit code 1).
Fields calico-ts accepts but does not act on are named in "Warning:" lines
on stderr (see docs/fields.md).`,
  flags: [FILENAME_FLAG, RECURSIVE_FLAG, SKIP_EMPTY_FLAG, NAMESPACE_FLAG, { name: 'allow-version-mismatch', type: 'boolean', description: 'Accepted for compatibility.' }],
  run: async (ctx) => {
    const checked = await readCheckedDocuments(ctx);
    printFieldWarnings(ctx, checked);
    const outcomes: ResourceOutcome[] = checked.map((c) => ({
      kind: c.kind,
      label: c.label,
      origin: c.origin,
      ok: c.issues === undefined,
      ...(c.issues !== undefined ? { reason: issuesText(c.label, c.issues) } : {}),
    }));
    return printReport(ctx, summarize('validate', outcomes));
  },
};
