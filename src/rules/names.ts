// Every kernel name this project creates, and the limits those names must fit.
// "Know what is yours" (STYLE.md rule 3): a restarted agent recognises its own
// objects from the kernel alone, by these markers and nothing else:
//   nftables  the whole table `inet calico` is ours (one table, both families)
//   iptables  chains whose name starts with `cali-`, and hook rules in the
//             built-in chains carrying the comment HOOK_COMMENT
//   ipset     sets whose name starts with `cali40` (IPv4) or `cali60` (IPv6)
//   routes    route protocol ROUTE_PROTOCOL (80; unused in /etc/iproute2/rt_protos
//             on Debian 12, and the number Calico's Felix also uses)

import { createHash } from 'node:crypto';
import type { IpVersion } from '../calc/output.js';
import type { HookName } from './ir.js';

export const NFT_FAMILY = 'inet';
export const NFT_TABLE = 'calico';
export const ROUTE_PROTOCOL = 80;
export const WORKLOAD_PREFIX = 'cali';
export const HOOK_COMMENT = 'cali:hook';
/** First rule of each of our chains carries `<CHAIN_HASH_PREFIX><hash of the chain's rules>`. */
export const CHAIN_HASH_PREFIX = 'cali:h=';

// Kernel limits. iptables: XT_EXTENSION_MAXNAMELEN 29 incl. NUL -> 28.
// ipset: IPSET_MAXNAMELEN 32 incl. NUL -> 31. Interface names: IFNAMSIZ 16 -> 15.
// nftables allows 256 but we keep one naming scheme for both backends.
export const MAX_CHAIN_NAME = 28;
export const MAX_SET_NAME = 31;
export const MAX_IFACE_NAME = 15;

// Packet mark bits we own. Calico's default IptablesMarkMask is 0xffff0000;
// we use two bits of it: "a policy accepted" and "a policy said Pass".
export const MARK_ACCEPT = 0x10000;
export const MARK_PASS = 0x20000;
export const MARK_MASK = MARK_ACCEPT | MARK_PASS;

/**
 * The names nftables and iptables print for IANA protocol numbers (`nft list`
 * reads `ipv6-icmp` for 58), so what we write compares equal to what we read
 * back. Other numbers are written as numbers.
 */
const PROTOCOL_NAMES: Readonly<Record<number, string>> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'ipv6-icmp', 132: 'sctp' };
const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = Object.fromEntries(Object.entries(PROTOCOL_NAMES).map(([n, name]) => [name, Number(n)]));

export const protocolName = (protocol: number): string => PROTOCOL_NAMES[protocol] ?? String(protocol);

/** Whether nft prints the protocol back by a name of ours (so it can be a merged lookup's key field). */
export const hasProtocolName = (protocol: number): boolean => PROTOCOL_NAMES[protocol] !== undefined;

/** Inverse of protocolName; undefined for text that is neither a name of ours nor a number. */
export function protocolNumberOf(text: string): number | undefined {
  if (/^[0-9]+$/.test(text)) return Number(text);
  return PROTOCOL_NUMBERS[text];
}

/** Deterministic, name-safe digest (base64url without padding). */
export function shortHash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, length);
}

function fit(name: string, max: number, key: string): string {
  if (name.length <= max) return name;
  // Keep a readable head and a hash of the full key so distinct keys never collide.
  const hash = shortHash(key, 10);
  return `${name.slice(0, max - hash.length - 1)}_${hash}`;
}

