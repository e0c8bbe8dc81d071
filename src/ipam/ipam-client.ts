// IpamClient: the allocator's public API (CNI, calico-node, calicoctl call this).
// Decisions come from the pure modules (block.ts, planner.ts, pools.ts); this class
// sequences reads and compare-and-swap writes on the KVStore and retries lost races.
// Write order rule (crash safety): on allocation the handle is incremented BEFORE the
// block records the address; on release the block frees the address BEFORE the handle
// is decremented. So a handle may over-count after a crash (harmless, GC repairs it)
// but an address is never in use without a handle that lets its owner release it.
import { ConflictError } from '../base/errors.js';
import type { KVStore } from '../datastore/kv.js';
import { claimBlock, releaseBlockAffinity, settleHostAffinities } from './affinity-flows.js';
import { allocateFromBlock, assignInBlock, ipOfOrdinal, ipsOfHandle, listAllocations, releaseFromBlock, type AllocationInfo, type ReleaseRefusal, type ReleaseRequest } from './block.js';
import { cidrContainsIP, enclosingSubnet, formatCIDR, type IPFamily } from '../base/ip.js';
import { blockCount, canonicalIp, parseCidr, parseIp } from './cidr-math.js';
import { IpamError } from './errors.js';
import { IpamStore, defaultRetryPolicy, type AffinityEntry, type RetryPolicy, type Versioned } from './ipam-store.js';
import { hostOfAffinity, validateHandleId, validateHostName, type AllocationBlock, type IpamConfig, type IpamHandle } from './model.js';
import { blockInPools, eligiblePools, hostHash, nextBlockToClaim } from './planner.js';
import { checkPoolWrite, poolContaining, reservedMatcher, trivialSelectorMatcher, type PoolHostMatcher, type PoolSource, type PoolUse, type PoolView } from './pools.js';

export interface IpamClientOptions {
  kv: KVStore;
  pools: PoolSource;
  /** Decides pool.nodeSelector against a host; default understands only all() / empty. */
  poolMatchesHost?: PoolHostMatcher;
  retry?: Partial<RetryPolicy>;
  /** Clock for claim times; injected for tests. */
  now?: () => Date;
}

export interface AutoAssignRequest {
  handleId: string;
  host: string;
  num4?: number;
  num6?: number;
  /** Recorded with each address: namespace, workload, type ... (`node` is added from host). */
  attrs?: Record<string, string>;
  /** Restrict to these pools (CIDR or name); each must exist and be enabled. */
  pools4?: string[];
  pools6?: string[];
  use?: PoolUse;
}

export interface AutoAssignResult {
  ipv4: string[];
  ipv6: string[];
}

interface FamilyPlan {
  family: IPFamily;
  count: number;
  config: IpamConfig;
  pools: PoolView[];
  isReserved: (ip: string) => boolean;
  freeIn: (b: AllocationBlock) => number;
  /** Affinities and own blocks read while preparing, reused by the first round when all were settled. */
  firstRound: { affinities: AffinityEntry[]; ownBlocks: Versioned<AllocationBlock>[] } | undefined;
}

export interface IpamSnapshot {
  config: IpamConfig;
  pools: PoolView[];
  reservedCidrs: string[];
  blocks: Versioned<AllocationBlock>[];
  affinities: AffinityEntry[];
  handles: Versioned<IpamHandle>[];
}

const REFUSAL_REASON = {
  'not-in-block': 'address-not-in-pool',
  'not-allocated': 'address-not-allocated',
  'handle-mismatch': 'address-owned-by-other',
  'sequence-mismatch': 'address-reallocated',
} as const;

function refusalError(r: ReleaseRefusal): IpamError {
  const text = {
    'not-in-block': `${r.ip} is not in any IPAM block`,
    'not-allocated': `${r.ip} is not allocated (already free); nothing to release`,
    'handle-mismatch': `${r.ip} belongs to handle ${r.owner ?? '(none)'}, not the one given; refusing to release it`,
    'sequence-mismatch': `${r.ip} was re-allocated since it was inspected; refusing to release the new owner's address`,
  }[r.reason];
  return new IpamError(REFUSAL_REASON[r.reason], text);
}

