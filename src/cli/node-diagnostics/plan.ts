// What `calicoctl node diags` collects, as data: one Collector per file in the
// archive, in the order they are collected. Pure: collect.ts runs the plan
// through the DiagnosticsHost port, this file only decides.
//
// The layout follows Calico's bundle where Calico has the same item (a
// `diagnostics/` folder with ipv4_route, ipv4_addr, ipv4_tables, ipsets, a
// logs/ copy of --log-dir) and adds what calico-ts has on top: BIRD's state,
// the nft ruleset, sysctls, conntrack counts, calico-node's health and
// metrics, and this node's resources from the datastore.
import type { ResourceKind } from '../../api/kinds.js';
import { interfaceSysctls } from '../../dataplane/host-setup.js';
import { NFT_TABLE } from '../../rules/names.js';

export type CollectorSource =
  /** Runs argv in this host's namespace; stdout (and stderr) is the file. `failsWhen` marks output that means failure despite exit 0 (birdc). */
  | { kind: 'exec'; argv: string[]; failsWhen?: RegExp }
  /** Copies one file. */
  | { kind: 'file'; path: string }
  /** Copies a directory tree (the logs). */
  | { kind: 'tree'; path: string }
  /** GET; the body is the file, a non-2xx status is noted in the summary. */
  | { kind: 'http'; url: string }
  /** Reads the Calico-relevant sysctls of every interface (sysctlKeys). */
  | { kind: 'sysctls' }
  /** `calicoctl node status` output, from BIRD's control socket. */
  | { kind: 'node-status'; socket: string }
  /** Resources from the datastore as YAML: one by name, or every one of the kind. */
  | { kind: 'resources'; resourceKind: ResourceKind; name?: string }
  /** Text known up front (date, client version). */
  | { kind: 'text'; text: string };

export interface Collector {
  /** Path inside `diagnostics/`. */
  file: string;
  /** Progress line printed before it runs. */
  title: string;
  source: CollectorSource;
  /** Not collected, with the reason (e.g. the other policy backend). */
  skipBecause?: string;
}

/** Which policy backend's kernel objects are on this host (both while a switch is under way). */
export interface BackendsInUse {
  nftables: boolean;
  iptables: boolean;
  /** False when neither backend's objects were found: then both are collected. */
  found: boolean;
}

/**
 * Reads `nft list tables` and `iptables-save -t filter` (undefined when the
 * command failed). Neither found: both are collected, so whatever is there is seen.
 */
export function detectBackends(opts: { nftTables?: string; iptablesFilter?: string }): BackendsInUse {
  const nftables = new RegExp(`^table inet ${NFT_TABLE}\\b`, 'm').test(opts.nftTables ?? '');
  const iptables = /^:cali-/m.test(opts.iptablesFilter ?? '');
  return nftables || iptables ? { nftables, iptables, found: true } : { nftables: true, iptables: true, found: false };
}

export function describeBackends(b: BackendsInUse): string {
  if (!b.found) return 'none found (collected both)';
  return [b.nftables ? `nftables (table inet ${NFT_TABLE})` : '', b.iptables ? 'iptables + ipset (cali- chains)' : ''].filter(Boolean).join(' and ');
}

export interface DiagnosticsPlanInput {
  runDir: string;
  logDir: string;
  nodeName: string;
  backends: BackendsInUse;
  /** calico-node's health endpoints (liveness, readiness) and metrics URL. */
  healthURLs: { liveness: string; readiness: string };
  metricsURL: string;
  /** `calicoctl version`'s client lines. */
  clientVersion: string;
  now: Date;
  hostname: string;
}

const BIRD_DOWN = /Unable to connect to server|Connection refused|No such file or directory/;

