// WorkloadEndpoint (a workload's interface: container, VM, pod) and
// HostEndpoint (a host's own interface or addresses). Policy applies to both
// through their labels and profiles.
import { familyOf } from '../values.js';
import { INTERFACE_NAME, portNameProblem, resourceName } from '../names.js';
import { int, list, obj, str, type Check, type Cursor, type KindSchema } from '../validate.js';
import { addressOrNetwork, cidr, ipAddress, macAddress, protocol, protocolSupportsPorts, type Protocol } from '../values.js';
import { tryParseCIDR, tryParseIP, cidrContainsIP } from '../../base/ip.js';

export interface EndpointPort {
  name: string;
  protocol: Protocol;
  port: number;
}

export interface WorkloadEndpointPort {
  name?: string;
  protocol: Protocol;
  port: number;
  hostPort?: number;
  hostIP?: string;
}

export interface IPNAT {
  internalIP: string;
  externalIP: string;
}

export interface WorkloadEndpointSpec {
  orchestrator?: string;
  workload?: string;
  node?: string;
  containerID?: string;
  pod?: string;
  endpoint?: string;
  serviceAccountName?: string;
  /** The workload's own addresses, each a /32 or /128. */
  ipNetworks?: string[];
  ipNATs?: IPNAT[];
  ipv4Gateway?: string;
  ipv6Gateway?: string;
  profiles?: string[];
  /** Host side of the workload's link, e.g. cali0123456789a. */
  interfaceName?: string;
  mac?: string;
  ports?: WorkloadEndpointPort[];
  allowSpoofedSourcePrefixes?: string[];
  qosControls?: Record<string, number>;
  /**
   * calico-ts extension: the AddressSpace whose overlapping IPv4 this
   * endpoint uses; its traffic is translated to IPv6 (docs/xlat.md).
   */
  addressSpace?: string;
}

export interface HostEndpointSpec {
  node?: string;
  /** A host interface, or "*" for all of the host's interfaces. */
  interfaceName?: string;
  expectedIPs?: string[];
  profiles?: string[];
  ports?: EndpointPort[];
}

const portProtocol: Check<Protocol> = (v, at) => {
  const p = protocol(v, at);
  if ((typeof p === 'number' || typeof p === 'string') && !at.hasIssue() && !protocolSupportsPorts(p)) {
    at.add(`protocol ${String(p)} has no ports: must be TCP, UDP or SCTP`);
  }
  return p;
};

const portNameCheck: Check<string> = str({ test: portNameProblem });

const interfaceName = (allowAll: boolean): Check<string> =>
  str({
    test: (s) =>
      (allowAll && s === '*') || INTERFACE_NAME.test(s)
        ? undefined
        : `"${s}" is not a valid interface name: 1-15 letters, digits, '_', '.' or '-'${allowAll ? ', or "*" for all interfaces' : ''}`,
  });

const CONTAINER_ID = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

const QOS_FIELDS = [
  'ingressBandwidth', 'ingressBurst', 'ingressPeakrate', 'ingressMinburst',
  'egressBandwidth', 'egressBurst', 'egressPeakrate', 'egressMinburst',
  'ingressPacketRate', 'ingressPacketBurst', 'egressPacketRate', 'egressPacketBurst',
  'ingressMaxConnections', 'egressMaxConnections',
] as const;

/**
 * The spec field that names the workload inside a WorkloadEndpoint's name, per
 * orchestrator, as Calico's client computes it: Kubernetes pods by `pod`, CNI
 * containers by `containerID` (so `workload` is optional there), libnetwork
 * endpoints by the fixed word "libnetwork", everything else by `workload`.
 */
export function workloadSegmentField(orchestrator: string): 'pod' | 'containerID' | 'workload' | undefined {
  if (orchestrator === 'k8s') return 'pod';
  if (orchestrator === 'cni') return 'containerID';
  if (orchestrator === 'libnetwork') return undefined;
  return 'workload';
}

/**
 * Calico's WorkloadEndpoint name: node, orchestrator, workload segment and
 * endpoint joined by "-", with each "-" inside them doubled; undefined when an
 * identifier it needs is missing.
 */
export function workloadEndpointName(ids: { node?: string; orchestrator?: string; workload?: string; pod?: string; containerID?: string; endpoint?: string }): string | undefined {
  const esc = (s: string): string => s.replace(/-/g, '--');
  if (!ids.node || !ids.orchestrator || !ids.endpoint) return undefined;
  const field = workloadSegmentField(ids.orchestrator);
  const segment = field === undefined ? ids.orchestrator : ids[field];
  if (!segment) return undefined;
  return [ids.node, ids.orchestrator, segment, ids.endpoint].map(esc).join('-');
}

