// What `calicoctl node checksystem` checks, as data, and how the results are
// judged and printed. Pure: the probes are run by evaluate.ts through the
// SystemProbe port.
//
// Calico's checksystem looks for kernel modules in modules.dep / modules.builtin
// / lsmod / the kernel config. A module listed there can still be unusable (no
// module loading in a container, a netns-unaware feature), and one missing
// there can be built in under another name, so we test the features
// themselves instead: each kernel probe runs in a private, throw-away network
// namespace (`unshare --net`) that disappears when the probe exits. Nothing in
// this host's namespace (or the machine's) is ever written; the only things
// read here are the kernel release, programs on PATH, the conntrack count and
// ip_forward.
import { interfaceSysctls } from '../../dataplane/host-setup.js';
import { renderTable } from '../output.js';

export type PolicyBackend = 'nftables' | 'iptables';

/** What this host runs: decides which checks are required. */
export interface CheckTarget {
  backend: PolicyBackend;
  /** CALICO_NETWORKING_BACKEND=bird: BGP with BIRD 2. */
  bgp: boolean;
}

export type Probe =
  /** `uname -r` at least `minimum` (major.minor). */
  | { kind: 'kernel-version'; minimum: [number, number]; because: string }
  /** The program is on PATH; with `versionArgv`, its version line matches `versionPattern` (first group = major). */
  | { kind: 'program'; program: string; versionArgv?: string[]; minimumMajor?: number }
  /** A private network namespace can be made at all (every scratch probe needs one). */
  | { kind: 'namespace' }
  /** argv in a private network namespace; exit 0 = the feature works. */
  | { kind: 'scratch'; argv: string[]; input?: string }
  /** A read-only command in this host's namespace; exit 0 = ok. */
  | { kind: 'host'; argv: string[] }
  /** A file read in this host's namespace; the value is shown, never judged. */
  | { kind: 'read'; path: string };

/** required: missing fails the check run; optional: a warning (e.g. IPv6). */
export type Need = 'required' | 'optional';

export interface SystemCheck {
  /** Shown in the CHECK column and named in the summary. */
  feature: string;
  probe: Probe;
  /** Not needed for this target: shown as SKIP with this reason. */
  skipBecause?: string;
  need: Need;
  /** What to do when it fails. */
  fix: string;
}

export type CheckStatus = 'OK' | 'FAIL' | 'WARN' | 'SKIP';

export interface CheckResult {
  check: SystemCheck;
  status: CheckStatus;
  /** One line: the version found, the value read, or why it failed. */
  detail: string;
}

// Interface names for the scratch probes; the namespace is private, so they cannot clash.
const PROBE_IF = 'calicheck0';
const PROBE_PEER = 'calicheck1';

/** `echo V > /proc/sys/...` lines for sysctls given in dotted form (interface names have no dots here). */
function writeSysctls(values: Record<string, string>): string[] {
  return Object.entries(values).map(([key, value]) => `echo ${value} > /proc/sys/${key.replace(/\./g, '/')}`);
}

const sh = (lines: string[]): string[] => ['sh', '-ec', lines.join('\n')];
const vethPair = `ip link add name ${PROBE_IF} type veth peer name ${PROBE_PEER}`;

/**
 * The features our nft table uses (src/render/nft): an inet table with a NAT
 * chain (masquerade), concatenated interval sets, fib, ct state, meta mark.
 */
export const NFT_PROBE_SCRIPT = `table inet calicheck {
  set pairs {
    type ipv4_addr . inet_service
    flags interval
    elements = { 198.18.0.0/24 . 80 }
  }
  chain filter {
    type filter hook forward priority filter; policy accept;
    ct state established,related accept
    fib saddr . iif oif missing drop
    ip saddr . tcp dport @pairs meta mark set 0x10000 accept
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr 198.18.0.0/24 masquerade
  }
}
`;

