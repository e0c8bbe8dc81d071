// An interpreter of the compiled rule IR: runs a packet through a Ruleset
// from one kernel hook the way nftables or iptables would (jump / goto /
// return, marks, sets, verdict maps), and counts the rules it walked. It is
// the "kernel" side of the compiler's differential test
// (equivalence.test.ts) and of the cost checks: pure, and slow on purpose
// (no indexing), so that its meaning is obvious.
//
// What it does not model, because policy never depends on it: conntrack
// beyond the packet's given ct state, routing (rpfFail never fires), NAT.

import { CalicoError } from '../base/errors.js';
import { cidrContainsIP, tryParseCIDROrIP, tryParseIP, type CIDR, type IPAddress } from '../base/ip.js';
import type { Chain, CtState, HookName, IpSet, Match, Rule, Ruleset } from './ir.js';
import type { IpVersion, PortRange } from '../calc/output.js';
import type { PolicyPacket } from '../calc/verdict.js';
import { chainNames, protocolNumberOf } from './names.js';
import { ipsetShape } from '../render/iptables/render.js';
import { disjointBuckets } from './tuple-sets.js';

/** A packet at a hook, with what the IR can look at. */
export interface IrPacket extends PolicyPacket {
  iif: string;
  oif: string;
  srcMac?: string;
  ct: CtState;
  /** Packet mark on entry (0 when absent). */
  mark?: number;
}

export type IrFlavour = 'nftables' | 'iptables';

export interface IrOutcome {
  verdict: 'accept' | 'drop';
  mark: number;
  /** Rules whose matches were evaluated (the cost a packet pays). */
  rulesEvaluated: number;
  /** Set / map lookups performed. */
  lookups: number;
  /** Chains entered, in order (jump, goto and dispatch targets). */
  chains: string[];
  logs: string[];
}

/** The IR asked for something the interpreter (and so the test) cannot vouch for. */
export class IrEvalError extends CalicoError {
  constructor(message: string) {
    super('invalid-argument', message);
    this.name = 'IrEvalError';
  }
}

function irProtocolNumber(name: string): number {
  const n = protocolNumberOf(name);
  if (n === undefined) throw new IrEvalError(`unknown protocol '${name}' in the IR`);
  return n;
}

const cidrCache = new Map<string, CIDR>();
function cidr(text: string): CIDR {
  let c = cidrCache.get(text);
  if (!c) {
    const parsed = tryParseCIDROrIP(text);
    if (!parsed) throw new IrEvalError(`'${text}' in the IR is not a CIDR`);
    if (cidrCache.size > 100_000) cidrCache.clear();
    cidrCache.set(text, (c = parsed));
  }
  return c;
}

function ipOf(text: string): IPAddress {
  const ip = tryParseIP(text);
  if (!ip) throw new IrEvalError(`packet address '${text}' is not an IP address`);
  return ip;
}

/** One component of a set key, against one member field. */
type KeyPart = { kind: 'addr'; ip: IPAddress } | { kind: 'proto'; protocol: number } | { kind: 'port'; port: number };

/** A member's fields in key order: a CIDR, a protocol number, a port range. */
type MemberField = string | number | PortRange | undefined;

function memberFields(set: IpSet, index: number): MemberField[] {
  if (set.kind === 'tuple') return set.fields.map((f) => set.members[index]![f]);
  const m = set.members[index]!;
  return set.kind === 'net' ? [m.net] : [m.net, m.protocol, m.port === undefined ? undefined : { first: m.port, last: m.port }];
}

function fieldMatches(field: MemberField, part: KeyPart): boolean {
  switch (part.kind) {
    case 'addr':
      return typeof field === 'string' && cidrContainsIP(cidr(field), part.ip);
    case 'proto':
      return field === part.protocol;
    case 'port':
      return typeof field === 'object' && part.port >= field.first && part.port <= field.last;
  }
}

export class IrInterpreter {
  private readonly chains = new Map<string, Chain>();
  private readonly sets = new Map<string, IpSet>();

