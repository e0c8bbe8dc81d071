// Flow logs, put together: NFLOG pcap bytes -> records -> (prefix, packet)
// -> attribution on the node's calc state -> aggregation table -> every
// flushInterval one batch of JSON lines to the rotating file; per-policy
// packet and byte counters on calico-node's metrics endpoint as packets
// arrive. Nothing here runs unless flow logs are enabled (calico-node builds
// a reporter only then). State machine: created -> running -> stopped; a
// reader that dies is restarted after a delay while running.
import type { DesiredPolicyState } from '../calc/output.js';
import type { Clock } from '../dataplane/ports.js';
import type { Logger } from '../node/log.js';
import type { MetricsRegistry } from '../node/metrics.js';
import { parseFlowLogPrefix } from '../rules/flow-log.js';
import { DEFAULT_MAX_FLOWS, FlowAggregator } from './aggregator.js';
import { attribute, EndpointIndex, type PolicyAttribution } from './attribution.js';
import { NflogPcapParser, PcapFormatError } from './nflog-pcap.js';
import { parseIpPacket } from './packet.js';
import type { ConntrackTable, PacketLogSource } from './ports.js';
import { conntrackKey, parseConntrackTable, type ConntrackCounters } from './conntrack.js';
import type { FlowRecord } from './aggregator.js';
import { flowLogLine } from './record.js';
import type { RotatingFile } from './rotating-file.js';

export interface FlowLogReporterOptions {
  source: PacketLogSource;
  file: RotatingFile;
  clock: Clock;
  flushIntervalMs: number;
  /** Aggregation table size; past it, new flows of the interval are dropped and counted. */
  maxFlows?: number;
  /** Written into every record (`host`). */
  host: string;
  /** The calc state the dataplane was given, with a number that changes whenever it does. */
  policyState(): { version: number; state: DesiredPolicyState };
  metrics: MetricsRegistry;
  log: Logger;
  /** Wait before restarting a reader that died. Default 5 s. */
  restartDelayMs?: number;
  /** Read at each flush for the counters of allowed flows (conntrack.ts); absent = logged packets only. */
  conntrack?: ConntrackTable;
}

export type ReporterState = 'created' | 'running' | 'stopped';

export const FLOW_LOG_METRICS = {
  packets: 'calico_flow_logs_policy_packets_total',
  bytes: 'calico_flow_logs_policy_bytes_total',
  dropped: 'calico_flow_logs_dropped_packets_total',
  records: 'calico_flow_logs_records_written_total',
  writeErrors: 'calico_flow_logs_write_errors_total',
  restarts: 'calico_flow_logs_reader_restarts_total',
  foreign: 'calico_flow_logs_foreign_packets_total',
} as const;

/** Prometheus labels of one decision: bounded by the number of policies and profiles. */
export function policyLabels(action: 'allow' | 'deny', p: PolicyAttribution): Record<string, string> {
  return { action, tier: p.tier ?? '', policy: p.policy ?? `(${p.decidedBy})` };
}

