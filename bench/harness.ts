// What every benchmark script needs and should do the same way: flags,
// medians, the machine line, and where its JSON goes (bench/results/<name>.json,
// which bench/run.ts collects). Benchmarks print numbers; they assert nothing.

import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { spawnSync } from 'node:child_process';

export const quick = process.argv.includes('--quick');

/** `--name value` from the command line, else `dflt`. */
export function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : process.argv[i + 1]!;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export const machineLine = () => `${cpus().length} x ${cpus()[0]?.model ?? '?'}`;

/** Writes bench/results/<name>.json (relative to the repository, also from dist/). */
export function writeResult(name: string, data: object): void {
  const dir = new URL('../../bench/results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL(`${name}.json`, dir), JSON.stringify({ bench: name, date: new Date().toISOString(), quick, machine: machineLine(), ...data }, null, 2) + '\n');
}

/** A left-aligned table on stdout: first row is the header. */
export function printTable(title: string, rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  console.log(`\n${title}`);
  for (const r of rows) console.log('  ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
}

/** Lines of `nft list ruleset` in a namespace: the size of what a packet may walk. */
export function nftRulesetLines(ns: string): number {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'ruleset'], { encoding: 'utf8', maxBuffer: 512 * 2 ** 20 });
  return r.status === 0 ? r.stdout.split('\n').length : -1;
}

/** Resident memory and CPU ticks (user + system) of a process, from /proc. */
export function procStats(pid: number): { rssMb: number; cpuTicks: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { rssMb: rssKb / 1024, cpuTicks: Number(fields[11]) + Number(fields[12]) };
}

/** A process's descendants (the children files under /proc/PID/task), each with its command line. */
export function descendants(pid: number): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  const walk = (p: number) => {
    let kids: number[] = [];
    try {
      kids = readdirSync(`/proc/${p}/task`).flatMap((t) => readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      return; // gone meanwhile
    }
    for (const k of kids) {
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${k}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      } catch {
        continue;
      }
      out.push({ pid: k, cmd });
      walk(k);
    }
  };
  walk(pid);
  return out;
}

/** Machine-wide CPU time counters (all CPUs, in ticks) from /proc/stat. */
export function cpuTimes(): { busy: number; softirq: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f as [number, number, number, number, number, number, number, number];
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return { busy: total - idle - iowait, softirq, total };
}

/** Share of all CPUs busy (and in softirq) between two cpuTimes() readings, in percent. */
export function cpuShare(a: ReturnType<typeof cpuTimes>, b: ReturnType<typeof cpuTimes>): { busyPct: number; softirqPct: number } {
  const total = b.total - a.total || 1;
  return { busyPct: ((b.busy - a.busy) / total) * 100, softirqPct: ((b.softirq - a.softirq) / total) * 100 };
}

/** One iperf3 TCP sample: received throughput, iperf3's own CPU figures, and the whole machine during it. */
export interface Iperf3Sample {
  gbps: number;
  /** iperf3's process CPU (percent of one CPU), client (sender) and server (receiver) side. */
  senderCpuPct: number;
  receiverCpuPct: number;
  retransmits: number;
  /** All CPUs, softirq included, while the stream ran: iperf3 cannot see the kernel's forwarding work. */
  machineBusyPct: number;
  softirqPct: number;
}

/**
 * iperf3 TCP from namespace `clientNs` to an `iperf3 -s` at `serverIp:port`.
 * Retries a few times: the server takes a moment to listen, and is busy for a
 * moment after each test.
 */
export function iperf3Tcp(clientNs: string, serverIp: string, opts: { port: number; seconds: number; streams: number }): Iperf3Sample {
  const argv = ['netns', 'exec', clientNs, 'iperf3', '-c', serverIp, '-p', String(opts.port), '-t', String(opts.seconds), '-P', String(opts.streams), '-J'];
  // Leave TCP slow start out of full-length samples; a 1 s quick sample has nothing to spare.
  if (opts.seconds >= 3) argv.push('-O', '1');
  for (let attempt = 0; ; attempt++) {
    const c0 = cpuTimes();
    const r = spawnSync('ip', argv, { encoding: 'utf8', timeout: (opts.seconds + 20) * 1000, maxBuffer: 64 << 20 });
    const share = cpuShare(c0, cpuTimes());
    try {
      const j = JSON.parse(r.stdout) as { error?: string; end: { sum_received: { bits_per_second: number }; sum_sent: { retransmits?: number }; cpu_utilization_percent: { host_total: number; remote_total: number } } };
      if (j.error) throw new Error(j.error);
      return {
        gbps: j.end.sum_received.bits_per_second / 1e9,
        senderCpuPct: j.end.cpu_utilization_percent.host_total,
        receiverCpuPct: j.end.cpu_utilization_percent.remote_total,
        retransmits: j.end.sum_sent.retransmits ?? 0,
        machineBusyPct: share.busyPct,
        softirqPct: share.softirqPct,
      };
    } catch (e) {
      if (attempt >= 5) throw new Error(`iperf3 ${clientNs} -> ${serverIp}:${opts.port} failed: ${(e as Error).message} ${r.stderr}`);
      spawnSync('sleep', ['0.3']);
    }
  }
}

/** Fails early, with the fix, when iperf3 is not installed. */
export function requireIperf3(bench: string): void {
  if (spawnSync('iperf3', ['--version']).status !== 0) throw new Error(`${bench} needs iperf3 (Debian package iperf3; scripts/install-deps.sh installs it)`);
}
