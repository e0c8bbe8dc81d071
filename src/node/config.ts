// calico-node configuration, the way calico/node users already write it:
// NODENAME, IP / IP6 (an address, `autodetect` or `none`) with
// IP_AUTODETECTION_METHOD / IP6_AUTODETECTION_METHOD, AS,
// CALICO_NETWORKING_BACKEND, CALICO_RUN_DIR, the default pools (NO_DEFAULT_POOLS,
// CALICO_IPV4POOL_*, CALICO_IPV6POOL_*: default-pools.ts), CLUSTER_TYPE,
// DISABLE_NODE_IP_CHECK, the datastore variables (read by
// src/datastore/config.ts) and FELIX_<SETTING> overrides of FelixConfiguration.
// Every bad variable is named in one ValidationError before anything is written.
// Pure: the environment and the stored FelixConfigurations are passed in.
import { ValidationError } from '../base/errors.js';
import { formatIP, tryParseCIDROrIP, tryParseCIDRWithIP, tryParseIP } from '../base/ip.js';
import type { FieldIssue } from '../base/errors.js';
import { FELIX_CONFIGURATION_DEFAULTS } from '../api/kinds/felix-configuration.js';
import { parseDuration } from '../api/values.js';
import { parseAutodetectionMethod } from './autodetect.js';
import type { AutodetectionMethod } from './autodetect.js';
import { defaultPoolsFromEnv } from './default-pools.js';
import type { DefaultPoolsConfig } from './default-pools.js';
import type { DataplaneConfig, EndpointToHostAction, ProtoPort } from '../rules/model.js';
import { DEFAULT_FLOW_LOG_GROUP } from '../rules/flow-log.js';

export type Env = Record<string, string | undefined>;

/**
 * How one address family is chosen (node-address.ts applies calico/node's
 * rules): not set (IPv4: detect while the Node has none), detected, given, or
 * not used.
 */
export type AddressSetting =
  | { mode: 'unset'; method: AutodetectionMethod }
  | { mode: 'autodetect'; method: AutodetectionMethod }
  | { mode: 'static'; address: string; prefixLength?: number }
  | { mode: 'none' };

export interface NodeConfig {
  nodeName: string;
  /** Where NODENAME came from, for the start-up log. */
  nodeNameSource: 'NODENAME' | 'HOSTNAME' | 'hostname';
  ipv4: AddressSetting;
  ipv6: AddressSetting;
  asNumber?: number;
  networkingBackend: 'bird' | 'none';
  runDir: string;
  /** NO_DEFAULT_POOLS, CALICO_IPV4POOL_*, CALICO_IPV6POOL_* (default-pools.ts). */
  defaultPools: DefaultPoolsConfig;
  /** CLUSTER_TYPE, written to ClusterInformation. */
  clusterType: string;
  /** False with DISABLE_NODE_IP_CHECK=true: another Node's address is not refused. */
  nodeIPCheck: boolean;
}

function addressSetting(name: 'IP' | 'IP6', env: Env, issues: FieldIssue[]): AddressSetting {
  const family = name === 'IP' ? 4 : 6;
  const raw = (env[name] ?? '').trim();
  const methodVar = name === 'IP' ? 'IP_AUTODETECTION_METHOD' : 'IP6_AUTODETECTION_METHOD';
  const methodText = (env[methodVar] ?? '').trim();
  // A bad method is reported even when it is not used this time: a typo must not lie in wait.
  const parsed = parseAutodetectionMethod(methodText, { variable: methodVar, family });
  if (!parsed.ok) issues.push({ path: methodVar, message: parsed.message });
  const method: AutodetectionMethod = parsed.ok ? parsed.method : { kind: 'first-found' };
  const lower = raw.toLowerCase();
  if (lower === 'none') return { mode: 'none' };
  const detecting = lower === 'autodetect' || (raw === '' && family === 4);
  if (detecting && method.kind === 'kubernetes-internal-ip') {
    issues.push({
      path: methodVar,
      message: `kubernetes-internal-ip reads the Kubernetes Node's InternalIP, and calico-ts runs without Kubernetes: use first-found, interface=<regex>, skip-interface=<regex>, cidr=<cidr> or can-reach=<address>, or set ${name}=<address>`,
    });
  }
  if (raw === '') return { mode: 'unset', method };
  if (lower === 'autodetect') return { mode: 'autodetect', method };
  const withPrefix = tryParseCIDRWithIP(raw);
  const ip = withPrefix?.ip ?? tryParseIP(raw);
  if (!ip || ip.family !== family) {
    issues.push({ path: name, message: `"${raw}" is not an IPv${family} address: give an address (optionally /prefix), "autodetect" or "none"` });
    return { mode: 'none' };
  }
  return withPrefix ? { mode: 'static', address: formatIP(ip), prefixLength: withPrefix.cidr.prefixLength } : { mode: 'static', address: formatIP(ip) };
}

