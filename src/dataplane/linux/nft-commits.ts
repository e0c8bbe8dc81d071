// When is an `nft -f` transaction in the kernel? When the kernel announces
// its new generation ("# new generation N by process P" on `nft monitor`),
// which it does only for a committed batch. The nft process itself takes
// ~11 ms longer to exit after any transaction that removed something (a rule,
// a set, an element): closing its netlink socket waits for the kernel to
// free the removed objects (measured here, kernel 6.x). Nothing depends on
// that wait, so the driver resolves at the announcement and lets the process
// exit on its own. Without a monitor (not started yet, or gone), a
// transaction resolves at exit as before: the watcher only makes it earlier.
//
// The monitor runs as `sh -c 'nft monitor & ...; read; kill'`: it ends when
// its stdin closes, that is when we stop it or when this process dies in any
// way, so it can never outlive the agent.

import type { CommitWait, Exec } from '../ports.js';

const GENERATION = /^# new generation \d+ by process (\d+)\b/;
/** The monitor; `trap` comes after the fork, so only the shell ignores SIGTERM and the monitor can be killed. */
export const MONITOR_ARGV = ['sh', '-c', 'nft monitor & m=$!; trap "" TERM; read _; kill $m'];

export class NftCommits {
  private stream: { stop(): void } | undefined;
  /** Waiters are registered at spawn, before the process can commit, so an announcement never comes first. */
  private readonly waiters = new Map<number, () => void>();
  private idleTimer: ReturnType<typeof setTimeout> | undefined;

  /** `idleMs`: the monitor stops after this long without a transaction (it starts again with the next). */
  constructor(private readonly exec: Exec, private readonly idleMs = 60_000) {}

  /** For the process `pid` about to commit: resolves when the kernel announces its generation. */
  wait(pid: number): CommitWait {
    this.ensureRunning();
    let cancel = () => undefined as void;
    const done = new Promise<void>((resolve) => {
      this.waiters.set(pid, resolve);
      cancel = () => void this.waiters.delete(pid);
    });
    return { done, cancel: () => cancel() };
  }

  /** Stops the monitor (it also stops by itself when this process exits). */
  stop(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.stream?.stop();
    this.stream = undefined;
    this.waiters.clear();
  }

  private ensureRunning(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.stop(), this.idleMs);
    this.idleTimer.unref?.();
    if (this.stream || !this.exec.stream) return;
    this.stream = this.exec.stream(MONITOR_ARGV, {
      onLine: (line) => this.line(line),
      // Gone: transactions resolve at their process's exit until the next one starts it again.
      onExit: () => {
        this.stream = undefined;
        this.waiters.clear();
      },
    }, { background: true });
  }

  private line(line: string): void {
    const m = GENERATION.exec(line);
    if (!m) return;
    const pid = Number(m[1]);
    const resolve = this.waiters.get(pid);
    if (!resolve) return;
    this.waiters.delete(pid);
    resolve();
  }
}
