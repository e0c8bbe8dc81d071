// Field support: FelixConfiguration. Every setting is listed by name in
// exactly one group below; the field-support test fails when a setting is
// added to the schema without joining a group. Warned settings are quiet when
// set to Felix's built-in value (FELIX_CONFIGURATION_DEFAULTS), which is what
// calico-ts does anyway.
import { FELIX_CONFIGURATION_DEFAULTS } from '../kinds/felix-configuration.js';
import { honoured, refused, warned, type FieldSupport, type FieldTable } from './model.js';

const EFFECTIVE = honoured('src/node/config.test.ts :: effective settings: env > node.<name> > default > built-in; dataplane config derived');
const FAILSAFE = honoured('test/kernel/dataplane/host-endpoints.test.ts :: a failsafe port (SSH) stays reachable even with a deny-everything policy');
const FAILSAFE_NET = honoured('src/render/failsafe-net.test.ts :: failsafe net: nft restricts the source inbound and the destination outbound, per family');

const FLOW_LOGS = honoured('test/kernel/node/flow-logs.test.ts :: flow logs: off by default; switched on live, a denied and an allowed connection each give a record naming the endpoints, verdict and tier/policy/rule, and per-policy counters', 'applied live; JSON lines in <directory>/flows.log, counters on the metrics endpoint (docs/flow-logs.md)');
const FLOW_LOG_FILES = honoured('src/flowlogs/rotating-file.test.ts :: flow-log file: rotated past flowLogsFileMaxFileSizeMB, at most flowLogsFileMaxFiles files kept, lines never cut');

const HONOURED: Record<string, FieldSupport> = {
  flowLogsFileEnabled: FLOW_LOGS,
  flowLogsFileDirectory: FLOW_LOGS,
  flowLogsFlushInterval: FLOW_LOGS,
  flowLogsFileMaxFiles: FLOW_LOG_FILES,
  flowLogsFileMaxFileSizeMB: FLOW_LOG_FILES,
  defaultEndpointToHostAction: honoured('test/kernel/node/live-config.test.ts :: defaultEndpointToHostAction Drop -> Accept applies under a ping and a TCP stream: 0 % loss, no agent restart', 'applied live'),
  'failsafeInboundHostPorts[].protocol': FAILSAFE,
  'failsafeInboundHostPorts[].port': FAILSAFE,
  'failsafeInboundHostPorts[].net': FAILSAFE_NET,
  'failsafeOutboundHostPorts[].protocol': FAILSAFE,
  'failsafeOutboundHostPorts[].port': FAILSAFE,
  'failsafeOutboundHostPorts[].net': FAILSAFE_NET,
  routeRefreshInterval: honoured('test/kernel/dataplane/interface-recreated.test.ts :: routeRefreshInterval: a route of ours deleted by hand is back after the next refresh'),
  nftablesRefreshInterval: honoured('src/node/config.test.ts :: full policy reconcile interval: nftablesRefreshInterval with nftables, iptablesRefreshInterval (default 180 s) with iptables; a change rebuilds the dataplane', 'the full reconcile (read back, compare every chain/set/map, sweep) of the nftables backend; rounds in between are incremental (src/dataplane/incremental.test.ts); SIGHUP reconciles at once'),
  iptablesRefreshInterval: honoured('src/node/config.test.ts :: full policy reconcile interval: nftablesRefreshInterval with nftables, iptablesRefreshInterval (default 180 s) with iptables; a change rebuilds the dataplane', 'the full reconcile of the iptables backend, ipsets included (ipsetsRefreshInterval is not separate)'),
  interfaceRefreshInterval: honoured('src/dataplane/interface-monitor.test.ts :: monitor: without notifications the periodic rescan (interfaceRefreshInterval) finds the change; 0 disables it'),
  endpointStatusPathPrefix: honoured('src/node/endpoint-status.test.ts :: endpoint status directory: files are written whole and listed without temp files; the prefix setting decides the place'),
  healthEnabled: honoured('src/node/agent.test.ts :: agent: registers its Node, merges FelixConfiguration, feeds the dataplane, reports health and metrics'),
  healthHost: EFFECTIVE,
  healthPort: EFFECTIVE,
  interfacePrefix: honoured('test/kernel/vm/openstack-vm.test.ts :: OpenStack-model VM: DHCP from calico-dhcp-agent, reachability with a container on another host, policy from the datastore, forged source dropped', 'comma list (e.g. "cali,tap"); every prefix is dispatched, reverse-path checked and sent to wl-to-host (src/render/workload-interfaces.test.ts); routes, proxy ARP, sysctls and static neighbours follow the endpoints\' interfaceName'),
  logSeverityScreen: honoured('src/node/metrics.test.ts :: logs are JSON lines filtered by level'),
  nftablesMode: honoured('test/kernel/node/live-config.test.ts :: nftablesMode Disabled -> iptables under a ping (0 % loss, old table removed)', 'applied live; the other backend\'s objects are removed'),
  prometheusMetricsEnabled: honoured('src/node/agent.test.ts :: agent: registers its Node, merges FelixConfiguration, feeds the dataplane, reports health and metrics'),
  prometheusMetricsHost: EFFECTIVE,
  prometheusMetricsPort: EFFECTIVE,
};

