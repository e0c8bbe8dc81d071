// IPAM's own etcd keys seen as v3 resources, so there is one copy of the data:
//   IPAMConfiguration "default"  <->  /calico/ipam/v2/config (Calico's model JSON,
//                                     what the allocator and `ipam configure` use)
//   BlockAffinity <node>-<cidr>   <-   /calico/ipam/v2/host/<node>/ipvN/block/<cidr>
//                                     (read-only: writes are refused)
// resourceVersion is the key's mod revision, as for every other resource. The
// IPAM keys hold no metadata: labels and annotations are refused by validation
// (IPAMConfiguration); uid and creationTimestamp are not kept.
import { API_VERSION } from '../api/kinds.js';
// The kinds' own modules, not api/index.js: the CNI plugin loads this file, and every millisecond of start-up is ADD latency.
import { blockAffinityName, BLOCK_AFFINITY_READ_ONLY, IPAM_CONFIGURATION_DEFAULTS } from '../api/kinds/ipam.js';
import { describeKey, keyOf, type Resource, type ResourceKey } from '../api/resource.js';
import { AlreadyExistsError, ConflictError, NotFoundError, ValidationError, isCalicoError } from '../base/errors.js';
import { CONFIG_KEY, HOST_PREFIX, decodeAffinity, decodeConfig, encodeConfig, parseAffinityKey, type IpamConfig } from '../ipam/model.js';
import type { ListOptions, ListResult } from './datastore.js';
import type { KVPair, KVStore } from './kv.js';

export type IpamViewKind = 'IPAMConfiguration' | 'BlockAffinity';

export function isIpamViewKind(kind: string): kind is IpamViewKind {
  return kind === 'IPAMConfiguration' || kind === 'BlockAffinity';
}

const CONFIG_NAME = 'default';

function configResource(kv: KVPair): Resource {
  const c = decodeConfig(kv.value);
  const spec: Record<string, unknown> = { strictAffinity: c.strictAffinity, autoAllocateBlocks: c.autoAllocateBlocks, maxBlocksPerHost: c.maxBlocksPerHost };
  if (c.kubeVirtVMAddressPersistence !== undefined) spec.kubeVirtVMAddressPersistence = c.kubeVirtVMAddressPersistence;
  if (c.ipCooldownSeconds !== undefined) spec.ipCooldownSeconds = c.ipCooldownSeconds;
  return { apiVersion: API_VERSION, kind: 'IPAMConfiguration', metadata: { name: CONFIG_NAME, resourceVersion: String(kv.modRevision) }, spec };
}

function configOf(r: Resource): IpamConfig {
  const s = { ...IPAM_CONFIGURATION_DEFAULTS, ...(r.spec ?? {}) } as Record<string, unknown>;
  const out: IpamConfig = { strictAffinity: s.strictAffinity === true, autoAllocateBlocks: s.autoAllocateBlocks === true, maxBlocksPerHost: Number(s.maxBlocksPerHost ?? 0) };
  if (s.kubeVirtVMAddressPersistence === 'Enabled' || s.kubeVirtVMAddressPersistence === 'Disabled') out.kubeVirtVMAddressPersistence = s.kubeVirtVMAddressPersistence;
  if (typeof s.ipCooldownSeconds === 'number' && s.ipCooldownSeconds > 0) out.ipCooldownSeconds = s.ipCooldownSeconds;
  return out;
}

function affinityResource(kv: KVPair): Resource | undefined {
  const ref = parseAffinityKey(kv.key);
  if (!ref) return undefined;
  const value = decodeAffinity(kv.key, kv.value);
  return {
    apiVersion: API_VERSION,
    kind: 'BlockAffinity',
    metadata: { name: blockAffinityName(ref.host, ref.cidr), resourceVersion: String(kv.modRevision) },
    spec: { state: value.state, node: ref.host, type: 'host', cidr: ref.cidr, deleted: value.deleted },
  };
}

