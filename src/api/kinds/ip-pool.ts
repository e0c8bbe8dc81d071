// IPPool (where workload addresses come from, split into blocks hosts claim)
// and IPReservation (addresses IPAM must never hand out). Only rules intrinsic
// to one pool live here; overlap with other pools and "no CIDR change while
// in use" are IPAM's cross-resource checks (src/ipam).
//
// Encapsulation: calico-ts routes workload traffic without encapsulation (BGP
// or same-subnet routes). This kernel has no IPIP and VXLAN is not
// implemented, so ipipMode and vxlanMode accept only Never (or empty, which
// Calico also reads as Never): a pool asking for a tunnel is refused instead
// of silently carrying traffic unencapsulated.
import { cidrOverlaps, parseCIDR, tryParseCIDR, tryParseCIDRWithIP } from '../../base/ip.js';
import { formatCIDR } from '../../base/ip.js';
import { bool, describe, int, list, obj, oneOf, type Check, type KindSchema } from '../validate.js';
import { cidr, selector } from '../values.js';

export const ENCAP_MODES = ['Never', 'Always', 'CrossSubnet'] as const;
export type EncapMode = (typeof ENCAP_MODES)[number];

export const IPIP_REFUSED =
  'IPIP encapsulation is not supported by calico-ts (this kernel has no IPIP; workload traffic is routed without encapsulation): set ipipMode: Never or remove it';
export const VXLAN_REFUSED =
  'VXLAN encapsulation is not supported by calico-ts (routing without encapsulation is the design; VXLAN may come later as an opt-in overlay): set vxlanMode: Never or remove it';

/** Calico's enum (exact case; "" means Never), then our refusal of anything but Never. */
const encapMode = (refusal: string): Check<EncapMode> => (v, at) => {
  if (v === '') return 'Never';
  if (typeof v !== 'string' || !(ENCAP_MODES as readonly string[]).includes(v)) {
    at.add(`${describe(v)} is not valid: must be one of ${ENCAP_MODES.join(', ')}; calico-ts supports only Never`);
  } else if (v !== 'Never') at.add(`"${v}" is refused: ${refusal}`);
  return v as EncapMode;
};
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
 * The pool CIDR: Calico's client refuses host bits ("IPPool CIDR is not
 * strictly masked"), so `192.0.2.5/24` is an error naming 192.0.2.0/24; the
 * stored form is canonical (`2001:DB8:0::/48` -> `2001:db8::/48`).
 */
const poolCIDR: Check<string> = (v, at) => {
  const parsed = typeof v === 'string' ? tryParseCIDRWithIP(v) : undefined;
  if (parsed?.hadHostBits) {
    at.add(`${describe(v)} is not strictly masked (host bits set): did you mean "${formatCIDR(parsed.cidr)}"?`);
    return v as string;
  }
  const out = cidr()(v, at);
  if (at.hasIssue()) return out;
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
        blockSize: int({ min: 0, max: 128 }),
        ipipMode: encapMode(IPIP_REFUSED),
        vxlanMode: encapMode(VXLAN_REFUSED),
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
          // 0 means "the default", as in Calico.
          const blockSize = s.blockSize || DEFAULT_BLOCK_SIZE[family];
          if (at.field('blockSize').hasIssue()) {
            // already reported
          } else if (typeof s.blockSize === 'number' && s.blockSize !== 0 && (s.blockSize < min || s.blockSize > max)) {
            at.field('blockSize').add(`${s.blockSize} is out of range: must be between ${min} and ${max} for an IPv${family} pool`);
          } else if (!s.disabled && parsed.cidr.prefixLength > blockSize) {
            at.field('cidr').add(
              `"${s.cidr}" is smaller than one block (/${blockSize}): use a prefix length of at most ${blockSize}, or a larger blockSize`,
            );
          }
          // ipipMode / vxlanMode other than Never are refused by their own checks
          // (Calico's "not both", "no IPIP on IPv6" and "no encapsulation on a
          // LoadBalancer pool" rules are implied).
          const uses = s.allowedUses ?? [];
          if (uses.includes('LoadBalancer')) {
            if (uses.length > 1) at.field('allowedUses').add('LoadBalancer cannot be combined with Workload or Tunnel');
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
      blockSize: s.blockSize || DEFAULT_BLOCK_SIZE[family],
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
