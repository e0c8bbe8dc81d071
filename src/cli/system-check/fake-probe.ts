// The fake SystemProbe: programs, files and command answers from tables; every
// call is recorded so tests can assert that nothing ran outside a scratch
// namespace except the read-only commands.
import type { ExecResult } from '../../dataplane/ports.js';
import type { SystemProbe } from './evaluate.js';

export interface FakeProbeOptions {
  root?: boolean;
  kernel?: string;
  programs?: string[];
  /** Answers by argv joined with spaces (scratch and host alike); absent: exit 0, no output. */
  answers?: Record<string, Partial<ExecResult>>;
  files?: Record<string, string>;
}

export class FakeSystemProbe implements SystemProbe {
  /** `host: <argv>` or `scratch: <argv>`, in call order. */
  readonly calls: string[] = [];
  private readonly programs: Set<string>;

  constructor(private readonly opts: FakeProbeOptions = {}) {
    this.programs = new Set(opts.programs ?? ['ip', 'unshare', 'nft', 'iptables', 'ip6tables', 'ipset', 'conntrack', 'bird', 'birdc', 'sh']);
  }

  isRoot(): boolean {
    return this.opts.root ?? true;
  }

  async kernelRelease(): Promise<string> {
    return this.opts.kernel ?? '6.1.0-18-amd64';
  }

  async hasProgram(program: string): Promise<boolean> {
    return this.programs.has(program);
  }

  private answer(argv: string[]): ExecResult {
    const a = this.opts.answers?.[argv.join(' ')];
    return { code: a?.code ?? 0, stdout: a?.stdout ?? '', stderr: a?.stderr ?? '' };
  }

  async run(argv: string[]): Promise<ExecResult> {
    this.calls.push(`host: ${argv.join(' ')}`);
    return this.answer(argv);
  }

  async runScratch(argv: string[]): Promise<ExecResult> {
    this.calls.push(`scratch: ${argv.join(' ')}`);
    return this.answer(argv);
  }

  async readFile(path: string): Promise<string | undefined> {
    return this.opts.files?.[path];
  }
}
