// One long-lived command process (`nft -i`, `ip -force -batch -`) that the
// drivers send their commands to, instead of a new process per write.
//
// Why: a process costs its start (a fork and exec from a large Node process,
// ~2-5 ms here) and, for nft, its exit: the kernel frees what a transaction
// removed when the netlink socket closes, and the closing process waits for
// that (~11 ms per transaction with removals on this machine; see
// docs/design/dataplane.md, "Command sessions"). `ip neigh` also dumps every link before its first
// command (~20 ms with 3,000 links); a session dumps once.
//
// Neither tool says when a command is done, so every request is followed by
// a marker: a cheap command with a recognisable output. What the process
// printed before the marker's output is the request's output (its errors,
// since stderr is merged into stdout in order).

import type { Exec, InteractiveProcess } from '../ports.js';

export interface SessionDialect {
  argv: string[];
  /** Written after every request; its output marks that every command before it has run. */
  marker: string;
  /** Matches the marker's whole output (multiline). */
  markerOutput: RegExp;
}

export class SessionFailed extends Error {}

interface Pending {
  /** The process the request went to: output or an exit of an earlier one is not its own. */
  proc: InteractiveProcess;
  output: string;
  resolve(output: string): void;
  reject(e: Error): void;
}

export class CommandSession {
  private proc: InteractiveProcess | undefined;
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** Lines the current process has been sent (ip numbers its errors by the line of its input). */
  private linesSent = 0;
  private readonly markerLines: number;

  constructor(
    private readonly exec: Exec,
    private readonly dialect: SessionDialect,
  ) {
    this.markerLines = dialect.marker.split('\n').length - 1;
  }

  /** Whether this Exec can hold a session at all (else the driver runs one process per write). */
  get available(): boolean {
    return this.exec.interactive !== undefined;
  }

  /**
   * Sends text (whole lines) and resolves with what the process printed for it,
   * and the input line number its first line had. Rejects with SessionFailed
   * when the process ended before the marker: then any prefix of the text may
   * have run; the dead process is already forgotten (the next request starts
   * another). Requests run one at a time, in call order.
   */
  request(text: string): Promise<{ output: string; firstLine: number }> {
    const run = this.queue.then(() => this.send(text));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Ends the process; the next request starts a new one. */
  close(): void {
    const proc = this.proc;
    this.proc = undefined;
    proc?.stop();
  }

  private send(text: string): Promise<{ output: string; firstLine: number }> {
    const proc = this.proc ?? this.start();
    const firstLine = this.linesSent + 1;
    this.linesSent += text.split('\n').length - 1 + this.markerLines;
    return new Promise((resolve, reject) => {
      this.pending = { proc, output: '', resolve: (output) => resolve({ output, firstLine }), reject };
      proc.hold(true);
      proc.write(text + this.dialect.marker);
    });
  }

  private start(): InteractiveProcess {
    this.linesSent = 0;
    const proc = this.exec.interactive!(this.dialect.argv, {
      onOutput: (chunk) => {
        const p = this.pending;
        if (p?.proc !== proc) return;
        p.output += chunk;
        const m = this.dialect.markerOutput.exec(p.output);
        if (!m) return;
        this.pending = undefined;
        proc.hold(false);
        p.resolve(p.output.slice(0, m.index));
      },
      onExit: (code) => {
        if (this.proc === proc) this.proc = undefined;
        const p = this.pending;
        if (p?.proc !== proc) return;
        this.pending = undefined;
        p.reject(new SessionFailed(`${this.dialect.argv.join(' ')} exited ${code}${p.output.trim() ? `: ${p.output.trim().slice(-2000)}` : ''}`));
      },
    });
    this.proc = proc;
    return proc;
  }
}
