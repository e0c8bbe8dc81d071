// calicoctl create: create resources that must not exist yet.
import type { Command } from '../command.js';
import { FILE_INPUT_FLAGS, runWrite } from '../write-resources.js';

export const createCommand: Command = {
  name: 'create',
  summary: 'Create a resource by file, directory or stdin.',
  usage: ['create --filename=<FILENAME> [--recursive] [--skip-empty] [--skip-exists] [--config=<CONFIG>] [--namespace=<NS>]'],
  examples: [
    { comment: 'Create a policy using the data in policy.yaml.', command: 'calicoctl create -f ./policy.yaml' },
    { comment: 'Create a policy based on the JSON passed into stdin.', command: 'cat policy.json | calicoctl create -f -' },
    { comment: 'Create the pools that do not exist yet, leaving existing ones alone.', command: 'calicoctl create -f pools.yaml --skip-exists' },
  ],
  description: `Creates each resource. A resource that already exists is an error
("resource already exists: IPPool(pool-a)") unless --skip-exists is set, in which
case it is left as it is and counted as a success.

All documents are validated first; if any is invalid nothing is written.`,
  flags: [
    ...FILE_INPUT_FLAGS,
    { name: 'skip-exists', type: 'boolean', description: 'Skip over and treat as successful any attempts to create an entry that already exists.' },
  ],
  run: (ctx) => runWrite(ctx, 'create'),
};
