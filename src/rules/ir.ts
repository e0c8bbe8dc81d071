// Backend-neutral rule IR: chains of (matches -> action). The nftables and
// iptables renderers are the only code that knows a concrete syntax; the
// compiler only decides WHAT to match. Names in here are already kernel names
// (see names.ts), so both renderers print the same chain and set names.

import type { IpVersion, PortRange, SetMember } from '../calc/output.js';

export type Dir = 'src' | 'dst';
/** One component of a merged lookup's key, in this fixed order: saddr, daddr, proto, sport, dport. */
export type KeyField = 'saddr' | 'daddr' | 'proto' | 'sport' | 'dport';
export type CtState = 'established' | 'related' | 'invalid' | 'new';

export type Match =
  | { kind: 'family'; family: IpVersion }
  | { kind: 'protocol'; protocol: string; negate?: boolean }
  /** One CIDR; lists are always compiled to sets so iptables needs no expansion. */
  | { kind: 'addr'; dir: Dir; family: IpVersion; cidr: string; negate?: boolean }
  | { kind: 'set'; dir: Dir; family: IpVersion; set: string; negate?: boolean }
  /** Named port set of (address . protocol . port) on one side of the packet; negate = NOT in the set (notPorts). */
  | { kind: 'namedPortSet'; dir: Dir; family: IpVersion; set: string; negate?: boolean }
  /**
   * The packet's key (the fields, in KeyField order) is in the set: one lookup
   * standing for the union of many rules (see compile-tier.ts). Port fields
   * come only with the proto field, and their members are TCP/UDP/SCTP.
   */
  | { kind: 'tupleSet'; family: IpVersion; fields: KeyField[]; set: string }
  /** Requires a protocol match earlier in the same rule. */
  | { kind: 'ports'; dir: Dir; ports: PortRange[]; negate?: boolean }
  | { kind: 'icmp'; family: IpVersion; type: number; code?: number; negate?: boolean }
  | { kind: 'ct'; states: CtState[] }
  /** A name ending in '*' is a prefix match (nft "cali*", iptables "cali+"). */
  | { kind: 'iif'; name: string; negate?: boolean }
  | { kind: 'oif'; name: string; negate?: boolean }
  /** mark & mask == value */
  | { kind: 'mark'; mask: number; value: number; negate?: boolean }
  | { kind: 'srcMac'; mac: string; negate?: boolean }
  /** Strict reverse-path check FAILED (the source is not routed back out of the input interface). */
  | { kind: 'rpfFail' };

export type Action =
  | { kind: 'accept' }
  | { kind: 'drop' }
  | { kind: 'return' }
  | { kind: 'jump'; chain: string }
  | { kind: 'goto'; chain: string }
  /** Kernel log (LOG) or, with `group`, a copy to userspace on that NFLOG group (flow logs). Not a verdict. */
  | { kind: 'log'; prefix: string; group?: number }
  /** mark = (mark & ~mask) | value */
  | { kind: 'setMark'; mask: number; value: number }
  /** Exempt the packet from connection tracking (raw stage only: nft `notrack`, iptables `-j CT --notrack`). Not a verdict. */
  | { kind: 'notrack' }
  | { kind: 'masquerade' }
  /** Per-interface dispatch (nft verdict map; iptables one rule per interface). */
  | { kind: 'dispatch'; by: 'iif' | 'oif'; targets: { iface: string; chain: string }[] };

export interface Rule {
  matches: Match[];
  action: Action;
  /** Only meaningful for the human; never relied on. */
  comment?: string;
}

/**
 * Where a top-level chain is entered from: a kernel hook at one stage.
 * 'prerouting' is the raw stage (before conntrack), 'raw-output' the raw stage
 * of locally sent packets, 'mangle-prerouting' after conntrack and before DNAT;
 * input/forward/output are the filter stage, 'postrouting' the source NAT stage.
 */
export type HookName = 'prerouting' | 'raw-output' | 'mangle-prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
export type TableKind = 'raw' | 'mangle' | 'filter' | 'nat';

export interface Chain {
  name: string;
  table: TableKind;
  rules: Rule[];
  /** Set on the few top-level chains that the kernel's built-in hooks jump to. */
  hook?: HookName;
  /**
   * iptables only: further tables that need their own copy of this chain
   * (a policy chain used by untracked or pre-DNAT host endpoint policy is
   * jumped to from the raw or mangle table, and iptables cannot jump across
   * tables). nftables has one table, so one chain serves every stage.
   */
  alsoIn?: TableKind[];
}

/**
 * One element of a merged lookup: a value for each of its set's key fields
 * (`IpSet.fields`) and nothing else. Addresses are canonical CIDRs (cidr.ts),
 * the protocol an IANA number, ports ranges.
 */
export interface TupleMember {
  saddr?: string;
  daddr?: string;
  proto?: number;
  sport?: PortRange;
  dport?: PortRange;
}

interface IpSetCommon {
  name: string;
  family: IpVersion;
  /** Which logical set this is, for humans. */
  source: string;
}

/**
 * A set, its members as fields (the calc graph's SetMember, its net made
 * canonical by cidr.ts; TupleMember for merged lookups), never as text: the
 * renderers spell them, set-members.ts gives their identity and order.
 */
export type IpSet =
  /** Addresses / CIDRs: `{ net }`. */
  | (IpSetCommon & { kind: 'net'; members: SetMember[] })
  /** Named ports: `{ net, protocol, port }`. */
  | (IpSetCommon & { kind: 'net-proto-port'; members: SetMember[] })
  /** Merged rules: the packet's `fields`, in KeyField order. */
  | (IpSetCommon & { kind: 'tuple'; fields: KeyField[]; members: TupleMember[] });

/** Everything the kernel should hold for our tables, both families. */
export interface Ruleset {
  chains: Chain[];
  sets: IpSet[];
}

const setRefs = new WeakMap<Chain, readonly string[]>();

/** set name -> the chains (of `chains`) that look it up. */
export function setUsers(chains: Iterable<Chain>): Map<string, Chain[]> {
  const index = new Map<string, Chain[]>();
  for (const c of chains) {
    for (const s of chainSetRefs(c)) {
      const list = index.get(s);
      if (list) list.push(c);
      else index.set(s, [c]);
    }
  }
  return index;
}

/** The sets a chain's rules look up (memoised: chains are immutable once compiled). */
export function chainSetRefs(chain: Chain): readonly string[] {
  let refs = setRefs.get(chain);
  if (!refs) {
    const names = new Set<string>();
    for (const r of chain.rules) for (const m of r.matches) if (m.kind === 'set' || m.kind === 'tupleSet' || m.kind === 'namedPortSet') names.add(m.set);
    setRefs.set(chain, (refs = [...names]));
  }
  return refs;
}
