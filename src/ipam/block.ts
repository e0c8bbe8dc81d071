// Pure operations on one AllocationBlock. Every function returns a new block and never
// mutates its input, so a caller can retry a lost compare-and-swap with a fresh read.
// Block invariant (checked by checkBlockInvariants, kept by every function here):
//   each ordinal is in exactly one of {allocations[o] != null, unallocated}; every
//   allocation points at an existing attribute; no attribute is unreferenced.
import { addressIndex, cidrSize, formatIP, nthAddress } from '../base/ip.js';
import { parseCidr, parseIp } from './cidr-math.js';
import type { AllocationAttribute, AllocationBlock } from './model.js';

export interface AllocationInfo {
  ip: string;
  ordinal: number;
  handleId: string | null;
  attrs: Record<string, string>;
  sequenceNumber: number;
}

export function newBlock(cidr: string, opts: { host?: string; strictAffinity?: boolean; claimTime?: string } = {}): AllocationBlock {
  const size = Number(cidrSize(parseCidr(cidr, { strict: true })));
  return {
    cidr: cidr,
    affinity: opts.host === undefined ? null : `host:${opts.host}`,
    ...(opts.claimTime ? { affinityClaimTime: opts.claimTime } : {}),
    strictAffinity: opts.strictAffinity ?? false,
    allocations: new Array<number | null>(size).fill(null),
    unallocated: Array.from({ length: size }, (_, i) => i),
    attributes: [],
    deleted: false,
    sequenceNumber: 0,
    sequenceNumberForAllocation: {},
  };
}

function clone(block: AllocationBlock): AllocationBlock {
  return {
    ...block,
    allocations: [...block.allocations],
    unallocated: [...block.unallocated],
    attributes: block.attributes.map((a) => ({ handle_id: a.handle_id, secondary: a.secondary ? { ...a.secondary } : null })),
    sequenceNumberForAllocation: { ...block.sequenceNumberForAllocation },
  };
}

export function ipOfOrdinal(block: AllocationBlock, ordinal: number): string {
  return formatIP(nthAddress(parseCidr(block.cidr), ordinal));
}

/** Ordinal of `ip` in the block, or undefined when the block does not hold it. */
export function ordinalOf(block: AllocationBlock, ip: string): number | undefined {
  const index = addressIndex(parseCidr(block.cidr), parseIp(ip));
  return index === undefined ? undefined : Number(index);
}

export function allocatedCount(block: AllocationBlock): number {
  return block.allocations.reduce<number>((n, a) => (a === null ? n : n + 1), 0);
}

export function isEmptyBlock(block: AllocationBlock): boolean {
  return block.allocations.every((a) => a === null);
}

export function listAllocations(block: AllocationBlock): AllocationInfo[] {
  const out: AllocationInfo[] = [];
  block.allocations.forEach((attrIndex, ordinal) => {
    if (attrIndex === null) return;
    const attr = block.attributes[attrIndex];
    out.push({
      ip: ipOfOrdinal(block, ordinal),
      ordinal,
      handleId: attr?.handle_id ?? null,
      attrs: { ...(attr?.secondary ?? {}) },
      sequenceNumber: block.sequenceNumberForAllocation[String(ordinal)] ?? 0,
    });
  });
  return out;
}

function sameAttrs(a: Record<string, string> | null, b: Record<string, string>): boolean {
  const ak = Object.keys(a ?? {});
  return ak.length === Object.keys(b).length && ak.every((k) => a![k] === b[k]);
}

function attributeIndex(block: AllocationBlock, owner: { handleId: string; attrs: Record<string, string> }): number {
  const { handleId, attrs } = owner;
  const found = block.attributes.findIndex((a) => a.handle_id === handleId && sameAttrs(a.secondary, attrs));
  if (found >= 0) return found;
  const attr: AllocationAttribute = { handle_id: handleId, secondary: { ...attrs } };
  block.attributes.push(attr);
  return block.attributes.length - 1;
}

function markAllocated(block: AllocationBlock, slot: { ordinal: number; attrIndex: number }): void {
  const { ordinal, attrIndex } = slot;
  block.allocations[ordinal] = attrIndex;
  block.sequenceNumberForAllocation[String(ordinal)] = block.sequenceNumber;
  block.sequenceNumber += 1;
}

/**
 * Takes up to `count` free addresses, oldest-freed first, skipping reserved ones
 * (they stay in the free list: a reservation can be lifted later). Returns fewer
 * than asked when the block runs out.
 */
export function allocateFromBlock(
  block: AllocationBlock,
  opts: { count: number; handleId: string; attrs: Record<string, string>; isReserved?: (ip: string) => boolean },
): { block: AllocationBlock; ips: string[] } {
  const next = clone(block);
  const ips: string[] = [];
  const taken = new Set<number>();
  for (const ordinal of next.unallocated) {
    if (ips.length >= opts.count) break;
    const ip = ipOfOrdinal(next, ordinal);
    if (opts.isReserved?.(ip)) continue;
    markAllocated(next, { ordinal, attrIndex: attributeIndex(next, opts) });
    taken.add(ordinal);
    ips.push(ip);
  }
  next.unallocated = next.unallocated.filter((o) => !taken.has(o));
  return { block: next, ips };
}