// Built once: validation runs for every endpoint written or read, and only
// the name check depends on the resource.
const WORKLOAD_ENDPOINT_FIELDS = {
  orchestrator: resourceName('orchestrator'),
  workload: resourceName('workload name'),
  node: resourceName('node name'),
  containerID: str({ pattern: CONTAINER_ID, patternHint: 'letters, digits and "-", starting and ending with a letter or digit' }),
  pod: resourceName('pod name'),
  endpoint: resourceName('endpoint name'),
  serviceAccountName: resourceName('service account name'),
  ipNetworks: list(cidr({ allowBareIP: true })),
  ipNATs: list(obj<IPNAT>({ internalIP: ipAddress(), externalIP: ipAddress() }, { required: ['internalIP', 'externalIP'] })),
  ipv4Gateway: ipAddress(4),
  ipv6Gateway: ipAddress(6),
  profiles: list(resourceName('profile name')),
  interfaceName: interfaceName(false),
  mac: macAddress,
  ports: list(
    obj<WorkloadEndpointPort>(
      { name: portNameCheck, protocol: portProtocol, port: int({ min: 1, max: 65535 }), hostPort: int({ min: 0, max: 65535 }), hostIP: addressOrNetwork },
      {
        required: ['protocol', 'port'],
        refine: (p, at) => {
          if (!p.name && !p.hostPort) at.field('name').add('is required unless hostPort is set');
        },
      },
    ),
  ),
  allowSpoofedSourcePrefixes: list(cidr()),
  qosControls: obj(Object.fromEntries(QOS_FIELDS.map((f) => [f, int({ min: 0 })]))),
  addressSpace: resourceName('address space name'),
};

export const workloadEndpointSchema: KindSchema<WorkloadEndpointSpec> = {
  spec: (name) =>
    obj<WorkloadEndpointSpec>(WORKLOAD_ENDPOINT_FIELDS, {
      // Calico computes (or checks) the name from node, orchestrator, the
      // orchestrator's workload segment and endpoint, so those are required.
      required: ['node', 'orchestrator', 'endpoint', 'interfaceName'],
      refine: (s, at) => {
        (s.ipNetworks ?? []).forEach((n, i) => {
          const c = tryParseCIDR(n);
          if (c && c.prefixLength !== (c.family === 4 ? 32 : 128)) {
            at.field('ipNetworks').item(i).add(`"${n}" holds several addresses: a workload's ipNetworks must each be a single address (/32 or /128)`);
          }
        });
        (s.ipNATs ?? []).forEach((nat, i) => {
          const p = at.field('ipNATs').item(i);
          const internal = tryParseIP(nat.internalIP ?? '');
          if (internal && !(s.ipNetworks ?? []).some((n) => { const c = tryParseCIDR(n); return c !== undefined && cidrContainsIP(c, internal); })) {
            p.field('internalIP').add(`"${nat.internalIP}" is not one of the endpoint's ipNetworks`);
          }
          const fi = familyOf(nat.internalIP ?? '');
          const fe = familyOf(nat.externalIP ?? '');
          if (fi && fe && fi !== fe) p.field('externalIP').add('must be the same IP family as internalIP');
        });
        if (s.addressSpace !== undefined) addressSpaceRules(s, at);
        const field = typeof s.orchestrator === 'string' ? workloadSegmentField(s.orchestrator) : undefined;
        if (field !== undefined && s[field] === undefined && !at.field(field).hasIssue()) {
          const why = field === 'workload' ? 'the workload this endpoint belongs to' : `orchestrator ${s.orchestrator} names its endpoints by ${field}`;
          at.field(field).add(`is required (${why})`);
        }
        const want = workloadEndpointName(s);
        if (want !== undefined && name && want !== name) {
          at.issues.add('metadata.name', `"${name}" does not match the endpoint's identifiers: a WorkloadEndpoint is named <node>-<orchestrator>-<${field ?? 'orchestrator'}>-<endpoint> with "-" doubled inside each, here "${want}"`);
        }
      },
    }),
  nameFromSpec: (spec) => workloadEndpointName(spec),
};

/**
 * An endpoint in an address space: IPv4 only (its IPv6 addresses are the
 * translated ones), and a MAC, because the host addresses the workload's
 * frames to its translated address without NDP (the workload never answers
 * NDP for an address it does not know it has).
 */
function addressSpaceRules(s: WorkloadEndpointSpec, at: Cursor): void {
  if (!s.mac) at.field('mac').add(`is required for an endpoint in address space "${s.addressSpace}": the host sends the workload its translated traffic without NDP, so it must know the workload's MAC`);
  (s.ipNetworks ?? []).forEach((n, i) => {
    if (n.includes(':')) at.field('ipNetworks').item(i).add(`"${n}" is IPv6: an endpoint in address space "${s.addressSpace}" has IPv4 addresses only (its IPv6 form is derived from the space's prefix); remove it or the addressSpace`);
  });
  if ((s.ipNATs ?? []).length) at.field('ipNATs').add(`floating IPs are not supported for an endpoint in address space "${s.addressSpace}": remove ipNATs or the addressSpace`);
  if ((s.allowSpoofedSourcePrefixes ?? []).length) at.field('allowSpoofedSourcePrefixes').add(`not supported for an endpoint in address space "${s.addressSpace}" (its sources are translated into the space): remove it or the addressSpace`);
}

export const hostEndpointSchema: KindSchema<HostEndpointSpec> = {
  spec: () =>
    obj<HostEndpointSpec>(
      {
        node: resourceName('node name'),
        interfaceName: interfaceName(true),
        expectedIPs: list(ipAddress()),
        profiles: list(resourceName('profile name')),
        ports: list(obj<EndpointPort>({ name: portNameCheck, protocol: portProtocol, port: int({ min: 1, max: 65535 }) }, { required: ['name', 'protocol', 'port'] })),
      },
      {
        required: ['node'],
        refine: (s, at) => {
          if (!s.interfaceName && (s.expectedIPs?.length ?? 0) === 0) {
            at.field('interfaceName').add('set interfaceName or expectedIPs (or both): a host endpoint needs one of them');
          }
        },
      },
    ),
};
