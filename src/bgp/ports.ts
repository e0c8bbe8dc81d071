// The BGP subsystem's ports: everything the supervisor needs from outside,
// each small enough to fake (fakes in ./fakes.ts, real ones in ./bird-process.ts).

export interface CheckResult {
  ok: boolean;
  /** BIRD's own message when it rejected the config (file:line:col and why). */
  error: string;
}

/** The BIRD daemon and its tools. Paths are absolute. */
export interface BirdProcess {
  /** `bird -p -c <configPath>`: parse only; nothing running changes. */
  check(configPath: string): Promise<CheckResult>;
  /**
   * Starts `bird -f -c <config> -s <socket> -P <pid>` in the background.
   * `onExit` fires once when that process dies, for whatever reason.
   */
  start(opts: { configPath: string; socketPath: string; pidPath: string; onExit: (code: number | null) => void }): Promise<void>;
  /** `birdc -s <socket> configure`: the running daemon re-reads its config file. */
  configure(socketPath: string): Promise<CheckResult>;
  /**
   * Takes over a daemon an earlier agent left running (its pid file names a live
   * process and the control socket answers); `onExit` then fires when it dies.
   * False when there is none to adopt.
   */
  adopt(opts: { socketPath: string; pidPath: string; onExit: (code: number | null) => void }): Promise<boolean>;
  /**
   * Stops the daemon started or adopted (no-op if none). With `leaveRunning`
   * it only stops watching it: an agent restart must not interrupt routing.
   */
  stop(opts?: { leaveRunning?: boolean }): Promise<void>;
}

export interface ConfigFiles {
  mkdirp(dir: string): Promise<void>;
  write(path: string, text: string): Promise<void>;
  /** Atomic replace: readers see the old file or the new one, never half of one. */
  rename(from: string, to: string): Promise<void>;
}

export interface TimerHandle {
  cancel(): void;
}

/** Injected time, so backoff is tested without sleeping (STYLE.md rule 6). */
export interface Clock {
  now(): number;
  after(ms: number, fn: () => void): TimerHandle;
}

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