export const chainNames = {
  /** Top-level chains hooked from the kernel's built-in hooks. */
  top: {
    prerouting: 'cali-PREROUTING',
    'raw-output': 'cali-raw-OUTPUT',
    'mangle-prerouting': 'cali-mangle-PREROUTING',
    input: 'cali-INPUT',
    forward: 'cali-FORWARD',
    output: 'cali-OUTPUT',
    postrouting: 'cali-POSTROUTING',
  } satisfies Record<HookName, string>,
  fromWorkloadDispatch: 'cali-from-wl-dispatch',
  toWorkloadDispatch: 'cali-to-wl-dispatch',
  workloadToHost: 'cali-wl-to-host',
  fromHostDispatch: 'cali-from-hep-dispatch',
  toHostDispatch: 'cali-to-hep-dispatch',
  /** Host endpoint dispatch per stage. Never of the form <endpoint prefix><interface>, so no interface name can collide. */
  toHostUntrackedDispatch: 'cali-to-hep-nt-dispatch',
  fromHostUntrackedDispatch: 'cali-from-hep-nt-dispatch',
  toHostPreDnatDispatch: 'cali-to-hep-dnat-dispatch',
  toHostForwardDispatch: 'cali-to-hep-fw-dispatch',
  fromHostForwardDispatch: 'cali-from-hep-fw-dispatch',
  natOutgoing: 'cali-nat-outgoing',
  /** From workload (egress policy + anti-spoof). */
  fromWorkload: (iface: string) => fit(`cali-fw-${iface}`, MAX_CHAIN_NAME, `fw/${iface}`),
  /** To workload (ingress policy). */
  toWorkload: (iface: string) => fit(`cali-tw-${iface}`, MAX_CHAIN_NAME, `tw/${iface}`),
  /** Into the host through a host endpoint. */
  toHost: (iface: string) => hepChain('th', iface),
  fromHost: (iface: string) => hepChain('fh', iface),
  /** Untracked (doNotTrack) policy, raw stage, into / out of the host. */
  toHostUntracked: (iface: string) => hepChain('thu', iface),
  fromHostUntracked: (iface: string) => hepChain('fhu', iface),
  /** preDNAT policy, mangle stage, into the host (ingress only). */
  toHostPreDnat: (iface: string) => hepChain('thd', iface),
  /** applyOnForward policy for traffic forwarded in through / out of the host endpoint. */
  toHostForward: (iface: string) => hepChain('thf', iface),
  fromHostForward: (iface: string) => hepChain('fhf', iface),
  /**
   * One tier's policies as they apply to some endpoints, merged (compile-tier.ts);
   * named by the ordered policy list, so endpoints with the same list share it.
   */
  tier: (tier: string, policyIds: string[], dir: 'inbound' | 'outbound') => `cali-t${dir === 'inbound' ? 'i' : 'o'}-${shortHash(`${tier}\n${policyIds.join('\n')}`, 18)}`,
  /** Targets of merged rules' verdicts: set the verdict's mark bit; the caller's caller reads it (they are entered by goto). */
  allow: 'cali-allow',
  pass: 'cali-pass',
  /** Flow logs on only: where merged rules' Deny goes, to copy the packet to the flow-log NFLOG group before dropping it. */
  flowLogDeny: (dir: 'inbound' | 'outbound') => `cali-fl-deny-${dir === 'inbound' ? 'i' : 'o'}`,
  // Profile ids are arbitrary length, so profile chains are always hashed.
  profile: (id: string, dir: 'inbound' | 'outbound') => `cali-r${dir === 'inbound' ? 'i' : 'o'}-${shortHash(id, 18)}`,
};

/**
 * `interfaceName: "*"` (all-interfaces host endpoint) in chain names. Longer
 * than any interface name (IFNAMSIZ 15), so no real interface can collide,
 * short enough that every `cali-xxx-` chain name still fits unhashed,
 * and made only of characters nft accepts in a chain name.
 */
export const ALL_INTERFACES = '*';
const ALL_INTERFACES_KEY = 'all-host-interfaces';

function hepChain(prefix: string, iface: string): string {
  const key = iface === ALL_INTERFACES ? ALL_INTERFACES_KEY : iface;
  return fit(`cali-${prefix}-${key}`, MAX_CHAIN_NAME, `${prefix}/${key}`);
}

/** nft base-chain names (the iptables backend uses the built-in chains instead). */
export const nftBaseChain: Record<HookName, string> = {
  prerouting: 'base-prerouting',
  'raw-output': 'base-raw-output',
  'mangle-prerouting': 'base-mangle-prerouting',
  input: 'base-input',
  forward: 'base-forward',
  output: 'base-output',
  postrouting: 'base-postrouting',
};

export const OUR_CHAIN_PREFIX = 'cali-';
export const setPrefix = (family: IpVersion): string => (family === 4 ? 'cali40' : 'cali60');

/**
 * Set names: `cali40s-<hash>` for calc-graph sets, `cali40n-` for derived CIDR
 * lists, `cali40m-` for merged (address . port) sets, `cali40p-` for named ports,
 * plus the two fixed pool sets. Always <= 31 characters.
 */
export const setNames = {
  selector: (id: string, family: IpVersion) => `${setPrefix(family)}s-${shortHash(id, 22)}`,
  namedPort: (id: string, family: IpVersion) => `${setPrefix(family)}p-${shortHash(id, 22)}`,
  derivedNets: (key: string, family: IpVersion) => `${setPrefix(family)}n-${shortHash(key, 22)}`,
  merged: (key: string, family: IpVersion) => `${setPrefix(family)}m-${shortHash(key, 22)}`,
  allPools: (family: IpVersion) => `${setPrefix(family)}-all-pools`,
  masqPools: (family: IpVersion) => `${setPrefix(family)}-masq-pools`,
};

export function isOurSet(name: string): boolean {
  return name.startsWith('cali40') || name.startsWith('cali60');
}

export function isOurChain(name: string): boolean {
  return name.startsWith(OUR_CHAIN_PREFIX);
}

export function isWorkloadInterface(name: string): boolean {
  return name.startsWith(WORKLOAD_PREFIX);
}