  constructor(ruleset: Ruleset, private readonly flavour: IrFlavour = 'nftables') {
    for (const c of ruleset.chains) if (!this.chains.has(c.name)) this.chains.set(c.name, c);
    for (const s of ruleset.sets) {
      // The kernel refuses overlapping elements in an nft interval set: so does the interpreter.
      if (flavour === 'nftables' && s.kind === 'tuple') {
        const buckets = disjointBuckets(s.fields, s.members);
        if (buckets.length !== 1 || buckets[0]!.length !== s.members.length) throw new IrEvalError(`nft would refuse set ${s.name}: its elements overlap`);
      }
      this.sets.set(s.name, s);
    }
  }

  /** Runs the packet through the top-level chain of `hook`; falling off it means accept (the hooks' policy). */
  run(hook: HookName, packetIn: IrPacket): IrOutcome {
    const out: IrOutcome = { verdict: 'accept', mark: packetIn.mark ?? 0, rulesEvaluated: 0, lookups: 0, chains: [], logs: [] };
    const packet = { ...packetIn };
    // Call stack of (chain, next rule index); goto replaces the top frame.
    const stack: { chain: Chain; at: number }[] = [{ chain: this.chain(chainNames.top[hook]), at: 0 }];
    out.chains.push(chainNames.top[hook]);
    let steps = 0;
    while (stack.length) {
      const frame = stack[stack.length - 1]!;
      if (frame.at >= frame.chain.rules.length) {
        stack.pop();
        continue;
      }
      const rule = frame.chain.rules[frame.at++]!;
      if (++steps > 1_000_000) throw new IrEvalError('rule walk does not terminate (a jump loop?)');
      if (this.flavour === 'iptables' && !this.iptablesHas(rule, packet.family)) continue;
      out.rulesEvaluated++;
      if (!rule.matches.every((m) => this.matches(m, packet, out))) continue;
      const a = rule.action;
      switch (a.kind) {
        case 'accept':
          out.verdict = 'accept';
          return out;
        case 'drop':
          out.verdict = 'drop';
          return out;
        case 'return':
          stack.pop();
          break;
        case 'jump':
          stack.push({ chain: this.chain(a.chain), at: 0 });
          out.chains.push(a.chain);
          break;
        case 'goto':
          stack[stack.length - 1] = { chain: this.chain(a.chain), at: 0 };
          out.chains.push(a.chain);
          break;
        case 'log':
          out.logs.push(a.prefix);
          break;
        case 'setMark':
          out.mark = ((out.mark & ~a.mask) | a.value) >>> 0;
          break;
        case 'notrack':
        case 'masquerade':
          break;
        case 'dispatch': {
          out.lookups++;
          const name = a.by === 'iif' ? packet.iif : packet.oif;
          const target = a.targets.find((t) => t.iface === name);
          if (target) {
            stack[stack.length - 1] = { chain: this.chain(target.chain), at: 0 };
            out.chains.push(target.chain);
          }
          break;
        }
      }
      packet.mark = out.mark;
    }
    return out;
  }

  private chain(name: string): Chain {
    const c = this.chains.get(name);
    if (!c) throw new IrEvalError(`the IR jumps to chain '${name}', which it does not define`);
    return c;
  }

  /** iptables renders a rule only into its own family's table (see render/iptables). */
  private iptablesHas(rule: Rule, family: IpVersion): boolean {
    for (const m of rule.matches) if ('family' in m && m.family && m.family !== family) return false;
    return true;
  }

  private set(name: string): IpSet {
    const s = this.sets.get(name);
    if (!s) throw new IrEvalError(`the IR uses set '${name}', which it does not define`);
    return s;
  }