export class IpamClient {
  readonly store: IpamStore;
  private readonly pools: PoolSource;
  private readonly matcher: PoolHostMatcher;
  private readonly now: () => Date;

  constructor(opts: IpamClientOptions) {
    this.store = new IpamStore(opts.kv, { ...defaultRetryPolicy(), ...(opts.retry ?? {}) });
    this.pools = opts.pools;
    this.matcher = opts.poolMatchesHost ?? trivialSelectorMatcher;
    this.now = opts.now ?? (() => new Date());
  }

  get stats(): { casRetries: number; writes: number } {
    return this.store.stats;
  }

  /** Allocates num4 IPv4 and num6 IPv6 addresses for a handle on a host; all or nothing. */
  async autoAssign(req: AutoAssignRequest): Promise<AutoAssignResult> {
    validateHandleId(req.handleId);
    validateHostName(req.host);
    // Both families are checked before either writes, so a request that cannot be met
    // (e.g. no IPv6 pool) fails without touching the store.
    const plan4 = await this.prepareFamily(req, 4, req.num4 ?? 0);
    const plan6 = await this.prepareFamily(req, 6, req.num6 ?? 0);
    const ipv4 = plan4 ? await this.assignFamily(req, plan4) : [];
    try {
      const ipv6 = plan6 ? await this.assignFamily(req, plan6) : [];
      return { ipv4, ipv6 };
    } catch (err) {
      // Only reachable when racing writers took the room the check saw.
      if (ipv4.length > 0) await this.releaseIps(ipv4.map((ip) => ({ ip, handleId: req.handleId })));
      throw err;
    }
  }

  /** Reads what one family's allocation needs and refuses it up front when it cannot be met. */
  private async prepareFamily(req: AutoAssignRequest, family: IPFamily, count: number): Promise<FamilyPlan | undefined> {
    if (count <= 0) return undefined;
    const config = await this.store.config();
    const all = await this.pools.listPools();
    const requested = family === 4 ? req.pools4 : req.pools6;
    const pools = eligiblePools(all, { family, host: req.host, use: req.use ?? 'Workload', matcher: this.matcher, ...(requested ? { requested } : {}) });
    if (pools.length === 0) throw new IpamError('pool-exhausted', `no enabled IPv${family} pool is usable by node ${req.host}`);
    const reserved = await this.pools.listReservedCidrs();
    const isReserved = reservedMatcher(reserved);
    const freeIn = (b: AllocationBlock): number =>
      reserved.length === 0 ? b.unallocated.length : b.unallocated.filter((o) => !isReserved(ipOfOrdinal(b, o))).length;
    const affinities = await this.store.listAffinities(req.host);
    const settled = affinities.every((a) => a.value.state === 'confirmed');
    const ownBlocks = await this.readOwnBlocks(req.host, affinities, { family, pools });
    const plan: FamilyPlan = { family, count, config, pools, isReserved, freeIn, firstRound: settled ? { affinities, ownBlocks } : undefined };
    if (ownBlocks.reduce((n, b) => n + freeIn(b.value), 0) < count) await this.ensureCapacity({ host: req.host, family, count, pools, config, freeIn });
    return plan;
  }

  /** One round trip for all own blocks; the reads are only a first guess (every write is a CAS). */
  private async readOwnBlocks(host: string, affinities: AffinityEntry[], opts: { family: IPFamily; pools: PoolView[] }): Promise<Versioned<AllocationBlock>[]> {
    const mine = affinities.filter((a) => a.value.state === 'confirmed' && parseCidr(a.cidr).family === opts.family && blockInPools(a.cidr, opts.pools));
    const blocks = await Promise.all(mine.map((a) => this.store.getBlock(a.cidr)));
    return blocks.filter((b): b is Versioned<AllocationBlock> => b !== undefined && hostOfAffinity(b.value.affinity) === host);
  }

