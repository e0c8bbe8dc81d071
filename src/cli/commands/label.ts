// calicoctl label: set, update or remove one label on one resource.
import type { Resource } from '../../api/resource.js';
import { isCalicoError } from '../../base/errors.js';
import { boolFlag, invalidArgument, stringFlag } from '../args.js';
import { ALLOW_VERSION_MISMATCH_FLAG, CONFIG_FLAG, NAMESPACE_FLAG, type Command } from '../command.js';
import { keysFromArgs } from '../resource-input.js';

export const labelCommand: Command = {
  name: 'label',
  summary: 'Add, update or remove a label on a resource.',
  usage: ['label <KIND> <NAME> (<KEY>=<VALUE> [--overwrite] | <KEY> --remove) [--config=<CONFIG>] [--namespace=<NS>]'],
  examples: [
    { comment: 'Label a workload endpoint.', command: 'calicoctl label workloadendpoints nginx --namespace=default app=web' },
    { comment: "Label a node and overwrite the original value of key 'cluster'.", command: 'calicoctl label nodes node1 cluster=frontend --overwrite' },
    { comment: "Remove label with key 'cluster' of the node.", command: 'calicoctl label nodes node1 cluster --remove' },
  ],
  description: `Sets a label on a resource that exists. Setting a key that is already present
with a different value is an error unless --overwrite is given; removing a key
that is absent is an error. The change is written with a compare-and-swap on the
version read, so a concurrent edit is never lost.`,
  flags: [
    { name: 'overwrite', type: 'boolean', description: 'Overwrite the value when the key is already present. Cannot be used with --remove.' },
    { name: 'remove', type: 'boolean', description: 'Remove the key from the labels. Cannot be used with --overwrite.' },
    CONFIG_FLAG,
    NAMESPACE_FLAG,
    ALLOW_VERSION_MISMATCH_FLAG,
  ],
  run: async (ctx) => {
    const [kindText, name, labelText, ...extra] = ctx.args.positionals;
    if (kindText === undefined || name === undefined || labelText === undefined) throw invalidArgument('give <KIND> <NAME> <KEY>=<VALUE> (or <KEY> --remove)');
    if (extra.length > 0) throw invalidArgument(`unexpected argument '${extra[0]}'`);
    const remove = boolFlag(ctx.args, 'remove');
    const overwrite = boolFlag(ctx.args, 'overwrite');
    if (remove && overwrite) throw invalidArgument('--overwrite and --remove cannot be used together');
    let key = labelText;
    let value = '';
    if (!remove) {
      const parts = labelText.split('=');
      if (parts.length !== 2 || parts[0] === '') throw invalidArgument(`invalid label ${labelText}: use <KEY>=<VALUE>`);
      [key, value] = parts as [string, string];
    } else if (labelText.includes('=')) {
      throw invalidArgument(`give only the key to remove, not ${labelText}`);
    }
    const namespace = stringFlag(ctx.args, 'namespace');
    const { keys } = keysFromArgs(kindText, { names: [name], ...(namespace !== undefined ? { namespace } : {}) });
    const ds = await ctx.datastore();
    let current: Resource;
    try {
      current = await ds.get(keys[0] as (typeof keys)[number]);
    } catch (err) {
      if (isCalicoError(err, 'not-found')) {
        ctx.err(`${kindText} ${name} not found`);
        return 1;
      }
      throw err;
    }
    const labels = { ...(current.metadata.labels ?? {}) };
    let verb: string;
    if (remove) {
      if (!(key in labels)) {
        ctx.err(`cannot remove label of ${kindText} ${name}, key ${key} does not exist`);
        return 1;
      }
      delete labels[key];
      verb = `removed label ${key} from`;
    } else if (key in labels) {
      if (!overwrite && labels[key] !== value) {
        ctx.err(`failed to update label of ${kindText} ${name}, key ${key} is already present. please use '--overwrite' to set a new value.`);
        return 1;
      }
      labels[key] = value;
      verb = `updated label ${key} on`;
    } else {
      labels[key] = value;
      verb = `set label ${key} on`;
    }
    try {
      await ds.update({ ...current, metadata: { ...current.metadata, labels } });
    } catch (err) {
      if (isCalicoError(err, 'unavailable')) throw err;
      const why = isCalicoError(err, 'validation') || isCalicoError(err, 'conflict') ? `: ${(err as Error).message}` : '';
      ctx.err(`failed to update ${kindText} ${name}, label not changed${why}`);
      return 1;
    }
    ctx.out(`Successfully ${verb} ${kindText} ${name}`);
    return 0;
  },
};
