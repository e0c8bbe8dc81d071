// The fake DiagnosticsHost: command answers, files, directories and HTTP
// answers from tables; writes and copies land in `written`; every call is
// logged so tests can assert what ran, in which order.
import type { ExecResult } from '../../dataplane/ports.js';
import type { DiagnosticsHost } from './collect.js';

export interface FakeDiagnosticsHostOptions {
  root?: boolean;
  hostname?: string;
  /** By argv joined with spaces; absent: exit 127 (program not found). */
  commands?: Record<string, Partial<ExecResult>>;
  /** Readable files by path (also what copyFile and copyTree copy). */
  files?: Record<string, string>;
  /** Directory listings by path (e.g. /proc/sys/net/ipv4/conf). */
  directories?: Record<string, string[]>;
  /** GET answers by URL; absent: a connection refused error. */
  http?: Record<string, { status: number; body: string }>;
  tempDir?: string;
}

export class FakeDiagnosticsHost implements DiagnosticsHost {
  readonly written = new Map<string, string>();
  readonly log: string[] = [];

  constructor(private readonly o: FakeDiagnosticsHostOptions = {}) {}

  isRoot(): boolean {
    return this.o.root ?? true;
  }

  hostname(): string {
    return this.o.hostname ?? 'node-host';
  }

  async run(argv: string[]): Promise<ExecResult> {
    const key = argv.join(' ');
    this.log.push(`run ${key}`);
    const a = this.o.commands?.[key];
    if (!a) return { code: 127, stdout: '', stderr: `${argv[0]}: ENOENT` };
    return { code: a.code ?? 0, stdout: a.stdout ?? '', stderr: a.stderr ?? '' };
  }

  async readFile(path: string): Promise<string> {
    const text = this.o.files?.[path];
    if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
    return text;
  }

  async listDirectory(path: string): Promise<string[]> {
    const names = this.o.directories?.[path];
    if (!names) throw new Error(`ENOENT: no such file or directory, scandir '${path}'`);
    return names;
  }

  async httpGet(url: string): Promise<{ status: number; body: string }> {
    this.log.push(`get ${url}`);
    const a = this.o.http?.[url];
    if (!a) throw new Error('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    return a;
  }

  async makeTempDir(): Promise<string> {
    return this.o.tempDir ?? '/tmp/calico123';
  }

  async writeFile(path: string, text: string): Promise<void> {
    this.written.set(path, text);
  }

  async copyFile(from: string, to: string): Promise<number> {
    const text = await this.readFile(from);
    this.written.set(to, text);
    return Buffer.byteLength(text);
  }

  async copyTree(from: string, to: string): Promise<number> {
    const prefix = from.replace(/\/+$/, '') + '/';
    const files = Object.entries(this.o.files ?? {}).filter(([p]) => p.startsWith(prefix));
    if (files.length === 0) throw new Error(`no directory ${from}: give the directory of calico-node's logs with --log-dir`);
    for (const [p, text] of files) this.written.set(`${to}/${p.slice(prefix.length)}`, text);
    return files.length;
  }
}