/** Reads the node settings; throws ValidationError naming each bad variable. */
export function nodeConfigFromEnv(env: Env, hostname: string): NodeConfig {
  const issues: FieldIssue[] = [];
  let nodeName = env.NODENAME?.trim();
  let nodeNameSource: NodeConfig['nodeNameSource'] = 'NODENAME';
  if (!nodeName) {
    nodeName = env.HOSTNAME?.trim();
    nodeNameSource = 'HOSTNAME';
  }
  if (!nodeName) {
    nodeName = hostname.trim();
    nodeNameSource = 'hostname';
  }
  nodeName = nodeName.toLowerCase();
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(nodeName)) issues.push({ path: 'NODENAME', message: `"${nodeName}" is not a valid node name (lower-case DNS name)` });
  const cfg: NodeConfig = {
    nodeName,
    nodeNameSource,
    ipv4: addressSetting('IP', env, issues),
    ipv6: addressSetting('IP6', env, issues),
    networkingBackend: 'bird',
    runDir: env.CALICO_RUN_DIR?.trim() || '/var/run/calico',
    defaultPools: defaultPoolsFromEnv(env, issues),
    clusterType: (env.CLUSTER_TYPE ?? '').trim(),
    nodeIPCheck: (env.DISABLE_NODE_IP_CHECK ?? '').trim() !== 'true',
  };
  const as = env.AS?.trim();
  if (as) {
    const n = Number(as.includes('.') ? Number(as.split('.')[0]) * 65536 + Number(as.split('.')[1]) : as);
    if (!Number.isInteger(n) || n < 1 || n > 4294967295) issues.push({ path: 'AS', message: `"${as}" is not an AS number (1-4294967295 or "x.y")` });
    else cfg.asNumber = n;
  }
  const backend = (env.CALICO_NETWORKING_BACKEND ?? 'bird').trim().toLowerCase();
  if (backend === 'bird' || backend === 'none') cfg.networkingBackend = backend;
  else issues.push({ path: 'CALICO_NETWORKING_BACKEND', message: `"${backend}" is not supported: use "bird" or "none"` });
  if (issues.length) throw new ValidationError(issues, 'calico-node environment');
  return cfg;
}

/** The effective FelixConfiguration values (built-in defaults overlaid). */
export type FelixSettings = Record<string, unknown> & typeof FELIX_CONFIGURATION_DEFAULTS;

const KNOWN_FIELDS = new Map<string, string>(Object.keys(FELIX_CONFIGURATION_DEFAULTS).map((k) => [k.toLowerCase(), k]));
for (const extra of ['prometheusMetricsHost', 'healthHost', 'dataplaneDriver', 'logFilePath', 'nodeSelector', 'natOutgoingAddress', 'endpointStatusPathPrefix']) KNOWN_FIELDS.set(extra.toLowerCase(), extra);

/** `tcp:22,udp:68` (Felix's env syntax) -> protocol/port list. */
export function parseFailsafePorts(text: string): Array<{ protocol: 'TCP' | 'UDP' | 'SCTP'; port: number }> {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item) => {
      const [proto, port] = item.includes(':') ? item.split(':') : ['tcp', item];
      const protocol = proto!.toUpperCase() as 'TCP' | 'UDP' | 'SCTP';
      const n = Number(port);
      if (!['TCP', 'UDP', 'SCTP'].includes(protocol) || !Number.isInteger(n) || n < 0 || n > 65535) {
        throw new ValidationError([{ path: 'failsafe ports', message: `"${item}" is not "<tcp|udp|sctp>:<port>"` }]);
      }
      return { protocol, port: n };
    });
}

/**
 * FELIX_<SETTING> variables as FelixConfiguration fields. Names match
 * case-insensitively (FELIX_LOGSEVERITYSCREEN -> logSeverityScreen); values are
 * typed like the built-in default of the field. Unknown names are returned in
 * `unknown` so the agent can log them (a typo must not silently do nothing).
 */
