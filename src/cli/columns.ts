// The table columns `calicoctl get` prints for each kind, with calicoctl's
// headings: `-o ps` (default) and `-o wide` column sets, and every heading a
// `-o custom-columns=` list may name. Pure.
import type { ResourceKind } from '../api/kinds.js';
import { labelSelectorText, type LabelSelector } from '../api/index.js';
import type { Resource } from '../api/resource.js';

export type ColumnValue = (r: Resource) => string;

export interface KindColumns {
  ps: string[];
  wide: string[];
  /** Heading -> cell. NAMESPACE is added for namespaced kinds. */
  values: Record<string, ColumnValue>;
}

/** Reads a dotted path (`spec.bgp.asNumber`), undefined when any step is missing. */
export function valueAt(r: unknown, path: string): unknown {
  let node: unknown = r;
  for (const step of path.split('.').filter(Boolean)) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[step];
  }
  return node;
}

/** How a value appears in a cell: scalars as text, lists joined with commas, label maps as k=v,k=v. */
export function cellText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.map((x) => cellText(x)).join(',');
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    return entries.every(([, x]) => typeof x !== 'object' || x === null) ? entries.map(([k, x]) => `${k}=${cellText(x)}`).join(',') : JSON.stringify(v);
  }
  return String(v);
}

const at =
  (path: string, fallback = ''): ColumnValue =>
  (r) => {
    const v = valueAt(r, path);
    return v === undefined || v === null ? fallback : cellText(v);
  };

const name: ColumnValue = (r) => r.metadata.name;
const namespace: ColumnValue = (r) => r.metadata.namespace ?? '';

/** Long CIDR lists are cut like calicoctl does for IPReservation. */
const joinTruncated =
  (path: string, max: number): ColumnValue =>
  (r) => {
    const text = cellText(valueAt(r, path));
    return text.length > max ? text.slice(0, max - 3) + '...' : text;
  };

const ruleCount =
  (list: string): ColumnValue =>
  (r) => {
    const v = valueAt(r, `spec.${list}`);
    return String(Array.isArray(v) ? v.length : 0);
  };

const policyColumns: KindColumns = {
  ps: ['NAME', 'TIER'],
  wide: ['NAME', 'TIER', 'ORDER', 'SELECTOR'],
  values: { NAME: name, TIER: at('spec.tier', 'default'), ORDER: at('spec.order'), SELECTOR: at('spec.selector'), STAGEDACTION: at('spec.stagedAction') },
};

const setColumns: KindColumns = {
  ps: ['NAME'],
  wide: ['NAME', 'NETS'],
  values: { NAME: name, NETS: at('spec.nets') },
};

const nameOnly: KindColumns = { ps: ['NAME'], wide: ['NAME'], values: { NAME: name } };

