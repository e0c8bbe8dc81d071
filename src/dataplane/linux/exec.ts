// The real Exec: spawns argv without a shell. With `netns`, every command runs
// inside that network namespace (`ip netns exec <ns> ...`), which is how the
// agent is kept away from the machine's own namespace in tests and the lab.

import { spawn } from 'node:child_process';
import type { CommitWait, Exec, ExecResult } from '../ports.js';

export class LinuxExec implements Exec {
  constructor(private readonly opts: { netns?: string } = {}) {}

  run(argv: string[], runOpts: { input?: string; until?: (pid: number) => CommitWait } = {}): Promise<ExecResult> {
    // `ip netns exec` execs the command in place: the pid is the command's own.
    const full = this.opts.netns ? ['ip', 'netns', 'exec', this.opts.netns, ...argv] : argv;
    return new Promise((resolve) => {
      const child = spawn(full[0]!, full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const early = child.pid !== undefined ? runOpts.until?.(child.pid) : undefined;
      void early?.done.then(() => resolve({ code: 0, stdout: '', stderr: '' }));
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.on('error', (e) => {
        early?.cancel();
        resolve({ code: 127, stdout: '', stderr: String(e) });
      });
      child.on('close', (code) => {
        early?.cancel();
        resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(runOpts.input ?? '');
    });
  }

  stream(argv: string[], handlers: { onLine(line: string): void; onExit(code: number, stderr: string): void }, streamOpts: { background?: boolean } = {}): { stop(): void } {
    // `ip netns exec` execs the command in place, so killing the child kills the command itself.
    const full = this.opts.netns ? ['ip', 'netns', 'exec', this.opts.netns, ...argv] : argv;
    const withStdin = streamOpts.background === true;
    const child = spawn(full[0]!, full.slice(1), { stdio: [withStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    child.stdin?.on('error', () => undefined);
    if (withStdin) {
      // A helper that must never keep this process alive: when it ends, the pipe closes and so does the helper.
      child.unref();
      for (const s of [child.stdin, child.stdout, child.stderr]) (s as { unref?: () => void } | null)?.unref?.();
    }
    let partial = '';
    let err = '';
    let exited = false;
    child.stdout!.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) handlers.onLine(line);
    });
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
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
        // A command reading its stdin ends when it closes (and may ignore SIGTERM to clean up first).
        if (withStdin) child.stdin?.end();
        else if (child.exitCode === null) child.kill('SIGTERM');
      },
    };
  }
}
