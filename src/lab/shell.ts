// The lab's one door to the operating system: run a command, collect its
// output. Everything the lab does to the kernel goes through `ip` in a
// namespace the lab created, so this is all it needs.
import { spawn } from 'node:child_process';
import { CalicoError } from '../base/errors.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Shell {
  run(argv: string[], opts?: { input?: string; allowFail?: boolean; env?: Record<string, string>; timeoutMs?: number }): Promise<RunResult>;
}

export class CommandError extends CalicoError {
  readonly result: RunResult;
  constructor(argv: string[], result: RunResult) {
    super('internal', `command failed (exit ${result.code}): ${argv.join(' ')}\n${result.stderr.trim()}`);
    this.name = 'CommandError';
    this.result = result;
  }
}

export const systemShell: Shell = {
  run(argv, opts = {}) {
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0]!, argv.slice(1), {
        stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        env: opts.env ? { ...process.env, ...opts.env } : process.env,
      });
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
      child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(new CalicoError('unavailable', `cannot run ${argv[0]}: ${err.message}`, { cause: err }));
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        const result = { code: code ?? -1, stdout, stderr };
        if (result.code !== 0 && !opts.allowFail) reject(new CommandError(argv, result));
        else resolve(result);
      });
      if (child.stdin) {
        // A child that exits before reading its input must not crash us.
        child.stdin.on('error', () => undefined);
        child.stdin.end(opts.input);
      }
    });
  },
};

/** `ip netns exec <ns> ...argv` */
export const inNetns = (ns: string, argv: string[]): string[] => ['ip', 'netns', 'exec', ns, ...argv];
