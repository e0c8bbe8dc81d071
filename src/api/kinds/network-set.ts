// NetworkSet (namespaced) and GlobalNetworkSet: named lists of CIDRs whose
// labels policy selectors match, e.g. "the partner's address ranges". Nets of
// both families may be mixed; bare addresses are stored as /32 or /128 and
// host bits are cleared, as Calico does when it parses them.
import { list, obj, type KindSchema } from '../validate.js';
import { cidr } from '../values.js';

export interface NetworkSetSpec {
  nets?: string[];
}

export type GlobalNetworkSetSpec = NetworkSetSpec;

const nets = list(cidr({ allowBareIP: true }));

export const networkSetSchema: KindSchema<NetworkSetSpec> = {
  spec: () => obj<NetworkSetSpec>({ nets }),
};

export const globalNetworkSetSchema: KindSchema<GlobalNetworkSetSpec> = {
  spec: () => obj<GlobalNetworkSetSpec>({ nets }),
};
