// Flow records aggregated over one flush interval, in a table of bounded
// size. Pure: time comes in with each observation. A flow is one 5-tuple
// (ICMP: type and code instead of ports) seen by one endpoint's policy in one
// direction with one verdict; the attribution (endpoints, tier / policy /
// rule) is computed once, when the flow first appears in the interval. When
// the table is full, packets of flows not in it are counted as dropped and
// forgotten: memory never grows past the cap, whatever the traffic.
import type { FlowVerdict } from '../rules/flow-log.js';
import type { Attribution } from './attribution.js';
import type { LoggedPacket } from './packet.js';

export interface FlowRecord {
  startMs: number;
  endMs: number;
  packet: Omit<LoggedPacket, 'length'>;
  action: FlowVerdict;
  attribution: Attribution;
  /** Logged packets and their bytes: every packet of a denied flow; of an allowed flow, those of its NEW state. */
  packets: number;
  bytes: number;
}

export interface FlushResult {
  records: FlowRecord[];
  /** Packets of flows that did not fit in the table this interval. */
  droppedPackets: number;
  /** Distinct flows that did not fit (exact up to max(maxFlows, 1024) of them, an over-count past that). */
  droppedFlows: number;
}

export const DEFAULT_MAX_FLOWS = 10_000;
/** Refused flows are told apart up to this many (or maxFlows); past it each of their packets counts as a flow (an over-count, never unbounded memory). */
const REFUSED_KEYS_MIN = 1024;

export function flowKey(p: LoggedPacket, action: FlowVerdict, reporter: 'src' | 'dst'): string {
  const l4 = p.srcPort !== undefined ? `${p.srcPort}|${p.dstPort}` : p.icmpType !== undefined ? `i${p.icmpType}|${p.icmpCode}` : '|';
  return `${reporter}|${action}|${p.protocol}|${p.src}|${p.dst}|${l4}`;
}

export class FlowAggregator {
  private table = new Map<string, FlowRecord>();
  private droppedPackets = 0;
  /** Keys refused this interval, themselves capped: only their count matters once this is full. */
  private refused = new Set<string>();
  private refusedOverflow = 0;

  constructor(readonly maxFlows = DEFAULT_MAX_FLOWS) {
    if (!Number.isInteger(maxFlows) || maxFlows < 1) throw new RangeError(`maxFlows must be a positive integer, not ${maxFlows}`);
  }

  get size(): number {
    return this.table.size;
  }

  /**
   * Counts one logged packet. `attribute` runs only for a flow new in this
   * interval. Returns the flow's record, or undefined when the table was full.
   */
  observe(p: LoggedPacket, opts: { timeMs: number; action: FlowVerdict; reporter: 'src' | 'dst'; attribute: () => Attribution }): FlowRecord | undefined {
    const key = flowKey(p, opts.action, opts.reporter);
    let rec = this.table.get(key);
    if (!rec) {
      if (this.table.size >= this.maxFlows) {
        this.droppedPackets++;
        if (this.refused.size < Math.max(this.maxFlows, REFUSED_KEYS_MIN)) this.refused.add(key);
        else if (!this.refused.has(key)) this.refusedOverflow++;
        return undefined;
      }
      const { length: _length, ...packet } = p;
      rec = { startMs: opts.timeMs, endMs: opts.timeMs, packet, action: opts.action, attribution: opts.attribute(), packets: 0, bytes: 0 };
      this.table.set(key, rec);
    }
    rec.packets++;
    rec.bytes += p.length;
    rec.startMs = Math.min(rec.startMs, opts.timeMs);
    rec.endMs = Math.max(rec.endMs, opts.timeMs);
    return rec;
  }

  /** The interval's records (oldest first) and what did not fit; starts a new interval. */
  flush(): FlushResult {
    const records = [...this.table.values()].sort((a, b) => a.startMs - b.startMs);
    const out: FlushResult = { records, droppedPackets: this.droppedPackets, droppedFlows: this.refused.size + this.refusedOverflow };
    this.table = new Map();
    this.refused = new Set();
    this.refusedOverflow = 0;
    this.droppedPackets = 0;
    return out;
  }
}
