// The DHCP agent's real drivers: the DHCP interface through `ip`, dnsmasq as
// a supervised child process. Both act in the network namespace the agent
// runs in.
//
// Ours by name: the DHCP interface is the one named by CALICO_DHCP_INTERFACE;
// the dnsmasq is the one whose command line names our configuration file (a
// dnsmasq left by an agent that crashed is found through the pid file and
// stopped before a new one starts).

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Exec } from '../dataplane/ports.js';
import type { Logger } from '../node/log.js';
import { DhcpError } from './errors.js';
import type { DhcpInterface, Dnsmasq, Timers } from './ports.js';

export const realTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
};

async function must(exec: Exec, argv: string[]): Promise<string> {
  const r = await exec.run(argv);
  if (r.code !== 0) throw new DhcpError(`${argv.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return r.stdout;
}

export class LinuxDhcpInterface implements DhcpInterface {
  constructor(private readonly exec: Exec) {}

  async ensure(name: string, addresses: string[]): Promise<void> {
    const shown = await this.exec.run(['ip', '-j', '-4', 'addr', 'show', 'dev', name]);
    let have: string[] = [];
    if (shown.code !== 0) {
      // A dummy device where the kernel has one; a bridge without ports behaves the same for us (an always-present
      // place for local addresses) where it has not (no dummy module, as in some containers).
      const dummy = await this.exec.run(['ip', 'link', 'add', name, 'type', 'dummy']);
      if (dummy.code !== 0) await must(this.exec, ['ip', 'link', 'add', name, 'type', 'bridge']);
    } else {
      const parsed = JSON.parse(shown.stdout || '[]') as { addr_info?: { local: string; prefixlen: number }[] }[];
      have = (parsed[0]?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`);
    }
    await must(this.exec, ['ip', 'link', 'set', name, 'up']);
    const want = new Set(addresses.map((a) => `${a}/32`));
    for (const a of have) if (!want.has(a)) await must(this.exec, ['ip', 'addr', 'del', a, 'dev', name]);
    for (const a of want) if (!have.includes(a)) await must(this.exec, ['ip', 'addr', 'add', a, 'dev', name]);
  }

  async remove(name: string): Promise<void> {
    const shown = await this.exec.run(['ip', 'link', 'show', 'dev', name]);
    if (shown.code !== 0) return;
    await must(this.exec, ['ip', 'link', 'del', name]);
  }
}

export interface LinuxDnsmasqOptions {
  /** Configuration, pid and lease files live here. */
  stateDir: string;
  exec: Exec;
  log: Logger;
  /** The dnsmasq binary (default `dnsmasq`). */
  binary?: string;
}

export class LinuxDnsmasq implements Dnsmasq {
  private child: ChildProcess | undefined;
  private exitHandler: ((detail: string) => void) | undefined;
  private readonly confFile: string;
  private readonly pidFile: string;

  constructor(private readonly opts: LinuxDnsmasqOptions) {
    mkdirSync(opts.stateDir, { recursive: true });
    this.confFile = join(opts.stateDir, 'dnsmasq.conf');
    this.pidFile = join(opts.stateDir, 'dnsmasq.pid');
  }

  onUnexpectedExit(handler: (detail: string) => void): void {
    this.exitHandler = handler;
  }

  async restart(conf: string): Promise<void> {
    const bin = this.opts.binary ?? 'dnsmasq';
    const candidate = `${this.confFile}.new`;
    writeFileSync(candidate, conf);
    // A file dnsmasq refuses never replaces the one it runs on.
    const test = await this.opts.exec.run([bin, '--test', `--conf-file=${candidate}`]);
    if (test.code !== 0) throw new DhcpError(`dnsmasq refused the generated configuration ${candidate}: ${(test.stderr || test.stdout).trim()}`);
    renameSync(candidate, this.confFile);
    await this.stop();
    await this.stopLeftover();
    await this.spawn(bin);
  }

  private spawn(bin: string): Promise<void> {
    const child = spawn(bin, ['--keep-in-foreground', `--conf-file=${this.confFile}`, `--pid-file=${this.pidFile}`, '--log-facility=-'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let tail = '';
    return new Promise((resolve, reject) => {
      let started = false;
      const onData = (d: Buffer) => {
        const text = d.toString();
        tail = (tail + text).slice(-2000);
        for (const line of text.split('\n')) if (line.trim()) this.opts.log.info('dnsmasq', { line: line.trim() });
        // "dnsmasq: started, version 2.90 DNS disabled": it has read its file and bound its socket.
        if (!started && /started, version/.test(tail)) {
          started = true;
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.on('error', (err) => {
        if (!started) reject(new DhcpError(`cannot run ${bin}: ${err.message} (install Debian's dnsmasq-base)`, { cause: err }));
      });
      child.on('exit', (code, signal) => {
        const detail = `dnsmasq exited (${signal ?? `code ${code}`}): ${tail.trim().split('\n').slice(-3).join(' | ')}`;
        if (this.child === child) this.child = undefined;
        if (!started) {
          started = true;
          reject(new DhcpError(detail));
        } else if (this.child === undefined && !this.stopping.has(child)) this.exitHandler?.(detail);
      });
    });
  }

  private readonly stopping = new Set<ChildProcess>();

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.child = undefined;
      return;
    }
    this.stopping.add(child);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
    this.child = undefined;
  }

  /** A dnsmasq on our configuration file that an earlier agent left running (it would hold port 67). */
  private async stopLeftover(): Promise<void> {
    if (!existsSync(this.pidFile)) return;
    const pid = Number(readFileSync(this.pidFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 1) return;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      return; // gone
    }
    if (!cmdline.includes(`--conf-file=${this.confFile}`)) return;
    this.opts.log.warning('stopping a dnsmasq left by an earlier agent', { pid });
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
    for (let i = 0; i < 30 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 100));
  }
}
