// `ip` commands (route and neighbour writes) through one long-lived
// `ip -force -batch -` (see command-session.ts for why). With -force, ip goes
// on after a failing line and reports it as "Command failed -:<line>", so a
// failure is pinned to its own command.
//
// A session keeps the link names it looked up at its start (`ip neigh` dumps
// every link once): a link deleted and created again under the same name has
// a new index that session does not know. So a failing line is run again in
// a process of its own (fresh names) and the session is replaced; route and
// neighbour replace/del are idempotent, so running a line twice is harmless.

import type { Exec } from '../ports.js';
import { CommandSession, type SessionDialect } from './command-session.js';

/** `link show dev lo`: one request for a link every namespace has, and two known lines. */
export const IP_DIALECT: SessionDialect = {
  argv: ['ip', '-force', '-batch', '-'],
  marker: 'link show dev lo\n',
  markerOutput: /^\d+: lo: <.*\n\s+link\/loopback .*\n/m,
};

export class IpBatch {
  private readonly session: CommandSession;

  constructor(private readonly exec: Exec) {
    this.session = new CommandSession(exec, IP_DIALECT);
  }

  /** Runs each line (`ip` arguments, e.g. "neigh del 198.18.0.1 dev cali1"); per line, its error text or undefined. */
  async run(lines: string[]): Promise<(string | undefined)[]> {
    if (lines.length === 0) return [];
    let retry = lines.map((_, i) => i);
    if (this.session.available) {
      const failed = await this.viaSession(lines);
      if (failed.length === 0) return lines.map(() => undefined);
      this.session.close();
      retry = failed;
    } else {
      const r = await this.exec.run(['ip', '-batch', '-'], { input: lines.join('\n') + '\n' });
      if (r.code === 0) return lines.map(() => undefined);
    }
    const errors: (string | undefined)[] = lines.map(() => undefined);
    for (const i of retry) {
      const one = await this.exec.run(['ip', ...lines[i]!.split(' ')]);
      if (one.code !== 0) errors[i] = one.stderr.trim() || `ip exited ${one.code}`;
    }
    return errors;
  }

  close(): void {
    this.session.close();
  }

  /** The indexes of the lines that failed (all of them when the session died: any prefix may have run). */
  private async viaSession(lines: string[]): Promise<number[]> {
    try {
      const { output, firstLine } = await this.session.request(lines.join('\n') + '\n');
      const failed: number[] = [];
      for (const m of output.matchAll(/^Command failed -:(\d+)$/gm)) {
        const i = Number(m[1]) - firstLine;
        if (i >= 0 && i < lines.length) failed.push(i);
      }
      // Output without a line number (should not happen) is not trusted: every line again.
      return failed.length === 0 && output.trim() !== '' ? lines.map((_, i) => i) : failed;
    } catch {
      return lines.map((_, i) => i);
    }
  }
}
