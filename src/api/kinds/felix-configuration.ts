// FelixConfiguration: the per-host agent's settings, cluster-wide ("default")
// and per node ("node.<nodename>"), overridable by FELIX_<SETTING> environment
// variables. We model the commonly used settings with their types and ranges
// and reject the rest by name, so a typo never silently does nothing.
//
// Defaults are NOT written into stored resources: the effective value is
// resolved at run time (env > node.<name> > default > built-in), and a stored
// default would shadow the cluster-wide value. The built-in values are
// exported as FELIX_CONFIGURATION_DEFAULTS for the agent to use.
import { bool, int, list, map, obj, str, describe, type Check, type KindSchema } from '../validate.js';
import { cidr, duration, ipAddress, port, type Port } from '../values.js';
import { isBGPConfigurationName, LOG_SEVERITIES } from './bgp.js';

/**
 * A setting whose Calico schema is a case-insensitive pattern (`^(?i)(A|B)?$`):
 * Felix matches it case-insensitively; we store Calico's spelling.
 */
function choice<T extends string>(values: readonly T[]): Check<T> {
  return (v, at) => {
    // Felix's patterns all allow the empty string ("use the default"); calicoctl prints such fields.
    if (v === '') return v as T;
    const hit = typeof v === 'string' ? values.find((x) => x.toLowerCase() === v.toLowerCase()) : undefined;
    if (hit === undefined) {
      at.add(`${describe(v)} is not valid: must be one of ${values.join(', ')}`);
      return v as T;
    }
    return hit;
  };
}

/** A setting whose Calico schema is an enum (or a Go `oneof`): exact spelling; "" only where Calico lets it through. */
function exact<T extends string>(values: readonly T[], opts: { allowEmpty?: boolean } = {}): Check<T> {
  return (v, at) => {
    if (v === '' && opts.allowEmpty) return v as T;
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      const hint = typeof v === 'string' ? values.find((x) => x.toLowerCase() === v.toLowerCase()) : undefined;
      at.add(`${describe(v)} is not valid: must be one of ${values.join(', ')}${hint ? ` (did you mean "${hint}"?)` : ''}`);
    }
    return v as T;
  };
}

/** A Go regular expression (checked with the JS engine, which accepts nearly the same syntax). */
const regexp: Check<string> = str({
  test: (x) => {
    try {
      new RegExp(x);
      return undefined;
    } catch {
      return `${describe(x)} is not a valid regular expression`;
    }
  },
});

const IFACE_FILTER = /^[a-zA-Z0-9:._+-]{1,15}$/;
const ifaceFilter = str({ pattern: IFACE_FILTER, patternHint: 'an interface name, or a prefix ending in "+" (1-15 of letters, digits and ":._+-")' });
const IFACE = /^[a-zA-Z0-9_.-]{1,15}$/;
const ifaceKey: Check<string> = (k, at) => {
  if (typeof k !== 'string' || !IFACE.test(k)) at.add(`${describe(k)} is not an interface name (1-15 of letters, digits, '_', '.', '-')`);
  return k as string;
};

export interface ProtoPort {
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  port: number;
  /** Only traffic from / to this CIDR; absent means any. */
  net?: string;
}

const protoPort: Check<ProtoPort> = obj<ProtoPort>(
  { protocol: choice(['TCP', 'UDP', 'SCTP'] as const), port: int({ min: 0, max: 65535 }), net: cidr() },
  { required: ['port'] },
);

const portRange: Check<Port> = (v, at) => {
  const p = port(v, at);
  if (typeof p === 'string' && !/^[0-9]+:[0-9]+$/.test(p)) at.add(`"${p}" is not a port range: use "min:max", e.g. "30000:32767"`);
  return p;
};

const severity = choice(LOG_SEVERITIES);
const u32 = int({ min: 0, max: 4294967295 });
const tcpPort = int({ min: 0, max: 65535 });
const mtu = int({ min: 0, max: 65535 });

