// calicoctl get: read resources by kind (and names) or by file, print them
// as a table (ps, wide, custom-columns) or as yaml / json.
import { KIND_INFO, type ResourceKind } from '../../api/kinds.js';
import { describeKey, type Resource, type ResourceKey } from '../../api/resource.js';
import { isCalicoError } from '../../base/errors.js';
import { parseSelector, type Selector } from '../../selector/index.js';
import { boolFlag, invalidArgument, stringFlag } from '../args.js';
import { ALLOW_VERSION_MISMATCH_FLAG, CONFIG_FLAG, NAMESPACE_FLAG, type Command } from '../command.js';
import { headingsFor } from '../columns.js';
import { parseOutputFormat, renderResources, renderTable, renderTables } from '../output.js';
import { issuesText, reasonFor } from '../outcome.js';
import { InputError, keysFromArgs, originText } from '../resource-input.js';
import { FILENAME_FLAG, RECURSIVE_FLAG, SKIP_EMPTY_FLAG, readCheckedDocuments } from '../write-resources.js';

/** Strips what only makes sense inside one cluster (for --export). */
function exported(r: Resource): Resource {
  const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, generation: _g, ...metadata } = r.metadata;
  return { ...r, metadata };
}

export const getCommand: Command = {
  name: 'get',
  summary: 'Get a resource identified by file, directory, stdin or kind and name.',
  usage: [
    'get (<KIND> [<NAME>...] | --filename=<FILENAME> [--recursive] [--skip-empty]) [--output=<OUTPUT>] [--config=<CONFIG>] [--namespace=<NS>] [--all-namespaces] [--selector=<SELECTOR>] [--export]',
  ],
  examples: [
    { comment: 'List all IP pools in the default output format (ps).', command: 'calicoctl get ippools' },
    { comment: 'Show one pool with every field (defaults included) as YAML.', command: 'calicoctl get ippool pool-a -o yaml' },
    { comment: 'List policies in every namespace, with ORDER and SELECTOR.', command: 'calicoctl get networkpolicy -A -o wide' },
    { comment: 'List workload endpoints whose labels match a selector.', command: "calicoctl get weps -n prod -l 'app == \"web\"'" },
    { comment: 'Choose the columns.', command: 'calicoctl get ippools -o custom-columns=NAME,CIDR,NAT' },
    { comment: 'Get the resources named in a file, as JSON.', command: 'calicoctl get -f ./resources.yaml -o json' },
  ],
  description: `Prints resources. KIND is case-insensitive and may be plural or an alias
(ippool, ippools, pool, gnp, wep, hep, bgppeer, felixconfig ...).

Output formats (-o):
  ps                     (default) a table with the kind's main columns
  wide                   a table with more columns
  custom-columns=A,B     a table with the named columns (e.g. NAME,CIDR), or
                         kubectl-style HEADER:.spec.field columns
  yaml | json            the stored resources, defaults included; one named
                         resource prints alone, anything else prints as a
                         <Kind>List with the datastore revision

For namespaced kinds the namespace is -n (default "default"); -A lists every
namespace and adds a NAMESPACE column. -l filters by a label selector.
A name that does not exist is an error (exit code 1); the others still print.`,
  flags: [
    FILENAME_FLAG,
    RECURSIVE_FLAG,
    SKIP_EMPTY_FLAG,
    { name: 'output', short: 'o', type: 'string', placeholder: 'OUTPUT', description: 'Output format: ps, wide, yaml, json or custom-columns=<COL>,...', default: 'ps' },
    CONFIG_FLAG,
    NAMESPACE_FLAG,
    { name: 'all-namespaces', short: 'A', type: 'boolean', description: 'List the requested kind across all namespaces.' },
    { name: 'selector', short: 'l', type: 'string', placeholder: 'SELECTOR', description: "Only resources whose labels match this selector, e.g. 'app == \"web\" && tier in {\"a\",\"b\"}'." },
    { name: 'export', type: 'boolean', description: 'Omit cluster-specific metadata (resourceVersion, uid, creationTimestamp).' },
    ALLOW_VERSION_MISMATCH_FLAG,
  ],
  run: async (ctx) => {
    const format = parseOutputFormat(stringFlag(ctx.args, 'output') ?? 'ps');
    const selectorText = stringFlag(ctx.args, 'selector');
    let selector: Selector | undefined;
    if (selectorText !== undefined) {
      try {
        selector = parseSelector(selectorText);
      } catch (err) {
        throw invalidArgument(`-l/--selector: ${(err as Error).message}`);
      }
    }
    const namespace = stringFlag(ctx.args, 'namespace');
    const allNamespaces = boolFlag(ctx.args, 'all-namespaces');

    // What to read: a list of one kind, or specific keys.
    let keys: ResourceKey[] = [];
    let listKind: ResourceKind | undefined;
    let listNamespace: string | undefined;
    if (stringFlag(ctx.args, 'filename') !== undefined) {
      const checked = await readCheckedDocuments(ctx, { envelopeOnly: true });
      const bad = checked.find((c) => c.issues !== undefined);
      if (bad) throw new InputError(`${issuesText(bad.label, bad.issues ?? [])} (${originText(bad.origin)})`);
      keys = checked.map((c) => {
        const m = (c.resource as Resource).metadata;
        return { kind: (c.resource as Resource).kind, name: m.name, ...(m.namespace ? { namespace: m.namespace } : {}) };
      });
    } else {
      const [kindText, ...names] = ctx.args.positionals;
      if (kindText === undefined) throw invalidArgument('give -f <FILENAME> or <KIND> [<NAME>...]');
      const resolved = keysFromArgs(kindText, { names, ...(namespace !== undefined ? { namespace } : {}), allNamespaces });
      if (names.length > 0 && allNamespaces) throw invalidArgument('a resource cannot be retrieved by name across all namespaces');
      keys = resolved.keys;
      if (names.length === 0) {
        listKind = resolved.kind;
        listNamespace = resolved.namespace;
      }
    }

    const ds = await ctx.datastore();
    const found: Resource[] = [];
    const errors: string[] = [];
    let revision: string | undefined;
    if (listKind !== undefined) {
      const listed = await ds.list({ kind: listKind, ...(listNamespace !== undefined ? { namespace: listNamespace } : {}) });
      found.push(...listed.items);
      revision = listed.revision;
    } else {
      for (const key of keys) {
        try {
          found.push(await ds.get(key));
        } catch (err) {
          if (isCalicoError(err, 'unavailable')) throw err;
          errors.push(`Failed to get resources: ${reasonFor(describeKey(key), err)}`);
        }
      }
    }

    let shown = selector ? found.filter((r) => (selector as Selector).evaluate(r.metadata.labels ?? {})) : found;
    // Tiers print in their evaluation order, as calicoctl does; everything else by namespace then name.
    shown = [...shown].sort((a, b) => {
      if (a.kind === 'Tier' && b.kind === 'Tier') {
        const oa = (a.spec as { order?: number } | undefined)?.order ?? Number.POSITIVE_INFINITY;
        const ob = (b.spec as { order?: number } | undefined)?.order ?? Number.POSITIVE_INFINITY;
        if (oa !== ob) return oa - ob;
      }
      if (listKind === undefined) return 0; // by name or file: keep the order asked for
      return (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name);
    });
    if (boolFlag(ctx.args, 'export')) shown = shown.map(exported);

    if (format.type === 'yaml' || format.type === 'json') {
      const single = listKind === undefined && keys.length === 1;
      if (shown.length > 0 || listKind !== undefined) {
        ctx.io.stdout.write(
          renderResources(shown, { type: format.type, single, ...(listKind ? { kind: listKind } : {}), ...(revision !== undefined ? { revision } : {}) }),
        );
      }
    } else {
      const text = renderTables(shown, { format, withNamespace: (kind) => KIND_INFO[kind].namespaced && allNamespaces });
      if (text !== '') ctx.io.stdout.write(text);
      else if (listKind !== undefined && format.type !== 'custom-columns') {
        // An empty list still prints its headings, like calicoctl.
        ctx.io.stdout.write(headingsOnly(listKind, format.type === 'wide', allNamespaces));
      }
    }
    for (const e of errors) ctx.err(e);
    return errors.length > 0 ? 1 : 0;
  },
};

function headingsOnly(kind: ResourceKind, wide: boolean, allNamespaces: boolean): string {
  return renderTable(headingsFor(kind, { wide, withNamespace: KIND_INFO[kind].namespaced && allNamespaces }), []);
}
