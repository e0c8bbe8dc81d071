// Typed, revisioned access to IPAM keys on a KVStore, and the bounded retry loop every
// IPAM write goes through. This is the thin driver half of IPAM: no decisions here.
import { isCalicoError } from '../base/errors.js';
import type { KVStore } from '../datastore/kv.js';
import { IpamError } from './errors.js';
import {
  BLOCK_PREFIX,
  CONFIG_KEY,
  DEFAULT_IPAM_CONFIG,
  HANDLE_PREFIX,
  HOST_PREFIX,
  affinityKey,
  blockKey,
  decodeAffinity,
  decodeBlock,
  decodeConfig,
  decodeHandle,
  encodeAffinity,
  encodeBlock,
  encodeConfig,
  encodeHandle,
  handleKey,
  hostAffinityPrefix,
  parseAffinityKey,
  type AllocationBlock,
  type BlockAffinity,
  type IpamConfig,
  type IpamHandle,
} from './model.js';

/** A value as read, with the revision a later compare-and-swap must match. */
export interface Versioned<T> {
  value: T;
  rev: number;
}

/** Which affinity: a host's claim on one block. */
export interface AffinityRef {
  host: string;
  cidr: string;
}

export interface AffinityEntry extends Versioned<BlockAffinity>, AffinityRef {}

export interface RetryPolicy {
  /** Attempts of one CAS step before giving up with IpamError('too-many-retries'). */
  maxAttempts: number;
  /** Sleeps between attempts; injected so tests run without real time. */
  sleep(ms: number): Promise<void>;
  /** [0,1) source for jitter; injected for determinism. */
  random(): number;
  /** Base backoff; attempt n waits random() * min(cap, base * 2^n). */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy = (): RetryPolicy => ({
  maxAttempts: 200,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
  baseDelayMs: 1,
  maxDelayMs: 50,
});

export interface IpamStats {
  /** CAS writes that lost and were retried after a fresh read. */
  casRetries: number;
  writes: number;
}

export class IpamStore {
  readonly kv: KVStore;
  readonly stats: IpamStats = { casRetries: 0, writes: 0 };
  private readonly retry: RetryPolicy;

  constructor(kv: KVStore, retry: RetryPolicy = defaultRetryPolicy()) {
    this.kv = kv;
    this.retry = retry;
  }

