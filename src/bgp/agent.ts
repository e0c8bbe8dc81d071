// BgpAgent: what calico-node calls. update(inputs) = plan -> render -> supervise.
// Pure decisions (plan, render) stay pure; the supervisor owns the daemon.
//
//   const agent = new BgpAgent({ runDir, process: new LinuxBirdProcess(), files: nodeConfigFiles, clock: systemClock, logger });
//   await agent.update(inputs);   // on every relevant datastore change (coalesce upstream)
//   await agent.stop();

import { computeBgpPlan, type PlanOptions } from './plan.js';
import { explainStuckSessions, parseTcpMd5Counters, type TcpMd5Counters } from './md5-diagnosis.js';
import { parseBirdProtocols } from './status.js';
import type { BgpInputs, BgpPlan } from './model.js';
import type { BirdProcess, Clock, ConfigFiles, Logger } from './ports.js';
import { BirdSupervisor, type ApplyResult, type BackoffPolicy } from './supervisor.js';
import { renderBirdConfig, type BirdRenderOptions } from '../render/bird/bird-conf.js';

export interface BgpAgentOptions {
  /** CALICO_RUN_DIR (default /var/run/calico); BIRD's files go under `<runDir>/bird/`. */
  runDir?: string;
  process: BirdProcess;
  files: ConfigFiles;
  clock: Clock;
  logger: Logger;
  render?: BirdRenderOptions;
  plan?: PlanOptions;
  backoff?: BackoffPolicy;
}

export interface UpdateResult extends ApplyResult {
  plan: BgpPlan;
}

/** What the agent reads to explain sessions that do not come up (real: birdc + /proc/net/netstat of BIRD's namespace). */
export interface SessionProbe {
  /** `birdc show protocols all`, or undefined when BIRD does not answer. */
  showProtocolsAll(socketPath: string): Promise<string | undefined>;
  /** /proc/net/netstat text of the namespace BIRD runs in. */
  netstat(): Promise<string>;
}

export class BgpAgent {
  readonly supervisor: BirdSupervisor;
  constructor(private readonly opts: BgpAgentOptions) {
    this.supervisor = new BirdSupervisor({
      process: opts.process,
      files: opts.files,
      clock: opts.clock,
      logger: opts.logger,
      runDir: opts.runDir ?? '/var/run/calico',
      ...(opts.backoff ? { backoff: opts.backoff } : {}),
    });
  }

  private lastPlan: BgpPlan | undefined;
  private lastCounters: TcpMd5Counters | undefined;

  async update(inputs: BgpInputs): Promise<UpdateResult> {
    const plan = computeBgpPlan(inputs, this.opts.plan ?? {});
    this.lastPlan = plan;
    for (const p of plan.problems) this.opts.logger.warn('BGP input ignored', { path: p.path, reason: p.message });
    const result = await this.supervisor.apply(renderBirdConfig(plan, this.opts.render ?? {}));
    return { ...result, plan };
  }

  /**
   * Call periodically (calico-node: every ~30 s). Logs, and returns, one line per
   * session that is down while the kernel dropped TCP MD5 segments since the
   * previous call: BIRD cannot see a wrong password, the kernel counters can.
   */
  async diagnoseSessions(probe: SessionProbe): Promise<string[]> {
    const counters = parseTcpMd5Counters(await probe.netstat());
    const before = this.lastCounters ?? { failure: 0, notFound: 0, unexpected: 0 };
    this.lastCounters = counters;
    const text = await probe.showProtocolsAll(this.supervisor.paths.socket);
    if (text === undefined || !this.lastPlan) return [];
    const withPassword = new Set(this.lastPlan.peerings.filter((p) => p.password !== undefined).map((p) => p.peerAddress));
    const lines = explainStuckSessions(parseBirdProtocols(text), { before, after: counters }, withPassword);
    for (const l of lines) this.opts.logger.warn(l);
    return lines;
  }

  /** With `leaveRunning`, BIRD keeps routing after we are gone (calico-node's graceful stop). */
  stop(opts: { leaveRunning?: boolean } = {}): Promise<void> {
    return this.supervisor.stop(opts);
  }
}