export const KIND_COLUMNS: Record<ResourceKind, KindColumns> = {
  NetworkPolicy: policyColumns,
  GlobalNetworkPolicy: policyColumns,
  Tier: { ps: ['NAME', 'ORDER'], wide: ['NAME', 'ORDER'], values: { NAME: name, ORDER: at('spec.order') } },
  NetworkSet: setColumns,
  GlobalNetworkSet: setColumns,
  Profile: { ps: ['NAME'], wide: ['NAME', 'LABELS'], values: { NAME: name, LABELS: at('spec.labelsToApply') } },
  WorkloadEndpoint: {
    ps: ['WORKLOAD', 'NODE', 'NETWORKS', 'INTERFACE'],
    wide: ['NAME', 'WORKLOAD', 'NODE', 'NETWORKS', 'INTERFACE', 'PROFILES', 'NATS'],
    values: {
      NAME: name,
      WORKLOAD: (r) => cellText(valueAt(r, 'spec.workload') || valueAt(r, 'spec.pod')),
      NODE: at('spec.node'),
      ORCHESTRATOR: at('spec.orchestrator'),
      NETWORKS: at('spec.ipNetworks'),
      INTERFACE: at('spec.interfaceName'),
      PROFILES: at('spec.profiles'),
      ADDRESSSPACE: at('spec.addressSpace'),
      NATS: (r) => {
        const nats = valueAt(r, 'spec.ipNATs');
        return Array.isArray(nats) ? nats.map((n) => `${cellText(valueAt(n, 'internalIP'))}:${cellText(valueAt(n, 'externalIP'))}`).join(',') : '';
      },
    },
  },
  HostEndpoint: {
    ps: ['NAME', 'NODE'],
    wide: ['NAME', 'NODE', 'INTERFACE', 'IPS', 'PROFILES'],
    values: { NAME: name, NODE: at('spec.node'), INTERFACE: at('spec.interfaceName'), IPS: at('spec.expectedIPs'), PROFILES: at('spec.profiles') },
  },
  IPPool: {
    ps: ['NAME', 'CIDR', 'SELECTOR'],
    wide: ['NAME', 'CIDR', 'NAT', 'IPIPMODE', 'VXLANMODE', 'DISABLED', 'DISABLEBGPEXPORT', 'SELECTOR'],
    values: {
      NAME: name,
      CIDR: at('spec.cidr'),
      NAT: at('spec.natOutgoing', 'false'),
      IPIPMODE: at('spec.ipipMode', 'Never'),
      VXLANMODE: at('spec.vxlanMode', 'Never'),
      DISABLED: at('spec.disabled', 'false'),
      DISABLEBGPEXPORT: at('spec.disableBGPExport', 'false'),
      SELECTOR: at('spec.nodeSelector'),
      BLOCKSIZE: at('spec.blockSize'),
    },
  },
  AddressSpace: {
    ps: ['NAME', 'PREFIX'],
    wide: ['NAME', 'PREFIX', 'SERVICES'],
    values: {
      NAME: name,
      PREFIX: at('spec.prefix'),
      SERVICES: (r) => {
        const svcs = valueAt(r, 'spec.services');
        return Array.isArray(svcs) ? svcs.map((s) => `${cellText(valueAt(s, 'ipv4'))}=${cellText(valueAt(s, 'ipv6'))}`).join(',') : '';
      },
    },
  },
  IPReservation: {
    ps: ['NAME'],
    wide: ['NAME', 'CIDRS'],
    values: { NAME: name, CIDRS: joinTruncated('spec.reservedCIDRs', 80) },
  },
  BGPConfiguration: {
    ps: ['NAME', 'LOGSEVERITY', 'MESHENABLED', 'ASNUMBER'],
    wide: ['NAME', 'LOGSEVERITY', 'MESHENABLED', 'ASNUMBER'],
    values: {
      NAME: name,
      LOGSEVERITY: at('spec.logSeverityScreen'),
      MESHENABLED: at('spec.nodeToNodeMeshEnabled', '-'),
      ASNUMBER: at('spec.asNumber', '-'),
    },
  },
  BGPPeer: {
    ps: ['NAME', 'PEERIP', 'NODE', 'ASN'],
    wide: ['NAME', 'PEERIP', 'NODE', 'ASN'],
    values: {
      NAME: name,
      PEERIP: at('spec.peerIP'),
      // calicoctl shows the node, else the node selector, else "(global)".
      NODE: (r) => cellText(valueAt(r, 'spec.node') || valueAt(r, 'spec.nodeSelector') || '(global)'),
      ASN: at('spec.asNumber'),
    },
  },
  // calicoctl counts each rule list (`len .Spec.ExportV4`: 0 when absent).
  BGPFilter: {
    ps: ['NAME', 'NUMEXPORTV4', 'NUMIMPORTV4', 'NUMEXPORTV6', 'NUMIMPORTV6'],
    wide: ['NAME', 'NUMEXPORTV4', 'NUMIMPORTV4', 'NUMEXPORTV6', 'NUMIMPORTV6'],
    values: {
      NAME: name,
      NUMEXPORTV4: ruleCount('exportV4'),
      NUMIMPORTV4: ruleCount('importV4'),
      NUMEXPORTV6: ruleCount('exportV6'),
      NUMIMPORTV6: ruleCount('importV6'),
    },
  },
  FelixConfiguration: nameOnly,
  Node: {
    ps: ['NAME'],
    wide: ['NAME', 'ASN', 'IPV4', 'IPV6'],
    values: {
      NAME: name,
      // A node without its own AS number uses the cluster default, shown in parentheses.
      ASN: (r) => (valueAt(r, 'spec.bgp') === undefined ? '' : cellText(valueAt(r, 'spec.bgp.asNumber') ?? '(64512)')),
      IPV4: at('spec.bgp.ipv4Address'),
      IPV6: at('spec.bgp.ipv6Address'),
    },
  },
  ClusterInformation: {
    ps: ['NAME', 'CLUSTERGUID', 'CLUSTERTYPE', 'CALICOVERSION', 'DATASTOREREADY'],
    wide: ['NAME', 'CLUSTERGUID', 'CLUSTERTYPE', 'CALICOVERSION', 'DATASTOREREADY'],
    values: {
      NAME: name,
      CLUSTERGUID: at('spec.clusterGUID'),
      CLUSTERTYPE: at('spec.clusterType'),
      CALICOVERSION: at('spec.calicoVersion'),
      DATASTOREREADY: at('spec.datastoreReady'),
    },
  },
  KubeControllersConfiguration: nameOnly,
  // Staged policies list like the policies they stage, so users see what is staged.
  StagedNetworkPolicy: policyColumns,
  StagedGlobalNetworkPolicy: policyColumns,
  StagedKubernetesNetworkPolicy: {
    ps: ['NAME'],
    wide: ['NAME', 'PODSELECTOR'],
    values: { NAME: name, PODSELECTOR: (r) => labelSelectorText(valueAt(r, 'spec.podSelector') as LabelSelector | undefined), STAGEDACTION: at('spec.stagedAction', 'Set') },
  },
  IPAMConfiguration: {
    ps: ['NAME', 'STRICTAFFINITY', 'AUTOALLOCATEBLOCKS'],
    wide: ['NAME', 'STRICTAFFINITY', 'AUTOALLOCATEBLOCKS', 'MAXBLOCKSPERHOST'],
    values: {
      NAME: name,
      STRICTAFFINITY: at('spec.strictAffinity', 'false'),
      AUTOALLOCATEBLOCKS: at('spec.autoAllocateBlocks', 'false'),
      MAXBLOCKSPERHOST: at('spec.maxBlocksPerHost', '0'),
    },
  },
  // calicoctl has no BlockAffinity table; these are the CRD's printer columns.
  BlockAffinity: {
    ps: ['NAME', 'CIDR', 'NODE'],
    wide: ['NAME', 'CIDR', 'NODE', 'TYPE', 'STATE'],
    values: { NAME: name, CIDR: at('spec.cidr'), NODE: at('spec.node'), TYPE: at('spec.type'), STATE: at('spec.state') },
  },
  CalicoNodeStatus: {
    ps: ['NAME', 'NODE'],
    wide: ['NAME', 'NODE', 'CLASSES'],
    values: { NAME: name, NODE: at('spec.node'), CLASSES: at('spec.classes') },
  },
};

/** The headings for one kind and output mode; NAMESPACE leads for namespaced kinds when asked. */
export function headingsFor(kind: ResourceKind, opts: { wide: boolean; withNamespace: boolean }): string[] {
  const cols = KIND_COLUMNS[kind];
  const base = opts.wide ? cols.wide : cols.ps;
  return opts.withNamespace ? ['NAMESPACE', ...base] : base;
}

/** The cell for a heading, or undefined when the kind has no such column. */
export function columnValue(kind: ResourceKind, heading: string): ColumnValue | undefined {
  if (heading === 'NAMESPACE') return namespace;
  return KIND_COLUMNS[kind].values[heading];
}

export function knownHeadings(kind: ResourceKind): string[] {
  return ['NAMESPACE', ...Object.keys(KIND_COLUMNS[kind].values)];
}
