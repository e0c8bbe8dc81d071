// BGPConfiguration (cluster-wide "default" plus per-node "node.<name>"
// overrides) and BGPPeer (global, per node, or by node selector; remote side
// by address or by selecting Calico nodes).
//
// Defaults are only written into the "default" BGPConfiguration: a per-node
// resource that carried them would silently override the cluster's values.
//
// BGPPeer.password: Calico only knows `secretKeyRef` (a Kubernetes Secret).
// Without Kubernetes there is nowhere to resolve that from, so we accept
// `password: { inline: "..." }`: the password stored in the resource itself
// (readable by anyone who can read BGPPeers; protect etcd accordingly). The
// field-support table refuses secretKeyRef, so a password is never dropped.
import { formatIP, tryParseIP } from '../../base/ip.js';
import { resourceName } from '../names.js';
import { bool, int, list, obj, oneOf, str, describe, type Check, type KindSchema } from '../validate.js';
import { asNumber, cidr, duration, ipAddress, selector } from '../values.js';

export const DEFAULT_AS_NUMBER = 64512;
export const DEFAULT_BGP_PORT = 179;
export const LOG_SEVERITIES = ['Trace', 'Debug', 'Info', 'Warning', 'Error', 'Fatal'] as const;
export type LogSeverity = (typeof LOG_SEVERITIES)[number];

export interface SecretKeyRef {
  name: string;
  key: string;
  optional?: boolean;
}

export interface BGPPassword {
  secretKeyRef?: SecretKeyRef;
  /** Our extension for non-Kubernetes installs; see the file comment. */
  inline?: string;
}

export interface Community {
  name: string;
  value: string;
}

export interface PrefixAdvertisement {
  cidr: string;
  communities: string[];
}

export interface BGPConfigurationSpec {
  logSeverityScreen?: LogSeverity;
  nodeToNodeMeshEnabled?: boolean;
  asNumber?: number;
  serviceClusterIPs?: { cidr: string }[];
  serviceExternalIPs?: { cidr: string }[];
  serviceLoadBalancerIPs?: { cidr: string }[];
  serviceLoadBalancerAggregation?: 'Enabled' | 'Disabled';
  communities?: Community[];
  prefixAdvertisements?: PrefixAdvertisement[];
  listenPort?: number;
  nodeMeshPassword?: BGPPassword;
  nodeMeshMaxRestartTime?: string;
  bindMode?: 'None' | 'NodeIP';
  ignoredInterfaces?: string[];
  localWorkloadPeeringIPV4?: string;
  localWorkloadPeeringIPV6?: string;
  programClusterRoutes?: 'Enabled' | 'Disabled' | 'EnabledIPIPOnly' | 'EnabledNoEncapOnly';
  ipv4NormalRoutePriority?: number;
  ipv6NormalRoutePriority?: number;
}

export interface BGPPeerSpec {
  node?: string;
  nodeSelector?: string;
  /** "192.0.2.1", "192.0.2.1:1179" or "[2001:db8::1]:1179". */
  peerIP?: string;
  asNumber?: number;
  localASNumber?: number;
  peerSelector?: string;
  keepOriginalNextHop?: boolean;
  nextHopMode?: 'Auto' | 'Self' | 'Keep';
  password?: BGPPassword;
  sourceAddress?: 'UseNodeIP' | 'None';
  maxRestartTime?: string;
  keepaliveTime?: string;
  numAllowedLocalASNumbers?: number;
  ttlSecurity?: number;
  reachableBy?: string;
  filters?: string[];
  localWorkloadSelector?: string;
  reversePeering?: 'Auto' | 'Manual';
}

export const bgpPassword: Check<BGPPassword> = obj<BGPPassword>(
  {
    secretKeyRef: obj<SecretKeyRef>({ name: resourceName('secret name'), key: str({ allowEmpty: false }), optional: bool() }, { required: ['name', 'key'] }),
    inline: str({ allowEmpty: false, maxLength: 80 }),
  },
  {
    refine: (p, at) => {
      if ((p.secretKeyRef === undefined) === (p.inline === undefined)) {
        at.add('set exactly one of secretKeyRef (a Kubernetes Secret) or inline (the password itself)');
      }
    },
  },
);

/** Splits a peerIP ("ip", "ipv4:port", "[ipv6]:port"); undefined if malformed. */
export function parsePeerIP(text: string): { ip: string; port?: number } | undefined {
  const v6 = /^\[([^\]]+)\]:([0-9]+)$/.exec(text);
  const v4 = /^([0-9.]+):([0-9]+)$/.exec(text);
  const m = v6 ?? v4;
  const host = m ? m[1]! : text;
  const ip = tryParseIP(host);
  if (!ip || (v4 && ip.family !== 4) || (v6 && ip.family !== 6)) return undefined;
  if (!m) return { ip: formatIP(ip) };
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { ip: formatIP(ip), port };
}