  private async assignFamily(req: AutoAssignRequest, plan: FamilyPlan): Promise<string[]> {
    const { family, count, config, pools, isReserved, freeIn } = plan;
    const attrs = { node: req.host, ...(req.attrs ?? {}) };
    const got: string[] = [];
    const take = async (cidr: string, requireHost: string | undefined, preRead?: Versioned<AllocationBlock>): Promise<void> => {
      const ips = await this.allocateIn(cidr, { count: count - got.length, handleId: req.handleId, attrs, isReserved, requireHost, preRead });
      got.push(...ips);
    };
    for (let round = 0; got.length < count && round < 64; round++) {
      let mine: AffinityEntry[];
      let ownBlocks: Versioned<AllocationBlock>[];
      if (round === 0 && plan.firstRound) {
        ({ affinities: mine, ownBlocks } = plan.firstRound);
      } else {
        mine = await this.settledAffinities(req.host, config);
        ownBlocks = await this.readOwnBlocks(req.host, mine, { family, pools });
      }
      mine = mine.filter((a) => parseCidr(a.cidr).family === family);
      for (const b of ownBlocks) {
        if (got.length >= count) break;
        if (freeIn(b.value) > 0) await take(b.value.cidr, req.host, b);
      }
      if (got.length >= count) break;
      const underLimit = config.maxBlocksPerHost === 0 || mine.length < config.maxBlocksPerHost;
      if (config.autoAllocateBlocks && underLimit) {
        const taken = new Set((await this.store.listBlocks()).map((b) => b.value.cidr));
        const cidr = nextBlockToClaim(pools, { host: req.host, taken });
        if (cidr) {
          await claimBlock(this.store, { host: req.host, cidr, now: this.now().toISOString(), strictAffinity: config.strictAffinity });
          continue; // claimed or lost: either way look again
        }
      }
      if (!config.strictAffinity) {
        // Borrow single addresses from blocks of other hosts (or orphaned ones). Each host
        // starts at its own offset, so borrowers do not all collide on the first block.
        const blocks = await this.store.listBlocks();
        const offset = blocks.length === 0 ? 0 : Number(hostHash(req.host) % BigInt(blocks.length));
        for (const b of [...blocks.slice(offset), ...blocks.slice(0, offset)]) {
          if (got.length >= count) break;
          if (b.value.affinity === `host:${req.host}` || !blockInPools(b.value.cidr, pools)) continue;
          if (freeIn(b.value) > 0) await take(b.value.cidr, undefined, b);
        }
      }
      break;
    }
    if (got.length < count) {
      if (got.length > 0) await this.releaseIps(got.map((ip) => ({ ip, handleId: req.handleId })));
      this.exhausted({ host: req.host, family, pools, config });
    }
    return got;
  }

  /**
   * Refuses up front a request that cannot be met, so that a full pool fails without
   * writing anything (a partial allocation rolled back would still reorder free lists).
   * Only consulted when the host's own blocks lack room. An upper bound from one read:
   * racing writers can still make the request fail later, and what was taken is then
   * released again.
   */
  private async ensureCapacity(opts: { host: string; family: IPFamily; count: number; pools: PoolView[]; config: IpamConfig; freeIn: (b: AllocationBlock) => number }): Promise<void> {
    const blocks = (await this.store.listBlocks()).filter((b) => blockInPools(b.value.cidr, opts.pools));
    const mine = blocks.filter((b) => b.value.affinity === `host:${opts.host}`);
    let available = 0;
    for (const b of opts.config.strictAffinity ? mine : blocks) {
      available += opts.freeIn(b.value);
      if (available >= opts.count) return;
    }
    if (!opts.config.autoAllocateBlocks) return this.exhausted(opts);
    const claimable = opts.pools.reduce((n, p) => n + Number(blockCount(parseCidr(p.cidr), p.blockSize)), 0) - blocks.length;
    const allowed = opts.config.maxBlocksPerHost === 0 ? claimable : Math.min(claimable, opts.config.maxBlocksPerHost - mine.length);
    // Block sizes may differ per pool: count every claimable block as the largest (an upper bound).
    const largest = Math.max(...opts.pools.map((p) => 2 ** ((p.family === 4 ? 32 : 128) - p.blockSize)));
    available += Math.max(0, allowed) * largest;
    if (available < opts.count) this.exhausted(opts);
  }

