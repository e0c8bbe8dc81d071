// A flow record as one JSON line. Field names follow Calico's flow logs
// (snake_case; start_time / end_time in Unix seconds; source_* / dest_*;
// reporter src|dst; action allow|deny), with the deciding policy as one
// object. Pure.
import type { FlowEnd } from './attribution.js';
import type { FlowRecord } from './aggregator.js';
import type { ConntrackCounters } from './conntrack.js';

const PROTOCOL_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmp6', 132: 'sctp' };

export interface FlowLogLine {
  start_time: number;
  end_time: number;
  source_ip: string;
  source_port?: number;
  source_type: FlowEnd['type'];
  source_namespace?: string;
  source_name: string;
  dest_ip: string;
  dest_port?: number;
  dest_type: FlowEnd['type'];
  dest_namespace?: string;
  dest_name: string;
  proto: string;
  icmp_type?: number;
  icmp_code?: number;
  action: 'allow' | 'deny';
  reporter: 'src' | 'dst';
  policy: { decided_by: string; tier?: string; name?: string; rule?: number };
  packets: number;
  bytes: number;
  /** Allowed flows: the connection's counters so far (original = from the source, reply = to it), when conntrack had them at the flush. */
  conntrack?: { orig_packets: number; orig_bytes: number; reply_packets: number; reply_bytes: number };
  host: string;
}

const end = (prefix: 'source' | 'dest', e: FlowEnd) => ({
  [`${prefix}_type`]: e.type,
  ...(e.namespace !== undefined ? { [`${prefix}_namespace`]: e.namespace } : {}),
  [`${prefix}_name`]: e.name,
});

export function flowLogLine(r: FlowRecord, host: string, counters?: ConntrackCounters): FlowLogLine {
  const p = r.packet;
  const a = r.attribution;
  const pol = a.policy;
  return {
    start_time: Math.floor(r.startMs / 1000),
    end_time: Math.ceil(r.endMs / 1000),
    source_ip: p.src,
    ...(p.srcPort !== undefined ? { source_port: p.srcPort } : {}),
    ...end('source', a.source),
    dest_ip: p.dst,
    ...(p.dstPort !== undefined ? { dest_port: p.dstPort } : {}),
    ...end('dest', a.dest),
    proto: PROTOCOL_NAMES[p.protocol] ?? String(p.protocol),
    ...(p.icmpType !== undefined ? { icmp_type: p.icmpType, icmp_code: p.icmpCode ?? 0 } : {}),
    action: r.action,
    reporter: a.reporter,
    policy: { decided_by: pol.decidedBy, ...(pol.tier !== undefined ? { tier: pol.tier } : {}), ...(pol.policy !== undefined ? { name: pol.policy } : {}), ...(pol.rule !== undefined ? { rule: pol.rule } : {}) },
    packets: r.packets,
    bytes: r.bytes,
    ...(counters ? { conntrack: { orig_packets: counters.origPackets, orig_bytes: counters.origBytes, reply_packets: counters.replyPackets, reply_bytes: counters.replyBytes } } : {}),
    host,
  } as FlowLogLine;
}