const peerIP: Check<string> = (v, at) => {
  const parsed = typeof v === 'string' ? parsePeerIP(v) : undefined;
  if (!parsed) {
    at.add(`${describe(v)} is not valid: must be an IP address, "<IPv4>:<port>" or "[<IPv6>]:<port>" (e.g. "192.0.2.1", "192.0.2.1:179", "[2001:db8::1]:179")`);
    return v as string;
  }
  if (parsed.port === undefined) return parsed.ip;
  return parsed.ip.includes(':') ? `[${parsed.ip}]:${parsed.port}` : `${parsed.ip}:${parsed.port}`;
};

const COMMUNITY = /^([0-9]+):([0-9]+)(:([0-9]+))?$/;

function communityValueProblem(value: string): string | undefined {
  const m = COMMUNITY.exec(value);
  if (!m) return `"${value}" is not a BGP community: use "aa:nn" (standard) or "aa:nn:mm" (large)`;
  const parts = [m[1], m[2], m[4]].filter((x): x is string => x !== undefined).map(Number);
  const limit = parts.length === 2 ? 65535 : 4294967295;
  if (parts.some((p) => p > limit)) {
    return `"${value}" is out of range: each part of a ${parts.length === 2 ? 'standard community must be at most 65535' : 'large community must be at most 4294967295'}`;
  }
  return undefined;
}

// Calico takes a bare address here too (one service IP); stored as a /32 or /128.
const cidrBlock = obj<{ cidr: string }>({ cidr: cidr({ allowBareIP: true }) }, { required: ['cidr'] });

/** Calico compares BGP log levels without case ("info" is Info); stored in Calico's spelling. */
const logSeverity: Check<LogSeverity> = (v, at) => {
  const hit = typeof v === 'string' ? LOG_SEVERITIES.find((x) => x.toLowerCase() === v.toLowerCase()) : undefined;
  if (hit === undefined) {
    at.add(`${describe(v)} is not valid: must be one of ${LOG_SEVERITIES.join(', ')}`);
    return v as LogSeverity;
  }
  return hit;
};
const enabledDisabled = oneOf(['Enabled', 'Disabled'] as const);
const ignoredInterface = str({
  pattern: /^[a-zA-Z0-9_.*-]{1,15}$/,
  patternHint: 'an interface name or pattern (1-15 of letters, digits, "_", ".", "-", "*")',
  // As Calico: ignoring every interface would leave BIRD nothing to resolve next hops through.
  test: (s) => (/^\*+$/.test(s) ? `"${s}" would ignore every interface; name the interfaces (or patterns such as "eth*") to ignore` : undefined),
});

export function isBGPConfigurationName(name: string): boolean {
  return name === 'default' || /^node\..+/.test(name);
}

/**
 * What a per-node BGPConfiguration (`node.<name>`) may set. Calico's confd
 * reads only listenPort, logSeverityScreen and prefixAdvertisements (with its
 * communities) from one, and ignores the rest; we also apply bindMode and
 * ignoredInterfaces per node. Anything else is refused there rather than
 * silently doing nothing.
 */
export const PER_NODE_BGP_FIELDS: readonly string[] = ['logSeverityScreen', 'listenPort', 'communities', 'prefixAdvertisements', 'bindMode', 'ignoredInterfaces'];