/** Allocates one specific address. Returns undefined if it is already in use. */
export function assignInBlock(
  block: AllocationBlock,
  opts: { ip: string; handleId: string; attrs: Record<string, string> },
): AllocationBlock | undefined {
  const ordinal = ordinalOf(block, opts.ip);
  if (ordinal === undefined || block.allocations[ordinal] !== null) return undefined;
  const next = clone(block);
  markAllocated(next, { ordinal, attrIndex: attributeIndex(next, opts) });
  next.unallocated = next.unallocated.filter((o) => o !== ordinal);
  return next;
}

export interface ReleaseRequest {
  ip: string;
  /** When set, the address must belong to this handle. */
  handleId?: string;
  /** When set, the address must still carry this allocation sequence number (not re-allocated since). */
  sequenceNumber?: number;
}

export type ReleaseRefusal = { ip: string; reason: 'not-in-block' | 'not-allocated' | 'handle-mismatch' | 'sequence-mismatch'; owner?: string | null };

/**
 * Frees addresses all-or-nothing: if any request is refused, the block is returned
 * unchanged with the refusals. Freed ordinals go to the END of the free list.
 */
export function releaseFromBlock(
  block: AllocationBlock,
  requests: ReleaseRequest[],
): { block: AllocationBlock; released: AllocationInfo[]; refused: ReleaseRefusal[] } {
  const refused: ReleaseRefusal[] = [];
  const byOrdinal = new Map<number, AllocationInfo>();
  const current = new Map(listAllocations(block).map((a) => [a.ordinal, a]));
  for (const r of requests) {
    const ordinal = ordinalOf(block, r.ip);
    if (ordinal === undefined) {
      refused.push({ ip: r.ip, reason: 'not-in-block' });
      continue;
    }
    const info = current.get(ordinal);
    if (!info) refused.push({ ip: r.ip, reason: 'not-allocated' });
    else if (r.handleId !== undefined && info.handleId !== r.handleId) refused.push({ ip: r.ip, reason: 'handle-mismatch', owner: info.handleId });
    else if (r.sequenceNumber !== undefined && info.sequenceNumber !== r.sequenceNumber) refused.push({ ip: r.ip, reason: 'sequence-mismatch' });
    else byOrdinal.set(ordinal, info);
  }
  if (refused.length > 0) return { block, released: [], refused };
  const next = clone(block);
  for (const ordinal of byOrdinal.keys()) {
    next.allocations[ordinal] = null;
    delete next.sequenceNumberForAllocation[String(ordinal)];
    next.unallocated.push(ordinal);
  }
  compactAttributes(next);
  return { block: next, released: [...byOrdinal.values()], refused };
}

/** Addresses of one handle in this block. */
export function ipsOfHandle(block: AllocationBlock, handleId: string): AllocationInfo[] {
  return listAllocations(block).filter((a) => a.handleId === handleId);
}

/** Drops attributes no allocation points at and renumbers the rest (keeps blocks small). */
function compactAttributes(block: AllocationBlock): void {
  const used = new Set(block.allocations.filter((a): a is number => a !== null));
  const remap = new Map<number, number>();
  const kept: AllocationAttribute[] = [];
  block.attributes.forEach((attr, i) => {
    if (used.has(i)) {
      remap.set(i, kept.length);
      kept.push(attr);
    }
  });
  block.attributes = kept;
  block.allocations = block.allocations.map((a) => (a === null ? null : remap.get(a)!));
}

/** Returns a description of each broken block invariant (empty when the block is sound). */
export function checkBlockInvariants(block: AllocationBlock): string[] {
  const problems: string[] = [];
  const size = Number(cidrSize(parseCidr(block.cidr)));
  if (block.allocations.length !== size) problems.push(`allocations has ${block.allocations.length} slots, block has ${size} addresses`);
  const free = new Set<number>();
  for (const o of block.unallocated) {
    if (free.has(o)) problems.push(`ordinal ${o} is twice in the free list`);
    free.add(o);
    if (block.allocations[o] !== null) problems.push(`ordinal ${o} is both free and allocated`);
  }
  block.allocations.forEach((a, o) => {
    if (a === null && !free.has(o)) problems.push(`ordinal ${o} is neither free nor allocated (lost)`);
    if (a !== null && !block.attributes[a]) problems.push(`ordinal ${o} points at missing attribute ${a}`);
  });
  const used = new Set(block.allocations.filter((a) => a !== null));
  if (used.size !== block.attributes.length) problems.push('unreferenced attributes');
  return problems;
}
