// Linux drivers for flow logs: tcpdump reading the NFLOG group (libpcap's
// nflog:<group> device, in calico-node's own network namespace, where its
// rules are), and node:fs for the JSON lines file.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import type { FlowLogFileSystem, PacketLogSource } from './ports.js';

/** Enough of each packet for the IP and transport headers (the length comes from the IP header). */
const SNAPLEN = 256;

export class TcpdumpNflogSource implements PacketLogSource {
  private proc: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly opts: { group: number; binary?: string }) {}

  start(handlers: Parameters<PacketLogSource['start']>[0]): void {
    if (this.proc) throw new Error('tcpdump NFLOG reader already running');
    // -U: write each packet as it arrives (no buffering), -w -: pcap to stdout, -n: no name lookups.
    const proc = spawn(this.opts.binary ?? 'tcpdump', ['-i', `nflog:${this.opts.group}`, '-U', '-n', '-s', String(SNAPLEN), '-w', '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    proc.stdout!.on('data', (d: Buffer) => handlers.onData(d));
    this.exited = new Promise((resolve) => {
      let done = false;
      const finish = (reason: string) => {
        if (done) return;
        done = true;
        const wanted = this.proc !== proc;
        if (this.proc === proc) this.proc = undefined;
        resolve();
        if (!wanted) handlers.onExit(reason);
      };
      proc.on('error', (err) => finish(`cannot run tcpdump: ${err.message}`));
      proc.on('close', (code, signal) => finish(`tcpdump exited (${signal ?? `code ${code}`}): ${stderr.trim().split('\n').slice(-2).join(' ')}`));
    });
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await this.exited;
  }
}

export const nodeFileSystem: FlowLogFileSystem = {
  async ensureDirectory(dir) {
    await mkdir(dir, { recursive: true });
  },
  async size(path) {
    try {
      return (await stat(path)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
  },
  async append(path, text) {
    await appendFile(path, text, { mode: 0o640 });
  },
  async rename(from, to) {
    try {
      await rename(from, to);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  },
  async remove(path) {
    await rm(path, { force: true });
  },
};