export function felixOverridesFromEnv(env: Env): { overrides: Record<string, unknown>; unknown: string[] } {
  const overrides: Record<string, unknown> = {};
  const unknown: string[] = [];
  const issues: FieldIssue[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('FELIX_') || value === undefined) continue;
    const field = KNOWN_FIELDS.get(name.slice(6).toLowerCase());
    if (!field) {
      unknown.push(name);
      continue;
    }
    const def = (FELIX_CONFIGURATION_DEFAULTS as Record<string, unknown>)[field];
    const v = value.trim();
    if (typeof def === 'boolean') {
      if (!/^(true|false)$/i.test(v)) issues.push({ path: name, message: `"${v}" is not true or false` });
      overrides[field] = v.toLowerCase() === 'true';
    } else if (typeof def === 'number') {
      const n = Number(v);
      if (!Number.isInteger(n)) issues.push({ path: name, message: `"${v}" is not an integer` });
      overrides[field] = n;
    } else if (typeof def === 'string' && parseDuration(def) !== undefined && def !== '0') {
      // Durations: Felix's env form is plain seconds ("90"); a Go duration ("1m30s") is accepted too.
      const d = /^[0-9]+$/.test(v) ? `${v}s` : v;
      if (parseDuration(d) === undefined) issues.push({ path: name, message: `"${v}" is not a duration: give seconds ("90") or a duration such as "1m30s"` });
      overrides[field] = d;
    } else if (field === 'failsafeInboundHostPorts' || field === 'failsafeOutboundHostPorts') {
      try {
        overrides[field] = v.toLowerCase() === 'none' ? [] : parseFailsafePorts(v);
      } catch (err) {
        issues.push({ path: name, message: (err as ValidationError).issues[0]!.message });
      }
    } else if (Array.isArray(def)) {
      overrides[field] = v.split(',').map((s) => s.trim()).filter(Boolean);
    } else {
      overrides[field] = v;
    }
  }
  if (issues.length) throw new ValidationError(issues, 'FELIX_* environment');
  return { overrides, unknown: unknown.sort() };
}

/** Precedence (highest first): FELIX_* env > FelixConfiguration `node.<name>` > `default` > built-in. */
export function effectiveFelixSettings(layers: { global?: Record<string, unknown>; node?: Record<string, unknown>; env?: Record<string, unknown> }): FelixSettings {
  const out: Record<string, unknown> = { ...FELIX_CONFIGURATION_DEFAULTS };
  for (const layer of [layers.global, layers.node, layers.env]) {
    for (const [k, v] of Object.entries(layer ?? {})) if (v !== undefined && v !== null) out[k] = v;
  }
  return out as FelixSettings;
}

function protoPorts(v: unknown): ProtoPort[] {
  if (!Array.isArray(v)) return [];
  const out: ProtoPort[] = [];
  for (const p of v as Array<{ protocol?: string; port?: unknown; net?: unknown }>) {
    if (!p || typeof p !== 'object' || typeof p.port !== 'number') continue;
    const entry: ProtoPort = { protocol: (p.protocol ?? 'TCP').toLowerCase() as ProtoPort['protocol'], port: p.port };
    if (p.net !== undefined && p.net !== null && p.net !== '') {
      // The net narrows who may use the failsafe; an entry whose net we cannot
      // read is skipped, never widened to "any source".
      if (typeof p.net !== 'string' || !tryParseCIDROrIP(p.net.trim())) continue;
      entry.net = p.net.trim();
    }
    out.push(entry);
  }
  return out;
}

/** What the dataplane needs from the settings. */
export function dataplaneConfigFrom(s: FelixSettings): DataplaneConfig {
  const action = String(s.defaultEndpointToHostAction ?? 'Drop').toLowerCase();
  const endpointToHostAction: EndpointToHostAction = action === 'accept' ? 'accept' : action === 'return' ? 'return' : 'drop';
  const inbound = protoPorts(s.failsafeInboundHostPorts);
  const outbound = protoPorts(s.failsafeOutboundHostPorts);
  // Workload -> host failsafe: DHCP and DNS to the host, and BGP (Calico's defaults for the host ports).
  const workloadToHostFailsafe: ProtoPort[] = [
    { protocol: 'udp', port: 67 },
    { protocol: 'udp', port: 53 },
    { protocol: 'tcp', port: 53 },
    { protocol: 'tcp', port: 179 },
  ];
  // interfacePrefix is a comma-separated list, as in Felix; the compiler falls back to "cali".
  const workloadInterfacePrefixes = String(s.interfacePrefix ?? 'cali')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const flowLogs = flowLogSettingsFrom(s);
  return {
    endpointToHostAction,
    workloadToHostFailsafe,
    failsafeInbound: inbound,
    failsafeOutbound: outbound,
    workloadInterfacePrefixes,
    // Only when on: off must render exactly the ruleset without flow logs.
    ...(flowLogs.enabled ? { flowLogs: { nflogGroup: flowLogs.nflogGroup } } : {}),
  };
}