/** Settings whose silent non-effect could open traffic or drop a protection the user asked for. */
const REFUSED: Record<string, FieldSupport> = {
  wireguardEnabled: refused('WireGuard is not available on this kernel: traffic would travel unencrypted; remove wireguardEnabled', { allowed: [false], example: true }),
  wireguardEnabledV6: refused('WireGuard is not available on this kernel: traffic would travel unencrypted; remove wireguardEnabledV6', { allowed: [false], example: true }),
  wireguardHostEncryptionEnabled: refused('WireGuard is not available on this kernel: host traffic would travel unencrypted; remove wireguardHostEncryptionEnabled', { allowed: [false], example: true }),
  iptablesFilterAllowAction: refused('only Accept is implemented: an allowed packet is accepted, other rules in the same hook are not consulted; remove the setting', { allowed: ['Accept', ''], example: 'Return' }),
  iptablesMangleAllowAction: refused('only Accept is implemented; remove the setting', { allowed: ['Accept', ''], example: 'Return' }),
  nftablesFilterAllowAction: refused('only Accept is implemented: an allowed packet is accepted by our table; remove the setting', { allowed: ['Accept', ''], example: 'Return' }),
  nftablesMangleAllowAction: refused('only Accept is implemented; remove the setting', { allowed: ['Accept', ''], example: 'Return' }),
  chainInsertMode: refused("only Insert is implemented: calico-ts's iptables hooks go before other rules; remove the setting", { allowed: ['Insert', ''], example: 'Append' }),
  nodeSelector: refused('selector-scoped FelixConfigurations are not supported: use the resource name (default, or node.<nodename> for one node)', { example: "rack == 'r1'" }),
  prometheusMetricsCertFile: refused('TLS for the metrics endpoint is not implemented: it would serve plain HTTP; remove the setting', { allowed: [''], example: '/etc/calico/metrics.crt' }),
  prometheusMetricsKeyFile: refused('TLS for the metrics endpoint is not implemented: it would serve plain HTTP; remove the setting', { allowed: [''], example: '/etc/calico/metrics.key' }),
  prometheusMetricsCAFile: refused('TLS client verification for the metrics endpoint is not implemented; remove the setting', { allowed: [''], example: '/etc/calico/ca.crt' }),
  prometheusMetricsClientAuth: refused('TLS client verification for the metrics endpoint is not implemented; remove the setting', { allowed: ['NoClientCert', ''], example: 'RequireAndVerifyClientCert' }),
};

