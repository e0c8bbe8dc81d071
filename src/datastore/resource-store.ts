// The Datastore over any KVStore: v3 resources as JSON under Calico's keys.
// Metadata rules (as Calico's):
//   - resourceVersion is the etcd mod revision, as a decimal string; it is never
//     stored in the value, it is filled in on every read;
//   - create sets uid and creationTimestamp (from the injected generators) and
//     refuses a resourceVersion (a create is "must be absent", not a CAS);
//   - update with resourceVersion = CAS on it; without = unconditional update of
//     an existing resource (still a CAS on what we just read, retried, so uid and
//     creationTimestamp are carried over and never lost);
//   - delete with resourceVersion = CAS; without = unconditional.
// Every write is validated first by the injected hook: nothing invalid is stored.
// IPAMConfiguration and BlockAffinity live in IPAM's own keys (ipam-resources.ts).
import { API_VERSION, KIND_INFO } from '../api/kinds.js';
import { describeKey, keyOf, type Resource, type ResourceKey } from '../api/resource.js';
import { AlreadyExistsError, CalicoError, ConflictError, NotFoundError, ValidationError, isCalicoError } from '../base/errors.js';
import type { Datastore, ListOptions, ListResult, ResourceWatch, WatchHandlers, WatchOptions } from './datastore.js';
import type { KVPair, KVStore } from './kv.js';
import { IpamResourceView, isIpamViewKind } from './ipam-resources.js';
import { kindPrefix, parseResourceKey, resourceKeyPath } from './keys.js';
import { ResourceWatcher, type WatchTimers } from './watcher.js';

export interface ResourceStoreOptions {
  /** Validates (and may default) a resource before it is written; throws ValidationError. Default: accept as is. */
  validate?: (resource: Resource) => Resource;
  /** Clock for creationTimestamp. */
  now?: () => Date;
  /** uid generator for new resources. */
  newUid?: () => string;
  /** For watches: timers and backoff (tests inject fakes). */
  timers?: WatchTimers;
  watchBackoff?: { initialMs: number; maxMs: number };
  /** A stored value that does not decode during a watch is skipped and reported here. */
  onDecodeError?(key: string, err: unknown): void;
}

/** Kinds that live in a tier. */
const TIERED_KINDS = new Set<string>(['NetworkPolicy', 'GlobalNetworkPolicy', 'StagedNetworkPolicy', 'StagedGlobalNetworkPolicy']);

/** Tiers Calico creates itself and never lets a user delete. */
const BUILT_IN_TIERS = new Set(['default', 'adminnetworkpolicy']);

/** Unconditional updates re-read and retry this many times when they lose a race. */
const UNCONDITIONAL_RETRIES = 5;

export class ResourceStore implements Datastore {
  readonly kv: KVStore;
  private readonly validate: (resource: Resource) => Resource;
  private readonly now: () => Date;
  private readonly newUid: () => string;
  private readonly ipam: IpamResourceView;

  constructor(kv: KVStore, private readonly opts: ResourceStoreOptions = {}) {
    this.kv = kv;
    this.ipam = new IpamResourceView(kv);
    this.validate = opts.validate ?? ((r) => r);
    this.now = opts.now ?? (() => new Date());
    this.newUid = opts.newUid ?? (() => globalThis.crypto.randomUUID());
  }

  async get(key: ResourceKey): Promise<Resource> {
    if (isIpamViewKind(key.kind)) return this.ipam.get(key);
    const kv = await this.kv.get(resourceKeyPath(key));
    if (!kv) throw new NotFoundError(describeKey(key));
    return decodeResource(kv, key);
  }

  async list(opts: ListOptions): Promise<ListResult> {
    if (isIpamViewKind(opts.kind)) return this.ipam.list(opts);
    const namespaced = KIND_INFO[opts.kind].namespaced;
    const namespace = namespaced ? opts.namespace : undefined;
    const prefix = kindPrefix(opts.kind, { ...(namespace !== undefined && { namespace }), ...(opts.namePrefix !== undefined && { namePrefix: opts.namePrefix }) });
    const result = await this.kv.list(prefix);
    const items: Resource[] = [];
    for (const kv of result.pairs) {
      const key = parseResourceKey(kv.key);
      if (!key || key.kind !== opts.kind) continue;
      // Across namespaces the prefix cannot carry the name prefix: filter here.
      if (opts.namePrefix && !key.name.startsWith(opts.namePrefix)) continue;
      items.push(decodeResource(kv, key));
    }
    return { items, revision: String(result.revision) };
  }