  private inSet(name: string, key: KeyPart[], family: IpVersion, out: IrOutcome): boolean {
    out.lookups++;
    const set = this.set(name);
    if (set.family !== family) throw new IrEvalError(`set ${name} (IPv${set.family}) looked up with an IPv${family} packet`);
    return set.members.some((_, i) => {
      const fields = memberFields(set, i);
      if (fields.length !== key.length) throw new IrEvalError(`set ${name}: a member has ${fields.length} fields, the lookup ${key.length}`);
      return fields.every((f, j) => fieldMatches(f, key[j]!));
    });
  }

  private portOf(dir: 'src' | 'dst', packet: IrPacket): number | undefined {
    return dir === 'src' ? packet.srcPort : packet.dstPort;
  }

  /** A port-reading match on a packet without ports: positive ones fail; negated ones are outside what we model. */
  private needPort(dir: 'src' | 'dst', packet: IrPacket, negate: boolean | undefined): number | undefined {
    const port = this.portOf(dir, packet);
    if (port === undefined && negate) throw new IrEvalError(`a negated ${dir} port match reached a packet without ports (protocol ${packet.protocol})`);
    return port;
  }

  private matches(m: Match, packet: IrPacket, out: IrOutcome): boolean {
    const not = (b: boolean) => ('negate' in m && m.negate ? !b : b);
    switch (m.kind) {
      case 'family':
        return packet.family === m.family;
      case 'protocol':
        return not(irProtocolNumber(m.protocol) === packet.protocol);
      case 'addr': {
        if (packet.family !== m.family) return false;
        return not(cidrContainsIP(cidr(m.cidr), ipOf(m.dir === 'src' ? packet.src : packet.dst)));
      }
      case 'set': {
        if (packet.family !== m.family) return false;
        return not(this.inSet(m.set, [{ kind: 'addr', ip: ipOf(m.dir === 'src' ? packet.src : packet.dst) }], m.family, out));
      }
      case 'tupleSet': {
        if (packet.family !== m.family) return false;
        if (this.flavour === 'iptables') ipsetShape(m.fields); // what iptables cannot render fails here as it would there
        const key: KeyPart[] = [];
        for (const f of m.fields) {
          if (f === 'saddr' || f === 'daddr') key.push({ kind: 'addr', ip: ipOf(f === 'saddr' ? packet.src : packet.dst) });
          else if (f === 'proto') key.push({ kind: 'proto', protocol: packet.protocol });
          else {
            const port = this.portOf(f === 'sport' ? 'src' : 'dst', packet);
            if (port === undefined) return false;
            key.push({ kind: 'port', port });
          }
        }
        return this.inSet(m.set, key, m.family, out);
      }
      case 'namedPortSet': {
        if (packet.family !== m.family) return false;
        const port = this.needPort(m.dir, packet, m.negate);
        if (port === undefined) return false;
        const ip = ipOf(m.dir === 'src' ? packet.src : packet.dst);
        return not(this.inSet(m.set, [{ kind: 'addr', ip }, { kind: 'proto', protocol: packet.protocol }, { kind: 'port', port }], m.family, out));
      }
      case 'ports': {
        const port = this.needPort(m.dir, packet, m.negate);
        if (port === undefined) return false;
        return not(m.ports.some((r) => port >= r.first && port <= r.last));
      }
      case 'icmp': {
        const icmp = m.family === 4 ? 1 : 58;
        if (packet.family !== m.family || packet.protocol !== icmp || packet.icmpType === undefined) return false;
        const is = packet.icmpType === m.type && (m.code === undefined || packet.icmpCode === m.code);
        return not(is);
      }
      case 'ct':
        return m.states.includes(packet.ct);
      case 'iif':
      case 'oif': {
        const name = m.kind === 'iif' ? packet.iif : packet.oif;
        const hit = m.name.endsWith('*') ? name.startsWith(m.name.slice(0, -1)) : name === m.name;
        return not(hit);
      }
      case 'mark':
        return not(((packet.mark ?? 0) & m.mask) >>> 0 === m.value >>> 0);
      case 'srcMac':
        return not((packet.srcMac ?? '').toLowerCase() === m.mac.toLowerCase());
      case 'rpfFail':
        return false;
    }
  }
}
