// IPAMConfiguration and BlockAffinity: IPAM's own state seen as resources.
//
// IPAMConfiguration "default" IS the IPAM configuration the allocator and
// `calicoctl ipam configure` use (etcd key /calico/ipam/v2/config, Calico's
// model JSON); the datastore maps the resource onto that key, so there is no
// second copy that could disagree. The key has no room for metadata, so labels
// and annotations are refused.
//
// BlockAffinity is a read-only view of the affinities IPAM keeps under
// /calico/ipam/v2/host/<node>/ipv4|6/block/<cidr>: `calicoctl get
// blockaffinities` shows them; writes are refused (they would bypass the
// allocator's claim/release protocol). Use `calicoctl ipam release`, or
// disable/delete the IPPool, to give blocks up.
import { createHash } from 'node:crypto';
import type { ObjectMeta } from '../resource.js';
import { resourceName } from '../names.js';
import { bool, describe, int, obj, str, type Check, type Cursor, type KindSchema } from '../validate.js';
import { cidr } from '../values.js';

export interface IPAMConfigurationSpec {
  /** true: a host only uses addresses from its own blocks (no borrowing). */
  strictAffinity?: boolean;
  /** 0 = no limit. */
  maxBlocksPerHost?: number;
  /** false: hosts never claim new blocks themselves (needs strictAffinity, see ipamConfigurationProblems). */
  autoAllocateBlocks?: boolean;
  kubeVirtVMAddressPersistence?: 'Enabled' | 'Disabled';
  ipCooldownSeconds?: number;
}

export const IPAM_CONFIGURATION_NAME = 'default';

/** Calico's schema defaults for IPAMConfiguration (and IPAM's when no config is stored). */
export const IPAM_CONFIGURATION_DEFAULTS = { strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 0 } as const;

const exact = <T extends string>(values: readonly T[]): Check<T> => (v, at) => {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) at.add(`${describe(v)} is not valid: must be one of ${values.join(', ')}`);
  return v as T;
};

/**
 * The combinations Calico's IPAM client refuses when configured (`calicoctl
 * ipam configure`): one rule set for the resource and for the IPAM client.
 */
export function ipamConfigurationProblems(c: { strictAffinity: boolean; autoAllocateBlocks: boolean; maxBlocksPerHost: number }): { field: keyof IPAMConfigurationSpec; message: string }[] {
  const out: { field: keyof IPAMConfigurationSpec; message: string }[] = [];
  if (!c.strictAffinity && !c.autoAllocateBlocks) {
    out.push({ field: 'autoAllocateBlocks', message: 'strictAffinity and autoAllocateBlocks cannot both be false: a host would have no way to get addresses' });
  }
  if (c.maxBlocksPerHost > 0 && !c.strictAffinity) {
    out.push({ field: 'maxBlocksPerHost', message: 'a limit needs strictAffinity: true (otherwise hosts over the limit borrow from others\' blocks): set strictAffinity: true, or maxBlocksPerHost: 0' });
  }
  return out;
}

function noMetadata(kind: string, where: string) {
  return (meta: ObjectMeta, at: Cursor): void => {
    for (const f of ['labels', 'annotations'] as const) {
      if (meta[f] !== undefined && Object.keys(meta[f]!).length > 0) {
        at.field(f).add(`${kind} is stored in ${where}, which keeps no ${f}: remove them`);
      }
    }
  };
}

export const ipamConfigurationSchema: KindSchema<IPAMConfigurationSpec> = {
  spec: () =>
    obj<IPAMConfigurationSpec>(
      {
        strictAffinity: bool(),
        maxBlocksPerHost: int({ min: 0, max: 1_000_000 }),
        autoAllocateBlocks: bool(),
        // No KubeVirt here: accepted (and stored) so a Calico export applies; it has no effect.
        kubeVirtVMAddressPersistence: exact(['Enabled', 'Disabled'] as const),
        ipCooldownSeconds: (v, at) => {
          const n = int({ min: 0, max: 1200 })(v, at);
          if (typeof n === 'number' && n > 0 && !at.hasIssue()) {
            at.add('a release cool-down is not supported by calico-ts (released addresses are reused oldest-first, without waiting): set 0 or remove it');
          }
          return n;
        },
      },
      {
        refine: (s, at) => {
          const full = { ...IPAM_CONFIGURATION_DEFAULTS, ...s };
          if (typeof full.strictAffinity !== 'boolean' || typeof full.autoAllocateBlocks !== 'boolean' || typeof full.maxBlocksPerHost !== 'number') return;
          for (const p of ipamConfigurationProblems(full)) if (!at.field(p.field).hasIssue()) at.field(p.field).add(p.message);
        },
      },
    ),
  name: (name) => (name === IPAM_CONFIGURATION_NAME ? undefined : `"${name}" is not valid: there is one IPAMConfiguration and it is named "default"`),
  metadata: noMetadata('IPAMConfiguration', "IPAM's configuration key (/calico/ipam/v2/config)"),
  defaults: (s) => ({ ...IPAM_CONFIGURATION_DEFAULTS, ...s }),
};

export const BLOCK_AFFINITY_STATES = ['', 'confirmed', 'pending', 'pendingDeletion'] as const;

export interface BlockAffinitySpec {
  state: (typeof BLOCK_AFFINITY_STATES)[number];
  node: string;
  /** "host" for node affinities. */
  type?: string;
  cidr: string;
  deleted?: boolean;
}

/** Why BlockAffinity writes are refused (datastore and CLI use the same words). */
export const BLOCK_AFFINITY_READ_ONLY =
  "BlockAffinity is a read-only view of IPAM's block affinities: calicoctl cannot create, change or delete them (that would bypass IPAM's claim and release); use 'calicoctl ipam release', or disable or delete the IPPool";

export const blockAffinitySchema: KindSchema<BlockAffinitySpec> = {
  spec: () =>
    obj<BlockAffinitySpec>(
      {
        state: exact(BLOCK_AFFINITY_STATES),
        node: resourceName('node name'),
        type: str(),
        cidr: cidr({ strict: true }),
        deleted: (v, at) => {
          const b = bool()(v, at);
          if (b === true) at.add('cannot be true (deletion is IPAM\'s internal marker)');
          return b;
        },
      },
      { required: ['state', 'node', 'cidr'] },
    ),
  defaults: (s) => ({ ...s, deleted: s.deleted ?? false }),
};

/**
 * Calico's BlockAffinity name: `<node>-<cidr with . : / as ->` (node1-192-0-2-0-26);
 * a name that would reach 253 characters keeps the node's start and gets 11
 * hex characters of SHA-256 of node and CIDR, as Calico does.
 */
export function blockAffinityName(node: string, blockCidr: string): string {
  const cidrName = blockCidr.replace(/[.:/]/g, '-');
  const name = `${node}-${cidrName}`;
  if (name.length < 253) return name;
  const hash = createHash('sha256').update(`${node}+${cidrName}`).digest('hex').slice(0, 11);
  return `${node.slice(0, 252 - cidrName.length - 13)}-${cidrName}-${hash}`;
}
