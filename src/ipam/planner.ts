// Pure choices the allocator makes between reads and writes: which pools a request may
// use, which block a host should claim next, and in which order to try blocks.
import { IpamError } from './errors.js';
import { cidrContains, formatCIDR, type IPFamily } from '../base/ip.js';
import { blockCount, nthBlock, parseCidr } from './cidr-math.js';
import type { PoolHostMatcher, PoolUse, PoolView } from './pools.js';

/**
 * Pools a request may allocate from. With explicit `requested` CIDRs each must be a
 * configured, enabled pool that allows the use and selects the host, else a typed error;
 * without, every enabled pool of the family that fits (none: pool-exhausted is left to the caller).
 */
export function eligiblePools(
  pools: PoolView[],
  opts: { family: IPFamily; host: string; use: PoolUse; requested?: string[]; matcher: PoolHostMatcher },
): PoolView[] {
  const ofFamily = pools.filter((p) => p.family === opts.family);
  if (opts.requested && opts.requested.length > 0) {
    const out: PoolView[] = [];
    for (const r of opts.requested) {
      const asCidr = r.includes('/') ? parseCidr(r, { path: 'pool' }) : undefined;
      if (asCidr && asCidr.family !== opts.family) continue;
      const named = pools.find((p) => p.name === r);
      if (named && named.family !== opts.family) continue;
      const pool = named ?? ofFamily.find((p) => asCidr !== undefined && p.cidr === formatCIDR(asCidr));
      if (!pool) throw new IpamError('pool-not-found', `IPPool ${r} does not exist; list pools with 'calicoctl get ippools'`);
      if (pool.disabled) throw new IpamError('pool-disabled', `IPPool(${pool.name}) ${pool.cidr} is disabled; enable it or request another pool`);
      if (!pool.allowedUses.includes(opts.use)) throw new IpamError('pool-not-allowed', `IPPool(${pool.name}) does not allow use '${opts.use}' (allowedUses: ${pool.allowedUses.join(', ')})`);
      if (!opts.matcher(pool, opts.host)) throw new IpamError('pool-not-allowed', `IPPool(${pool.name}) nodeSelector '${pool.nodeSelector}' does not select node ${opts.host}`);
      out.push(pool);
    }
    return out;
  }
  return ofFamily.filter((p) => !p.disabled && p.allowedUses.includes(opts.use) && opts.matcher(p, opts.host));
}

/** FNV-1a over the host name: spreads hosts' first claims across a pool so they rarely collide. */
export function hostHash(host: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const ch of Buffer.from(host, 'utf8')) {
    h ^= BigInt(ch);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

/**
 * The next block CIDR this host should try to claim, or undefined when every block of
 * every eligible pool already exists. Scans from a host-dependent offset; since only
 * `taken.size` blocks exist, at most taken.size + 1 candidates per pool are looked at,
 * which keeps huge IPv6 pools cheap.
 */
export function nextBlockToClaim(pools: PoolView[], opts: { host: string; taken: Set<string> }): string | undefined {
  for (const pool of pools) {
    const pc = parseCidr(pool.cidr);
    const count = blockCount(pc, pool.blockSize);
    const start = hostHash(opts.host) % count;
    const limit = BigInt(opts.taken.size) + 1n < count ? BigInt(opts.taken.size) + 1n : count;
    for (let i = 0n; i < limit; i++) {
      const cidr = formatCIDR(nthBlock(pc, { blockSize: pool.blockSize, index: (start + i) % count }));
      if (!opts.taken.has(cidr)) return cidr;
    }
  }
  return undefined;
}

/** True when a block CIDR lies inside one of the pools. */
export function blockInPools(blockCidr: string, pools: PoolView[]): boolean {
  const b = parseCidr(blockCidr);
  return pools.some((p) => cidrContains(parseCidr(p.cidr), b));
}
