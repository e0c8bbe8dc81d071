// Fakes for the BGP ports: each records an operation log and can be told to
// fail. Used by unit tests here and by calico-node's tests.

import type { BirdProcess, CheckResult, Clock, ConfigFiles, TimerHandle } from './ports.js';

export class FakeClock implements Clock {
  private t = 0;
  private timers: { at: number; fn: () => void; live: boolean }[] = [];
  now(): number {
    return this.t;
  }
  after(ms: number, fn: () => void): TimerHandle {
    const timer = { at: this.t + ms, fn, live: true };
    this.timers.push(timer);
    return { cancel: () => void (timer.live = false) };
  }
  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.live && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.live = false;
      this.t = due.at;
      due.fn();
    }
    this.t = end;
    this.timers = this.timers.filter((x) => x.live);
  }
  pending(): number[] {
    return this.timers.filter((x) => x.live).map((x) => x.at - this.t);
  }
}

export class FakeConfigFiles implements ConfigFiles {
  readonly files = new Map<string, string>();
  readonly log: string[] = [];
  async mkdirp(dir: string): Promise<void> {
    this.log.push(`mkdirp ${dir}`);
  }
  async write(path: string, text: string): Promise<void> {
    this.log.push(`write ${path}`);
    this.files.set(path, text);
  }
  async rename(from: string, to: string): Promise<void> {
    this.log.push(`rename ${from} ${to}`);
    const text = this.files.get(from);
    if (text === undefined) throw new Error(`no such file ${from}`);
    this.files.set(to, text);
    this.files.delete(from);
  }
}

/** Pretends to be BIRD: a config "parses" unless it contains `syntax error`, or `rejectNextCheck` was set. */
export class FakeBirdProcess implements BirdProcess {
  readonly log: string[] = [];
  running = false;
  private exitHandler: ((code: number | null) => void) | undefined;
  failNextStart: string | undefined;
  failNextConfigure: string | undefined;

  constructor(private readonly files?: FakeConfigFiles) {}

  async check(configPath: string): Promise<CheckResult> {
    this.log.push(`check ${configPath}`);
    const text = this.files?.files.get(configPath) ?? '';
    const line = text.split('\n').findIndex((l) => l.includes('syntax error'));
    if (line >= 0) return { ok: false, error: `bird: ${configPath}:${line + 1}:1 syntax error, unexpected CF_SYM_UNDEFINED` };
    return { ok: true, error: '' };
  }
  async start(opts: { configPath: string; socketPath: string; pidPath: string; onExit: (code: number | null) => void }): Promise<void> {
    this.log.push(`start ${opts.configPath} ${opts.socketPath} ${opts.pidPath}`);
    if (this.failNextStart !== undefined) {
      const msg = this.failNextStart;
      this.failNextStart = undefined;
      throw new Error(msg);
    }
    this.running = true;
    this.exitHandler = opts.onExit;
  }
  async configure(socketPath: string): Promise<CheckResult> {
    this.log.push(`configure ${socketPath}`);
    if (this.failNextConfigure !== undefined) {
      const error = this.failNextConfigure;
      this.failNextConfigure = undefined;
      return { ok: false, error };
    }
    return { ok: true, error: '' };
  }
  /** Set to make the next adopt() find a daemon left by an earlier agent. */
  leftRunning = false;
  async adopt(opts: { socketPath: string; pidPath: string; onExit: (code: number | null) => void }): Promise<boolean> {
    this.log.push(`adopt ${opts.socketPath}`);
    if (!this.leftRunning) return false;
    this.running = true;
    this.exitHandler = opts.onExit;
    return true;
  }
  async stop(opts: { leaveRunning?: boolean } = {}): Promise<void> {
    this.log.push(opts.leaveRunning ? 'detach' : 'stop');
    this.leftRunning = !!opts.leaveRunning && this.running;
    this.running = false;
    this.exitHandler = undefined;
  }
  /** Simulates the daemon dying (crash, OOM kill). */
  die(code: number | null = 1): void {
    this.running = false;
    const h = this.exitHandler;
    this.exitHandler = undefined;
    h?.(code);
  }
}
