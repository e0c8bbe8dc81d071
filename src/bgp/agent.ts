// BgpAgent: what calico-node calls. update(inputs) = plan -> render -> supervise.
// Pure decisions (plan, render) stay pure; the supervisor owns the daemon.
//
//   const agent = new BgpAgent({ runDir, process: new LinuxBirdProcess(), files: nodeConfigFiles, clock: systemClock, logger });
//   await agent.update(inputs);   // on every relevant datastore change (coalesce upstream)
//   await agent.stop();

import { computeBgpPlan, type PlanOptions } from './plan.js';
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

  async update(inputs: BgpInputs): Promise<UpdateResult> {
    const plan = computeBgpPlan(inputs, this.opts.plan ?? {});
    for (const p of plan.problems) this.opts.logger.warn('BGP input ignored', { path: p.path, reason: p.message });
    const result = await this.supervisor.apply(renderBirdConfig(plan, this.opts.render ?? {}));
    return { ...result, plan };
  }

  stop(): Promise<void> {
    return this.supervisor.stop();
  }
}
