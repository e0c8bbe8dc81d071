// IPAM's stored objects, their etcd keys and JSON codecs. The layout and field names
// follow Calico's libcalico-go IPAM v2 model so a Calico user's etcd is readable:
//   /calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26        AllocationBlock
//   /calico/ipam/v2/host/<host>/ipv4/block/10.0.0.0-26       BlockAffinity
//   /calico/ipam/v2/handle/<handle id>                        IpamHandle
//   /calico/ipam/v2/config                                    IpamConfig
import { ValidationError } from '../base/errors.js';
import type { IPFamily } from '../base/ip.js';
import { canonicalCidr, parseCidr } from './cidr-math.js';

export const IPAM_PREFIX = '/calico/ipam/v2/';
export const BLOCK_PREFIX = '/calico/ipam/v2/assignment/';
export const HOST_PREFIX = '/calico/ipam/v2/host/';
export const HANDLE_PREFIX = '/calico/ipam/v2/handle/';
export const CONFIG_KEY = '/calico/ipam/v2/config';

/** One address's owner record; several addresses of one handle share one entry. */
export interface AllocationAttribute {
  handle_id: string | null;
  /** node, namespace, workload, type (workload | tunnel) ... */
  secondary: Record<string, string> | null;
}

export interface AllocationBlock {
  cidr: string;
  /** `host:<name>`, or null once the host gave the block up while addresses were still in use. */
  affinity: string | null;
  affinityClaimTime?: string;
  strictAffinity: boolean;
  /** One slot per address (ordinal): index into `attributes`, or null when free. */
  allocations: (number | null)[];
  /** Free ordinals in reuse order: released ones are appended, so the oldest-freed is reused first. */
  unallocated: number[];
  attributes: AllocationAttribute[];
  deleted: boolean;
  /** Bumped on every allocation; lets a releaser prove the address was not re-allocated since it looked. */
  sequenceNumber: number;
  /** ordinal (as a decimal string) -> sequenceNumber at allocation time. */
  sequenceNumberForAllocation: Record<string, number>;
}

export type AffinityState = 'pending' | 'confirmed' | 'pendingDeletion';

export interface BlockAffinity {
  state: AffinityState;
  deleted: boolean;
}

export interface IpamHandle {
  handleID: string;
  /** block CIDR -> number of this handle's addresses in that block. */
  block: Record<string, number>;
  deleted: boolean;
}

export interface IpamConfig {
  strictAffinity: boolean;
  autoAllocateBlocks: boolean;
  /** 0 = unlimited. */
  maxBlocksPerHost: number;
  /** Carried for Calico compatibility (no KubeVirt here); not used by the allocator. */
  kubeVirtVMAddressPersistence?: 'Enabled' | 'Disabled';
  /** Carried for Calico compatibility; the IPAMConfiguration resource only accepts 0. */
  ipCooldownSeconds?: number;
}

export const DEFAULT_IPAM_CONFIG: IpamConfig = { strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 0 };

const familyDir = (family: IPFamily): string => (family === 4 ? 'ipv4' : 'ipv6');
/** `10.0.0.0/26` -> `10.0.0.0-26` (a slash cannot appear inside one key segment). */
const cidrSegment = (cidr: string): string => canonicalCidr(cidr).replace('/', '-');

export function blockKey(cidr: string): string {
  return `${BLOCK_PREFIX}${familyDir(parseCidr(cidr).family)}/block/${cidrSegment(cidr)}`;
}

export function affinityKey(host: string, cidr: string): string {
  return `${HOST_PREFIX}${host}/${familyDir(parseCidr(cidr).family)}/block/${cidrSegment(cidr)}`;
}

export function hostAffinityPrefix(host: string): string {
  return `${HOST_PREFIX}${host}/`;
}

export function handleKey(handleId: string): string {
  return HANDLE_PREFIX + handleId;
}

export function validateHandleId(handleId: string): void {
  if (!handleId || handleId.includes('/') || handleId.length > 253) {
    throw new ValidationError([{ path: 'handleID', message: `'${handleId}' is not a valid handle (non-empty, no '/', at most 253 characters)` }]);
  }
}

export function validateHostName(host: string): void {
  if (!host || host.includes('/') || host.length > 253) {
    throw new ValidationError([{ path: 'host', message: `'${host}' is not a valid host name (non-empty, no '/')` }]);
  }
}

