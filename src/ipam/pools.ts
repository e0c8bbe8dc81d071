// IPAM's view of IPPool and IPReservation, and the cross-resource pool rules that
// only IPAM can judge (overlap between pools, cidr/blockSize change while in use).
// Intrinsic field validation (CIDR syntax, blockSize range) belongs to the IPPool
// validator in src/api; checkPoolWrite repeats the two checks it needs to be safe alone.
import { ValidationError, type FieldIssue } from '../base/errors.js';
import type { Resource } from '../api/resource.js';
import { cidrContains, cidrContainsIP, cidrOverlaps, formatCIDR, hostCIDR, type CIDR, type IPFamily } from '../base/ip.js';
import { parseCidr, tryParseIp } from './cidr-math.js';

export type PoolUse = 'Workload' | 'Tunnel' | 'LoadBalancer';

export interface PoolView {
  name: string;
  /** Canonical CIDR text. */
  cidr: string;
  family: IPFamily;
  blockSize: number;
  disabled: boolean;
  nodeSelector: string;
  natOutgoing: boolean;
  allowedUses: PoolUse[];
}

/** What IPAM reads about pools and reservations (the resource datastore in production, a fake in tests). */
export interface PoolSource {
  listPools(): Promise<PoolView[]>;
  /** All IPReservation.spec.reservedCIDRs, flattened (single addresses allowed). */
  listReservedCidrs(): Promise<string[]>;
}

export const DEFAULT_BLOCK_SIZE: Record<IPFamily, number> = { 4: 26, 6: 122 };
const BLOCK_SIZE_RANGE: Record<IPFamily, [number, number]> = { 4: [20, 32], 6: [116, 128] };

/** Builds a pool view with Calico's defaults from a partial description. */
export function poolView(p: { name: string; cidr: string } & Partial<Omit<PoolView, 'name' | 'cidr' | 'family'>>): PoolView {
  const c = parseCidr(p.cidr, { path: 'spec.cidr' });
  return {
    name: p.name,
    cidr: formatCIDR(c),
    family: c.family,
    blockSize: p.blockSize ?? DEFAULT_BLOCK_SIZE[c.family],
    disabled: p.disabled ?? false,
    nodeSelector: p.nodeSelector ?? 'all()',
    natOutgoing: p.natOutgoing ?? false,
    allowedUses: p.allowedUses ?? ['Workload', 'Tunnel'],
  };
}

/** IPPool resource -> PoolView (the resource is assumed validated by src/api already). */
export function poolFromResource(r: Resource): PoolView {
  const spec = (r.spec ?? {}) as Record<string, unknown>;
  return poolView({
    name: r.metadata.name,
    cidr: String(spec['cidr'] ?? ''),
    ...(typeof spec['blockSize'] === 'number' ? { blockSize: spec['blockSize'] } : {}),
    disabled: spec['disabled'] === true,
    ...(typeof spec['nodeSelector'] === 'string' && spec['nodeSelector'] !== '' ? { nodeSelector: spec['nodeSelector'] } : {}),
    natOutgoing: spec['natOutgoing'] === true,
    ...(Array.isArray(spec['allowedUses']) && spec['allowedUses'].length > 0 ? { allowedUses: spec['allowedUses'] as PoolUse[] } : {}),
  });
}

/** IPReservation resource -> its reserved CIDRs. */
export function reservedCidrsFromResource(r: Resource): string[] {
  const spec = (r.spec ?? {}) as Record<string, unknown>;
  return Array.isArray(spec['reservedCIDRs']) ? spec['reservedCIDRs'].map(String) : [];
}

/** A predicate over address text; reservations are few, so a linear scan is fine. */
export function reservedMatcher(cidrs: string[]): (ip: string) => boolean {
  const parsed: CIDR[] = cidrs.map((c) => {
    if (c.includes('/')) return parseCidr(c);
    const ip = tryParseIp(c);
    if (!ip) throw new ValidationError([{ path: 'spec.reservedCIDRs', message: `'${c}' is not an address or CIDR` }]);
    return hostCIDR(ip);
  });
  return (ip) => {
    const addr = tryParseIp(ip);
    return addr !== undefined && parsed.some((c) => cidrContainsIP(c, addr));
  };
}

