// The real Exec: spawns argv without a shell. With `netns`, every command runs
// inside that network namespace (`ip netns exec <ns> ...`), which is how the
// agent is kept away from the machine's own namespace in tests and the lab.

import { spawn } from 'node:child_process';
import type { Exec, ExecResult, InteractiveProcess } from '../ports.js';

export class LinuxExec implements Exec {
  constructor(private readonly opts: { netns?: string } = {}) {}

  run(argv: string[], runOpts: { input?: string } = {}): Promise<ExecResult> {
    const full = this.opts.netns ? ['ip', 'netns', 'exec', this.opts.netns, ...argv] : argv;
    return new Promise((resolve) => {
      const child = spawn(full[0]!, full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.on('error', (e) => resolve({ code: 127, stdout: '', stderr: String(e) }));
      child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
      child.stdin.on('error', () => undefined);
      child.stdin.end(runOpts.input ?? '');
    });
  }

  stream(argv: string[], handlers: { onLine(line: string): void; onExit(code: number, stderr: string): void }): { stop(): void } {
    // `ip netns exec` execs the command in place, so killing the child kills the command itself.
    const full = this.opts.netns ? ['ip', 'netns', 'exec', this.opts.netns, ...argv] : argv;
    const child = spawn(full[0]!, full.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    let err = '';
    let exited = false;
    child.stdout.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) handlers.onLine(line);
    });
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    const exit = (code: number) => {
      if (exited) return;
      exited = true;
      handlers.onExit(code, err);
    };
    child.on('error', (e) => {
      err += String(e);
      exit(127);
    });
    child.on('close', (code) => exit(code ?? 1));
    return {
      stop: () => {
        exited = true;
        if (child.exitCode === null) child.kill('SIGTERM');
      },
    };
  }

  interactive(argv: string[], handlers: { onOutput(chunk: string): void; onExit(code: number): void }): InteractiveProcess {
    // `sh -c 'exec "$@" 2>&1'`: one pipe for both streams keeps an error next to the command that caused it.
    const merged = ['sh', '-c', 'exec "$@" 2>&1', 'sh', ...argv];
    const full = this.opts.netns ? ['ip', 'netns', 'exec', this.opts.netns, ...merged] : merged;
    const child = spawn(full[0]!, full.slice(1), { stdio: ['pipe', 'pipe', 'ignore'] });
    let exited = false;
    const exit = (code: number) => {
      if (exited) return;
      exited = true;
      handlers.onExit(code);
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => handlers.onOutput(d));
    child.stdin.on('error', () => undefined);
    child.on('error', () => exit(127));
    child.on('close', (code) => exit(code ?? 1));
    const hold = (on: boolean) => {
      for (const h of [child, child.stdout, child.stdin] as { ref(): void; unref(): void }[]) on ? h.ref() : h.unref();
    };
    hold(false);
    return {
      write: (text) => {
        if (!exited) child.stdin.write(text);
      },
      hold,
      stop: () => {
        child.stdin.end();
        if (child.exitCode === null) child.kill('SIGTERM');
      },
    };
  }
}
