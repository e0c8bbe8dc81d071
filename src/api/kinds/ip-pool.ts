// IPPool (where workload addresses come from, split into blocks hosts claim)
// and IPReservation (addresses IPAM must never hand out). Only rules intrinsic
// to one pool live here; overlap with other pools and "no CIDR change while
// in use" are IPAM's cross-resource checks (src/ipam).
import { cidrOverlaps, parseCIDR, tryParseCIDR, tryParseCIDRWithIP } from '../../base/ip.js';
import { bool, int, list, obj, oneOf, type Check, type KindSchema } from '../validate.js';
import { cidr, selector } from '../values.js';

export const ENCAP_MODES = ['Never', 'Always', 'CrossSubnet'] as const;
export type EncapMode = (typeof ENCAP_MODES)[number];
export const ALLOWED_USES = ['Workload', 'Tunnel', 'LoadBalancer'] as const;
export type AllowedUse = (typeof ALLOWED_USES)[number];

export const DEFAULT_BLOCK_SIZE = { 4: 26, 6: 122 } as const;
export const BLOCK_SIZE_RANGE = { 4: [20, 32], 6: [116, 128] } as const;

export interface IPPoolSpec {
  cidr: string;
  /** Default 26 (IPv4) / 122 (IPv6). */
  blockSize?: number;
  ipipMode?: EncapMode;
  vxlanMode?: EncapMode;
  natOutgoing?: boolean;
  disabled?: boolean;
  disableBGPExport?: boolean;
  /** Which nodes may claim blocks from this pool. Default "all()". */
  nodeSelector?: string;
  namespaceSelector?: string;
  allowedUses?: AllowedUse[];
  assignmentMode?: 'Automatic' | 'Manual';
}

export interface IPReservationSpec {
  reservedCIDRs?: string[];
}

const LINK_LOCAL = [parseCIDR('169.254.0.0/16'), parseCIDR('fe80::/10')];

/**
 * The pool CIDR: Calico's client stores it masked before its own "strictly
 * masked" check runs, so `192.0.2.5/24` is accepted and stored as 192.0.2.0/24.
 */
const poolCIDR: Check<string> = (v, at) => {
  const out = cidr()(v, at);
  const c = tryParseCIDR(out);
  if (c && LINK_LOCAL.some((ll) => cidrOverlaps(ll, c))) {
    at.add(`"${out}" overlaps the link-local range ${c.family === 4 ? '169.254.0.0/16' : 'fe80::/10'}, which cannot be a pool`);
  }
  return out;
};

export const ipPoolSchema: KindSchema<IPPoolSpec> = {
  spec: () =>
    obj<IPPoolSpec>(
      {
        cidr: poolCIDR,
        blockSize: int(),
        ipipMode: oneOf(ENCAP_MODES),
        vxlanMode: oneOf(ENCAP_MODES),
        natOutgoing: bool(),
        disabled: bool(),
        disableBGPExport: bool(),
        nodeSelector: selector(),
        namespaceSelector: selector(),
        allowedUses: list(oneOf(ALLOWED_USES), { maxItems: 10, unique: true }),
        assignmentMode: oneOf(['Automatic', 'Manual'] as const),
      },
      {
        required: ['cidr'],
        refine: (s, at) => {
          const parsed = typeof s.cidr === 'string' ? tryParseCIDRWithIP(s.cidr) : undefined;
          if (!parsed) return;
          const family = parsed.cidr.family;
          const [min, max] = BLOCK_SIZE_RANGE[family];
          const blockSize = s.blockSize ?? DEFAULT_BLOCK_SIZE[family];
          if (typeof s.blockSize === 'number' && (s.blockSize < min || s.blockSize > max)) {
            at.field('blockSize').add(`${s.blockSize} is out of range: must be between ${min} and ${max} for an IPv${family} pool`);
          } else if (!s.disabled && parsed.cidr.prefixLength > blockSize) {
            at.field('cidr').add(
              `"${s.cidr}" is smaller than one block (/${blockSize}): use a prefix length of at most ${blockSize}, or a larger blockSize`,
            );
          }
          if (family === 6 && s.ipipMode !== undefined && s.ipipMode !== 'Never') {
            at.field('ipipMode').add('IPIP is not supported on IPv6 pools: must be Never');
          }
          if ((s.ipipMode ?? 'Never') !== 'Never' && (s.vxlanMode ?? 'Never') !== 'Never') {
            at.field('vxlanMode').add('ipipMode and vxlanMode cannot both be enabled');
          }
          const uses = s.allowedUses ?? [];
          if (uses.includes('LoadBalancer')) {
            if (uses.length > 1) at.field('allowedUses').add('LoadBalancer cannot be combined with Workload or Tunnel');
            if ((s.ipipMode ?? 'Never') !== 'Never' || (s.vxlanMode ?? 'Never') !== 'Never') {
              at.field('allowedUses').add('a LoadBalancer pool cannot have IPIP or VXLAN enabled');
            }
            if (s.disableBGPExport) at.field('disableBGPExport').add('a LoadBalancer pool cannot disable BGP export');
            if (s.nodeSelector !== undefined && s.nodeSelector.trim() !== 'all()') {
              at.field('nodeSelector').add('a LoadBalancer pool must have nodeSelector all()');
            }
          }
          if (uses.includes('Tunnel') && s.namespaceSelector) {
            at.field('namespaceSelector').add('a pool with allowed use Tunnel cannot have a namespaceSelector');
          }
        },
      },
    ),
  defaults: (s) => {
    const family = tryParseCIDR(s.cidr)?.family ?? 4;
    return {
      ...s,
      blockSize: s.blockSize ?? DEFAULT_BLOCK_SIZE[family],
      ipipMode: s.ipipMode ?? 'Never',
      vxlanMode: s.vxlanMode ?? 'Never',
      natOutgoing: s.natOutgoing ?? false,
      nodeSelector: s.nodeSelector === undefined || s.nodeSelector === '' ? 'all()' : s.nodeSelector,
      allowedUses: s.allowedUses && s.allowedUses.length > 0 ? s.allowedUses : ['Workload', 'Tunnel'],
      assignmentMode: s.assignmentMode ?? 'Automatic',
    };
  },
  hasStatus: true,
};

export const ipReservationSchema: KindSchema<IPReservationSpec> = {
  spec: () => obj<IPReservationSpec>({ reservedCIDRs: list(cidr({ allowBareIP: true })) }),
};