export function poolContaining(pools: PoolView[], ip: string): PoolView | undefined {
  const addr = tryParseIp(ip);
  if (!addr) return undefined;
  return pools.find((p) => cidrContainsIP(parseCidr(p.cidr), addr));
}

export function poolContainingBlock(pools: PoolView[], blockCidr: string): PoolView | undefined {
  const b = parseCidr(blockCidr);
  return pools.find((p) => cidrContains(parseCidr(p.cidr), b));
}

/** Decides whether a pool's nodeSelector selects a host. Injected: the selector engine lives elsewhere. */
export type PoolHostMatcher = (pool: PoolView, host: string) => boolean;

/**
 * Without a selector engine only the trivial selectors can be judged; anything else
 * fails closed (the pool is not used) rather than handing out addresses a pool's
 * owner meant for other nodes.
 */
export const trivialSelectorMatcher: PoolHostMatcher = (pool) => {
  const s = pool.nodeSelector.trim();
  return s === '' || s === 'all()';
};

/**
 * Cross-resource rules for creating or updating an IPPool. `blocksInUse` are block
 * CIDRs that currently hold allocations (from IpamClient.blocksInUse()). Throws
 * ValidationError naming the field; returns normally when the write is allowed.
 * Enforced by `calicoctl create/apply/replace` of IPPools through
 * IpamClient.validatePoolWrite (docs/design/ipam.md, "where pool rules are enforced").
 */
export function checkPoolWrite(opts: { proposed: PoolView; existing: PoolView[]; blocksInUse: string[] }): void {
  const { proposed } = opts;
  const issues: FieldIssue[] = [];
  const pc = parseCidr(proposed.cidr, { path: 'spec.cidr' });
  const [lo, hi] = BLOCK_SIZE_RANGE[pc.family];
  if (proposed.blockSize < lo || proposed.blockSize > hi) {
    issues.push({ path: 'spec.blockSize', message: `must be ${lo}-${hi} for an IPv${pc.family} pool, got ${proposed.blockSize}` });
  } else if (proposed.blockSize < pc.prefixLength) {
    issues.push({ path: 'spec.blockSize', message: `block size /${proposed.blockSize} does not fit in the pool ${proposed.cidr}; use a pool of /${proposed.blockSize} or larger, or a smaller block` });
  }
  for (const other of opts.existing) {
    if (other.name === proposed.name) continue;
    if (cidrOverlaps(pc, parseCidr(other.cidr))) {
      issues.push({ path: 'spec.cidr', message: `${proposed.cidr} overlaps IPPool(${other.name}) ${other.cidr}; pools must not overlap` });
    }
  }
  const before = opts.existing.find((p) => p.name === proposed.name);
  if (before) {
    const beforeCidr = parseCidr(before.cidr);
    const used = opts.blocksInUse.filter((b) => cidrOverlaps(parseCidr(b), beforeCidr));
    if (used.length > 0 && before.cidr !== proposed.cidr) {
      issues.push({ path: 'spec.cidr', message: `cannot change from ${before.cidr} to ${proposed.cidr} while ${used.length} block(s) hold addresses (e.g. ${used[0]}); create a new pool, disable this one and release its addresses first` });
    }
    if (used.length > 0 && before.blockSize !== proposed.blockSize) {
      issues.push({ path: 'spec.blockSize', message: `cannot change from ${before.blockSize} to ${proposed.blockSize} while blocks of this pool hold addresses` });
    }
  }
  if (issues.length > 0) throw new ValidationError(issues, `IPPool(${proposed.name})`);
}

/** A fixed PoolSource (tests, benchmarks, and callers that already hold the pools). */
export function staticPoolSource(pools: PoolView[], reservedCidrs: string[] = []): PoolSource & { pools: PoolView[]; reservedCidrs: string[] } {
  const source = {
    pools,
    reservedCidrs,
    listPools: async () => source.pools,
    listReservedCidrs: async () => source.reservedCidrs,
  };
  return source;
}