  private exhausted(opts: { host: string; family: IPFamily; pools: PoolView[]; config: IpamConfig }): never {
    const { config } = opts;
    throw new IpamError(
      'pool-exhausted',
      `no free IPv${opts.family} address for node ${opts.host} in ${opts.pools.map((p) => p.cidr).join(', ')}` +
        (config.strictAffinity ? ' (strictAffinity is on: borrowing is off)' : config.maxBlocksPerHost ? ` (maxBlocksPerHost ${config.maxBlocksPerHost})` : ''),
    );
  }

  private async settledAffinities(host: string, config: IpamConfig): Promise<AffinityEntry[]> {
    const affinities = await this.store.listAffinities(host);
    return settleHostAffinities(this.store, { host, now: this.now().toISOString(), strictAffinity: config.strictAffinity, affinities });
  }

  /** One block: allocate, handle first then block, each CAS; retried on conflict with a fresh read. */
  private async allocateIn(
    cidr: string,
    opts: {
      count: number;
      handleId: string;
      attrs: Record<string, string>;
      isReserved: (ip: string) => boolean;
      requireHost: string | undefined;
      /** A read the caller already made: used for the first attempt only. */
      preRead?: Versioned<AllocationBlock> | undefined;
    },
  ): Promise<string[]> {
    return this.store.withRetry(`allocate in ${cidr}`, async (attempt) => {
      const cur = attempt === 0 && opts.preRead ? opts.preRead : await this.store.getBlock(cidr);
      if (!cur) return [];
      if (opts.requireHost !== undefined && hostOfAffinity(cur.value.affinity) !== opts.requireHost) return [];
      const { block, ips } = allocateFromBlock(cur.value, opts);
      if (ips.length === 0) return [];
      await this.store.adjustHandle(opts.handleId, { block: cidr, delta: ips.length });
      try {
        await this.store.updateBlock(block, cur.rev);
      } catch (err) {
        await this.store.adjustHandle(opts.handleId, { block: cidr, delta: -ips.length });
        throw err;
      }
      return ips;
    });
  }

  /** Allocates one specific address (e.g. a static IP), claiming its block for the host if nobody has. */
  async assignIp(opts: { ip: string; handleId: string; host: string; attrs?: Record<string, string> }): Promise<void> {
    validateHandleId(opts.handleId);
    validateHostName(opts.host);
    const addr = parseIp(opts.ip);
    const pool = poolContaining(await this.pools.listPools(), opts.ip);
    if (!pool) throw new IpamError('address-not-in-pool', `${opts.ip} is not in any IPPool`);
    if (pool.disabled) throw new IpamError('pool-disabled', `IPPool(${pool.name}) ${pool.cidr} is disabled`);
    if (reservedMatcher(await this.pools.listReservedCidrs())(opts.ip)) throw new IpamError('address-reserved', `${opts.ip} is held back by an IPReservation`);
    const cidr = formatCIDR(enclosingSubnet(addr, pool.blockSize));
    const attrs = { node: opts.host, ...(opts.attrs ?? {}) };
    const config = await this.store.config();
    await this.store.withRetry(`assign ${opts.ip}`, async () => {
      const cur = await this.store.getBlock(cidr);
      if (!cur) {
        await claimBlock(this.store, { host: opts.host, cidr, now: this.now().toISOString(), strictAffinity: config.strictAffinity });
        throw new ConflictError(`block ${cidr}`); // re-read the (now existing) block
      }
      const next = assignInBlock(cur.value, { ip: opts.ip, handleId: opts.handleId, attrs });
      if (!next) throw new IpamError('address-in-use', `${opts.ip} is already allocated`);
      await this.store.adjustHandle(opts.handleId, { block: cidr, delta: 1 });
      try {
        await this.store.updateBlock(next, cur.rev);
      } catch (err) {
        await this.store.adjustHandle(opts.handleId, { block: cidr, delta: -1 });
        throw err;
      }
    });
  }