const text = str();
const LESS_COMMON_FIELDS = {
  awsSrcDstCheck: exact(['DoNothing', 'Enable', 'Disable'] as const),
  bpfAttachType: exact(['TC', 'TCX', 'Netkit'] as const),
  bpfCTLBLogFilter: text,
  bpfConnectTimeLoadBalancing: exact(['TCP', 'Enabled', 'Disabled'] as const),
  bpfConnectTimeLoadBalancingEnabled: bool(),
  bpfConntrackLogLevel: exact(['Off', 'Debug'] as const),
  bpfConntrackMode: exact(['Auto', 'Userspace', 'BPFProgram'] as const),
  bpfConntrackTimeouts: map(str(), str()),
  bpfDSROptoutCIDRs: list(cidr({ allowBareIP: true })),
  bpfDisableGROForIfaces: regexp,
  bpfDisableUnprivileged: bool(),
  bpfEnforceRPF: choice(['Disabled', 'Strict', 'Loose'] as const),
  bpfExcludeCIDRsFromNAT: list(cidr({ allowBareIP: true })),
  bpfExportBufferSizeMB: int({ min: 0 }),
  bpfExtToServiceConnmark: u32,
  bpfForceTrackPacketsFromIfaces: list(ifaceFilter),
  bpfHostConntrackBypass: bool(),
  bpfHostNetworkedNATWithoutCTLB: exact(['Enabled', 'Disabled'] as const),
  bpfIPFragTimeout: duration,
  bpfIPFragmentReassemblyEnabled: bool(),
  bpfJITHardening: exact(['Auto', 'Strict'] as const),
  bpfKubeProxyHealthzPort: tcpPort,
  bpfKubeProxyMinSyncPeriod: duration,
  bpfL3IfacePattern: regexp,
  bpfLogFilters: map(ifaceKey, str()),
  bpfMaglevMaxEndpointsPerService: int({ min: 1, max: 3000 }),
  bpfMaglevMaxServices: int({ min: 1, max: 3000 }),
  bpfMapSizeConntrack: int({ min: 0 }),
  bpfMapSizeConntrackCleanupQueue: int({ min: 1 }),
  bpfMapSizeConntrackScaling: choice(['Disabled', 'DoubleIfFull'] as const),
  bpfMapSizeIPSets: int({ min: 0 }),
  bpfMapSizeIfState: int({ min: 0 }),
  bpfMapSizeNATAffinity: int({ min: 0 }),
  bpfMapSizeNATBackend: int({ min: 0 }),
  bpfMapSizeNATFrontend: int({ min: 0 }),
  bpfMapSizePerCpuConntrack: int({ min: 0 }),
  bpfMapSizeRoute: int({ min: 0 }),
  bpfOverlayHostSourceIP: exact(['TunnelAddress', 'HostAddress'] as const),
  bpfPSNATPorts: portRange,
  bpfPolicyDebugEnabled: bool(),
  bpfProfiling: exact(['Enabled', 'Disabled'] as const),
  bpfRedirectToPeer: exact(['Enabled', 'Disabled'] as const),
  cgroupV2Path: text,
  debugSimulateCalcGraphHangAfter: duration,
  debugSimulateDataplaneApplyDelay: duration,
  debugSimulateDataplaneHangAfter: duration,
  floatingIPs: exact(['Enabled', 'Disabled'] as const),
  flowLogsCollectorDebugTrace: bool(),
  flowLogsFlushInterval: duration,
  flowLogsGoldmaneServer: text,
  flowLogsLocalReporter: exact(['Disabled', 'Enabled'] as const),
  flowLogsPolicyEvaluationMode: exact(['None', 'Continuous'] as const),
  goGCThreshold: int({ min: -1 }),
  goMaxProcs: int({ min: -1 }),
  goMemoryLimitMB: int({ min: -1 }),
  healthTimeoutOverrides: list(
    obj({ name: str({ pattern: /^[a-zA-Z0-9_ -]+$/, patternHint: 'letters, digits, spaces, "_" or "-"' }), timeout: duration }, { required: ['name', 'timeout'] }),
  ),
  ipv4ElevatedRoutePriority: int({ min: 1, max: 2147483646 }),
  ipv4NormalRoutePriority: int({ min: 1, max: 2147483646 }),
  ipv6ElevatedRoutePriority: int({ min: 1, max: 2147483646 }),
  ipv6NormalRoutePriority: int({ min: 1, max: 2147483646 }),
  istioAmbientMode: exact(['Enabled', 'Disabled'] as const),
  istioDSCPMark: (v, at) => (typeof v === 'number' ? int({ min: 0, max: 63 })(v, at) : text(v, at)),
  liveMigrationRouteConvergenceTime: duration,
  localSubnetL2Reachability: exact(['Disabled', 'PodsAndLoadBalancers'] as const),
  localSubnetL2ReachabilityRefreshInterval: duration,
  nftablesFlowTableDataIfacePattern: regexp,
  nftablesFlowTableOffload: exact(['All', 'Disabled'] as const),
  programClusterRoutes: exact(['Enabled', 'Disabled', 'EnabledIPIPOnly', 'EnabledNoEncapOnly'] as const),
  prometheusMetricsCAFile: text,
  prometheusMetricsCertFile: text,
  prometheusMetricsClientAuth: exact(['RequireAndVerifyClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'NoClientCert'] as const),
  prometheusMetricsKeyFile: text,
  prometheusWireGuardMetricsEnabled: bool(),
  requireMTUFile: bool(),
  routeSyncDisabled: bool(),
  routeTableRanges: list(obj({ min: int({ min: 1, max: 4294967295 }), max: int({ min: 1, max: 4294967295 }) }, { required: ['min', 'max'] })),
  sidecarAccelerationEnabled: bool(),
  windowsManageFirewallRules: exact(['Enabled', 'Disabled'] as const),
  wireguardThreadingEnabled: bool(),
  workloadSourceSpoofing: exact(['Disabled', 'Any'] as const, { allowEmpty: true }),
} satisfies Record<string, Check>;

const FIELDS = {
  // Dataplane selection and general behaviour.
  dataplaneDriver: str(),
  useInternalDataplaneDriver: bool(),
  dataplaneWatchdogTimeout: duration,
  ipv6Support: bool(),
  ipForwarding: exact(['Enabled', 'Disabled'] as const),
  featureDetectOverride: str({ pattern: /^([a-zA-Z0-9-_]+=(true|false|),)*([a-zA-Z0-9-_]+=(true|false|))?$/, patternHint: 'a comma-separated list of Feature=true|false' }),
  featureGates: str({ pattern: /^([a-zA-Z0-9-_]+=([^=,]+),)*([a-zA-Z0-9-_]+=([^=,]+))?$/, patternHint: 'a comma-separated list of Gate=value' }),
  // Refresh intervals.
  routeRefreshInterval: duration,
  interfaceRefreshInterval: duration,
  iptablesRefreshInterval: duration,
  iptablesPostWriteCheckInterval: duration,
  iptablesLockProbeInterval: duration,
  iptablesLockTimeout: duration,
  ipsetsRefreshInterval: duration,
  nftablesRefreshInterval: duration,
  xdpRefreshInterval: duration,
  netlinkTimeout: duration,
  // Rule backend.
  iptablesBackend: exact(['Legacy', 'NFT', 'Auto'] as const),
  nftablesMode: exact(['Disabled', 'Enabled', 'Auto'] as const),
  chainInsertMode: choice(['Insert', 'Append'] as const),
  defaultEndpointToHostAction: choice(['Drop', 'Accept', 'Return'] as const),
  iptablesFilterAllowAction: choice(['Accept', 'Return'] as const),
  iptablesMangleAllowAction: choice(['Accept', 'Return'] as const),
  iptablesFilterDenyAction: choice(['Drop', 'Reject'] as const),
  nftablesFilterAllowAction: choice(['Accept', 'Return'] as const),
  nftablesMangleAllowAction: choice(['Accept', 'Return'] as const),
  nftablesFilterDenyAction: choice(['Drop', 'Reject'] as const),
  iptablesMarkMask: u32,
  nftablesMarkMask: u32,
  maxIpsetSize: int({ min: 1 }),
  disableConntrackInvalidCheck: bool(),
  iptablesNATOutgoingInterfaceFilter: str({ pattern: /^[a-zA-Z0-9:._+-]{1,15}$/, patternHint: 'an interface name or pattern' }),
  // Interfaces and routes.
  interfacePrefix: str({ pattern: /^[a-zA-Z0-9_.,-]+$/, patternHint: 'one or more interface name prefixes separated by ","' }),
  interfaceExclude: str(),
  routeSource: choice(['CalicoIPAM', 'WorkloadIPs'] as const),
  routeTableRange: obj({ min: int({ min: 1, max: 250 }), max: int({ min: 1, max: 250 }) }, { required: ['min', 'max'] }),
  removeExternalRoutes: bool(),
  deviceRouteSourceAddress: ipAddress(4),
  deviceRouteSourceAddressIPv6: ipAddress(6),
  deviceRouteProtocol: int({ min: 1, max: 255 }),
  serviceLoopPrevention: exact(['Drop', 'Reject', 'Disabled'] as const, { allowEmpty: true }),
  externalNodesList: list(cidr({ allowBareIP: true, family: 4 })),
  // Failsafe ports: reachable whatever the policy says, so a host cannot be locked out.
  failsafeInboundHostPorts: list(protoPort),
  failsafeOutboundHostPorts: list(protoPort),
  kubeNodePortRanges: list(portRange, { maxItems: 7 }),
  // NAT.
  natPortRange: portRange,
  natOutgoingAddress: ipAddress(4),
  natOutgoingExclusions: exact(['IPPoolsOnly', 'IPPoolsAndHostIPs'] as const),
  // Logging.
  logPrefix: str({ pattern: /^[a-zA-Z0-9%: /_-]*$/, patternHint: 'letters, digits, spaces and %:/_-' }),
  logActionRateLimit: str({ pattern: /^[1-9][0-9]{0,3}\/(second|minute|hour|day)$/, patternHint: 'a rate such as "10/second"' }),
  logActionRateLimitBurst: int({ min: 0, max: 9999 }),
  logFilePath: str(),
  logSeverityFile: severity,
  logSeverityScreen: severity,
  logSeveritySys: severity,
  logDebugFilenameRegex: regexp,
  // Encapsulation (kept for compatibility; this project routes without it).
  ipipEnabled: bool(),
  ipipMTU: mtu,
  vxlanEnabled: bool(),
  vxlanMTU: mtu,
  vxlanMTUV6: mtu,
  vxlanPort: tcpPort,
  vxlanVNI: int({ min: 0, max: 16777215 }),
  allowVXLANPacketsFromWorkloads: bool(),
  allowIPIPPacketsFromWorkloads: bool(),
  mtuIfacePattern: regexp,
  // Status reporting and health.
  reportingInterval: duration,
  reportingTTL: duration,
  endpointReportingEnabled: bool(),
  endpointReportingDelay: duration,
  endpointStatusPathPrefix: str(),
  healthEnabled: bool(),
  healthHost: str(),
  healthPort: tcpPort,
  prometheusMetricsEnabled: bool(),
  prometheusMetricsHost: str({ pattern: /^[a-zA-Z0-9:._+-]{1,64}$/, patternHint: 'a host name or address' }),
  prometheusMetricsPort: tcpPort,
  // Flow logs as JSON lines in a file (Calico Enterprise's names for its file reporter; flowLogsFlushInterval is below).
  flowLogsFileEnabled: bool(),
  flowLogsFileDirectory: str({ pattern: /^\/[^\0]*$/, patternHint: 'an absolute directory path' }),
  flowLogsFileMaxFiles: int({ min: 1, max: 100 }),
  flowLogsFileMaxFileSizeMB: int({ min: 1, max: 10240 }),
  prometheusGoMetricsEnabled: bool(),
  prometheusProcessMetricsEnabled: bool(),
  usageReportingEnabled: bool(),
  usageReportingInitialDelay: duration,
  usageReportingInterval: duration,
  // OpenStack metadata service.
  metadataAddr: str(),
  metadataPort: tcpPort,
  // Used inside a namespace name ("openstack-region-<region>"): a DNS label of at most 46.
  openstackRegion: str({ maxLength: 46, pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, patternHint: 'a DNS label' }),
  policySyncPathPrefix: str(),
  // eBPF / XDP (not implemented by this project; accepted so existing configs apply).
  bpfEnabled: bool(),
  bpfLogLevel: choice(['Off', 'Info', 'Debug'] as const),
  bpfDataIfacePattern: regexp,
  bpfExternalServiceMode: choice(['Tunnel', 'DSR'] as const),
  bpfKubeProxyIptablesCleanupEnabled: bool(),
  xdpEnabled: bool(),
  genericXDPEnabled: bool(),
  // WireGuard.
  wireguardEnabled: bool(),
  wireguardEnabledV6: bool(),
  wireguardListeningPort: int({ min: 1, max: 65535 }),
  wireguardListeningPortV6: int({ min: 1, max: 65535 }),
  wireguardInterfaceName: str({ pattern: /^[a-zA-Z0-9_.-]{1,15}$/, patternHint: 'an interface name' }),
  wireguardInterfaceNameV6: str({ pattern: /^[a-zA-Z0-9_.-]{1,15}$/, patternHint: 'an interface name' }),
  wireguardMTU: mtu,
  wireguardMTUV6: mtu,
  wireguardHostEncryptionEnabled: bool(),
  wireguardKeepAlive: duration,
  wireguardRoutingRulePriority: int({ min: 1, max: 32765 }),
  // Debugging.
  debugMemoryProfilePath: str(),
  debugDisableLogDropping: bool(),
  debugHost: str(),
  debugPort: tcpPort,
  // Selector-scoped FelixConfigurations (other names plus nodeSelector) are
  // not implemented; on "default" and "node.<name>" Calico forbids the field.
  nodeSelector: (v, at) => {
    at.add('must not be set on the "default" or per-node ("node.<nodename>") FelixConfiguration; selector-scoped FelixConfigurations are not supported by calico-ts');
    return v as string;
  },
  // The rest of Calico's settings, type-checked only: accepted so that a
  // FelixConfiguration exported from a Calico cluster applies unchanged.
  ...LESS_COMMON_FIELDS,
} satisfies Record<string, Check>;

/** Every setting name FelixConfiguration accepts (e.g. to map FELIX_<SETTING> env names back, case-insensitively). */
export const FELIX_CONFIGURATION_FIELDS: readonly string[] = Object.keys(FIELDS);

/** The modelled settings; every one optional. Values are as stored (durations as Go duration strings). */
export type FelixConfigurationSpec = { [K in keyof typeof FIELDS]?: ReturnType<(typeof FIELDS)[K]> };

const FAILSAFE = (list: string): ProtoPort[] =>
  list.split(',').map((x) => {
    const [p, n] = x.split(':') as [string, string];
    return { protocol: p.toUpperCase() as ProtoPort['protocol'], port: Number(n) };
  });

/** Felix's built-in values for the settings above (what applies when nothing sets them). */
export const FELIX_CONFIGURATION_DEFAULTS = {
  ipv6Support: true,
  ipForwarding: 'Enabled',
  routeRefreshInterval: '90s',
  interfaceRefreshInterval: '90s',
  iptablesRefreshInterval: '180s',
  ipsetsRefreshInterval: '90s',
  nftablesRefreshInterval: '90s',
  iptablesBackend: 'Auto',
  nftablesMode: 'Auto',
  chainInsertMode: 'Insert',
  defaultEndpointToHostAction: 'Drop',
  iptablesFilterAllowAction: 'Accept',
  iptablesMangleAllowAction: 'Accept',
  iptablesFilterDenyAction: 'Drop',
  nftablesFilterAllowAction: 'Accept',
  nftablesMangleAllowAction: 'Accept',
  nftablesFilterDenyAction: 'Drop',
  maxIpsetSize: 1048576,
  interfacePrefix: 'cali',
  interfaceExclude: 'kube-ipvs0',
  routeSource: 'CalicoIPAM',
  removeExternalRoutes: true,
  serviceLoopPrevention: 'Drop',
  failsafeInboundHostPorts: FAILSAFE('tcp:22,udp:68,tcp:179,tcp:2379,tcp:2380,tcp:5473,tcp:6443,tcp:6666,tcp:6667'),
  failsafeOutboundHostPorts: FAILSAFE('udp:53,udp:67,tcp:179,tcp:2379,tcp:2380,tcp:5473,tcp:6443,tcp:6666,tcp:6667'),
  kubeNodePortRanges: ['30000:32767'],
  logPrefix: 'calico-packet',
  logSeverityScreen: 'Info',
  logSeverityFile: 'Info',
  logSeveritySys: 'Info',
  vxlanPort: 4789,
  vxlanVNI: 4096,
  reportingInterval: '30s',
  reportingTTL: '90s',
  healthEnabled: false,
  healthHost: 'localhost',
  healthPort: 9099,
  prometheusMetricsEnabled: false,
  prometheusMetricsPort: 9091,
  flowLogsFileEnabled: false,
  flowLogsFileDirectory: '/var/log/calico/flowlogs',
  flowLogsFileMaxFiles: 5,
  flowLogsFileMaxFileSizeMB: 100,
  flowLogsFlushInterval: '15s',
  bpfEnabled: false,
  xdpEnabled: true,
  wireguardEnabled: false,
  wireguardListeningPort: 51820,
  wireguardInterfaceName: 'wireguard.cali',
  wireguardMTU: 1440,
} as const satisfies FelixConfigurationSpec;

export const felixConfigurationSchema: KindSchema<FelixConfigurationSpec> = {
  spec: () =>
    obj<FelixConfigurationSpec>(FIELDS, {
      refine: (s, at) => {
        const r = s.routeTableRange as { min?: number; max?: number } | undefined;
        if (r && typeof r.min === 'number' && typeof r.max === 'number' && r.min > r.max) {
          at.field('routeTableRange').add(`min (${r.min}) must not be greater than max (${r.max})`);
        }
        const ranges = (s.routeTableRanges ?? []) as { min?: number; max?: number }[];
        if (r && s.routeTableRanges) at.field('routeTableRanges').add('routeTableRange and routeTableRanges cannot both be set: use routeTableRanges');
        let tables = 0;
        ranges.forEach((x, i) => {
          if (typeof x.min !== 'number' || typeof x.max !== 'number') return;
          if (x.min > x.max) at.field('routeTableRanges').item(i).add(`min (${x.min}) must not be greater than max (${x.max})`);
          else tables += x.max - x.min + 1;
        });
        // Felix caps the designated tables at 0xffff.
        if (tables > 0xffff) at.field('routeTableRanges').add(`target ${tables} route tables: at most 65535`);
      },
    }),
  name: (name) =>
    isBGPConfigurationName(name) ? undefined : `"${name}" is not a FelixConfiguration name: use "default" (cluster-wide) or "node.<nodename>" (one node)`,
};
