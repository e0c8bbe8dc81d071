// Why a session with a BGP password does not come up. With TCP MD5 a wrong
// password never reaches BIRD: the kernel drops the segments, BIRD only sees
// connects that go nowhere (state Connect / Active, no error). The kernel
// counts the drops per network namespace in /proc/net/netstat (TcpExt
// TCPMD5Failure / TCPMD5NotFound / TCPMD5Unexpected); this turns those
// counters plus the sessions into a sentence for the log. Pure.

import type { BgpSession } from './status.js';

export interface TcpMd5Counters {
  /** Segment signed with a different key. */
  failure: number;
  /** We expect a signature, the segment has none (peer has no password). */
  notFound: number;
  /** Segment signed, we have no password for that peer. */
  unexpected: number;
}

/** Reads the TcpExt MD5 counters from /proc/net/netstat text (header line, then values line). */
export function parseTcpMd5Counters(netstat: string): TcpMd5Counters {
  const lines = netstat.split('\n');
  const out: TcpMd5Counters = { failure: 0, notFound: 0, unexpected: 0 };
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i]!.startsWith('TcpExt:') || !lines[i + 1]!.startsWith('TcpExt:')) continue;
    const keys = lines[i]!.split(/\s+/);
    const values = lines[i + 1]!.split(/\s+/).map(Number);
    const get = (k: string) => values[keys.indexOf(k)] ?? 0;
    out.failure = get('TCPMD5Failure');
    out.notFound = get('TCPMD5NotFound');
    out.unexpected = get('TCPMD5Unexpected');
    break;
  }
  return out;
}

/**
 * One line per session that is not Established while the kernel dropped MD5
 * segments since `before`. `passwordPeers` are the peer addresses we set a
 * password for (from the plan).
 */
export function explainStuckSessions(
  sessions: BgpSession[],
  counters: { before: TcpMd5Counters; after: TcpMd5Counters },
  passwordPeers: ReadonlySet<string>,
): string[] {
  const d = {
    failure: counters.after.failure - counters.before.failure,
    notFound: counters.after.notFound - counters.before.notFound,
    unexpected: counters.after.unexpected - counters.before.unexpected,
  };
  if (d.failure + d.notFound + d.unexpected <= 0) return [];
  const out: string[] = [];
  for (const s of sessions) {
    if (s.bgpState === 'Established') continue;
    const ours = passwordPeers.has(s.peerAddress);
    let why: string | undefined;
    if (ours && d.failure > 0) why = `the kernel dropped ${d.failure} segment(s) signed with a different TCP MD5 key: the BGP password differs on the two sides`;
    else if (ours && d.notFound > 0) why = `the kernel dropped ${d.notFound} unsigned segment(s): the peer has no BGP password set`;
    else if (!ours && d.unexpected > 0) why = `the kernel dropped ${d.unexpected} signed segment(s): the peer uses a BGP password and this node has none`;
    if (why) out.push(`BGP session ${s.protocolName} to ${s.peerAddress} is ${s.bgpState || s.info}: ${why}`);
  }
  return out;
}