function parseRevision(version: string | undefined, what: string): number | undefined {
  if (version === undefined || version === '') return undefined;
  if (!/^[1-9][0-9]*$/.test(version)) {
    throw new ValidationError([{ path: 'metadata.resourceVersion', message: `must be a revision number as returned by the datastore (got '${version}')` }], what);
  }
  return Number(version);
}

/** The Datastore operations for the two IPAM-backed kinds; ResourceStore delegates to it. */
export class IpamResourceView {
  constructor(private readonly kv: KVStore) {}

  async get(key: ResourceKey): Promise<Resource> {
    if (key.kind === 'IPAMConfiguration') {
      const kv = key.name === CONFIG_NAME ? await this.kv.get(CONFIG_KEY) : undefined;
      if (!kv) throw new NotFoundError(describeKey(key));
      return configResource(kv);
    }
    const hit = (await this.list({ kind: 'BlockAffinity' })).items.find((r) => r.metadata.name === key.name);
    if (!hit) throw new NotFoundError(describeKey(key));
    return hit;
  }

  async list(opts: ListOptions): Promise<ListResult> {
    const keep = (r: Resource): boolean => opts.namePrefix === undefined || r.metadata.name.startsWith(opts.namePrefix);
    if (opts.kind === 'IPAMConfiguration') {
      const result = await this.kv.list(CONFIG_KEY);
      const items = result.pairs.filter((p) => p.key === CONFIG_KEY).map(configResource).filter(keep);
      return { items, revision: String(result.revision) };
    }
    const result = await this.kv.list(HOST_PREFIX);
    const items: Resource[] = [];
    for (const p of result.pairs) {
      const r = affinityResource(p);
      if (r && keep(r)) items.push(r);
    }
    items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    return { items, revision: String(result.revision) };
  }

  /** `valid` has been through validation (defaults filled). */
  async create(valid: Resource): Promise<Resource> {
    this.writable(valid);
    try {
      return configResource(await this.kv.create(CONFIG_KEY, encodeConfig(configOf(valid))));
    } catch (err) {
      throw isCalicoError(err, 'already-exists') ? new AlreadyExistsError(describeKey(keyOf(valid))) : err;
    }
  }

  async update(valid: Resource): Promise<Resource> {
    this.writable(valid);
    const what = describeKey(keyOf(valid));
    let rev = parseRevision(valid.metadata.resourceVersion, what);
    if (rev === undefined) {
      const cur = await this.kv.get(CONFIG_KEY);
      if (!cur) throw new NotFoundError(what);
      rev = cur.modRevision;
    }
    try {
      return configResource(await this.kv.update(CONFIG_KEY, encodeConfig(configOf(valid)), { modRevision: rev }));
    } catch (err) {
      throw this.translate(err, keyOf(valid));
    }
  }

  async delete(key: ResourceKey, opts: { resourceVersion?: string } = {}): Promise<Resource> {
    if (key.kind === 'BlockAffinity') throw new ValidationError([{ path: '', message: BLOCK_AFFINITY_READ_ONLY }], describeKey(key));
    if (key.name !== CONFIG_NAME) throw new NotFoundError(describeKey(key));
    const rev = parseRevision(opts.resourceVersion, describeKey(key));
    try {
      return configResource(await this.kv.delete(CONFIG_KEY, rev === undefined ? {} : { modRevision: rev }));
    } catch (err) {
      throw this.translate(err, key);
    }
  }

  private writable(r: Resource): void {
    if (r.kind === 'BlockAffinity') throw new ValidationError([{ path: '', message: BLOCK_AFFINITY_READ_ONLY }], describeKey(keyOf(r)));
  }

  private translate(err: unknown, key: ResourceKey): unknown {
    const what = describeKey(key);
    if (err instanceof ConflictError) {
      const current = err.current as KVPair | undefined;
      return new ConflictError<Resource>(what, current ? configResource(current) : undefined);
    }
    if (isCalicoError(err, 'not-found')) return new NotFoundError(what);
    return err;
  }
}
