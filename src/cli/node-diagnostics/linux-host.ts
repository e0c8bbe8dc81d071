// The real DiagnosticsHost: child processes with a timeout, node:fs, fetch.
// Commands run in the calling process's network namespace, which is why
// calicoctl node diags must run on the node (in the lab: inside the host's
// namespace).
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ExecResult } from '../../dataplane/ports.js';
import type { DiagnosticsHost } from './collect.js';

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) n += entry.isDirectory() ? await countFiles(join(dir, entry.name)) : 1;
  return n;
}

export class LinuxDiagnosticsHost implements DiagnosticsHost {
  constructor(private readonly env: Record<string, string | undefined> = process.env) {}

  isRoot(): boolean {
    return process.getuid?.() === 0;
  }

  hostname(): string {
    return hostname();
  }

  run(argv: string[], opts: { timeoutMs: number }): Promise<ExecResult> {
    return new Promise((resolve) => {
      execFile(argv[0]!, argv.slice(1), { timeout: opts.timeoutMs, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (!err) return resolve({ code: 0, stdout, stderr });
        const e = err as NodeJS.ErrnoException & { code?: unknown; killed?: boolean };
        if (e.code === 'ENOENT') return resolve({ code: 127, stdout: '', stderr: `${argv[0]}: ENOENT` });
        if (e.killed) return resolve({ code: 124, stdout, stderr: `${stderr}\ntimed out after ${opts.timeoutMs} ms` });
        resolve({ code: typeof e.code === 'number' ? e.code : 1, stdout, stderr: stderr || e.message });
      });
    });
  }

  readFile(path: string): Promise<string> {
    return readFile(path, 'utf8');
  }

  listDirectory(path: string): Promise<string[]> {
    return readdir(path);
  }

  async httpGet(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: await res.text() };
  }

  makeTempDir(): Promise<string> {
    // TMPDIR is honoured (os.tmpdir), like Go's ioutil.TempDir in calicoctl.
    return mkdtemp(join(this.env.TMPDIR || tmpdir(), 'calico'));
  }

  async writeFile(path: string, text: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
  }

  async copyFile(from: string, to: string): Promise<number> {
    const s = await stat(from);
    if (!s.isFile()) throw new Error(`${from} is not a file`);
    await mkdir(dirname(to), { recursive: true });
    await cp(from, to);
    return s.size;
  }

  async copyTree(from: string, to: string): Promise<number> {
    const s = await stat(from).catch(() => undefined);
    if (!s?.isDirectory()) throw new Error(`no directory ${from}: give the directory of calico-node's logs with --log-dir`);
    await mkdir(dirname(to), { recursive: true });
    // Sockets and FIFOs in a log dir are skipped rather than failing the copy.
    await cp(from, to, { recursive: true, filter: async (src) => {
      const t = await stat(src).catch(() => undefined);
      return t !== undefined && (t.isDirectory() || t.isFile());
    } });
    return countFiles(to);
  }
}
