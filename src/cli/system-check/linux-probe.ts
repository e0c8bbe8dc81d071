// The real SystemProbe: child processes, /proc. Scratch probes run under
// `unshare --net`, so whatever they create (veths, rules, tables, sysctl
// values) lives in a namespace that is gone when the probe exits.
import { access, readFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { release } from 'node:os';
import { delimiter, join } from 'node:path';
import { LinuxExec } from '../../dataplane/linux/exec.js';
import type { ExecResult } from '../../dataplane/ports.js';
import type { SystemProbe } from './evaluate.js';

export class LinuxSystemProbe implements SystemProbe {
  private readonly exec = new LinuxExec();

  constructor(private readonly env: Record<string, string | undefined> = process.env) {}

  isRoot(): boolean {
    return process.getuid?.() === 0;
  }

  async kernelRelease(): Promise<string> {
    return release();
  }

  async hasProgram(program: string): Promise<boolean> {
    // The same PATH the probes are spawned with: found here means runnable there.
    for (const dir of (this.env.PATH ?? '').split(delimiter).filter(Boolean)) {
      try {
        await access(join(dir, program), constants.X_OK);
        return true;
      } catch {
        // next directory
      }
    }
    return false;
  }

  run(argv: string[]): Promise<ExecResult> {
    return this.exec.run(argv);
  }

  runScratch(argv: string[], opts: { input?: string } = {}): Promise<ExecResult> {
    return this.exec.run(['unshare', '--net', '--', ...argv], opts);
  }

  async readFile(path: string): Promise<string | undefined> {
    try {
      return await readFile(path, 'utf8');
    } catch {
      return undefined;
    }
  }
}