/** Flow logs (src/flowlogs/): FelixConfiguration flowLogsFileEnabled, flowLogsFileDirectory, flowLogsFileMaxFiles, flowLogsFileMaxFileSizeMB, flowLogsFlushInterval. */
export interface FlowLogSettings {
  enabled: boolean;
  /** The file is `<directory>/flows.log`; rotated files `flows.log.1` ... */
  directory: string;
  /** Files kept, the current one included. */
  maxFiles: number;
  maxFileSizeBytes: number;
  flushIntervalMs: number;
  nflogGroup: number;
}

export function flowLogSettingsFrom(s: FelixSettings): FlowLogSettings {
  const d = FELIX_CONFIGURATION_DEFAULTS;
  const int = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : fallback);
  const flushIntervalMs = parseDuration(String(s.flowLogsFlushInterval ?? d.flowLogsFlushInterval)) ?? parseDuration(d.flowLogsFlushInterval)!;
  return {
    enabled: (s as Record<string, unknown>).flowLogsFileEnabled === true,
    directory: String(s.flowLogsFileDirectory ?? d.flowLogsFileDirectory) || d.flowLogsFileDirectory,
    maxFiles: int(s.flowLogsFileMaxFiles, d.flowLogsFileMaxFiles),
    maxFileSizeBytes: int(s.flowLogsFileMaxFileSizeMB, d.flowLogsFileMaxFileSizeMB) * 1024 * 1024,
    // 0 would flush in a busy loop: at least a second.
    flushIntervalMs: Math.max(1000, flushIntervalMs),
    nflogGroup: DEFAULT_FLOW_LOG_GROUP,
  };
}

/** Backend for policy: FelixConfiguration iptablesBackend / nftablesMode. `Enabled`/`Auto` nftables is the default. */
export function policyBackendFrom(s: FelixSettings): 'nftables' | 'iptables' {
  const mode = String(s.nftablesMode ?? 'Auto').toLowerCase();
  const driver = String((s as Record<string, unknown>).dataplaneDriver ?? '').toLowerCase();
  if (driver === 'iptables' || mode === 'disabled') return 'iptables';
  return 'nftables';
}

/**
 * Refresh periods in ms (0: off): routeRefreshInterval (routes and neighbours
 * read back), interfaceRefreshInterval (interface rescan), and the full policy
 * reconcile of the backend in use: nftablesRefreshInterval or
 * iptablesRefreshInterval (Felix's names for re-reading its tables).
 */
export function refreshIntervalsFrom(s: FelixSettings): { routeRefreshIntervalMs: number; interfaceRefreshIntervalMs: number; fullReconcileIntervalMs: number } {
  const ms = (v: unknown, fallback: string) => parseDuration(String(v ?? fallback)) ?? parseDuration(fallback)!;
  return {
    routeRefreshIntervalMs: ms(s.routeRefreshInterval, FELIX_CONFIGURATION_DEFAULTS.routeRefreshInterval),
    interfaceRefreshIntervalMs: ms(s.interfaceRefreshInterval, FELIX_CONFIGURATION_DEFAULTS.interfaceRefreshInterval),
    fullReconcileIntervalMs:
      policyBackendFrom(s) === 'iptables'
        ? ms(s.iptablesRefreshInterval, FELIX_CONFIGURATION_DEFAULTS.iptablesRefreshInterval)
        : ms(s.nftablesRefreshInterval, FELIX_CONFIGURATION_DEFAULTS.nftablesRefreshInterval),
  };
}

/**
 * Everything the dataplane is built from. calico-node rebuilds the dataplane
 * when this changes (and only then), so a setting the dataplane uses must be
 * read through one of the functions named here.
 */
export function dataplaneKeyFrom(s: FelixSettings): string {
  return JSON.stringify({ backend: policyBackendFrom(s), config: dataplaneConfigFrom(s), refresh: refreshIntervalsFrom(s) });
}
