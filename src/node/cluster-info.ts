// ClusterInformation "default", kept the way libcalico-go's EnsureInitialized
// keeps it (every calico/node start calls it):
//   - missing: created with calicoVersion, clusterType, a new clusterGUID
//     (32 hex digits) and datastoreReady true;
//   - present: calicoVersion set to ours when it differs, clusterGUID
//     generated only if empty (a cluster's GUID never changes), datastoreReady
//     set to true only when unset (an operator's false stays false), and
//     clusterType gets the types it lacks appended ("k8s" + "bgp" -> "k8s,bgp").
// Several nodes may start at once: create-if-absent and CAS updates, retried.
import { isCalicoError } from '../base/errors.js';
import type { Resource } from '../api/resource.js';
import { API_VERSION } from '../api/kinds.js';
import type { ClusterInformationSpec } from '../api/kinds/cluster.js';
import type { Datastore } from '../datastore/datastore.js';

export interface ClusterInfoInputs {
  calicoVersion: string;
  /** From CLUSTER_TYPE; comma-separated. */
  clusterType: string;
  /** A fresh GUID, used only when the cluster has none. */
  newGUID: () => string;
}

const types = (text: string | undefined): string[] =>
  (text ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);

/** The ClusterInformation as it should be, or undefined when `current` needs no change. Pure. */
export function desiredClusterInformation(current: Resource | undefined, inputs: ClusterInfoInputs): Resource | undefined {
  if (!current) {
    const spec: ClusterInformationSpec = { calicoVersion: inputs.calicoVersion, clusterGUID: inputs.newGUID(), datastoreReady: true };
    if (types(inputs.clusterType).length) spec.clusterType = types(inputs.clusterType).join(',');
    return { apiVersion: API_VERSION, kind: 'ClusterInformation', metadata: { name: 'default' }, spec: spec as Record<string, unknown> };
  }
  const spec = { ...((current.spec ?? {}) as ClusterInformationSpec) };
  let changed = false;
  if (inputs.calicoVersion && spec.calicoVersion !== inputs.calicoVersion) {
    spec.calicoVersion = inputs.calicoVersion;
    changed = true;
  }
  if (!spec.clusterGUID) {
    spec.clusterGUID = inputs.newGUID();
    changed = true;
  }
  if (spec.datastoreReady === undefined || spec.datastoreReady === null) {
    spec.datastoreReady = true;
    changed = true;
  }
  const have = types(spec.clusterType);
  const missing = types(inputs.clusterType).filter((t) => !have.includes(t));
  if (missing.length) {
    spec.clusterType = [...have, ...missing].join(',');
    changed = true;
  }
  return changed ? { ...current, spec: spec as Record<string, unknown> } : undefined;
}

/** Creates or updates ClusterInformation "default"; losing a race re-reads and tries again. */
export async function ensureClusterInformation(ds: Datastore, inputs: ClusterInfoInputs): Promise<{ info: Resource; action: 'created' | 'updated' | 'unchanged' }> {
  for (let attempt = 0; ; attempt++) {
    let current: Resource | undefined;
    try {
      current = await ds.get({ kind: 'ClusterInformation', name: 'default' });
    } catch (err) {
      if (!isCalicoError(err, 'not-found')) throw err;
    }
    const want = desiredClusterInformation(current, inputs);
    if (!want) return { info: current!, action: 'unchanged' };
    try {
      return current ? { info: await ds.update(want), action: 'updated' } : { info: await ds.create(want), action: 'created' };
    } catch (err) {
      const lostRace = isCalicoError(err, 'conflict') || isCalicoError(err, 'already-exists');
      if (!lostRace || attempt >= 9) throw err;
    }
  }
}
