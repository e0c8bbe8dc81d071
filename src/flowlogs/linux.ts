// Linux drivers for flow logs: tcpdump reading the NFLOG group (libpcap's
// nflog:<group> device, in calico-node's own network namespace, where its
// rules are), and node:fs for the JSON lines file.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import type { ConntrackTable, FlowLogFileSystem, PacketLogSource } from './ports.js';

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

/**
 * `conntrack -L -o extended`; accounting (net.netfilter.nf_conntrack_acct,
 * per network namespace) is turned on when flow logs start and left on (it
 * only adds counters to new connections). Only used while flow logs are on.
 */
export class LinuxConntrackTable implements ConntrackTable {
  constructor(private readonly opts: { binary?: string; acctPath?: string } = {}) {}

  async enableAccounting(): Promise<void> {
    await writeFile(this.opts.acctPath ?? '/proc/sys/net/netfilter/nf_conntrack_acct', '1');
  }

  async list(): Promise<string> {
    return new Promise((resolve, reject) => {
      const proc = spawn(this.opts.binary ?? 'conntrack', ['-L', '-o', 'extended'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      proc.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-500)));
      proc.on('error', reject);
      proc.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`conntrack -L exited with code ${code}: ${err.trim()}`))));
    });
  }
}
