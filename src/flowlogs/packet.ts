// The flow key of a logged packet: addresses, protocol, ports (TCP, UDP,
// SCTP) or ICMP type/code, and the packet's length from its IP header (the
// capture may be cut short; the header says how long the packet was). Pure.
import type { PolicyPacket } from '../calc/verdict.js';

export interface LoggedPacket extends PolicyPacket {
  /** Bytes of the whole IP packet. */
  length: number;
}

const PORT_PROTOCOLS = new Set([6, 17, 132]);
/** IPv6 extension headers we step over to find the transport header. */
const IPV6_EXTENSIONS = new Set([0, 43, 60]);
const IPV6_FRAGMENT = 44;

function ipv4Text(b: Uint8Array, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

function ipv6Text(b: Uint8Array, at: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[at + 2 * i]! << 8) | b[at + 2 * i + 1]!);
  // RFC 5952: the longest run (>1) of zero words becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best === -1) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** The transport fields, if the capture reaches them. */
function transport(p: LoggedPacket, b: Uint8Array, at: number, firstFragment: boolean): void {
  if (!firstFragment) return;
  if (PORT_PROTOCOLS.has(p.protocol) && at + 4 <= b.length) {
    p.srcPort = (b[at]! << 8) | b[at + 1]!;
    p.dstPort = (b[at + 2]! << 8) | b[at + 3]!;
  } else if ((p.protocol === 1 || p.protocol === 58) && at + 2 <= b.length) {
    p.icmpType = b[at]!;
    p.icmpCode = b[at + 1]!;
  }
}

/** undefined when the bytes are not an IP packet of that family. */
export function parseIpPacket(b: Uint8Array, family: 4 | 6): LoggedPacket | undefined {
  if (family === 4) {
    if (b.length < 20 || b[0]! >> 4 !== 4) return undefined;
    const ihl = (b[0]! & 0x0f) * 4;
    const fragOffset = ((b[6]! & 0x1f) << 8) | b[7]!;
    const p: LoggedPacket = { family: 4, src: ipv4Text(b, 12), dst: ipv4Text(b, 16), protocol: b[9]!, length: (b[2]! << 8) | b[3]! };
    transport(p, b, ihl, fragOffset === 0);
    return p;
  }
  if (b.length < 40 || b[0]! >> 4 !== 6) return undefined;
  let next = b[6]!;
  let at = 40;
  let firstFragment = true;
  while ((IPV6_EXTENSIONS.has(next) || next === IPV6_FRAGMENT) && at + 8 <= b.length) {
    if (next === IPV6_FRAGMENT) {
      firstFragment = (((b[at + 2]! << 8) | b[at + 3]!) & 0xfff8) === 0;
      next = b[at]!;
      at += 8;
    } else {
      const len = (b[at + 1]! + 1) * 8;
      next = b[at]!;
      at += len;
    }
  }
  const p: LoggedPacket = { family: 6, src: ipv6Text(b, 8), dst: ipv6Text(b, 24), protocol: next, length: 40 + ((b[4]! << 8) | b[5]!) };
  transport(p, b, at, firstFragment);
  return p;
}
