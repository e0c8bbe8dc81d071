// NetworkSet (namespaced) and GlobalNetworkSet: named lists of CIDRs whose
// labels policy selectors match, e.g. "the partner's address ranges". Nets of
// both families may be mixed; bare addresses are stored as /32 or /128 and
// host bits are cleared, as Calico does when it parses them.
import type { ObjectMeta } from '../resource.js';
import { list, obj, type Cursor, type KindSchema } from '../validate.js';
import { cidr } from '../values.js';

export interface NetworkSetSpec {
  nets?: string[];
}

export type GlobalNetworkSetSpec = NetworkSetSpec;

const nets = list(cidr({ allowBareIP: true }), { unique: true });

/** Calico sets this label itself when it maps a namespace into selectors; a set may not claim it. */
export const NAMESPACE_LABEL = 'projectcalico.org/namespace';

function noNamespaceLabel(meta: ObjectMeta, at: Cursor): void {
  if (meta.labels && Object.prototype.hasOwnProperty.call(meta.labels, NAMESPACE_LABEL)) {
    at.field('labels').entry(NAMESPACE_LABEL).add(`"${NAMESPACE_LABEL}" is reserved (Calico derives it from the namespace): remove it`);
  }
}

export const networkSetSchema: KindSchema<NetworkSetSpec> = {
  spec: () => obj<NetworkSetSpec>({ nets }),
  metadata: noNamespaceLabel,
};

export const globalNetworkSetSchema: KindSchema<GlobalNetworkSetSpec> = {
  spec: () => obj<GlobalNetworkSetSpec>({ nets }),
  metadata: noNamespaceLabel,
};
