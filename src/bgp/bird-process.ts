// Real drivers for the BGP ports: BIRD via child_process, files via node:fs,
// wall-clock timers. Thin on purpose: every decision is in the supervisor.

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdir, rename, writeFile, readFile } from 'node:fs/promises';
import { openSync, closeSync } from 'node:fs';
import type { BirdProcess, CheckResult, Clock, ConfigFiles, Logger, TimerHandle } from './ports.js';
import { silentLogger } from './ports.js';

export interface LinuxBirdProcessOptions {
  birdPath?: string;
  birdcPath?: string;
  /** Prepended to the daemon's command line, e.g. ['ip', 'netns', 'exec', 'host-a'] (the lab, kernel tests). */
  commandPrefix?: string[];
  logger?: Logger;
  /** Every line BIRD writes to stderr (its log when the config says `log stderr`). */
  onLogLine?: (line: string) => void;
  /** How long start() waits for the control socket to answer. */
  readyTimeoutMs?: number;
  /**
   * BIRD's stderr goes to this file (appended) and BIRD runs in its own session,
   * so it outlives the agent: calico-node restarts then leave routing alone.
   * Without it BIRD's stderr is piped to onLogLine and it dies with us.
   */
  logFile?: string;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function run(cmd: string, args: string[], timeoutMs = 15_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) || (err && code === 1 ? err.message : '') });
    });
  });
}

/** Runs `birdc -s <socket> <command...>` and returns its text (shared with status / node-status). */
export async function birdc(socketPath: string, command: string[], birdcPath = 'birdc'): Promise<{ ok: boolean; text: string }> {
  const r = await run(birdcPath, ['-s', socketPath, ...command]);
  return { ok: r.code === 0 && !/Unable to connect to server/.test(r.stdout + r.stderr), text: r.stdout + r.stderr };
}

export class LinuxBirdProcess implements BirdProcess {
  private child: ChildProcess | undefined;
  /** A daemon we did not start (adopted): watched by polling its pid. */
  private adopted: { pid: number; timer: NodeJS.Timeout } | undefined;
  private readonly o: Required<Omit<LinuxBirdProcessOptions, 'onLogLine' | 'logFile'>> & Pick<LinuxBirdProcessOptions, 'onLogLine' | 'logFile'>;

  constructor(opts: LinuxBirdProcessOptions = {}) {
    this.o = {
      birdPath: opts.birdPath ?? 'bird',
      birdcPath: opts.birdcPath ?? 'birdc',
      commandPrefix: opts.commandPrefix ?? [],
      logger: opts.logger ?? silentLogger,
      readyTimeoutMs: opts.readyTimeoutMs ?? 10_000,
      onLogLine: opts.onLogLine,
      logFile: opts.logFile,
    };
  }

  get pid(): number | undefined {
    return this.child?.pid ?? this.adopted?.pid;
  }

  async adopt(opts: { socketPath: string; pidPath: string; onExit: (code: number | null) => void }): Promise<boolean> {
    const pid = Number((await readFile(opts.pidPath, 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return false;
    if (!(await birdc(opts.socketPath, ['show', 'status'], this.o.birdcPath)).ok) return false;
    const timer = setInterval(() => {
      if (alive(pid)) return;
      clearInterval(timer);
      this.adopted = undefined;
      opts.onExit(null);
    }, 500);
    timer.unref();
    this.adopted = { pid, timer };
    this.o.logger.info('adopted the BIRD an earlier agent left running', { pid });
    return true;
  }

  async check(configPath: string): Promise<CheckResult> {
    const r = await run(this.o.birdPath, ['-p', '-c', configPath]);
    return { ok: r.code === 0, error: (r.stderr || r.stdout).trim() };
  }

  async start(opts: { configPath: string; socketPath: string; pidPath: string; onExit: (code: number | null) => void }): Promise<void> {
    const [cmd, ...pre] = [...this.o.commandPrefix, this.o.birdPath];
    // -R: start in graceful-restart recovery. The kernel protocol then keeps the
    // routes a previous BIRD left (`persist`) until BGP has re-converged, instead
    // of pruning them at the first scan: a restart loses no traffic.
    const args = [...pre, '-f', '-R', '-c', opts.configPath, '-s', opts.socketPath, '-P', opts.pidPath];
    const logFd = this.o.logFile === undefined ? undefined : openSync(this.o.logFile, 'a');
    const child = spawn(cmd!, args, { stdio: ['ignore', 'ignore', logFd ?? 'pipe'], detached: logFd !== undefined });
    if (logFd !== undefined) closeSync(logFd);
    this.child = child;
    const tail: string[] = [];
    let exited = false;
    let buffered = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        this.o.onLogLine?.(line);
      }
    });
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.once('exit', (code) => {
      exited = true;
      if (this.child === child) this.child = undefined;
      opts.onExit(code);
    });
    await spawned;
    const deadline = Date.now() + this.o.readyTimeoutMs;
    while (!exited && Date.now() < deadline) {
      if ((await birdc(opts.socketPath, ['show', 'status'], this.o.birdcPath)).ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (exited) throw new Error(`bird exited during start: ${tail.join(' | ')}`);
    throw new Error(`bird did not answer on ${opts.socketPath} within ${this.o.readyTimeoutMs} ms`);
  }

  async configure(socketPath: string): Promise<CheckResult> {
    const r = await birdc(socketPath, ['configure'], this.o.birdcPath);
    const ok = r.ok && /Reconfigur(ed|ation in progress|ation already in progress)/.test(r.text);
    return { ok, error: ok ? '' : r.text.trim() };
  }

  async stop(opts: { leaveRunning?: boolean } = {}): Promise<void> {
    const adopted = this.adopted;
    if (adopted) {
      clearInterval(adopted.timer);
      this.adopted = undefined;
      if (!opts.leaveRunning) process.kill(adopted.pid, 'SIGTERM');
      return;
    }
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    if (opts.leaveRunning) {
      // Forget it; it keeps running (in its own session when started with logFile).
      child.removeAllListeners('exit');
      child.unref();
      this.child = undefined;
      return;
    }
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(timer);
  }
}

export const nodeConfigFiles: ConfigFiles = {
  mkdirp: async (dir) => void (await mkdir(dir, { recursive: true })),
  write: (path, text) => writeFile(path, text, { mode: 0o600 }),
  rename: (from, to) => rename(from, to),
};

export const systemClock: Clock = {
  now: () => Date.now(),
  after(ms: number, fn: () => void): TimerHandle {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};