  /** Finds the block that holds `ip`, via its pool's block size, else by scanning blocks (pool deleted). */
  private async blockCidrOf(ip: string, pools: PoolView[]): Promise<string | undefined> {
    const addr = parseIp(ip);
    const pool = poolContaining(pools, ip);
    if (pool) {
      const cidr = formatCIDR(enclosingSubnet(addr, pool.blockSize));
      if (await this.store.getBlock(cidr)) return cidr;
    }
    return (await this.store.listBlocks()).find((b) => cidrContainsIP(parseCidr(b.value.cidr), addr))?.value.cidr;
  }

  /**
   * Releases addresses. Every request is checked against a fresh read before anything is
   * written, so a bad request (free address, other owner, re-allocated) changes nothing.
   */
  async releaseIps(requests: ReleaseRequest[]): Promise<AllocationInfo[]> {
    const pools = await this.pools.listPools();
    const byBlock = new Map<string, ReleaseRequest[]>();
    for (const r of requests) {
      const cidr = await this.blockCidrOf(r.ip, pools);
      if (!cidr) {
        throw poolContaining(pools, r.ip)
          ? new IpamError('address-not-allocated', `${r.ip} is not allocated (its block was never claimed)`)
          : new IpamError('address-not-in-pool', `${r.ip} is not in any IPPool or IPAM block`);
      }
      byBlock.set(cidr, [...(byBlock.get(cidr) ?? []), r]);
    }
    for (const [cidr, reqs] of byBlock) {
      const cur = await this.store.getBlock(cidr);
      const refused = cur ? releaseFromBlock(cur.value, reqs).refused : reqs.map((r) => ({ ip: r.ip, reason: 'not-in-block' as const }));
      if (refused.length > 0) throw refusalError(refused[0]!);
    }
    const released: AllocationInfo[] = [];
    for (const [cidr, reqs] of byBlock) released.push(...(await this.releaseInBlock(cidr, reqs)));
    return released;
  }

  private async releaseInBlock(cidr: string, reqs: ReleaseRequest[]): Promise<AllocationInfo[]> {
    const released = await this.store.withRetry(`release in ${cidr}`, async () => {
      const cur = await this.store.getBlock(cidr);
      if (!cur) throw refusalError({ ip: reqs[0]!.ip, reason: 'not-allocated' });
      const result = releaseFromBlock(cur.value, reqs);
      if (result.refused.length > 0) throw refusalError(result.refused[0]!);
      await this.store.updateBlock(result.block, cur.rev);
      return result.released;
    });
    const perHandle = new Map<string, number>();
    for (const a of released) if (a.handleId) perHandle.set(a.handleId, (perHandle.get(a.handleId) ?? 0) + 1);
    for (const [handleId, n] of perHandle) await this.store.adjustHandle(handleId, { block: cidr, delta: -n });
    return released;
  }

  /** The addresses a handle holds now (CNI: a repeated ADD reuses them instead of taking more). */
  async ipsByHandle(handleId: string): Promise<string[]> {
    validateHandleId(handleId);
    const handle = await this.store.getHandle(handleId);
    if (!handle) return [];
    const ips: string[] = [];
    for (const cidr of Object.keys(handle.value.block)) {
      const cur = await this.store.getBlock(cidr);
      if (cur) ips.push(...ipsOfHandle(cur.value, handleId).map((a) => a.ip));
    }
    return ips;
  }

