// calicoctl replace: replace resources that must already exist.
import type { Command } from '../command.js';
import { FILE_INPUT_FLAGS, runWrite } from '../write-resources.js';

export const replaceCommand: Command = {
  name: 'replace',
  summary: 'Replace a resource by file, directory or stdin.',
  usage: ['replace --filename=<FILENAME> [--recursive] [--skip-empty] [--config=<CONFIG>] [--namespace=<NS>]'],
  examples: [
    { comment: 'Replace a policy using the data in policy.yaml.', command: 'calicoctl replace -f ./policy.yaml' },
    { comment: 'Replace a policy based on the JSON passed into stdin.', command: 'cat policy.json | calicoctl replace -f -' },
  ],
  description: `Replaces existing resources; a missing one is an error ("resource does not exist").
If a document carries metadata.resourceVersion the replace only succeeds when the
stored resource is still at that version (an update conflict otherwise), so
"get -o yaml, edit, replace" never overwrites someone else's change.

All documents are validated first; if any is invalid nothing is written.`,
  flags: FILE_INPUT_FLAGS,
  run: (ctx) => runWrite(ctx, 'replace'),
};
