// Conntrack counters for allowed flows. The NFLOG copy of an allowed flow is
// its first packet(s) only; the connection's own counters (packets and bytes
// each way so far) are in conntrack, with accounting on
// (net.netfilter.nf_conntrack_acct=1). At each flush the reporter reads the
// table once (`conntrack -L -o extended`) and joins it to the interval's
// allowed records by their original 5-tuple. Pure parsing here.
import type { LoggedPacket } from './packet.js';

export interface ConntrackCounters {
  origPackets: number;
  origBytes: number;
  replyPackets: number;
  replyBytes: number;
}

const FAMILY: Record<string, 4 | 6> = { ipv4: 4, ipv6: 6 };

/** The join key: family, protocol, original source and destination with ports. */
export function conntrackKey(p: Pick<LoggedPacket, 'family' | 'protocol' | 'src' | 'dst' | 'srcPort' | 'dstPort'>): string {
  return `${p.family}|${p.protocol}|${p.src.toLowerCase()}|${p.srcPort ?? ''}|${p.dst.toLowerCase()}|${p.dstPort ?? ''}`;
}

/**
 * `conntrack -L -o extended` lines -> counters by original-direction key.
 * A line: `ipv4 2 tcp 6 117 TIME_WAIT src=.. dst=.. sport=.. dport=.. packets=N bytes=N src=.. (reply) ... [ASSURED] mark=0 use=1`.
 * Lines without counters (accounting off) or of another shape are skipped.
 */
export function parseConntrackTable(text: string): Map<string, ConntrackCounters> {
  const out = new Map<string, ConntrackCounters>();
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    const family = FAMILY[words[0] ?? ''];
    const protocol = Number(words[3]);
    if (!family || !Number.isInteger(protocol)) continue;
    // Two tuples, each starting at a src=; the first is the original direction.
    const tuples: Record<string, string>[] = [];
    for (const w of words) {
      const eq = w.indexOf('=');
      if (eq <= 0) continue;
      const k = w.slice(0, eq);
      if (k === 'src') tuples.push({});
      const t = tuples[tuples.length - 1];
      if (t && !(k in t)) t[k] = w.slice(eq + 1);
    }
    const [orig, reply] = tuples;
    if (!orig || !reply || orig.packets === undefined || reply.packets === undefined || !orig.src || !orig.dst) continue;
    const port = (v: string | undefined) => (v === undefined ? undefined : Number(v));
    const key = conntrackKey({ family, protocol, src: orig.src, dst: orig.dst, srcPort: port(orig.sport), dstPort: port(orig.dport) });
    out.set(key, { origPackets: Number(orig.packets), origBytes: Number(orig.bytes ?? 0), replyPackets: Number(reply.packets), replyBytes: Number(reply.bytes ?? 0) });
  }
  return out;
}
