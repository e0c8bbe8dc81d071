// calicoctl patch: change part of one resource in place (merge or JSON patch).
// The patched resource is validated like any write and stored with a CAS on
// the version that was read, so a concurrent change is never overwritten.
import type { Resource } from '../../api/resource.js';
import { describeKey } from '../../api/resource.js';
import { isCalicoError } from '../../base/errors.js';
import { invalidArgument, stringFlag } from '../args.js';
import { ALLOW_VERSION_MISMATCH_FLAG, CONFIG_FLAG, NAMESPACE_FLAG, type Command } from '../command.js';
import { issuesText, reasonFor, summarize } from '../outcome.js';
import { applyPatch, type PatchType } from '../patch.js';
import { keysFromArgs } from '../resource-input.js';
import { validateDocument } from '../validation.js';
import { printReport } from '../write-resources.js';

const PATCH_TYPES: PatchType[] = ['strategic', 'merge', 'json'];

export const patchCommand: Command = {
  name: 'patch',
  summary: 'Patch a pre-existing resource in place.',
  usage: ['patch <KIND> <NAME> --patch=<PATCH> [--type=<TYPE>] [--config=<CONFIG>] [--namespace=<NS>]'],
  examples: [
    { comment: 'Partially update a node using a merge patch.', command: `calicoctl patch node node-0 --patch '{"spec":{"bgp": {"routeReflectorClusterID": "244.0.0.1"}}}'` },
    { comment: 'Disable a pool with a JSON patch (RFC 6902).', command: `calicoctl patch ippool pool-a --type json -p '[{"op":"replace","path":"/spec/disabled","value":true}]'` },
    { comment: 'Only change the order if it is still 100 (test, then replace).', command: `calicoctl patch gnp deny-all --type=json -p '[{"op":"test","path":"/spec/order","value":100},{"op":"replace","path":"/spec/order","value":200}]'` },
  ],
  description: `Applies a patch to one stored resource:
  merge      JSON Merge Patch (RFC 7386): objects merge, null deletes a field,
             lists are replaced whole
  strategic  accepted for calicoctl compatibility; same as merge (Calico's
             resources have no strategic-merge list keys)
  json       JSON Patch (RFC 6902): add, remove, replace, move, copy, test
The result is validated like any write; if it is invalid, or a "test" fails,
nothing changes. The write is conditional on the version read, so a concurrent
change makes it fail with an update conflict instead of being lost.`,
  flags: [
    { name: 'patch', short: 'p', type: 'string', placeholder: 'PATCH', description: 'The patch, as JSON.' },
    { name: 'type', short: 't', type: 'string', placeholder: 'TYPE', description: 'Patch type: strategic, merge or json.', default: 'strategic' },
    CONFIG_FLAG,
    NAMESPACE_FLAG,
    ALLOW_VERSION_MISMATCH_FLAG,
  ],
  run: async (ctx) => {
    const [kindText, name, ...extra] = ctx.args.positionals;
    if (kindText === undefined || name === undefined) throw invalidArgument('give <KIND> <NAME>');
    if (extra.length > 0) throw invalidArgument(`unexpected argument '${extra[0]}'`);
    const patchText = stringFlag(ctx.args, 'patch');
    if (patchText === undefined) throw invalidArgument('missing -p/--patch');
    const type = (stringFlag(ctx.args, 'type') ?? 'strategic') as PatchType;
    if (!PATCH_TYPES.includes(type)) throw invalidArgument(`unknown patch type '${type}': use strategic, merge or json`);
    const namespace = stringFlag(ctx.args, 'namespace');
    const { kind, keys } = keysFromArgs(kindText, { names: [name], ...(namespace !== undefined ? { namespace } : {}) });
    const key = keys[0] as (typeof keys)[number];
    const label = describeKey(key);

    const ds = await ctx.datastore();
    const fail = (reason: string): number => printReport(ctx, summarize('patch', [{ kind, label, ok: false, reason }]));
    let current: Resource;
    try {
      current = await ds.get(key);
    } catch (err) {
      if (isCalicoError(err, 'unavailable')) throw err;
      return fail(reasonFor(label, err));
    }
    let patched: unknown;
    try {
      patched = applyPatch(current, patchText, type);
    } catch (err) {
      return fail(`${label}: ${(err as Error).message}`);
    }
    const p = patched as Partial<Resource>;
    if (p.kind !== current.kind || p.metadata?.name !== current.metadata.name || p.metadata?.namespace !== current.metadata.namespace) {
      return fail(`${label}: a patch may not change kind, name or namespace`);
    }
    const checked = validateDocument(patched);
    if ('issues' in checked) return fail(issuesText(label, checked.issues));
    const resource = checked.resource;
    // CAS on what was read, whatever the patch did to resourceVersion.
    resource.metadata = { ...resource.metadata, resourceVersion: current.metadata.resourceVersion };
    try {
      await ds.update(resource);
    } catch (err) {
      if (isCalicoError(err, 'unavailable')) throw err;
      return fail(reasonFor(label, err));
    }
    return printReport(ctx, summarize('patch', [{ kind, label, ok: true }]));
  },
};
