// BGPFilter -> per-peer BIRD functions. Pure. Calico's confd does the same:
// one BIRD function per filter, direction and family, named
// `bgp_<filter>_<direction>FilterV<4|6>`; a peer calls the functions of the
// filters it lists, in list order, before the normal import/export rules.
// A function's first matching rule accepts or rejects the route, which ends
// the whole filter; a route no rule matches falls through to the next filter
// and finally to the normal rules.
//
// A filter name that does not exist (deleted, or not yet created) closes the
// peer: nothing is imported from it or exported to it until the filter exists.
// Ignoring the name instead would exchange routes the missing filter may have
// been written to keep out (see docs/design/bgp.md "Filters").

import { createHash } from 'node:crypto';
import type { FieldIssue } from '../base/errors.js';
import type { IPFamily as Family } from '../base/ip.js';
import type { BgpFilterResource, BgpFilterRule, FilterDirection, FilterFunction, Peering } from './model.js';

/** BIRD's limit on symbol length. */
const MAX_SYMBOL = 64;

/** `bgp_<name>_<direction>FilterV<family>`; a long name is cut and a hash of it appended, so symbols stay unique. */
export function filterFunctionSymbol(name: string, direction: FilterDirection, family: Family): string {
  const fixed = `bgp__${direction}FilterV${family}`.length;
  const room = MAX_SYMBOL - fixed;
  let part = name;
  if (name.length > room) {
    const hash = createHash('sha256').update(name).digest('hex').toUpperCase().slice(0, 16);
    part = `${name.slice(0, room - hash.length - 1)}_${hash}`;
  }
  return `bgp_${part}_${direction}FilterV${family}`;
}

function rulesOf(f: BgpFilterResource, direction: FilterDirection, family: Family): BgpFilterRule[] {
  const key = `${direction}V${family}` as 'importV4' | 'exportV4' | 'importV6' | 'exportV6';
  return f.spec[key] ?? [];
}

/**
 * Fills importFunctions / exportFunctions / missingFilters on each peering
 * that lists filters, and returns the functions they use per family.
 */
export function resolvePeeringFilters(
  peerings: Peering[],
  filters: BgpFilterResource[],
  problems: FieldIssue[],
): Record<Family, FilterFunction[]> {
  const byName = new Map(filters.map((f) => [f.name, f]));
  const used: Record<Family, Map<string, FilterFunction>> = { 4: new Map(), 6: new Map() };
  const reported = new Set<string>();
  for (const p of peerings) {
    if (!p.filters?.length) continue;
    const imports: string[] = [];
    const exports: string[] = [];
    const missing: string[] = [];
    for (const name of p.filters) {
      const f = byName.get(name);
      if (!f) {
        missing.push(name);
        const key = `${p.origin}|${name}`;
        if (!reported.has(key)) {
          reported.add(key);
          problems.push({
            path: `BGPPeer(${p.origin}).spec.filters`,
            message: `BGPFilter '${name}' does not exist: no routes are imported from or exported to this peer until it does (create it or remove the name)`,
          });
        }
        continue;
      }
      for (const direction of ['import', 'export'] as const) {
        const rules = rulesOf(f, direction, p.family);
        if (!rules.length) continue; // nothing for this family and direction: the filter does not apply
        const symbol = filterFunctionSymbol(name, direction, p.family);
        const takesPeerType = rules.some((r) => r.peerType !== undefined);
        used[p.family].set(symbol, { symbol, filter: name, direction, rules, takesPeerType });
        (direction === 'import' ? imports : exports).push(symbol);
      }
    }
    if (imports.length) p.importFunctions = imports;
    if (exports.length) p.exportFunctions = exports;
    if (missing.length) p.missingFilters = missing;
  }
  const sorted = (m: Map<string, FilterFunction>) => [...m.values()].sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  return { 4: sorted(used[4]), 6: sorted(used[6]) };
}
