// calicoctl delete: by file (-f) or by kind and names.
import { isCalicoError } from '../../base/errors.js';
import type { ResourceKey } from '../../api/resource.js';
import { describeKey } from '../../api/resource.js';
import { boolFlag, invalidArgument, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { reasonFor, summarize, type ResourceOutcome } from '../outcome.js';
import { keysFromArgs, type DocumentOrigin } from '../resource-input.js';
import { FILE_INPUT_FLAGS, invalidOutcomes, printReport, readCheckedDocuments } from '../write-resources.js';
import { rejectedReport } from '../outcome.js';

interface Target {
  key: ResourceKey;
  origin?: DocumentOrigin;
  resourceVersion?: string;
}

export const deleteCommand: Command = {
  name: 'delete',
  summary: 'Delete a resource identified by file, directory, stdin or kind and name.',
  usage: [
    'delete (<KIND> <NAME>... | --filename=<FILENAME> [--recursive] [--skip-empty]) [--skip-not-exists] [--config=<CONFIG>] [--namespace=<NS>]',
  ],
  examples: [
    { comment: 'Delete a policy using the type and name specified in policy.yaml.', command: 'calicoctl delete -f ./policy.yaml' },
    { comment: 'Delete a policy based on the type and name in the YAML passed into stdin.', command: 'cat policy.yaml | calicoctl delete -f -' },
    { comment: 'Delete policies with names "foo" and "bar" in namespace "prod".', command: 'calicoctl delete networkpolicy foo bar -n prod' },
    { comment: 'Delete a pool if it exists, succeeding either way.', command: 'calicoctl delete ippool pool-a --skip-not-exists' },
  ],
  description: `Deletes resources by file or by kind and names (kind is case-insensitive and may
be plural or a short alias: ippool, ippools, pool, gnp, wep ...).

Deleting a resource that does not exist is an error ("resource does not exist:
IPPool(pool-a)") unless --skip-not-exists is set; skipped resources count as
successes. With -f, only kind, name and namespace of each document matter; a
document carrying metadata.resourceVersion is deleted only if unchanged since.

A Tier is deleted only when no NetworkPolicy or GlobalNetworkPolicy is left in
it (the default tier never): Tiers named in the same command are deleted after
everything else it names.`,
  flags: [
    ...FILE_INPUT_FLAGS,
    { name: 'skip-not-exists', short: 's', type: 'boolean', description: "Skip over and treat as successful resources that don't exist." },
  ],
  run: async (ctx) => {
    const targets: Target[] = [];
    let singleKind: string | undefined;
    if (stringFlag(ctx.args, 'filename') !== undefined) {
      const checked = await readCheckedDocuments(ctx, { envelopeOnly: true });
      const invalid = invalidOutcomes(checked);
      if (invalid.length > 0) return printReport(ctx, rejectedReport('delete', { invalid, total: checked.length }));
      for (const c of checked) {
        const r = c.resource;
        if (!r) continue;
        const key: ResourceKey = { kind: r.kind, name: r.metadata.name, ...(r.metadata.namespace ? { namespace: r.metadata.namespace } : {}) };
        targets.push({ key, origin: c.origin, ...(r.metadata.resourceVersion ? { resourceVersion: r.metadata.resourceVersion } : {}) });
      }
    } else {
      const [kindText, ...names] = ctx.args.positionals;
      if (kindText === undefined) throw invalidArgument('give -f <FILENAME> or <KIND> <NAME>...');
      if (names.length === 0) throw invalidArgument(`give the name of the ${kindText} to delete`);
      const namespace = stringFlag(ctx.args, 'namespace');
      const { kind, keys } = keysFromArgs(kindText, { names, ...(namespace !== undefined ? { namespace } : {}) });
      singleKind = kind;
      targets.push(...keys.map((key) => ({ key })));
    }

    const ds = await ctx.datastore();
    const skip = boolFlag(ctx.args, 'skip-not-exists');
    const outcomes: ResourceOutcome[] = [];
    // A tier is deleted only once empty: its policies named in the same
    // invocation go first, so `delete -f` of the file that made them works.
    const ordered = [...targets.filter((t) => t.key.kind !== 'Tier'), ...targets.filter((t) => t.key.kind === 'Tier')];
    for (const t of ordered) {
      const label = describeKey(t.key);
      const base = { kind: t.key.kind, label, ...(t.origin ? { origin: t.origin } : {}) };
      try {
        await ds.delete(t.key, t.resourceVersion ? { resourceVersion: t.resourceVersion } : {});
        outcomes.push({ ...base, ok: true });
      } catch (err) {
        if (isCalicoError(err, 'unavailable')) throw err;
        if (skip && isCalicoError(err, 'not-found')) outcomes.push({ ...base, ok: true, skipped: true });
        else outcomes.push({ ...base, ok: false, reason: reasonFor(label, err) });
      }
    }
    return printReport(ctx, summarize('delete', outcomes, singleKind ? { singleKind } : {}));
  },
};