  /** Releases every address of a handle and deletes the handle. Idempotent (CNI DEL). */
  async releaseByHandle(handleId: string): Promise<AllocationInfo[]> {
    validateHandleId(handleId);
    const handle = await this.store.getHandle(handleId);
    if (!handle) return [];
    const released: AllocationInfo[] = [];
    for (const cidr of Object.keys(handle.value.block)) {
      const cur = await this.store.getBlock(cidr);
      const ips = cur ? ipsOfHandle(cur.value, handleId) : [];
      if (ips.length > 0) released.push(...(await this.releaseInBlock(cidr, ips.map((a) => ({ ip: a.ip, handleId })))));
    }
    // Counts left over from a crash between a block write and its handle write: the
    // blocks no longer hold this handle's addresses, so the handle can go.
    await this.store.withRetry(`delete handle ${handleId}`, async () => {
      const h = await this.store.getHandle(handleId);
      if (!h) return;
      for (const cidr of Object.keys(h.value.block)) {
        const b = await this.store.getBlock(cidr);
        if (b && ipsOfHandle(b.value, handleId).length > 0) return; // re-used concurrently: keep it
      }
      await this.store.deleteHandle(handleId, h.rev);
    });
    return released;
  }

  /** Gives up a host's block affinities (node removal). Non-empty blocks become orphaned unless requireEmpty. */
  async releaseHostAffinities(host: string, opts: { requireEmpty?: boolean } = {}): Promise<{ released: string[]; kept: string[] }> {
    const out = { released: [] as string[], kept: [] as string[] };
    for (const aff of await this.store.listAffinities(host)) {
      const ok = await releaseBlockAffinity(this.store, { host, cidr: aff.cidr, requireEmpty: opts.requireEmpty ?? false });
      (ok ? out.released : out.kept).push(aff.cidr);
    }
    return out;
  }

  async getConfig(): Promise<IpamConfig> {
    return this.store.config();
  }

  async setConfig(patch: Partial<IpamConfig>): Promise<IpamConfig> {
    return this.store.withRetry('ipam config', async () => {
      const cur = await this.store.getConfig();
      const next = { ...(cur?.value ?? (await this.store.config())), ...patch };
      if (!Number.isInteger(next.maxBlocksPerHost) || next.maxBlocksPerHost < 0) {
        throw new IpamError('pool-not-allowed', `maxBlocksPerHost must be a whole number >= 0, got ${next.maxBlocksPerHost}`);
      }
      await this.store.putConfig(next, cur?.rev);
      return next;
    });
  }

  /** Everything IPAM stores plus pools and reservations: input of show, check and GC. */
  async snapshot(): Promise<IpamSnapshot> {
    const [config, pools, reservedCidrs, blocks, affinities, handles] = await Promise.all([
      this.store.config(),
      this.pools.listPools(),
      this.pools.listReservedCidrs(),
      this.store.listBlocks(),
      this.store.listAffinities(),
      this.store.listHandles(),
    ]);
    return { config, pools, reservedCidrs, blocks, affinities, handles };
  }

  /** Who holds `ip`: its block and, when allocated, the allocation. */
  async ownerOf(ip: string): Promise<{ block?: AllocationBlock; allocation?: AllocationInfo; pool?: PoolView }> {
    const pools = await this.pools.listPools();
    const cidr = await this.blockCidrOf(ip, pools);
    const pool = poolContaining(pools, ip);
    const block = cidr ? (await this.store.getBlock(cidr))?.value : undefined;
    const canonical = canonicalIp(ip);
    const allocation = block ? listAllocations(block).find((a) => a.ip === canonical) : undefined;
    return { ...(block ? { block } : {}), ...(allocation ? { allocation } : {}), ...(pool ? { pool } : {}) };
  }

  /** Block CIDRs that hold at least one address: input of checkPoolWrite. */
  async blocksInUse(): Promise<string[]> {
    return (await this.store.listBlocks()).filter((b) => b.value.allocations.some((a) => a !== null)).map((b) => b.value.cidr);
  }

  /** The cross-resource IPPool rules (overlap, no cidr change in use); throws ValidationError. */
  async validatePoolWrite(proposed: PoolView): Promise<void> {
    checkPoolWrite({ proposed, existing: await this.pools.listPools(), blocksInUse: await this.blocksInUse() });
  }
}
