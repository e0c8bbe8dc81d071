// BirdSupervisor: keeps one BIRD daemon running on the newest config that
// BIRD itself accepts. An explicit state machine (STYLE.md rule 8):
//
//   idle ──apply ok──> starting ──started──> running ──apply ok──> reloading ──> running
//                         │                    │
//                         └──start failed──┐   └──bird died──> backoff ──timer──> starting
//                                          └──────────────────────^
//   any ──stop──> stopped (final)
//
// A candidate config is written beside the live one and checked with
// `bird -p`; only then does it replace the live file. A rejected config is
// logged with BIRD's error and the daemon keeps the last good one. When BIRD
// dies it is restarted with exponential backoff; meanwhile the kernel keeps
// its routes (kernel protocol `persist`) and peers keep ours (graceful restart).

import { CalicoError } from '../base/errors.js';
import type { BirdProcess, Clock, ConfigFiles, Logger, TimerHandle } from './ports.js';

export type SupervisorState = 'idle' | 'starting' | 'running' | 'reloading' | 'backoff' | 'stopped';

const TRANSITIONS: Record<SupervisorState, SupervisorState[]> = {
  idle: ['starting', 'stopped'],
  starting: ['running', 'backoff', 'stopped'],
  running: ['reloading', 'backoff', 'stopped'],
  reloading: ['running', 'backoff', 'stopped'],
  backoff: ['starting', 'stopped'],
  stopped: [],
};

export interface BirdPaths {
  dir: string;
  config: string;
  candidate: string;
  socket: string;
  pid: string;
}

/** Everything under `<runDir>/bird/` (runDir: CALICO_RUN_DIR, default /var/run/calico). */
export function birdPaths(runDir: string): BirdPaths {
  const dir = `${runDir.replace(/\/+$/, '')}/bird`;
  return { dir, config: `${dir}/bird.conf`, candidate: `${dir}/bird.conf.candidate`, socket: `${dir}/bird.ctl`, pid: `${dir}/bird.pid` };
}

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** A daemon that ran this long before dying counts as healthy: backoff starts over. */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 60_000, resetAfterMs: 60_000 };

export interface ApplyResult {
  /** The text is now the live config (and BIRD runs it, or will when it restarts). */
  applied: boolean;
  /** Nothing to do: the text equals the live config. */
  unchanged: boolean;
  /** BIRD's complaint when the config was rejected, or a reload/start failure. */
  error?: string;
}

export interface SupervisorOptions {
  process: BirdProcess;
  files: ConfigFiles;
  clock: Clock;
  logger: Logger;
  runDir: string;
  backoff?: BackoffPolicy;
}

export class BirdSupervisor {
  readonly paths: BirdPaths;
  private st: SupervisorState = 'idle';
  private liveText: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private failures = 0;
  private startedAt = 0;
  private timer: TimerHandle | undefined;
  private lastErr: string | undefined;
  private readonly backoff: BackoffPolicy;
  /** Every state change in order; tests and `status()` read it. */
  readonly history: SupervisorState[] = ['idle'];

  constructor(private readonly opts: SupervisorOptions) {
    this.paths = birdPaths(opts.runDir);
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
  }

  get state(): SupervisorState {
    return this.st;
  }

  status(): { state: SupervisorState; lastError?: string; restarts: number } {
    return { state: this.st, restarts: this.failures, ...(this.lastErr ? { lastError: this.lastErr } : {}) };
  }

  private to(next: SupervisorState): void {
    if (!TRANSITIONS[this.st].includes(next)) {
      throw new CalicoError('internal', `BIRD supervisor: illegal transition ${this.st} -> ${next}`);
    }
    this.st = next;
    this.history.push(next);
  }

