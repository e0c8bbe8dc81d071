// Network-namespace scaffolding for dataplane kernel tests: host namespaces
// joined by a veth, workload namespaces plumbed the way a CNI plugin does it
// (cali* veth, /32 address, default route via 169.254.1.1), background probe
// servers, and a teardown that deletes everything even when a test failed.
// Never touches the machine's own namespace.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export const PROBE = new URL('./probe.js', import.meta.url).pathname;

export function sh(argv: string[], opts: { input?: string; allowFail?: boolean } = {}): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { input: opts.input ?? '', encoding: 'utf8' });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

export function canRunKernelTests(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  if (spawnSync('ip', ['netns', 'list']).status !== 0) return 'ip netns unavailable';
  return undefined;
}

export interface Workload {
  ns: string;
  host: string;
  iface: string;
  ip: string;
  ip6: string;
  mac: string;
}

export class Topology {
  readonly prefix = `cts-dp-${randomBytes(3).toString('hex')}-`;
  private readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];

  ns(name: string): string {
    const full = this.prefix + name;
    sh(['ip', 'netns', 'add', full]);
    this.namespaces.push(full);
    sh(['ip', '-n', full, 'link', 'set', 'lo', 'up']);
    // Skip IPv6 duplicate address detection so links are usable at once (inside the test namespace only).
    sh(['ip', 'netns', 'exec', full, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
    return full;
  }

  /** Two hosts on 192.0.2.0/24 (and 2001:db8:ffff::/64). */
  hosts(): { h1: string; h2: string } {
    const h1 = this.ns('h1');
    const h2 = this.ns('h2');
    sh(['ip', '-n', h1, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h2]);
    for (const [h, n] of [[h1, 1], [h2, 2]] as const) {
      sh(['ip', '-n', h, 'addr', 'add', `192.0.2.${n}/24`, 'dev', 'eth0']);
      sh(['ip', '-n', h, '-6', 'addr', 'add', `2001:db8:ffff::${n}/64`, 'dev', 'eth0', 'nodad']);
      sh(['ip', '-n', h, 'link', 'set', 'eth0', 'up']);
    }
    return { h1, h2 };
  }

  /** A veth between two namespaces, one IPv4 address (with prefix) on each end. */
  link(a: { ns: string; iface: string; addr: string }, b: { ns: string; iface: string; addr: string }): void {
    sh(['ip', '-n', a.ns, 'link', 'add', a.iface, 'type', 'veth', 'peer', 'name', b.iface, 'netns', b.ns]);
    for (const end of [a, b]) {
      sh(['ip', '-n', end.ns, 'addr', 'add', end.addr, 'dev', end.iface]);
      sh(['ip', '-n', end.ns, 'link', 'set', end.iface, 'up']);
    }
  }

  /** A workload namespace plumbed CNI-style onto `host` through `iface`. */
  workload(host: string, opts: { name: string; iface: string; ip: string; ip6: string; mac: string }): Workload {
    const ns = this.ns(opts.name);
    const w = { ns, host, iface: opts.iface, ip: opts.ip, ip6: opts.ip6, mac: opts.mac };
    this.plug(w);
    return w;
  }

  /** The CNI ADD part: a veth from the host into the workload's namespace, addresses and routes. */
  plug(w: Workload): void {
    const { ns, host } = w;
    sh(['ip', '-n', host, 'link', 'add', w.iface, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    // Calico's host side MAC is fixed, so the workload's IPv6 gateway (its link-local) is too.
    sh(['ip', '-n', host, 'link', 'set', w.iface, 'address', 'ee:ee:ee:ee:ee:ee', 'up']);
    sh(['ip', '-n', ns, 'link', 'set', 'eth0', 'address', w.mac, 'up']);
    sh(['ip', '-n', ns, 'addr', 'add', `${w.ip}/32`, 'dev', 'eth0']);
    sh(['ip', '-n', ns, '-6', 'addr', 'add', `${w.ip6}/128`, 'dev', 'eth0', 'nodad']);
    sh(['ip', '-n', ns, 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
    sh(['ip', '-n', ns, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
    sh(['ip', '-n', ns, '-6', 'route', 'add', 'default', 'via', 'fe80::ecee:eeff:feee:eeee', 'dev', 'eth0']);
  }

  /** Deletes the workload's veth (both ends, and with it the kernel's routes and neighbours on it) and plugs a new one with the same name and addresses, like a runtime re-creating it. */
  replug(w: Workload): void {
    sh(['ip', '-n', w.host, 'link', 'del', w.iface]);
    this.plug(w);
  }

  /** Starts a long-running process in a namespace; it is killed at teardown. Resolves once it printed "ready". */
  background(ns: string, args: string[]): Promise<{ child: ChildProcess; output: () => string; exited: Promise<number> }> {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, PROBE, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.children.push(child);
    let out = '';
    const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
    return new Promise((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d;
        if (out.includes('ready')) resolve({ child, output: () => out, exited });
      });
      void exited.then((code) => reject(new Error(`probe ${args.join(' ')} exited ${code}`)));
    });
  }

  /** Runs a command in a namespace in the background (ping, a stream client); resolves with its output when it exits. */
  run(ns: string, argv: string[]): Promise<{ code: number; out: string }> {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.children.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d));
    return new Promise((resolve) => child.on('exit', (code) => resolve({ code: code ?? -1, out })));
  }

  /** Runs a probe client; returns its first output line and whether it succeeded. */
  probe(ns: string, args: string[]): { ok: boolean; out: string } {
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, PROBE, ...args], { encoding: 'utf8' });
    return { ok: r.status === 0, out: r.stdout.trim() };
  }

  ping(ns: string, dst: string, opts: { count?: number; timeoutS?: number } = {}): boolean {
    const r = spawnSync('ip', ['netns', 'exec', ns, 'ping', '-n', '-q', '-c', String(opts.count ?? 1), '-W', String(opts.timeoutS ?? 1), dst]);
    return r.status === 0;
  }

  teardown(): void {
    for (const c of this.children) {
      if (c.exitCode === null && c.pid) {
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    // `ip netns exec` forks the probe; kill whatever still runs in our namespaces, by pid.
    for (const ns of this.namespaces) {
      for (const pid of sh(['ip', 'netns', 'pids', ns], { allowFail: true }).split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    for (const ns of this.namespaces.reverse()) sh(['ip', 'netns', 'del', ns], { allowFail: true });
  }
}