/** Every file of the bundle, in collection order. */
export function diagnosticsPlan(input: DiagnosticsPlanInput): Collector[] {
  const bird = `${input.runDir.replace(/\/+$/, '')}/bird`;
  const socket = `${bird}/bird.ctl`;
  const birdc = (file: string, title: string, command: string[]): Collector => ({
    file: `bird/${file}`,
    title,
    source: { kind: 'exec', argv: ['birdc', '-s', socket, ...command], failsWhen: BIRD_DOWN },
  });
  const iptablesSkip = input.backends.iptables ? {} : { skipBecause: 'iptables backend not in use' };
  const nftSkip = input.backends.nftables ? {} : { skipBecause: 'nftables backend not in use' };
  const version = (file: string, argv: string[]): Collector => ({ file: `versions/${file}`, title: '', source: { kind: 'exec', argv } });
  return [
    { file: 'date', title: '', source: { kind: 'text', text: input.now.toISOString() + '\n' } },
    { file: 'hostname', title: '', source: { kind: 'text', text: input.hostname + '\n' } },
    { file: 'versions/calicoctl', title: 'Dumping versions', source: { kind: 'text', text: input.clientVersion } },
    version('kernel', ['uname', '-a']),
    version('iproute2', ['ip', '-V']),
    version('bird', ['bird', '--version']),
    version('nft', ['nft', '--version']),
    version('iptables', ['iptables', '--version']),
    version('ipset', ['ipset', '--version']),
    version('conntrack', ['conntrack', '--version']),
    { file: 'network/ipv4_addr', title: 'Dumping interface info (IPv4)', source: { kind: 'exec', argv: ['ip', '-4', 'addr'] } },
    { file: 'network/ipv6_addr', title: 'Dumping interface info (IPv6)', source: { kind: 'exec', argv: ['ip', '-6', 'addr'] } },
    { file: 'network/links', title: 'Dumping links', source: { kind: 'exec', argv: ['ip', '-d', '-s', 'link'] } },
    { file: 'network/ipv4_route', title: 'Dumping routes (IPv4)', source: { kind: 'exec', argv: ['ip', '-4', 'route', 'show', 'table', 'all'] } },
    { file: 'network/ipv6_route', title: 'Dumping routes (IPv6)', source: { kind: 'exec', argv: ['ip', '-6', 'route', 'show', 'table', 'all'] } },
    { file: 'network/ipv4_rule', title: 'Dumping routing rules (IPv4)', source: { kind: 'exec', argv: ['ip', '-4', 'rule'] } },
    { file: 'network/ipv6_rule', title: 'Dumping routing rules (IPv6)', source: { kind: 'exec', argv: ['ip', '-6', 'rule'] } },
    { file: 'network/ipv4_neigh', title: 'Dumping neighbours (IPv4)', source: { kind: 'exec', argv: ['ip', '-4', 'neigh'] } },
    { file: 'network/ipv6_neigh', title: 'Dumping neighbours (IPv6)', source: { kind: 'exec', argv: ['ip', '-6', 'neigh'] } },
    { file: 'network/sockets', title: 'Dumping sockets', source: { kind: 'exec', argv: ['ss', '-anp'] } },
    { file: 'network/sysctls', title: 'Dumping sysctls', source: { kind: 'sysctls' } },
    { file: 'dataplane/nft_ruleset', title: 'Dumping nftables ruleset', source: { kind: 'exec', argv: ['nft', 'list', 'ruleset'] }, ...nftSkip },
    { file: 'dataplane/ipv4_tables', title: 'Dumping iptables (IPv4)', source: { kind: 'exec', argv: ['iptables-save', '-c'] }, ...iptablesSkip },
    { file: 'dataplane/ipv6_tables', title: 'Dumping iptables (IPv6)', source: { kind: 'exec', argv: ['ip6tables-save', '-c'] }, ...iptablesSkip },
    { file: 'dataplane/ipsets', title: 'Dumping ipsets', source: { kind: 'exec', argv: ['ipset', 'list'] }, ...iptablesSkip },
    // `-C` counts every family (conntrack 1.4 refuses -f with -C); network/sysctls has nf_conntrack_max next to it.
    { file: 'conntrack/count', title: 'Dumping conntrack counts', source: { kind: 'exec', argv: ['conntrack', '-C'] } },
    { file: 'conntrack/stats', title: '', source: { kind: 'exec', argv: ['conntrack', '-S'] } },
    birdc('status', 'Dumping BIRD state', ['show', 'status']),
    birdc('protocols', '', ['show', 'protocols', 'all']),
    birdc('routes', '', ['show', 'route']),
    birdc('interfaces', '', ['show', 'interfaces']),
    { file: 'bird/bird.conf', title: '', source: { kind: 'file', path: `${bird}/bird.conf` } },
    { file: 'bird/bird.log', title: 'Copying BIRD log', source: { kind: 'file', path: `${bird}/bird.log` } },
    { file: 'calico-node/nodename', title: 'Dumping calico-node status', source: { kind: 'file', path: `${input.runDir.replace(/\/+$/, '')}/nodename` } },
    { file: 'calico-node/node_status', title: '', source: { kind: 'node-status', socket } },
    { file: 'calico-node/liveness', title: '', source: { kind: 'http', url: input.healthURLs.liveness } },
    { file: 'calico-node/readiness', title: '', source: { kind: 'http', url: input.healthURLs.readiness } },
    { file: 'calico-node/metrics', title: 'Dumping calico-node metrics', source: { kind: 'http', url: input.metricsURL } },
    { file: 'datastore/node.yaml', title: `Dumping Node ${input.nodeName} and configuration from the datastore`, source: { kind: 'resources', resourceKind: 'Node', name: input.nodeName } },
    { file: 'datastore/felixconfigurations.yaml', title: '', source: { kind: 'resources', resourceKind: 'FelixConfiguration' } },
    { file: 'datastore/bgpconfigurations.yaml', title: '', source: { kind: 'resources', resourceKind: 'BGPConfiguration' } },
    { file: 'datastore/ippools.yaml', title: '', source: { kind: 'resources', resourceKind: 'IPPool' } },
    { file: 'datastore/clusterinformations.yaml', title: '', source: { kind: 'resources', resourceKind: 'ClusterInformation' } },
    { file: 'logs', title: 'Copying Calico logs', source: { kind: 'tree', path: input.logDir } },
  ];
}

