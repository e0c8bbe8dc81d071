// calico-node's flow logs on Linux: which settings they are built from
// (FelixConfiguration flowLogsFile*, flowLogsFlushInterval) and the drivers
// they run on. Off (the default): nothing is built, nothing spawned, and the
// ruleset carries no NFLOG rule (dataplaneConfigFrom leaves flowLogs out).
import { FlowLogReporter } from '../flowlogs/reporter.js';
import { RotatingFile } from '../flowlogs/rotating-file.js';
import { LinuxConntrackTable, nodeFileSystem, TcpdumpNflogSource } from '../flowlogs/linux.js';
import { systemClock } from '../dataplane/linux/clock.js';
import type { FlowLogsContext, FlowLogsPort } from './agent.js';
import { flowLogSettingsFrom, type FelixSettings } from './config.js';
import type { Logger } from './log.js';

/** The reporter is rebuilt when (and only when) this changes. */
export function flowLogsKeyFrom(s: FelixSettings): string {
  const f = flowLogSettingsFrom(s);
  return f.enabled ? JSON.stringify(f) : 'off';
}

export function makeLinuxFlowLogs(settings: FelixSettings, ctx: FlowLogsContext, opts: { nodeName: string; log: Logger }): FlowLogsPort | undefined {
  const f = flowLogSettingsFrom(settings);
  if (!f.enabled) return undefined;
  const log = opts.log.child({ component: 'flow-logs' });
  log.info('flow logs enabled', { file: `${f.directory}/flows.log`, flushIntervalMs: f.flushIntervalMs, maxFiles: f.maxFiles, maxFileSizeBytes: f.maxFileSizeBytes, nflogGroup: f.nflogGroup });
  return new FlowLogReporter({
    source: new TcpdumpNflogSource({ group: f.nflogGroup }),
    conntrack: new LinuxConntrackTable(),
    file: new RotatingFile({ fs: nodeFileSystem, directory: f.directory, maxFiles: f.maxFiles, maxFileSizeBytes: f.maxFileSizeBytes }),
    clock: systemClock,
    flushIntervalMs: f.flushIntervalMs,
    host: opts.nodeName,
    policyState: ctx.policyState,
    metrics: ctx.metrics,
    log,
  });
}
