// Formatting of `calicoctl get` output: ps / wide / custom-columns tables and
// yaml / json documents. Pure: resources in, text out.
import { stringify } from 'yaml';
import { formatJson, formatYaml } from '../api/index.js';
import { API_VERSION, type ResourceKind } from '../api/kinds.js';
import type { Resource } from '../api/resource.js';
import { invalidArgument } from './args.js';
import { cellText, columnValue, headingsFor, knownHeadings, valueAt } from './columns.js';

export type OutputFormat =
  | { type: 'ps' }
  | { type: 'wide' }
  | { type: 'yaml' }
  | { type: 'json' }
  | { type: 'custom-columns'; columns: CustomColumn[] };

/** `NAME` (a calicoctl heading) or kubectl-style `HEADER:.spec.path`. */
export interface CustomColumn {
  heading: string;
  path?: string;
}

/** Parses the value of `-o`: ps | wide | yaml | json | custom-columns=A,B,HEADER:.spec.x */
export function parseOutputFormat(text: string): OutputFormat {
  if (text === 'ps' || text === 'wide' || text === 'yaml' || text === 'json') return { type: text };
  if (text.startsWith('custom-columns=')) {
    const list = text.slice('custom-columns='.length);
    const columns = list
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean)
      .map((c): CustomColumn => {
        const colon = c.indexOf(':');
        if (colon === -1) return { heading: c.toUpperCase() };
        return { heading: c.slice(0, colon), path: c.slice(colon + 1).replace(/^\./, '') };
      });
    if (columns.length === 0) throw invalidArgument('custom-columns needs at least one column, e.g. -o custom-columns=NAME,CIDR');
    return { type: 'custom-columns', columns };
  }
  throw invalidArgument(`unrecognized output format '${text}': use ps, wide, yaml, json or custom-columns=<COL>,...`);
}

/**
 * Lays out rows like Go's tabwriter as calicoctl configures it: each column
 * padded to its widest cell plus 3 spaces (minimum 5), the last one unpadded.
 */
export function renderTable(headings: string[], rows: string[][]): string {
  const all = [headings, ...rows];
  const widths = headings.map((_, i) => Math.max(5, ...all.map((r) => (r[i] ?? '').length + 3)));
  return all
    .map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] as number))).join(''))
    .join('\n')
    .concat('\n');
}

/** One table per kind, in the order kinds first appear, separated by a blank line. */
export function renderTables(resources: Resource[], opts: { format: OutputFormat; withNamespace: (kind: ResourceKind) => boolean }): string {
  const format = opts.format;
  const byKind = new Map<ResourceKind, Resource[]>();
  for (const r of resources) {
    const list = byKind.get(r.kind);
    if (list) list.push(r);
    else byKind.set(r.kind, [r]);
  }
  if (byKind.size === 0) return '';
  const tables: string[] = [];
  for (const [kind, items] of byKind) {
    if (format.type === 'custom-columns') {
      const cells = format.columns.map((c) => {
        if (c.path !== undefined) return (r: Resource) => cellText(valueAt(r, c.path as string));
        const f = columnValue(kind, c.heading);
        if (!f) throw invalidArgument(`unknown column '${c.heading}' for ${kind}; known columns: ${knownHeadings(kind).join(', ')}`);
        return f;
      });
      tables.push(renderTable(format.columns.map((c) => c.heading), items.map((r) => cells.map((f) => f(r)))));
      continue;
    }
    const headings = headingsFor(kind, { wide: format.type === 'wide', withNamespace: opts.withNamespace(kind) });
    const cells = headings.map((h) => columnValue(kind, h) as (r: Resource) => string);
    tables.push(renderTable(headings, items.map((r) => cells.map((f) => f(r)))));
  }
  return tables.join('\n');
}

/**
 * What `-o yaml|json` prints, in the API codec's calicoctl shapes: a single
 * named resource alone; anything else as a `<Kind>List` (`List` for mixed
 * kinds) carrying the datastore revision. An empty list still names its kind.
 */
export function renderResources(
  resources: Resource[],
  opts: { type: 'yaml' | 'json'; single: boolean; kind?: ResourceKind; revision?: string },
): string {
  if (resources.length === 0) {
    const empty = {
      apiVersion: API_VERSION,
      items: [],
      kind: opts.kind ? `${opts.kind}List` : 'List',
      metadata: opts.revision !== undefined ? { resourceVersion: opts.revision } : {},
    };
    return opts.type === 'json' ? JSON.stringify(empty, null, 2) + '\n' : stringify(empty, { sortMapEntries: true });
  }
  const format = { list: !(opts.single && resources.length === 1), ...(opts.revision !== undefined ? { resourceVersion: opts.revision } : {}) };
  return opts.type === 'json' ? formatJson(resources, format) : formatYaml(resources, format);
}
