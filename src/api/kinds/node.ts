// Node: one per host, written by calico-node at start-up (addresses given or
// detected, BGP identity) and read by the BGP renderer and IPAM. The status
// (WireGuard keys, pod CIDRs) is the agent's and is passed through.
import { resourceName } from '../names.js';
import { list, obj, oneOf, str, type KindSchema } from '../validate.js';
import { addressWithPrefix, asNumber, cidr, ipAddress, macAddress } from '../values.js';

export interface NodeBGPSpec {
  /** The node's IPv4 address with prefix length, e.g. "192.0.2.10/24": the prefix tells which peers share its subnet. */
  ipv4Address?: string;
  ipv6Address?: string;
  /** Overrides BGPConfiguration's AS for this node. */
  asNumber?: number;
  /** Set on route reflectors: the cluster ID they reflect for (IPv4 dotted form). */
  routeReflectorClusterID?: string;
  ipv4IPIPTunnelAddr?: string;
}

export interface NodeAddress {
  address: string;
  type?: 'CalicoNodeIP' | 'InternalIP' | 'ExternalIP';
}

export interface OrchRef {
  orchestrator: string;
  nodeName?: string;
}

export interface NodeSpec {
  bgp?: NodeBGPSpec;
  ipv4VXLANTunnelAddr?: string;
  vxlanTunnelMACAddr?: string;
  ipv6VXLANTunnelAddr?: string;
  vxlanTunnelMACAddrV6?: string;
  orchRefs?: OrchRef[];
  addresses?: NodeAddress[];
  wireguard?: { interfaceIPv4Address?: string; interfaceIPv6Address?: string };
  interfaces?: { name?: string; addresses?: string[] }[];
}

export const nodeSchema: KindSchema<NodeSpec> = {
  spec: () =>
    obj<NodeSpec>({
      bgp: obj<NodeBGPSpec>(
        {
          ipv4Address: addressWithPrefix(4),
          ipv6Address: addressWithPrefix(6),
          asNumber,
          routeReflectorClusterID: ipAddress(4),
          ipv4IPIPTunnelAddr: ipAddress(4),
        },
        {
          refine: (b, at) => {
            if (Object.keys(b).length === 0) at.add('must not be empty: set ipv4Address and/or ipv6Address, or remove bgp');
          },
        },
      ),
      ipv4VXLANTunnelAddr: ipAddress(4),
      vxlanTunnelMACAddr: macAddress,
      ipv6VXLANTunnelAddr: ipAddress(6),
      vxlanTunnelMACAddrV6: macAddress,
      orchRefs: list(obj<OrchRef>({ orchestrator: str({ allowEmpty: false }), nodeName: str() }, { required: ['orchestrator'] })),
      addresses: list(
        obj<NodeAddress>(
          { address: cidr({ allowBareIP: true }), type: oneOf(['CalicoNodeIP', 'InternalIP', 'ExternalIP'] as const) },
          { required: ['address'] },
        ),
      ),
      wireguard: obj({ interfaceIPv4Address: ipAddress(4), interfaceIPv6Address: ipAddress(6) }),
      interfaces: list(obj({ name: resourceName('interface name'), addresses: list(cidr({ allowBareIP: true })) })),
    }),
  hasStatus: true,
};