/** Interface names under /proc/sys/net/ipv{4,6}/conf besides the `all` / `default` entries. */
const realInterfaces = (names: string[]) => names.filter((n) => n !== 'all' && n !== 'default').sort();

export interface SysctlKey {
  /** Dotted, as `sysctl` prints it. */
  key: string;
  /** Under /proc/sys; an interface name keeps its dots here (eth0.100). */
  path: string;
}

const globalKey = (key: string): SysctlKey => ({ key, path: `/proc/sys/${key.replace(/\./g, '/')}` });

/**
 * The sysctls Calico sets or depends on: forwarding and rp_filter globally,
 * conntrack limits, and on every interface the ones calico-node writes on a
 * workload interface (interfaceSysctls).
 */
export function sysctlKeys(interfaces: { ipv4: string[]; ipv6: string[] }): SysctlKey[] {
  const keys = [
    'net.ipv4.ip_forward',
    'net.ipv4.conf.all.forwarding',
    'net.ipv4.conf.all.rp_filter',
    'net.ipv4.conf.default.rp_filter',
    'net.ipv4.conf.all.src_valid_mark',
    'net.ipv6.conf.all.forwarding',
    'net.ipv6.conf.all.disable_ipv6',
    'net.netfilter.nf_conntrack_count',
    'net.netfilter.nf_conntrack_max',
  ].map(globalKey);
  const v6 = new Set(interfaces.ipv6);
  for (const iface of realInterfaces(interfaces.ipv4)) {
    for (const key of Object.keys(interfaceSysctls(iface))) {
      if (!key.startsWith('net.ipv4.') && !v6.has(iface)) continue;
      const at = key.indexOf(`.${iface}.`);
      const head = key.slice(0, at).replace(/\./g, '/');
      keys.push({ key, path: `/proc/sys/${head}/${iface}/${key.slice(at + iface.length + 2)}` });
    }
  }
  return keys;
}
