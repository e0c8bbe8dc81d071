// The cluster-wide defaults calico/node makes sure of at every start
// (libcalico-go's EnsureInitialized tiers + startup.go's ensureDefaultConfig),
// so that what Calico's documentation tells users to patch exists:
//   - Tiers default (Deny, 1000000), kube-admin (Pass, 1000) and
//     kube-baseline (Pass, 10000000), created when missing;
//   - FelixConfiguration "default" with reportingInterval 0s and
//     logSeverityScreen Info, each set only when unset;
//   - BGPConfiguration "default" (empty spec) when missing;
//   - IPAMConfiguration "default" (autoAllocateBlocks true, strictAffinity
//     false, maxBlocksPerHost 0) when missing.
// Deliberately not done: calico/node also writes FelixConfiguration
// node.<name> with defaultEndpointToHostAction Return in etcd mode. A node
// setting overrides the cluster's, so that write silently defeats any
// cluster-wide defaultEndpointToHostAction; calico-ts keeps Felix's Drop
// unless an operator says otherwise (docs/design/node.md).
// Several nodes may start at once: create-if-absent and CAS updates; losing
// a race means another node did the same work, as in Calico.
import { API_VERSION } from '../api/kinds.js';
import type { Resource, ResourceKey } from '../api/resource.js';
import { isCalicoError } from '../base/errors.js';
import type { Datastore } from '../datastore/datastore.js';

type Spec = Record<string, unknown>;

interface DefaultResource {
  key: ResourceKey & { kind: Resource['kind'] };
  /** The spec to create when the resource is missing. */
  create: Spec;
  /** Fields set on an existing resource when they are unset (none: never updated). */
  fillIn?: Spec;
}

/** What start-up ensures, in Calico's order. Pure data. */
export const CLUSTER_DEFAULTS: readonly DefaultResource[] = [
  { key: { kind: 'Tier', name: 'default' }, create: { order: 1000000, defaultAction: 'Deny' } },
  { key: { kind: 'Tier', name: 'kube-admin' }, create: { order: 1000, defaultAction: 'Pass' } },
  { key: { kind: 'Tier', name: 'kube-baseline' }, create: { order: 10000000, defaultAction: 'Pass' } },
  {
    key: { kind: 'FelixConfiguration', name: 'default' },
    create: { reportingInterval: '0s', logSeverityScreen: 'Info' },
    fillIn: { reportingInterval: '0s', logSeverityScreen: 'Info' },
  },
  { key: { kind: 'BGPConfiguration', name: 'default' }, create: {} },
  { key: { kind: 'IPAMConfiguration', name: 'default' }, create: { autoAllocateBlocks: true, strictAffinity: false, maxBlocksPerHost: 0 } },
];

/** The resource as it should be, or undefined when `current` needs no write. Pure. */
export function desiredDefault(d: DefaultResource, current: Resource | undefined): Resource | undefined {
  if (!current) return { apiVersion: API_VERSION, kind: d.key.kind, metadata: { name: d.key.name }, spec: { ...d.create } };
  const spec = { ...((current.spec ?? {}) as Spec) };
  let changed = false;
  for (const [field, value] of Object.entries(d.fillIn ?? {})) {
    if (spec[field] === undefined || spec[field] === null || spec[field] === '') {
      spec[field] = value;
      changed = true;
    }
  }
  return changed ? { ...current, spec } : undefined;
}

export type DefaultAction = 'created' | 'updated' | 'unchanged' | 'lost-race';

/** Ensures every cluster default; returns what happened to each (`Kind(name)` -> action). */
export async function ensureClusterDefaults(ds: Datastore): Promise<Map<string, DefaultAction>> {
  const done = new Map<string, DefaultAction>();
  for (const d of CLUSTER_DEFAULTS) done.set(`${d.key.kind}(${d.key.name})`, await ensureOne(ds, d));
  return done;
}

async function ensureOne(ds: Datastore, d: DefaultResource): Promise<DefaultAction> {
  let current: Resource | undefined;
  try {
    current = await ds.get(d.key);
  } catch (err) {
    if (!isCalicoError(err, 'not-found')) throw err;
  }
  const want = desiredDefault(d, current);
  if (!want) return 'unchanged';
  try {
    if (current) await ds.update(want);
    else await ds.create(want);
    return current ? 'updated' : 'created';
  } catch (err) {
    // Another node wrote first: it wrote the same defaults (or an operator did on purpose).
    if (isCalicoError(err, 'conflict') || isCalicoError(err, 'already-exists')) return 'lost-race';
    throw err;
  }
}
