// BgpInputs for the lab topologies: node i owns 198.18.i.0/26 and 2001:db8:100:i::/122.
import type { BgpInputs, BgpNode, BgpPeerResource, BgpConfigurationSpec } from '../../../src/bgp/model.js';
import type { LabHost } from './netns-lab.js';

export const POOLS = [
  { name: 'default-ipv4-ippool', cidr: '198.18.0.0/16' },
  { name: 'default-ipv6-ippool', cidr: '2001:db8:100::/48' },
];

export const blockV4 = (h: LabHost) => `198.18.${h.index}.0/26`;
export const blockV6 = (h: LabHost) => `2001:db8:100:${h.index.toString(16)}::/122`;

export function labNode(h: LabHost, extra: Partial<BgpNode> = {}): BgpNode {
  return { name: h.name, ipv4Address: `${h.v4}/24`, ipv6Address: `${h.v6}/64`, ...extra };
}

export function inputsFor(
  h: LabHost,
  opts: {
    nodes: BgpNode[];
    peers?: BgpPeerResource[];
    globalConfig?: BgpConfigurationSpec;
    localEndpointAddresses?: string[];
    blocks?: string[];
  },
): BgpInputs {
  return {
    nodeName: h.name,
    nodes: opts.nodes,
    peers: opts.peers ?? [],
    pools: POOLS,
    blocks: opts.blocks ?? [blockV4(h), blockV6(h)],
    ...(opts.globalConfig ? { globalConfig: opts.globalConfig } : {}),
    ...(opts.localEndpointAddresses ? { localEndpointAddresses: opts.localEndpointAddresses } : {}),
  };
}