/** The iptables features src/render/iptables uses: ipsets (hash:ip, hash:net, hash:net,port) and these matches and targets. */
const IPTABLES_PROBE = [
  'ipset create calicheck-ip hash:ip family inet',
  'ipset create calicheck-net hash:net family inet',
  'ipset create calicheck-np hash:net,port family inet',
  'iptables -w -N calicheck',
  'iptables -w -A calicheck -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
  'iptables -w -A calicheck -m set --match-set calicheck-net src -m set --match-set calicheck-np dst,dst -j ACCEPT',
  'iptables -w -A calicheck -p tcp -m multiport --dports 80,443 -m comment --comment calicheck -j MARK --set-xmark 0x10000/0x10000',
  'iptables -w -A calicheck -m mark --mark 0x10000/0x10000 -j RETURN',
  'iptables -w -A calicheck -p icmp -m icmp --icmp-type 8 -m mac --mac-source 02:00:00:00:00:01 -j DROP',
  'iptables -w -t raw -A PREROUTING -m rpfilter --invert -j DROP',
  'iptables -w -t nat -A POSTROUTING -m set --match-set calicheck-ip src -j MASQUERADE',
];

const split = (prefix: string, values: Record<string, string>) => Object.fromEntries(Object.entries(values).filter(([k]) => k.startsWith(prefix)));

/** Every check, in table order, with SKIP reasons for the ones this target does not need. */
export function systemChecks(target: CheckTarget): SystemCheck[] {
  const perInterface = interfaceSysctls(PROBE_IF);
  const notBackend = (b: PolicyBackend) => (target.backend === b ? {} : { skipBecause: `not needed with the ${target.backend} backend` });
  const notBgp = target.bgp ? {} : { skipBecause: 'not needed with CALICO_NETWORKING_BACKEND=none' };
  return [
    {
      feature: 'kernel version',
      probe:
        target.backend === 'nftables'
          ? { kind: 'kernel-version', minimum: [5, 2], because: 'NAT chains in an inet nftables table need 5.2' }
          : { kind: 'kernel-version', minimum: [3, 10], because: "Calico's minimum is 3.10" },
      need: 'required',
      fix: target.backend === 'nftables' ? 'run a kernel >= 5.2, or use the iptables backend (FelixConfiguration nftablesMode: Disabled)' : 'run a kernel >= 3.10',
    },
    { feature: 'iproute2 (ip)', probe: { kind: 'program', program: 'ip', versionArgv: ['-V'] }, need: 'required', fix: 'install iproute2 (apt-get install iproute2)' },
    { feature: 'network namespaces (unshare)', probe: { kind: 'namespace' }, need: 'required', fix: 'install util-linux (unshare) and run as root on a kernel with CONFIG_NET_NS' },
    { feature: 'veth', probe: { kind: 'scratch', argv: sh([vethPair]) }, need: 'required', fix: 'enable CONFIG_VETH (module veth)' },
    {
      feature: 'policy routing',
      probe: { kind: 'scratch', argv: ['ip', 'rule', 'add', 'from', '198.18.0.1', 'lookup', '100', 'priority', '100'] },
      need: 'required',
      fix: 'enable CONFIG_IP_MULTIPLE_TABLES',
    },
    {
      feature: 'IPv4 forwarding sysctl',
      probe: { kind: 'scratch', argv: sh(writeSysctls({ 'net.ipv4.ip_forward': '1' })) },
      need: 'required',
      fix: 'make /proc/sys/net writable (calico-node must run privileged, with the host network namespace)',
    },
    {
      feature: 'workload interface sysctls (IPv4)',
      probe: { kind: 'scratch', argv: sh([vethPair, ...writeSysctls(split('net.ipv4.', perInterface))]) },
      need: 'required',
      fix: 'make /proc/sys/net writable; proxy_arp, proxy_delay, rp_filter and forwarding are set on every workload interface',
    },
    {
      feature: 'IPv6 routing and sysctls',
      probe: {
        kind: 'scratch',
        argv: sh([vethPair, 'ip -6 route add unreachable 2001:db8::/64', ...writeSysctls({ 'net.ipv6.conf.all.forwarding': '1', ...split('net.ipv6.', perInterface) })]),
      },
      need: 'optional',
      fix: 'enable IPv6 (CONFIG_IPV6, no ipv6.disable=1) to use IPv6 pools; IPv4-only works without it',
    },
    {
      feature: 'conntrack',
      probe: { kind: 'host', argv: ['conntrack', '-C'] },
      need: 'required',
      fix: 'install conntrack (apt-get install conntrack) and enable CONFIG_NF_CONNTRACK and CONFIG_NF_CT_NETLINK',
    },
    {
      feature: 'nftables',
      probe: { kind: 'scratch', argv: ['nft', '-f', '-'], input: NFT_PROBE_SCRIPT },
      need: 'required',
      ...notBackend('nftables'),
      fix: 'install nftables (apt-get install nftables) and enable CONFIG_NF_TABLES_INET, CONFIG_NFT_NAT, CONFIG_NFT_MASQ, CONFIG_NFT_FIB_INET, CONFIG_NFT_CT',
    },
    {
      feature: 'iptables + ipset',
      probe: { kind: 'scratch', argv: sh(IPTABLES_PROBE) },
      need: 'required',
      ...notBackend('iptables'),
      fix: 'install iptables and ipset, and enable CONFIG_IP_SET (hash:ip, hash:net, hash:net,port) and the xt_set, xt_conntrack, xt_multiport, xt_mark, xt_mac, xt_comment, rpfilter matches',
    },
    {
      feature: 'ip6tables',
      probe: { kind: 'scratch', argv: sh(['ip6tables -w -N calicheck', 'ip6tables -w -A calicheck -m conntrack --ctstate ESTABLISHED -j ACCEPT']) },
      need: 'optional',
      ...notBackend('iptables'),
      fix: 'enable CONFIG_IP6_NF_IPTABLES to use IPv6 pools with the iptables backend',
    },
    { feature: 'BIRD 2 (bird)', probe: { kind: 'program', program: 'bird', versionArgv: ['--version'], minimumMajor: 2 }, need: 'required', ...notBgp, fix: 'install BIRD 2 (apt-get install bird2)' },
    { feature: 'BIRD client (birdc)', probe: { kind: 'program', program: 'birdc' }, need: 'required', ...notBgp, fix: 'install BIRD 2 (apt-get install bird2)' },
    { feature: 'ip_forward (this host)', probe: { kind: 'read', path: '/proc/sys/net/ipv4/ip_forward' }, need: 'optional', fix: 'calico-node sets it to 1 when it starts' },
  ];
}