  /** Validates and installs a config text; calls are serialised in arrival order. */
  apply(text: string): Promise<ApplyResult> {
    const run = this.queue.then(() => this.applyNow(text));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async applyNow(text: string): Promise<ApplyResult> {
    if (this.st === 'stopped') throw new CalicoError('invalid-argument', 'BIRD supervisor is stopped');
    if (text === this.liveText) return { applied: false, unchanged: true };
    const { files, process, logger } = this.opts;
    await files.mkdirp(this.paths.dir);
    await files.write(this.paths.candidate, text);
    const check = await process.check(this.paths.candidate);
    if (!check.ok) {
      this.lastErr = check.error;
      logger.error('BIRD rejected the new config; keeping the running one', { error: check.error, candidate: this.paths.candidate });
      return { applied: false, unchanged: false, error: check.error };
    }
    await files.rename(this.paths.candidate, this.paths.config);
    this.liveText = text;
    this.lastErr = undefined;
    if (this.st === 'idle') return this.startDaemon();
    if (this.st === 'running') {
      this.to('reloading');
      const r = await process.configure(this.paths.socket);
      if ((this.st as SupervisorState) !== 'reloading') return { applied: true, unchanged: false }; // died or stopped meanwhile: restart picks up the file
      this.to('running');
      if (!r.ok) {
        this.lastErr = r.error;
        logger.error('birdc configure failed', { error: r.error });
        return { applied: true, unchanged: false, error: r.error };
      }
      logger.info('BIRD reconfigured');
    }
    // backoff / starting: the restart reads the new file.
    return { applied: true, unchanged: false };
  }

  private async startDaemon(): Promise<ApplyResult> {
    const first = this.st === 'idle';
    this.to('starting');
    const { process, clock, logger } = this.opts;
    // A BIRD left running by the previous agent keeps its sessions: take it
    // over and reload it with the new config instead of starting another.
    if (first && (await process.adopt({ socketPath: this.paths.socket, pidPath: this.paths.pid, onExit: (code) => this.onExit(code) }))) {
      if ((this.st as SupervisorState) !== 'starting') return { applied: true, unchanged: false };
      this.startedAt = clock.now();
      this.to('running');
      const r = await process.configure(this.paths.socket);
      if (!r.ok) logger.error('birdc configure of the adopted BIRD failed', { error: r.error });
      else logger.info('BIRD adopted and reconfigured', { socket: this.paths.socket });
      return { applied: true, unchanged: false, ...(r.ok ? {} : { error: r.error }) };
    }
    try {
      await process.start({
        configPath: this.paths.config,
        socketPath: this.paths.socket,
        pidPath: this.paths.pid,
        onExit: (code) => this.onExit(code),
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.lastErr = message;
      logger.error('could not start BIRD', { error: message });
      if (this.st === 'starting') this.scheduleRestart();
      return { applied: true, unchanged: false, error: message };
    }
    if ((this.st as SupervisorState) !== 'starting') return { applied: true, unchanged: false }; // exited or stopped before start() returned
    this.startedAt = clock.now();
    this.to('running');
    logger.info('BIRD started', { config: this.paths.config, socket: this.paths.socket });
    return { applied: true, unchanged: false };
  }

  private onExit(code: number | null): void {
    if (this.st === 'stopped' || this.st === 'backoff') return;
    if (this.st === 'running' && this.opts.clock.now() - this.startedAt >= this.backoff.resetAfterMs) this.failures = 0;
    this.lastErr = `bird exited with code ${code ?? 'signal'}`;
    this.opts.logger.warn('BIRD died; restarting with backoff', { code, failures: this.failures });
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    this.to('backoff');
    const delay = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** this.failures);
    this.failures++;
    this.timer = this.opts.clock.after(delay, () => {
      this.timer = undefined;
      if (this.st !== 'backoff') return;
      this.queue = this.queue.then(() => (this.st === 'backoff' ? this.startDaemon() : undefined)).catch(() => undefined);
    });
  }

  /** Milliseconds the next restart would wait (for status and tests). */
  nextBackoffMs(): number {
    return Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** this.failures);
  }

  /** Stops supervising; with `leaveRunning` BIRD keeps routing (a graceful agent stop). */
  async stop(opts: { leaveRunning?: boolean } = {}): Promise<void> {
    if (this.st === 'stopped') return;
    this.timer?.cancel();
    this.timer = undefined;
    this.to('stopped');
    await this.queue.catch(() => undefined);
    await this.opts.process.stop(opts);
  }
}