export class FlowLogReporter {
  private stateValue: ReporterState = 'created';
  private parser = new NflogPcapParser();
  private readonly aggregator: FlowAggregator;
  private index: { version: number; index: EndpointIndex } | undefined;
  private flushTimer: unknown;
  private restartTimer: unknown;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly opts: FlowLogReporterOptions) {
    this.aggregator = new FlowAggregator(opts.maxFlows ?? DEFAULT_MAX_FLOWS);
    const m = opts.metrics;
    m.declare(FLOW_LOG_METRICS.packets, 'Packets logged by flow logs, by verdict and the tier / policy that decided it.', 'counter');
    m.declare(FLOW_LOG_METRICS.bytes, 'Bytes of the packets logged by flow logs, by verdict and the tier / policy that decided it.', 'counter');
    m.declare(FLOW_LOG_METRICS.dropped, 'Logged packets of flows that did not fit in the flow-log aggregation table.', 'counter');
    m.declare(FLOW_LOG_METRICS.records, 'Flow-log records written.', 'counter');
    m.declare(FLOW_LOG_METRICS.writeErrors, 'Flow-log batches that could not be written.', 'counter');
    m.declare(FLOW_LOG_METRICS.restarts, 'Restarts of the NFLOG reader after it stopped by itself.', 'counter');
    m.declare(FLOW_LOG_METRICS.foreign, 'Packets on the flow-log NFLOG group without a flow-log prefix (someone else\'s rule), ignored.', 'counter');
  }

  get state(): ReporterState {
    return this.stateValue;
  }

  start(): void {
    if (this.stateValue !== 'created') throw new Error(`flow-log reporter: start in state ${this.stateValue}`);
    this.stateValue = 'running';
    this.opts.conntrack?.enableAccounting().catch((err: unknown) => this.opts.log.warning('cannot turn on conntrack accounting; allowed flows carry logged packets only', { error: err as Error }));
    this.startSource();
    this.scheduleFlush();
  }

  private startSource(): void {
    this.parser = new NflogPcapParser();
    this.opts.source.start({ onData: (chunk) => this.onData(chunk), onExit: (reason) => this.onReaderExit(reason) });
  }

  private onReaderExit(reason: string): void {
    if (this.stateValue !== 'running') return;
    this.opts.metrics.inc(FLOW_LOG_METRICS.restarts);
    const delay = this.opts.restartDelayMs ?? 5000;
    this.opts.log.warning('flow-log NFLOG reader stopped; restarting', { reason, delayMs: delay });
    this.restartTimer = this.opts.clock.setTimer(delay, () => {
      this.restartTimer = undefined;
      if (this.stateValue === 'running') this.startSource();
    });
  }

  private currentIndex(): EndpointIndex {
    const { version, state } = this.opts.policyState();
    if (this.index?.version !== version) this.index = { version, index: new EndpointIndex(state) };
    return this.index.index;
  }

  private onData(chunk: Uint8Array): void {
    if (this.stateValue !== 'running') return;
    let records;
    try {
      records = this.parser.push(chunk);
    } catch (err) {
      if (!(err instanceof PcapFormatError)) throw err;
      // Not a stream we can read: stop it; the exit handler restarts a fresh one.
      this.opts.log.error('flow-log NFLOG reader sent something that is not an NFLOG pcap stream', { error: err });
      void this.opts.source.stop().then(() => this.onReaderExit(err.message));
      return;
    }
    const m = this.opts.metrics;
    for (const rec of records) {
      const logged = parseFlowLogPrefix(rec.prefix);
      const packet = logged && parseIpPacket(rec.payload, rec.family);
      if (!logged || !packet) {
        m.inc(FLOW_LOG_METRICS.foreign);
        continue;
      }
      const reporter = logged.direction === 'outbound' ? 'src' : 'dst';
      const flow = this.aggregator.observe(packet, { timeMs: rec.timeMs, action: logged.verdict, reporter, attribute: () => attribute(this.currentIndex(), packet, logged) });
      if (!flow) {
        m.inc(FLOW_LOG_METRICS.dropped);
        continue;
      }
      const labels = policyLabels(logged.verdict, flow.attribution.policy);
      m.inc(FLOW_LOG_METRICS.packets, 1, labels);
      m.inc(FLOW_LOG_METRICS.bytes, packet.length, labels);
    }
  }

  private scheduleFlush(): void {
    this.flushTimer = this.opts.clock.setTimer(this.opts.flushIntervalMs, () => {
      this.flushTimer = undefined;
      if (this.stateValue !== 'running') return;
      this.flush();
      this.scheduleFlush();
    });
  }

  /** Writes the interval's records (one batch at a time, in order); returns when this batch is written or failed. */
  flush(): Promise<void> {
    const result = this.aggregator.flush();
    if (result.droppedFlows) this.opts.log.warning('flow-log table full: flows dropped this interval', { droppedFlows: result.droppedFlows, droppedPackets: result.droppedPackets, maxFlows: this.aggregator.maxFlows });
    const records = result.records;
    if (records.length === 0) return this.writing;
    this.writing = this.writing.then(async () => {
      const lines = (await this.withConntrack(records)).map((r) => JSON.stringify(flowLogLine(r.record, this.opts.host, r.counters)));
      try {
        await this.opts.file.write(lines);
        this.opts.metrics.inc(FLOW_LOG_METRICS.records, lines.length);
      } catch (err) {
        this.opts.metrics.inc(FLOW_LOG_METRICS.writeErrors);
        this.opts.log.error('cannot write flow logs; this batch is lost', { file: this.opts.file.path, records: lines.length, error: err as Error });
      }
    });
    return this.writing;
  }

  /** Allowed records get their connection's conntrack counters, when the table has them; one table read per flush. */
  private async withConntrack(records: FlowRecord[]): Promise<{ record: FlowRecord; counters?: ConntrackCounters }[]> {
    const table = this.opts.conntrack;
    if (!table || !records.some((r) => r.action === 'allow')) return records.map((record) => ({ record }));
    let counters: Map<string, ConntrackCounters>;
    try {
      counters = parseConntrackTable(await table.list());
    } catch (err) {
      this.opts.log.warning('cannot read conntrack counters for flow logs; records carry logged packets only', { error: err as Error });
      return records.map((record) => ({ record }));
    }
    return records.map((record) => {
      const c = record.action === 'allow' ? counters.get(conntrackKey(record.packet)) : undefined;
      return c ? { record, counters: c } : { record };
    });
  }

  /** Stops reading and writes what was aggregated so far. */
  async stop(): Promise<void> {
    if (this.stateValue === 'stopped') return;
    const wasRunning = this.stateValue === 'running';
    this.stateValue = 'stopped';
    if (this.flushTimer !== undefined) this.opts.clock.clearTimer(this.flushTimer);
    if (this.restartTimer !== undefined) this.opts.clock.clearTimer(this.restartTimer);
    if (!wasRunning) return;
    await this.opts.source.stop();
    await this.flush();
  }
}