  async create(resource: Resource): Promise<Resource> {
    if (resource.metadata?.resourceVersion) {
      throw new ValidationError(
        [{ path: 'metadata.resourceVersion', message: 'must not be set when creating a resource (remove it, or use update)' }],
        describeKey(keyOf(resource)),
      );
    }
    const valid = this.check(resource);
    if (isIpamViewKind(valid.kind)) return this.ipam.create(valid);
    const stored = this.normalise(valid, { uid: this.newUid(), creationTimestamp: this.now().toISOString() });
    const key = keyOf(stored);
    await this.checkTierExists(stored);
    try {
      return withVersion(stored, await this.kv.create(resourceKeyPath(key), encodeResource(stored)));
    } catch (err) {
      throw isCalicoError(err, 'already-exists') ? new AlreadyExistsError(describeKey(key)) : err;
    }
  }

  async update(resource: Resource): Promise<Resource> {
    const valid = this.check(resource);
    if (isIpamViewKind(valid.kind)) return this.ipam.update(valid);
    const key = keyOf(valid);
    const path = resourceKeyPath(key);
    const what = describeKey(key);
    const wanted = parseRevision(valid.metadata.resourceVersion, what);
    const { uid, creationTimestamp } = valid.metadata;
    if (wanted !== undefined && uid && creationTimestamp) {
      // The caller read the resource (it has uid/creation time) and asks for a CAS: one round trip.
      return this.write(path, this.normalise(valid, { uid, creationTimestamp }), wanted, key);
    }
    for (let attempt = 0; ; attempt++) {
      const current = await this.kv.get(path);
      if (!current) throw new NotFoundError(what);
      if (wanted !== undefined && current.modRevision !== wanted) throw new ConflictError<Resource>(what, decodeResource(current, key));
      const meta = decodeResource(current, key).metadata;
      const stored = this.normalise(valid, { uid: meta.uid ?? this.newUid(), creationTimestamp: meta.creationTimestamp ?? this.now().toISOString() });
      try {
        return await this.write(path, stored, current.modRevision, key);
      } catch (err) {
        if (wanted !== undefined || !isCalicoError(err, 'conflict') || attempt >= UNCONDITIONAL_RETRIES) throw err;
      }
    }
  }

  async delete(key: ResourceKey, opts: { resourceVersion?: string } = {}): Promise<Resource> {
    if (isIpamViewKind(key.kind)) return this.ipam.delete(key, opts);
    const what = describeKey(key);
    const modRevision = parseRevision(opts.resourceVersion, what);
    if (key.kind === 'Tier') await this.checkTierDeletable(key.name);
    try {
      const kv = await this.kv.delete(resourceKeyPath(key), modRevision === undefined ? {} : { modRevision });
      return decodeResource(kv, key);
    } catch (err) {
      throw this.translate(err, key);
    }
  }

  watch(opts: WatchOptions, handlers: WatchHandlers): ResourceWatch {
    const ipamKinds = opts.kinds.filter(isIpamViewKind);
    if (ipamKinds.length > 0) throw new CalicoError('invalid-argument', `${ipamKinds.join(', ')} cannot be watched: they are views of IPAM's keys; read IPAM directly`);
    return new ResourceWatcher({
      ...opts,
      kv: this.kv,
      handlers,
      decode: decodeResource,
      ...(this.opts.timers && { timers: this.opts.timers }),
      ...(this.opts.watchBackoff && { backoff: this.opts.watchBackoff }),
      ...(this.opts.onDecodeError && { onDecodeError: this.opts.onDecodeError }),
    }).start();
  }

  async close(): Promise<void> {
    await this.kv.close();
  }

  private async write(path: string, stored: Resource, modRevision: number, key: ResourceKey): Promise<Resource> {
    try {
      return withVersion(stored, await this.kv.update(path, encodeResource(stored), { modRevision }));
    } catch (err) {
      throw this.translate(err, key);
    }
  }

  /**
   * Calico's client refuses to create a policy in a tier that does not exist
   * (the default tier always exists). Only on create, as in Calico; a policy
   * that exists already reports that instead.
   */
  private async checkTierExists(r: Resource): Promise<void> {
    if (!TIERED_KINDS.has(r.kind)) return;
    const tier = (r.spec as { tier?: unknown } | undefined)?.tier;
    if (typeof tier !== 'string' || tier === '' || tier === 'default') return;
    if (await this.kv.get(resourceKeyPath({ kind: 'Tier', name: tier }))) return;
    if (await this.kv.get(resourceKeyPath(keyOf(r)))) throw new AlreadyExistsError(describeKey(keyOf(r)));
    throw new ValidationError([{ path: 'spec.tier', message: `tier "${tier}" does not exist: create the Tier first (policies live in an existing tier; "default" always exists)` }], describeKey(keyOf(r)));
  }