/** `6.1.0-18-amd64` -> [6, 1]; undefined when there is no version at the start. */
export function parseKernelRelease(release: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release.trim());
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export function atLeast(have: [number, number], want: [number, number]): boolean {
  return have[0] > want[0] || (have[0] === want[0] && have[1] >= want[1]);
}

/** The first `x.y` version number in a program's version output (e.g. `BIRD version 2.0.12`). */
export function versionIn(text: string): { text: string; major: number } | undefined {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return m ? { text: m[0], major: Number(m[1]) } : undefined;
}

/** The last non-empty line of a failed command's output: usually the kernel's or the tool's reason. */
export function failureLine(stderr: string, stdout = ''): string {
  const lines = `${stderr}\n${stdout}`.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /error|not supported|no such|not found|invalid|denied|unknown|cannot|can't|couldn't|fail/i.test(l)) ?? lines[0] ?? 'failed with no output';
}

export interface CheckReport {
  ok: boolean;
  text: string;
}

/** The table, then one block per failed or warned check with its fix, then the verdict line. */
export function formatCheckReport(results: CheckResult[], target: CheckTarget): CheckReport {
  const lines: string[] = [];
  lines.push(`Checking this host for calico-node with the ${target.backend} backend${target.bgp ? ' and BGP (BIRD)' : ''}.`);
  lines.push(renderTable(['CHECK', 'STATUS', 'DETAIL'], results.map((r) => [r.check.feature, r.status, r.detail])).trimEnd());
  const failed = results.filter((r) => r.status === 'FAIL');
  const warned = results.filter((r) => r.status === 'WARN');
  for (const r of [...failed, ...warned]) {
    lines.push('', `${r.status === 'FAIL' ? 'Missing' : 'Warning'}: ${r.check.feature}: ${r.detail}`, `  Fix: ${r.check.fix}`);
  }
  lines.push('');
  if (failed.length) {
    lines.push(`System doesn't meet the minimum requirements to run Calico: missing ${failed.map((r) => r.check.feature).join(', ')}.`);
  } else {
    lines.push('System meets minimum system requirements to run Calico!');
  }
  return { ok: failed.length === 0, text: lines.join('\n') };
}
