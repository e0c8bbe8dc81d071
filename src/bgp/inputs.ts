// Adapter: projectcalico.org/v3 resources (as the syncer holds them) plus this
// host's block affinities -> BgpInputs. Pure. The only decisions here are
// Calico's conventions: BGPConfiguration "default" is cluster-wide,
// "node.<name>" is per node; passwords come inline or from a secret resolver.

import type { Resource } from '../api/resource.js';
import type { BGPConfigurationSpec, BGPPassword, BGPPeerSpec, SecretKeyRef } from '../api/kinds/bgp.js';
import type { NodeSpec } from '../api/kinds/node.js';
import type { IPPoolSpec } from '../api/kinds/ip-pool.js';
import type { BGPFilterSpec } from '../api/kinds/bgp-filter.js';
import type { BgpConfigurationSpec, BgpFilterResource, BgpInputs, BgpNode, BgpPeerResource, LogSeverity } from './model.js';

export interface BgpResources {
  nodeName: string;
  nodes: Resource<NodeSpec>[];
  bgpConfigurations: Resource<BGPConfigurationSpec>[];
  bgpPeers: Resource<BGPPeerSpec>[];
  /** BGPFilters (all of them; a peer uses the ones it names). */
  bgpFilters?: Resource<BGPFilterSpec>[];
  ipPools: Resource<IPPoolSpec>[];
  /** CIDRs of this host's confirmed block affinities (src/ipam). */
  blocks: string[];
  /** Addresses of this host's WorkloadEndpoints (spec.ipNetworks, without the length). */
  localEndpointAddresses?: string[];
  /** AddressSpace prefixes: translated endpoint addresses inside them are announced (docs/design/xlat.md). */
  addressSpacePrefixes?: string[];
  /** Resolves a BGPPeer/mesh secretKeyRef; without it such a password is missing and the peer is reported. */
  resolveSecret?: (ref: SecretKeyRef) => string | undefined;
}

/**
 * The password, or which secret could not be read. A secretKeyRef nothing can
 * resolve (calico-ts has no Kubernetes Secrets) must not turn into "no
 * password": the plan then renders no session (unless the ref is optional).
 */
function password(p: BGPPassword | undefined, resolve: BgpResources['resolveSecret']): { value?: string; unresolved?: string } {
  if (!p) return {};
  if (p.inline !== undefined) return { value: p.inline };
  const ref = p.secretKeyRef;
  if (!ref) return {};
  const value = resolve?.(ref);
  if (value !== undefined) return { value };
  return ref.optional ? {} : { unresolved: `${ref.name}/${ref.key}` };
}

function configOf(r: Resource<BGPConfigurationSpec> | undefined, resolve: BgpResources['resolveSecret']): BgpConfigurationSpec | undefined {
  const s = r?.spec;
  if (!s) return undefined;
  const out: BgpConfigurationSpec = {};
  if (s.logSeverityScreen !== undefined) out.logSeverityScreen = (s.logSeverityScreen === 'Trace' ? 'Debug' : s.logSeverityScreen) as LogSeverity;
  if (s.nodeToNodeMeshEnabled !== undefined) out.nodeToNodeMeshEnabled = s.nodeToNodeMeshEnabled;
  if (s.asNumber !== undefined) out.asNumber = s.asNumber;
  if (s.listenPort !== undefined) out.listenPort = s.listenPort;
  if (s.communities) out.communities = s.communities;
  if (s.prefixAdvertisements) out.prefixAdvertisements = s.prefixAdvertisements;
  const mesh = password(s.nodeMeshPassword, resolve);
  if (mesh.value !== undefined) out.nodeMeshPassword = mesh.value;
  if (mesh.unresolved !== undefined) out.nodeMeshPasswordUnresolved = mesh.unresolved;
  if (s.nodeMeshMaxRestartTime !== undefined) out.nodeMeshMaxRestartTime = s.nodeMeshMaxRestartTime;
  if (s.bindMode !== undefined) out.bindMode = s.bindMode;
  if (s.ignoredInterfaces !== undefined) out.ignoredInterfaces = [...s.ignoredInterfaces];
  for (const k of ['serviceClusterIPs', 'serviceExternalIPs', 'serviceLoadBalancerIPs'] as const) {
    if (s[k] !== undefined) out[k] = s[k].map((b) => b.cidr);
  }
  if (s.serviceLoadBalancerAggregation !== undefined) out.serviceLoadBalancerAggregation = s.serviceLoadBalancerAggregation;
  if (s.programClusterRoutes !== undefined) out.programClusterRoutes = s.programClusterRoutes;
  return out;
}

