// The projectcalico.org/v3 kinds this project stores, with the facts every
// layer needs about them: plural (used in etcd keys and the CLI) and scope.

import { BLOCK_AFFINITY_READ_ONLY } from './kinds/ipam.js';

export const API_GROUP = 'projectcalico.org';
export const API_VERSION = 'projectcalico.org/v3';

export const RESOURCE_KINDS = [
  'NetworkPolicy',
  'GlobalNetworkPolicy',
  'Tier',
  'NetworkSet',
  'GlobalNetworkSet',
  'Profile',
  'WorkloadEndpoint',
  'HostEndpoint',
  'IPPool',
  'IPReservation',
  'BGPConfiguration',
  'BGPPeer',
  'BGPFilter',
  'FelixConfiguration',
  'Node',
  'ClusterInformation',
  'KubeControllersConfiguration',
  'StagedNetworkPolicy',
  'StagedGlobalNetworkPolicy',
  'StagedKubernetesNetworkPolicy',
  'IPAMConfiguration',
  'BlockAffinity',
  'CalicoNodeStatus',
  'AddressSpace',
] as const;

export type ResourceKind = (typeof RESOURCE_KINDS)[number];

export interface KindInfo {
  kind: ResourceKind;
  /** Lower-case plural: etcd key segment and `calicoctl get <plural>`. */
  plural: string;
  namespaced: boolean;
  /** Other names calicoctl accepts on the command line (singular, short forms). */
  aliases: string[];
  /** Set for kinds users may read but not write: why, and what to do instead. */
  readOnly?: string;
}

const info = (kind: ResourceKind, plural: string, namespaced: boolean, aliases: string[], readOnly?: string): KindInfo => ({
  kind,
  plural,
  namespaced,
  aliases,
  ...(readOnly !== undefined ? { readOnly } : {}),
});

export const KIND_INFO: Record<ResourceKind, KindInfo> = {
  AddressSpace: info('AddressSpace', 'addressspaces', false, ['addressspace', 'aspace', 'aspaces']),
  NetworkPolicy: info('NetworkPolicy', 'networkpolicies', true, ['networkpolicy', 'policy', 'policies', 'pol', 'pols', 'netpol', 'netpols', 'np', 'nps', 'cnp']),
  GlobalNetworkPolicy: info('GlobalNetworkPolicy', 'globalnetworkpolicies', false, ['globalnetworkpolicy', 'gnp', 'gnps', 'globalpolicy', 'globalpolicies']),
  Tier: info('Tier', 'tiers', false, ['tier']),
  NetworkSet: info('NetworkSet', 'networksets', true, ['networkset', 'netset', 'netsets']),
  GlobalNetworkSet: info('GlobalNetworkSet', 'globalnetworksets', false, ['globalnetworkset', 'gns', 'gnetsets']),
  Profile: info('Profile', 'profiles', false, ['profile', 'pro', 'pros']),
  WorkloadEndpoint: info('WorkloadEndpoint', 'workloadendpoints', true, ['workloadendpoint', 'wep', 'weps']),
  HostEndpoint: info('HostEndpoint', 'hostendpoints', false, ['hostendpoint', 'hep', 'heps']),
  IPPool: info('IPPool', 'ippools', false, ['ippool', 'ipp', 'ipps', 'pool', 'pools']),
  IPReservation: info('IPReservation', 'ipreservations', false, ['ipreservation', 'ipr', 'iprs', 'reservation', 'reservations']),
  BGPConfiguration: info('BGPConfiguration', 'bgpconfigurations', false, ['bgpconfiguration', 'bgpconfig', 'bgpconfigs']),
  BGPPeer: info('BGPPeer', 'bgppeers', false, ['bgppeer', 'bgpp', 'bgpps', 'bp', 'bps', 'peer', 'peers']),
  BGPFilter: info('BGPFilter', 'bgpfilters', false, ['bgpfilter', 'bgpf', 'bgpfs', 'bf', 'bfs']),
  FelixConfiguration: info('FelixConfiguration', 'felixconfigurations', false, ['felixconfiguration', 'felixconfig', 'felixconfigs']),
  Node: info('Node', 'nodes', false, ['node', 'no', 'nos']),
  ClusterInformation: info('ClusterInformation', 'clusterinformations', false, ['clusterinformation', 'clusterinfo', 'clusterinfos']),
  KubeControllersConfiguration: info('KubeControllersConfiguration', 'kubecontrollersconfigurations', false, ['kubecontrollersconfiguration', 'kubecontrollersconfig', 'kubecontrollersconfigs']),
  StagedNetworkPolicy: info('StagedNetworkPolicy', 'stagednetworkpolicies', true, ['stagednetworkpolicy', 'stagedpolicy', 'stagedpolicies', 'snp', 'scnp', 'spol', 'spols']),
  StagedGlobalNetworkPolicy: info('StagedGlobalNetworkPolicy', 'stagedglobalnetworkpolicies', false, ['stagedglobalnetworkpolicy', 'sgnp', 'sgnps']),
  StagedKubernetesNetworkPolicy: info('StagedKubernetesNetworkPolicy', 'stagedkubernetesnetworkpolicies', true, [
    'stagedkubernetesnetworkpolicy',
    'stagedkubernetespolicy',
    'stagedkubernetespolicies',
    'sknp',
    'skpol',
    'skpols',
  ]),
  IPAMConfiguration: info('IPAMConfiguration', 'ipamconfigurations', false, ['ipamconfiguration', 'ipamconfig', 'ipamconfigs']),
  BlockAffinity: info('BlockAffinity', 'blockaffinities', false, ['blockaffinity', 'affinity', 'affinities'], BLOCK_AFFINITY_READ_ONLY),
  CalicoNodeStatus: info('CalicoNodeStatus', 'caliconodestatuses', false, ['caliconodestatus', 'nodestatus', 'nodestatuses']),
};

/** Resolves what a user typed (`ippools`, `IPPool`, `gnp` ...) to a kind, or undefined. */
export function resolveKind(name: string): ResourceKind | undefined {
  const lower = name.toLowerCase();
  for (const k of RESOURCE_KINDS) {
    const i = KIND_INFO[k];
    if (k.toLowerCase() === lower || i.plural === lower || i.aliases.includes(lower)) return k;
  }
  return undefined;
}

export function isResourceKind(kind: string): kind is ResourceKind {
  return (RESOURCE_KINDS as readonly string[]).includes(kind);
}