/** Warned groups: reason -> settings. Accepted so a configuration exported from Calico applies unchanged. */
const WARNED: Array<[string, string[]]> = [
  [
    "the eBPF and XDP dataplanes are not implemented; policy is enforced by nftables or iptables+ipset",
    ['bpfEnabled', 'bpfLogLevel', 'bpfDataIfacePattern', 'bpfExternalServiceMode', 'bpfKubeProxyIptablesCleanupEnabled', 'xdpEnabled', 'genericXDPEnabled', 'xdpRefreshInterval',
      'bpfAttachType', 'bpfCTLBLogFilter', 'bpfConnectTimeLoadBalancing', 'bpfConnectTimeLoadBalancingEnabled', 'bpfConntrackLogLevel', 'bpfConntrackMode', 'bpfConntrackTimeouts',
      'bpfDSROptoutCIDRs', 'bpfDisableGROForIfaces', 'bpfDisableUnprivileged', 'bpfEnforceRPF', 'bpfExcludeCIDRsFromNAT', 'bpfExportBufferSizeMB', 'bpfExtToServiceConnmark',
      'bpfForceTrackPacketsFromIfaces', 'bpfHostConntrackBypass', 'bpfHostNetworkedNATWithoutCTLB', 'bpfIPFragTimeout', 'bpfIPFragmentReassemblyEnabled', 'bpfJITHardening',
      'bpfKubeProxyHealthzPort', 'bpfKubeProxyMinSyncPeriod', 'bpfL3IfacePattern', 'bpfLogFilters', 'bpfMaglevMaxEndpointsPerService', 'bpfMaglevMaxServices', 'bpfMapSizeConntrack',
      'bpfMapSizeConntrackCleanupQueue', 'bpfMapSizeConntrackScaling', 'bpfMapSizeIPSets', 'bpfMapSizeIfState', 'bpfMapSizeNATAffinity', 'bpfMapSizeNATBackend', 'bpfMapSizeNATFrontend',
      'bpfMapSizePerCpuConntrack', 'bpfMapSizeRoute', 'bpfOverlayHostSourceIP', 'bpfPSNATPorts', 'bpfPolicyDebugEnabled', 'bpfProfiling', 'bpfRedirectToPeer', 'cgroupV2Path'],
  ],
  [
    'WireGuard is not available on this kernel (encryption itself is refused above)',
    ['wireguardListeningPort', 'wireguardListeningPortV6', 'wireguardInterfaceName', 'wireguardInterfaceNameV6', 'wireguardMTU', 'wireguardMTUV6', 'wireguardKeepAlive',
      'wireguardRoutingRulePriority', 'wireguardThreadingEnabled', 'prometheusWireGuardMetricsEnabled'],
  ],
  [
    'calico-ts routes without encapsulation (IP pools refuse IPIP and VXLAN modes); these tunnel settings have nothing to act on',
    ['ipipEnabled', 'ipipMTU', 'vxlanEnabled', 'vxlanMTU', 'vxlanMTUV6', 'vxlanPort', 'vxlanVNI', 'externalNodesList', 'mtuIfacePattern', 'requireMTUFile'],
  ],
  [
    'stricter than asked: tunnelled packets from workloads, spoofed sources and conntrack-INVALID packets are always dropped',
    ['allowVXLANPacketsFromWorkloads', 'allowIPIPPacketsFromWorkloads', 'workloadSourceSpoofing', 'disableConntrackInvalidCheck'],
  ],
  ['a denied packet is always dropped (never rejected with an ICMP error)', ['iptablesFilterDenyAction', 'nftablesFilterDenyAction']],
  [
    'Kubernetes services, node ports and service loops need a service proxy, which calico-ts does not have',
    ['kubeNodePortRanges', 'serviceLoopPrevention'],
  ],
  [
    'natOutgoing always masquerades to the outgoing interface address, from every natOutgoing pool to anything outside all pools',
    ['natOutgoingAddress', 'natPortRange', 'natOutgoingExclusions', 'iptablesNATOutgoingInterfaceFilter'],
  ],
  [
    'routes are programmed into the main table with protocol 80; routes calico-ts does not own are never touched',
    ['routeSource', 'routeTableRange.min', 'routeTableRange.max', 'routeTableRanges[].min', 'routeTableRanges[].max', 'removeExternalRoutes', 'deviceRouteSourceAddress',
      'deviceRouteSourceAddressIPv6', 'deviceRouteProtocol', 'routeSyncDisabled', 'programClusterRoutes', 'ipv4ElevatedRoutePriority', 'ipv4NormalRoutePriority',
      'ipv6ElevatedRoutePriority', 'ipv6NormalRoutePriority', 'liveMigrationRouteConvergenceTime', 'localSubnetL2Reachability', 'localSubnetL2ReachabilityRefreshInterval', 'floatingIPs'],
  ],
  [
    'calico-ts reconciles on changes, and fully every nftablesRefreshInterval / iptablesRefreshInterval (ipsets with the iptables tables); post-write checks, lock and timeout tuning are not configurable',
    ['iptablesPostWriteCheckInterval', 'iptablesLockProbeInterval', 'iptablesLockTimeout',
      'ipsetsRefreshInterval', 'netlinkTimeout', 'dataplaneWatchdogTimeout', 'healthTimeoutOverrides[].name', 'healthTimeoutOverrides[].timeout'],
  ],
  [
    'calico-ts uses its own fixed mark bits, set sizes and iptables binary; these kernel-tuning settings are not configurable',
    ['iptablesBackend', 'iptablesMarkMask', 'nftablesMarkMask', 'maxIpsetSize', 'featureDetectOverride', 'featureGates', 'nftablesFlowTableDataIfacePattern', 'nftablesFlowTableOffload'],
  ],
  [
    'IPv4 and IPv6 are both always programmed, forwarding is always enabled on hosts with workloads, and every non-workload interface can be a host endpoint',
    ['ipv6Support', 'ipForwarding', 'interfaceExclude'],
  ],
  ['calico-node is the only dataplane driver', ['dataplaneDriver', 'useInternalDataplaneDriver']],
  [
    'calico-node logs JSON lines to stderr only (logSeverityScreen applies); files, syslog and log-rule rate limits are not configurable',
    ['logFilePath', 'logSeverityFile', 'logSeveritySys', 'logDebugFilenameRegex', 'logPrefix', 'logActionRateLimit', 'logActionRateLimitBurst'],
  ],
  [
    'status reporting to the datastore, usage reporting and the policy sync API are not implemented',
    ['reportingInterval', 'reportingTTL', 'endpointReportingEnabled', 'endpointReportingDelay', 'usageReportingEnabled', 'usageReportingInitialDelay',
      'usageReportingInterval', 'policySyncPathPrefix', 'prometheusGoMetricsEnabled', 'prometheusProcessMetricsEnabled'],
  ],
  [
    'flow logs go to a JSON-lines file (flowLogsFileEnabled) and the metrics endpoint only: no Goldmane server, local socket reporter, debug trace or continuous policy re-evaluation',
    ['flowLogsCollectorDebugTrace', 'flowLogsGoldmaneServer', 'flowLogsLocalReporter', 'flowLogsPolicyEvaluationMode'],
  ],
  [
    'OpenStack metadata proxying, Istio, sidecar acceleration, AWS and Windows integrations are not implemented',
    ['metadataAddr', 'metadataPort', 'openstackRegion', 'istioAmbientMode', 'istioDSCPMark', 'sidecarAccelerationEnabled', 'awsSrcDstCheck', 'windowsManageFirewallRules'],
  ],
  [
    'Go runtime and debugging settings of Felix have no meaning for a Node.js agent',
    ['debugMemoryProfilePath', 'debugDisableLogDropping', 'debugHost', 'debugPort', 'debugSimulateCalcGraphHangAfter', 'debugSimulateDataplaneApplyDelay',
      'debugSimulateDataplaneHangAfter', 'goGCThreshold', 'goMaxProcs', 'goMemoryLimitMB'],
  ],
];

/**
 * Values besides Felix's default that describe what calico-ts does anyway:
 * reportingInterval 0 turns status reporting off, and calico-ts has none
 * (calico-node's start-up writes 0s, as Calico's does).
 */
const ALSO_QUIET: Record<string, readonly unknown[]> = { reportingInterval: ['0s', '0'] };

function felixTable(): FieldTable {
  const table: FieldTable = {};
  const put = (field: string, support: FieldSupport) => {
    if (table[`spec.${field}`]) throw new Error(`FelixConfiguration field ${field} is listed twice in the field-support table`);
    table[`spec.${field}`] = support;
  };
  for (const [field, support] of Object.entries(HONOURED)) put(field, support);
  for (const [field, support] of Object.entries(REFUSED)) put(field, support);
  const defaults = FELIX_CONFIGURATION_DEFAULTS as Record<string, unknown>;
  for (const [reason, fields] of WARNED) {
    for (const field of fields) put(field, warned(reason, [...(field in defaults ? [defaults[field]] : []), '', ...(ALSO_QUIET[field] ?? [])]));
  }
  return table;
}

export const FELIX_SUPPORT: Record<string, FieldTable> = { FelixConfiguration: felixTable() };
