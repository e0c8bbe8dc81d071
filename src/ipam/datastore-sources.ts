// IPAM's ports implemented on the resource Datastore: pools and reservations for the
// allocator, nodes and workload endpoints for the leak check, node labels for
// IPPool.nodeSelector. Thin: list, map, no decisions.
import type { Datastore } from '../datastore/datastore.js';
import { parseSelector } from '../selector/index.js';
import { workloadKey, type OwnerIndex, type OwnerSource } from './check.js';
import { poolFromResource, reservedCidrsFromResource, type PoolHostMatcher, type PoolSource } from './pools.js';

export function datastorePoolSource(ds: Datastore): PoolSource {
  return {
    listPools: async () => (await ds.list({ kind: 'IPPool' })).items.map(poolFromResource),
    listReservedCidrs: async () => (await ds.list({ kind: 'IPReservation' })).items.flatMap(reservedCidrsFromResource),
  };
}

/** WorkloadEndpoints are keyed by namespace and spec.workload (or spec.pod, or the name). */
export function datastoreOwnerSource(ds: Datastore): OwnerSource {
  return {
    owners: async (): Promise<OwnerIndex> => {
      const [nodes, weps] = await Promise.all([ds.list({ kind: 'Node' }), ds.list({ kind: 'WorkloadEndpoint' })]);
      const workloads = new Set<string>();
      for (const w of weps.items) {
        const spec = (w.spec ?? {}) as Record<string, unknown>;
        const name = String(spec['workload'] || spec['pod'] || w.metadata.name);
        workloads.add(workloadKey(w.metadata.namespace, name));
      }
      return { nodes: new Set(nodes.items.map((n) => n.metadata.name)), workloads };
    },
  };
}

/**
 * Matches IPPool.nodeSelector against Node labels. `nodeLabels` is read once by the
 * caller (a node allocating for itself knows its own labels); unknown nodes have none.
 */
export function labelPoolMatcher(nodeLabels: Map<string, Record<string, string>>): PoolHostMatcher {
  return (pool, host) => parseSelector(pool.nodeSelector).evaluate(nodeLabels.get(host) ?? {});
}

export async function datastorePoolMatcher(ds: Datastore): Promise<PoolHostMatcher> {
  const nodes = await ds.list({ kind: 'Node' });
  return labelPoolMatcher(new Map(nodes.items.map((n) => [n.metadata.name, n.metadata.labels ?? {}])));
}