  /**
   * Calico's client refuses to delete the built-in tiers and a tier that still
   * holds a NetworkPolicy or GlobalNetworkPolicy: the policies would stay
   * stored but unordered, and their endpoints would silently lose them.
   * (Staged policies do not block it, as in Calico: they are never enforced.)
   */
  private async checkTierDeletable(tier: string): Promise<void> {
    const what = describeKey({ kind: 'Tier', name: tier });
    if (BUILT_IN_TIERS.has(tier)) {
      throw new ValidationError([{ path: 'metadata.name', message: `the ${tier} tier cannot be deleted (it always exists)` }], what);
    }
    const inTier: string[] = [];
    for (const kind of ['NetworkPolicy', 'GlobalNetworkPolicy'] as const) {
      for (const kv of (await this.kv.list(kindPrefix(kind))).pairs) {
        const key = parseResourceKey(kv.key);
        if (key?.kind === kind && (decodeResource(kv, key).spec as { tier?: unknown } | undefined)?.tier === tier) inTier.push(describeKey(key));
      }
    }
    if (inTier.length) {
      const shown = inTier.slice(0, 5).join(', ') + (inTier.length > 5 ? ` and ${inTier.length - 5} more` : '');
      throw new ValidationError([{ path: 'metadata.name', message: `tier "${tier}" is not empty (${shown}): delete those policies or move them to another tier first` }], what);
    }
  }

  /** KV errors name the etcd key and carry KV pairs; callers want the resource. */
  private translate(err: unknown, key: ResourceKey): unknown {
    const what = describeKey(key);
    if (err instanceof ConflictError) {
      const current = err.current as KVPair | undefined;
      return new ConflictError<Resource>(what, current ? decodeResource(current, key) : undefined);
    }
    if (isCalicoError(err, 'not-found')) return new NotFoundError(what);
    return err;
  }

  private check(resource: Resource): Resource {
    if (!resource || typeof resource !== 'object' || !resource.metadata || typeof resource.metadata !== 'object') {
      throw new ValidationError([{ path: 'metadata', message: 'must be set' }]);
    }
    if (!(resource.kind in KIND_INFO)) throw new ValidationError([{ path: 'kind', message: `unknown kind '${String(resource.kind)}'` }]);
    resourceKeyPath(keyOf(resource)); // name / namespace must form a key
    return this.validate(resource);
  }

  /** What is stored: apiVersion set, server-owned metadata from us, no resourceVersion. */
  private normalise(resource: Resource, owned: { uid: string; creationTimestamp: string }): Resource {
    const { resourceVersion: _dropped, ...metadata } = resource.metadata;
    return { ...resource, apiVersion: API_VERSION, metadata: { ...metadata, uid: owned.uid, creationTimestamp: owned.creationTimestamp } };
  }
}

export function encodeResource(resource: Resource): string {
  const { resourceVersion: _dropped, ...metadata } = resource.metadata;
  return JSON.stringify({ ...resource, metadata });
}

/** Stored value -> resource with resourceVersion; the key (not the value) is the truth for kind/name/namespace. */
export function decodeResource(kv: KVPair, key: ResourceKey): Resource {
  let parsed: unknown;
  try {
    parsed = JSON.parse(kv.value);
  } catch (err) {
    throw new CalicoError('internal', `${describeKey(key)}: stored value at ${kv.key} is not JSON`, { cause: err });
  }
  if (!parsed || typeof parsed !== 'object') throw new CalicoError('internal', `${describeKey(key)}: stored value at ${kv.key} is not an object`);
  const r = parsed as Resource;
  const metadata = { ...(r.metadata ?? {}), name: key.name, resourceVersion: String(kv.modRevision) };
  if (key.namespace !== undefined) metadata.namespace = key.namespace;
  return { ...r, apiVersion: r.apiVersion ?? API_VERSION, kind: key.kind, metadata };
}

function withVersion(resource: Resource, kv: KVPair): Resource {
  return { ...resource, metadata: { ...resource.metadata, resourceVersion: String(kv.modRevision) } };
}

function parseRevision(version: string | undefined, what: string): number | undefined {
  if (version === undefined || version === '') return undefined;
  if (!/^[1-9][0-9]*$/.test(version)) {
    throw new ValidationError([{ path: 'metadata.resourceVersion', message: `must be a revision number as returned by the datastore (got '${version}')` }], what);
  }
  return Number(version);
}