  /**
   * Runs `step` until it completes without a CAS conflict. `step` must re-read what it
   * depends on each time (it is handed the attempt number only), so a retry always
   * decides on fresh state. Conflicts are `conflict` and `already-exists` errors from
   * the store; `not-found` from an update/delete of a key that vanished is a conflict too.
   */
  async withRetry<T>(what: string, step: (attempt: number) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await step(attempt);
      } catch (err) {
        const lost = isCalicoError(err, 'conflict') || isCalicoError(err, 'already-exists') || isCalicoError(err, 'not-found');
        if (!lost || err instanceof IpamError) throw err;
        if (attempt + 1 >= this.retry.maxAttempts) {
          throw new IpamError('too-many-retries', `${what}: gave up after ${attempt + 1} conflicting attempts`, { cause: err });
        }
        this.stats.casRetries += 1;
        const cap = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** Math.min(attempt, 16));
        await this.retry.sleep(this.retry.random() * cap);
      }
    }
  }

  // ---- reads ----

  async getBlock(cidr: string): Promise<Versioned<AllocationBlock> | undefined> {
    const key = blockKey(cidr);
    const kv = await this.kv.get(key);
    return kv ? { value: decodeBlock(key, kv.value), rev: kv.modRevision } : undefined;
  }

  async listBlocks(): Promise<Versioned<AllocationBlock>[]> {
    const list = await this.kv.list(BLOCK_PREFIX);
    return list.pairs.map((kv) => ({ value: decodeBlock(kv.key, kv.value), rev: kv.modRevision }));
  }

  async getAffinity({ host, cidr }: AffinityRef): Promise<AffinityEntry | undefined> {
    const key = affinityKey(host, cidr);
    const kv = await this.kv.get(key);
    return kv ? { host, cidr, value: decodeAffinity(key, kv.value), rev: kv.modRevision } : undefined;
  }

  /** Affinities of one host, or of all hosts when host is undefined. */
  async listAffinities(host?: string): Promise<AffinityEntry[]> {
    const list = await this.kv.list(host === undefined ? HOST_PREFIX : hostAffinityPrefix(host));
    const out: AffinityEntry[] = [];
    for (const kv of list.pairs) {
      const parsed = parseAffinityKey(kv.key);
      if (parsed) out.push({ ...parsed, value: decodeAffinity(kv.key, kv.value), rev: kv.modRevision });
    }
    return out;
  }

  async getHandle(handleId: string): Promise<Versioned<IpamHandle> | undefined> {
    const key = handleKey(handleId);
    const kv = await this.kv.get(key);
    return kv ? { value: decodeHandle(key, kv.value), rev: kv.modRevision } : undefined;
  }

  async listHandles(): Promise<Versioned<IpamHandle>[]> {
    const list = await this.kv.list(HANDLE_PREFIX);
    return list.pairs.map((kv) => ({ value: decodeHandle(kv.key, kv.value), rev: kv.modRevision }));
  }

  async getConfig(): Promise<Versioned<IpamConfig> | undefined> {
    const kv = await this.kv.get(CONFIG_KEY);
    return kv ? { value: decodeConfig(kv.value), rev: kv.modRevision } : undefined;
  }

  async config(): Promise<IpamConfig> {
    return (await this.getConfig())?.value ?? { ...DEFAULT_IPAM_CONFIG };
  }

  // ---- single CAS writes (each throws conflict / already-exists / not-found on losing) ----

  async createBlock(block: AllocationBlock): Promise<number> {
    this.stats.writes++;
    return (await this.kv.create(blockKey(block.cidr), encodeBlock(block))).modRevision;
  }

  async updateBlock(block: AllocationBlock, rev: number): Promise<number> {
    this.stats.writes++;
    return (await this.kv.update(blockKey(block.cidr), encodeBlock(block), { modRevision: rev })).modRevision;
  }

  async deleteBlock(cidr: string, rev: number): Promise<void> {
    this.stats.writes++;
    await this.kv.delete(blockKey(cidr), { modRevision: rev });
  }

  async createAffinity({ host, cidr }: AffinityRef, value: BlockAffinity): Promise<number> {
    this.stats.writes++;
    return (await this.kv.create(affinityKey(host, cidr), encodeAffinity(value))).modRevision;
  }

  async updateAffinity({ host, cidr }: AffinityRef, change: { value: BlockAffinity; rev: number }): Promise<number> {
    const { value, rev } = change;
    this.stats.writes++;
    return (await this.kv.update(affinityKey(host, cidr), encodeAffinity(value), { modRevision: rev })).modRevision;
  }

  async deleteAffinity({ host, cidr }: AffinityRef, rev: number): Promise<void> {
    this.stats.writes++;
    await this.kv.delete(affinityKey(host, cidr), { modRevision: rev });
  }

  async putHandle(handle: IpamHandle, rev: number | undefined): Promise<void> {
    this.stats.writes++;
    if (rev === undefined) await this.kv.create(handleKey(handle.handleID), encodeHandle(handle));
    else await this.kv.update(handleKey(handle.handleID), encodeHandle(handle), { modRevision: rev });
  }

  async deleteHandle(handleId: string, rev: number): Promise<void> {
    this.stats.writes++;
    await this.kv.delete(handleKey(handleId), { modRevision: rev });
  }

  async putConfig(config: IpamConfig, rev: number | undefined): Promise<void> {
    this.stats.writes++;
    if (rev === undefined) await this.kv.create(CONFIG_KEY, encodeConfig(config));
    else await this.kv.update(CONFIG_KEY, encodeConfig(config), { modRevision: rev });
  }

  /**
   * Adds `delta` to a handle's count for one block (negative to subtract), creating the
   * handle on first use and deleting it when no block counts remain. Its own CAS loop.
   */
  async adjustHandle(handleId: string, change: { block: string; delta: number }): Promise<void> {
    const { block: blockCidr, delta } = change;
    if (delta > 0) {
      // Most allocations are for a new handle: try the create first and save a read.
      try {
        await this.putHandle({ handleID: handleId, block: { [blockCidr]: delta }, deleted: false }, undefined);
        return;
      } catch (err) {
        if (!isCalicoError(err, 'already-exists')) throw err;
      }
    }
    await this.withRetry(`handle ${handleId}`, async () => {
      const cur = await this.getHandle(handleId);
      const block = { ...(cur?.value.block ?? {}) };
      const n = (block[blockCidr] ?? 0) + delta;
      if (n > 0) block[blockCidr] = n;
      else delete block[blockCidr];
      if (Object.keys(block).length === 0) {
        if (cur) await this.deleteHandle(handleId, cur.rev);
        return;
      }
      await this.putHandle({ handleID: handleId, block, deleted: false }, cur?.rev);
    });
  }
}