/** Parses an affinity key back to host and block CIDR; undefined for keys that are not affinities. */
export function parseAffinityKey(key: string): { host: string; cidr: string } | undefined {
  const m = /^\/calico\/ipam\/v2\/host\/([^/]+)\/ipv[46]\/block\/([^/]+)-(\d+)$/.exec(key);
  return m ? { host: m[1]!, cidr: `${m[2]}/${m[3]}` } : undefined;
}

export function hostOfAffinity(affinity: string | null): string | undefined {
  return affinity?.startsWith('host:') ? affinity.slice(5) : undefined;
}

// ---- codecs: decode is defensive (etcd content may be written by other tools) ----

function corrupt(key: string, why: string): ValidationError {
  return new ValidationError([{ path: key, message: `stored IPAM object is malformed: ${why}` }]);
}

export function encodeBlock(block: AllocationBlock): string {
  return JSON.stringify(block);
}

export function decodeBlock(key: string, text: string): AllocationBlock {
  const raw = JSON.parse(text) as Partial<AllocationBlock>;
  if (typeof raw.cidr !== 'string' || !Array.isArray(raw.allocations) || !Array.isArray(raw.unallocated)) {
    throw corrupt(key, 'block needs cidr, allocations and unallocated');
  }
  return {
    cidr: canonicalCidr(raw.cidr),
    affinity: typeof raw.affinity === 'string' ? raw.affinity : null,
    ...(raw.affinityClaimTime ? { affinityClaimTime: raw.affinityClaimTime } : {}),
    strictAffinity: raw.strictAffinity === true,
    allocations: raw.allocations.map((a) => (typeof a === 'number' ? a : null)),
    unallocated: raw.unallocated.filter((n) => typeof n === 'number'),
    attributes: (raw.attributes ?? []).map((a) => ({ handle_id: a?.handle_id ?? null, secondary: a?.secondary ?? null })),
    deleted: raw.deleted === true,
    sequenceNumber: Number(raw.sequenceNumber ?? 0),
    sequenceNumberForAllocation: { ...(raw.sequenceNumberForAllocation ?? {}) },
  };
}

export function encodeAffinity(affinity: BlockAffinity): string {
  return JSON.stringify(affinity);
}

export function decodeAffinity(key: string, text: string): BlockAffinity {
  const raw = JSON.parse(text) as Partial<BlockAffinity>;
  const state = raw.state ?? 'confirmed'; // Calico wrote no state before v3.x: such affinities are confirmed
  if (state !== 'pending' && state !== 'confirmed' && state !== 'pendingDeletion') throw corrupt(key, `unknown affinity state '${String(state)}'`);
  return { state, deleted: raw.deleted === true };
}

export function encodeHandle(handle: IpamHandle): string {
  return JSON.stringify(handle);
}

export function decodeHandle(key: string, text: string): IpamHandle {
  const raw = JSON.parse(text) as Partial<IpamHandle>;
  if (typeof raw.handleID !== 'string' || typeof raw.block !== 'object' || raw.block === null) throw corrupt(key, 'handle needs handleID and block');
  return { handleID: raw.handleID, block: { ...raw.block }, deleted: raw.deleted === true };
}

export function encodeConfig(config: IpamConfig): string {
  return JSON.stringify({
    strict_affinity: config.strictAffinity,
    auto_allocate_blocks: config.autoAllocateBlocks,
    maxBlocksPerHost: config.maxBlocksPerHost,
    ...(config.kubeVirtVMAddressPersistence !== undefined ? { kubeVirtVMAddressPersistence: config.kubeVirtVMAddressPersistence } : {}),
    ...(config.ipCooldownSeconds ? { ipCooldownSeconds: config.ipCooldownSeconds } : {}),
  });
}

/**
 * Calico writes this JSON with omitempty: an absent boolean is false (only a
 * missing key means "defaults": see IpamStore.config()).
 */
export function decodeConfig(text: string): IpamConfig {
  const raw = JSON.parse(text) as { strict_affinity?: boolean; auto_allocate_blocks?: boolean; maxBlocksPerHost?: number; kubeVirtVMAddressPersistence?: string; ipCooldownSeconds?: number };
  const kv = raw.kubeVirtVMAddressPersistence;
  return {
    strictAffinity: raw.strict_affinity === true,
    autoAllocateBlocks: raw.auto_allocate_blocks === true,
    maxBlocksPerHost: Number(raw.maxBlocksPerHost ?? 0),
    ...(kv === 'Enabled' || kv === 'Disabled' ? { kubeVirtVMAddressPersistence: kv } : {}),
    ...(typeof raw.ipCooldownSeconds === 'number' && raw.ipCooldownSeconds > 0 ? { ipCooldownSeconds: raw.ipCooldownSeconds } : {}),
  };
}