export const bgpConfigurationSchema: KindSchema<BGPConfigurationSpec> = {
  spec: (name) =>
    obj<BGPConfigurationSpec>(
      {
        logSeverityScreen: logSeverity,
        nodeToNodeMeshEnabled: bool(),
        asNumber,
        serviceClusterIPs: list(cidrBlock),
        serviceExternalIPs: list(cidrBlock),
        serviceLoadBalancerIPs: list(cidrBlock),
        serviceLoadBalancerAggregation: enabledDisabled,
        communities: list(
          obj<Community>({ name: resourceName('community name'), value: str({ test: communityValueProblem }) }, { required: ['name', 'value'] }),
        ),
        prefixAdvertisements: list(obj<PrefixAdvertisement>({ cidr: cidr(), communities: list(str({ allowEmpty: false })) }, { required: ['cidr', 'communities'] })),
        listenPort: int({ min: 1, max: 65535 }),
        nodeMeshPassword: bgpPassword,
        nodeMeshMaxRestartTime: duration,
        bindMode: oneOf(['None', 'NodeIP'] as const),
        ignoredInterfaces: list(ignoredInterface),
        localWorkloadPeeringIPV4: ipAddress(4),
        localWorkloadPeeringIPV6: ipAddress(6),
        programClusterRoutes: oneOf(['Enabled', 'Disabled', 'EnabledIPIPOnly', 'EnabledNoEncapOnly'] as const),
        ipv4NormalRoutePriority: int({ min: 1, max: 2147483646 }),
        ipv6NormalRoutePriority: int({ min: 1, max: 2147483646 }),
      },
      {
        refine: (s, at) => {
          if (name !== 'default') {
            for (const [k, v] of Object.entries(s)) {
              if (v === undefined || PER_NODE_BGP_FIELDS.includes(k)) continue;
              at.field(k).add(`is only read from the cluster-wide BGPConfiguration "default" (Calico ignores it on a per-node one): move it there; per node only ${PER_NODE_BGP_FIELDS.join(', ')} apply`);
            }
          }
          // As Calico: mesh settings make no sense with the mesh off (they would silently do nothing).
          if (s.nodeToNodeMeshEnabled === false) {
            if (s.nodeMeshPassword !== undefined) at.field('nodeMeshPassword').add('must be empty when nodeToNodeMeshEnabled is false (there are no mesh sessions to protect)');
            if (s.nodeMeshMaxRestartTime !== undefined) at.field('nodeMeshMaxRestartTime').add('must be empty when nodeToNodeMeshEnabled is false (there are no mesh sessions)');
          }
          // As Calico: communities are only used by prefixAdvertisements.
          if ((s.communities?.length ?? 0) > 0 && !(s.prefixAdvertisements?.length ?? 0)) {
            at.field('communities').add('needs prefixAdvertisements: a community only takes effect when a prefix advertisement uses it');
          }
          // A prefix advertisement names communities defined above, or gives literal values.
          const defined = new Set((s.communities ?? []).map((c) => c.name));
          (s.prefixAdvertisements ?? []).forEach((pa, i) => {
            (pa.communities ?? []).forEach((c, j) => {
              if (typeof c === 'string' && !defined.has(c) && communityValueProblem(c)) {
                at.field('prefixAdvertisements').item(i).field('communities').item(j).add(`"${c}" is neither a community defined in spec.communities nor a community value ("aa:nn" or "aa:nn:mm")`);
              }
            });
          });
        },
      },
    ),
  name: (name) =>
    isBGPConfigurationName(name) ? undefined : `"${name}" is not a BGPConfiguration name: use "default" (cluster-wide) or "node.<nodename>" (one node)`,
  defaults: (s, name) =>
    name !== 'default'
      ? s
      : {
          ...s,
          logSeverityScreen: s.logSeverityScreen ?? 'Info',
          nodeToNodeMeshEnabled: s.nodeToNodeMeshEnabled ?? true,
          asNumber: s.asNumber ?? DEFAULT_AS_NUMBER,
          listenPort: s.listenPort ?? DEFAULT_BGP_PORT,
          serviceLoadBalancerAggregation: s.serviceLoadBalancerAggregation ?? 'Enabled',
        },
};

export const bgpPeerSchema: KindSchema<BGPPeerSpec> = {
  spec: () =>
    obj<BGPPeerSpec>(
      {
        node: resourceName('node name'),
        nodeSelector: selector(),
        peerIP,
        asNumber,
        localASNumber: asNumber,
        peerSelector: selector(),
        keepOriginalNextHop: bool(),
        nextHopMode: oneOf(['Auto', 'Self', 'Keep'] as const),
        password: bgpPassword,
        sourceAddress: oneOf(['UseNodeIP', 'None'] as const),
        maxRestartTime: duration,
        keepaliveTime: duration,
        numAllowedLocalASNumbers: int({ min: 0, max: 2147483647 }),
        ttlSecurity: int({ min: 0, max: 255 }),
        reachableBy: ipAddress(),
        filters: list(resourceName('BGPFilter name')),
        localWorkloadSelector: selector(),
        reversePeering: oneOf(['Auto', 'Manual'] as const),
      },
      {
        refine: (s, at) => {
          const set = (x: string | undefined): boolean => x !== undefined && x !== '';
          if (set(s.node) && set(s.nodeSelector)) at.field('nodeSelector').add('node and nodeSelector cannot both be set');
          if (set(s.peerIP) && set(s.peerSelector)) at.field('peerSelector').add('peerIP and peerSelector cannot both be set');
          if (!set(s.peerIP) && !set(s.peerSelector) && !set(s.localWorkloadSelector)) {
            at.field('peerIP').add('set peerIP (a remote router) or peerSelector (Calico nodes to peer with)');
          }
          if (set(s.peerSelector) && s.asNumber !== undefined) {
            at.field('asNumber').add('must be empty when peerSelector is set (the selected nodes\' own AS numbers are used)');
          }
          if (set(s.peerIP) && s.asNumber === undefined) at.field('asNumber').add('is required with peerIP: the remote AS number');
          if (set(s.localWorkloadSelector)) {
            if (set(s.peerIP)) at.field('peerIP').add('must be empty when localWorkloadSelector is set');
            if (set(s.peerSelector)) at.field('peerSelector').add('must be empty when localWorkloadSelector is set');
            if (s.asNumber === undefined) at.field('asNumber').add('is required when localWorkloadSelector is set');
          }
          if (s.keepOriginalNextHop && s.nextHopMode !== undefined) {
            at.field('keepOriginalNextHop').add('keepOriginalNextHop and nextHopMode cannot both be set (keepOriginalNextHop is deprecated: use nextHopMode: Keep)');
          }
          if (set(s.reachableBy)) {
            if (!set(s.peerIP)) at.field('reachableBy').add('must be empty when peerIP is empty');
            else {
              const peer = parsePeerIP(s.peerIP!);
              const via = tryParseIP(s.reachableBy!);
              if (peer && via && tryParseIP(peer.ip)?.family !== via.family) {
                at.field('reachableBy').add('must be the same IP family as peerIP');
              }
            }
          }
        },
      },
    ),
};
