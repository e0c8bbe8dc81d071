// calicoctl apply: create each resource, or replace it when it exists.
import type { Command } from '../command.js';
import { FILE_INPUT_FLAGS, runWrite } from '../write-resources.js';

export const applyCommand: Command = {
  name: 'apply',
  summary: 'Apply a resource by file, directory or stdin.',
  usage: ['apply --filename=<FILENAME> [--recursive] [--skip-empty] [--config=<CONFIG>] [--namespace=<NS>]'],
  examples: [
    { comment: 'Apply a policy using the data in policy.yaml.', command: 'calicoctl apply -f ./policy.yaml' },
    { comment: 'Apply every resource in a directory of YAML/JSON files.', command: 'calicoctl apply -f examples/resources/' },
    { comment: 'Apply a policy based on the JSON passed into stdin.', command: 'cat policy.json | calicoctl apply -f -' },
  ],
  description: `Creates each resource that does not exist and replaces the ones that do (the
whole spec is replaced: give the complete resource, not only changed fields).

All documents are validated first; if any is invalid nothing is written and each
invalid one is reported on its own line with its file and document number.
Resources are then written in order; a failure of one does not stop the others,
and a mixed result lists each resource's outcome. Exit code 1 if any failed.`,
  flags: FILE_INPUT_FLAGS,
  run: (ctx) => runWrite(ctx, 'apply'),
};