export function bgpInputsFromResources(r: BgpResources): BgpInputs {
  const nodes: BgpNode[] = r.nodes.map((n) => {
    const b = n.spec?.bgp ?? {};
    const node: BgpNode = { name: n.metadata.name, labels: n.metadata.labels ?? {} };
    if (b.ipv4Address) node.ipv4Address = b.ipv4Address;
    if (b.ipv6Address) node.ipv6Address = b.ipv6Address;
    if (b.asNumber !== undefined) node.asNumber = b.asNumber;
    if (b.routeReflectorClusterID) node.routeReflectorClusterID = b.routeReflectorClusterID;
    return node;
  });
  const peers: BgpPeerResource[] = r.bgpPeers.map((p) => {
    const s = p.spec ?? {};
    const spec: BgpPeerResource['spec'] = {};
    for (const k of ['node', 'nodeSelector', 'peerIP', 'peerSelector', 'asNumber', 'ttlSecurity', 'keepaliveTime', 'maxRestartTime', 'sourceAddress', 'keepOriginalNextHop', 'nextHopMode', 'numAllowedLocalASNumbers', 'filters', 'localASNumber', 'reversePeering', 'reachableBy'] as const) {
      if (s[k] !== undefined) (spec as Record<string, unknown>)[k] = s[k];
    }
    const pw = password(s.password, r.resolveSecret);
    if (pw.value !== undefined) spec.password = pw.value;
    if (pw.unresolved !== undefined) spec.passwordUnresolved = pw.unresolved;
    return { name: p.metadata.name, spec };
  });
  const filters: BgpFilterResource[] = (r.bgpFilters ?? []).map((f) => {
    const spec: BgpFilterResource['spec'] = {};
    for (const k of ['exportV4', 'importV4', 'exportV6', 'importV6'] as const) if (f.spec?.[k]) spec[k] = f.spec[k];
    return { name: f.metadata.name, spec };
  });
  const nodeListenPorts: Record<string, number> = {};
  for (const c of r.bgpConfigurations) {
    const m = /^node\.(.+)$/.exec(c.metadata.name);
    if (m && c.spec?.listenPort !== undefined) nodeListenPorts[m[1]!] = c.spec.listenPort;
  }
  const globalConfig = configOf(r.bgpConfigurations.find((c) => c.metadata.name === 'default'), r.resolveSecret);
  const nodeConfig = configOf(r.bgpConfigurations.find((c) => c.metadata.name === `node.${r.nodeName}`), r.resolveSecret);
  return {
    nodeName: r.nodeName,
    nodes,
    peers,
    ...(filters.length ? { filters } : {}),
    ...(Object.keys(nodeListenPorts).length ? { nodeListenPorts } : {}),
    pools: r.ipPools
      .filter((p) => p.spec?.cidr)
      .map((p) => ({ name: p.metadata.name, cidr: p.spec!.cidr, disabled: p.spec!.disabled ?? false, disableBGPExport: p.spec!.disableBGPExport ?? false })),
    blocks: r.blocks,
    ...(globalConfig ? { globalConfig } : {}),
    ...(nodeConfig ? { nodeConfig } : {}),
    ...(r.localEndpointAddresses ? { localEndpointAddresses: r.localEndpointAddresses } : {}),
    ...(r.addressSpacePrefixes?.length ? { addressSpacePrefixes: [...r.addressSpacePrefixes].sort() } : {}),
  };
}
