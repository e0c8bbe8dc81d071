// Harness for the address-space kernel scenario: a fabric (bridge) with two
// hosts (IPv4 + IPv6, MTU 1500), etcd on host 1, the real bin/calico-node
// (with BIRD) on each host, workload namespaces plumbed CNI-style, and a
// private bpffs for the agents' pins.
//
// bpffs: /sys/fs/bpf is not mounted on the test machine, and `ip netns exec`
// mounts a fresh /sys, which would hide one anyway. So a bpffs is mounted on
// a fresh temporary directory (an independent instance nobody else uses),
// every agent pins below it (CALICO_BPF_PIN_DIR), and destroy() unmounts it.
// The machine's /sys/fs/bpf is never touched. Everything else lives in
// namespaces with a random prefix and is deleted by destroy(), even on failure.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { encodeResource } from '../../../src/datastore/resource-store.js';
import { resourceKeyPath } from '../../../src/datastore/keys.js';
import type { Resource } from '../../../src/api/resource.js';
import { eventually } from '../../support/eventually.js';
export { eventually };

const ROOT = new URL('../../../../', import.meta.url).pathname;
export const ECHO = new URL('./echo.js', import.meta.url).pathname;
export const PROBE = new URL('../dataplane/probe.js', import.meta.url).pathname;
const ETCD_PORT = 23971;

export function sh(argv: string[], opts: { input?: string; allowFail?: boolean } = {}): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { input: opts.input ?? '', encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout ?? '';
}


export interface LabWorkload {
  name: string;
  ns: string;
  host: LabHost;
  iface: string;
  mac: string;
}
export interface LabHost {
  name: string;
  ns: string;
  v4: string;
  v6: string;
  runDir: string;
  node?: ChildProcess;
  log: string;
}

export class SpaceLab {
  readonly prefix = `ctx${randomBytes(2).toString('hex')}-`;
  readonly dir = mkdtempSync(join(tmpdir(), 'cts-xlat-'));
  readonly bpffs = join(this.dir, 'bpffs');
  private readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];
  private mounted = false;
  readonly hosts: LabHost[] = [];
  readonly switchNs: string;
  private nextMac = 1;

  constructor() {
    sh(['mkdir', '-p', this.bpffs]);
    sh(['mount', '-t', 'bpf', 'bpf', this.bpffs]);
    this.mounted = true;
    this.switchNs = this.ns('sw');
    sh(['ip', '-n', this.switchNs, 'link', 'add', 'br0', 'type', 'bridge']);
    sh(['ip', '-n', this.switchNs, 'link', 'set', 'br0', 'up']);
  }

  ns(name: string): string {
    const ns = this.prefix + name;
    sh(['ip', 'netns', 'add', ns]);
    this.namespaces.push(ns);
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    // Inside the test's namespaces only: no DAD delay, no ICMP rate limit (traceroute, PMTU probes back to back).
    sh(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.icmp.ratelimit=0', 'net.ipv4.icmp_ratelimit=0']);
    return ns;
  }

  in(ns: string, argv: string[], opts: { input?: string; allowFail?: boolean } = {}): string {
    return sh(['ip', 'netns', 'exec', ns, ...argv], opts);
  }

  addHost(name: string, index: number): LabHost {
    const ns = this.ns(name);
    const peer = `${this.prefix}${index}`;
    sh(['ip', 'link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', peer, 'netns', this.switchNs]);
    sh(['ip', '-n', this.switchNs, 'link', 'set', peer, 'master', 'br0', 'up']);
    const v4 = `192.0.2.${index}`;
    const v6 = `2001:db8:ff::${index}`;
    sh(['ip', '-n', ns, 'addr', 'add', `${v4}/24`, 'dev', 'eth0']);
    sh(['ip', '-n', ns, 'addr', 'add', `${v6}/64`, 'dev', 'eth0', 'nodad']);
    sh(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    this.in(ns, ['sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
    const h: LabHost = { name, ns, v4, v6, runDir: join(this.dir, name), log: '' };
    this.hosts.push(h);
    return h;
  }

  async startEtcd(on: LabHost): Promise<void> {
    const data = join(this.dir, 'etcd');
    this.spawn(on.ns, ['etcd', '--data-dir', data, '--listen-client-urls', `http://${on.v4}:${ETCD_PORT}`, '--advertise-client-urls', `http://${on.v4}:${ETCD_PORT}`, '--listen-peer-urls', `http://127.0.0.1:${ETCD_PORT + 1}`]);
    this.etcdHost = on;
    await eventually('etcd', () => spawnSync('ip', ['netns', 'exec', on.ns, 'env', 'ETCDCTL_API=3', 'etcdctl', '--endpoints', this.etcdUrl, 'endpoint', 'health']).status === 0);
  }
  private etcdHost: LabHost | undefined;
  get etcdUrl(): string {
    return `http://${this.etcdHost!.v4}:${ETCD_PORT}`;
  }

  put(r: Resource): void {
    const key = resourceKeyPath({ kind: r.kind, name: r.metadata.name, ...(r.metadata.namespace ? { namespace: r.metadata.namespace } : {}) });
    this.in(this.etcdHost!.ns, ['env', 'ETCDCTL_API=3', 'etcdctl', '--endpoints', this.etcdUrl, 'put', key], { input: encodeResource(r) });
  }

  del(kind: Resource['kind'], name: string): void {
    this.in(this.etcdHost!.ns, ['env', 'ETCDCTL_API=3', 'etcdctl', '--endpoints', this.etcdUrl, 'del', resourceKeyPath({ kind, name })]);
  }

  startNode(h: LabHost): void {
    const proc = spawn('ip', ['netns', 'exec', h.ns, join(ROOT, 'bin/calico-node')], {
      env: {
        ...process.env,
        NODENAME: h.name,
        NO_DEFAULT_POOLS: 'true',
        IP: `${h.v4}/24`,
        IP6: `${h.v6}/64`,
        CALICO_NETWORKING_BACKEND: 'bird',
        CALICO_RUN_DIR: h.runDir,
        CALICO_BPF_PIN_DIR: join(this.bpffs, h.name),
        DATASTORE_TYPE: 'etcdv3',
        ETCD_ENDPOINTS: this.etcdUrl,
        FELIX_LOGSEVERITYSCREEN: 'Info',
        FELIX_PROMETHEUSMETRICSENABLED: 'true',
        FELIX_PROMETHEUSMETRICSHOST: '127.0.0.1',
        FELIX_PROMETHEUSMETRICSPORT: '29091',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    proc.stderr!.on('data', (d: Buffer) => (h.log = (h.log + d.toString()).slice(-200_000)));
    this.children.push(proc);
    h.node = proc;
  }

  /** calico-node's Prometheus text on a host. */
  metrics(h: LabHost): string {
    return this.in(h.ns, ['curl', '-sf', 'http://127.0.0.1:29091/metrics'], { allowFail: true });
  }

  /** A workload namespace on `host`: veth cali*, IPv4 /32 (or IPv6 /128), MTU `mtu`, default route via the host; returns it with its MAC. */
  workload(host: LabHost, name: string, addr: string, opts: { mtu?: number } = {}): LabWorkload {
    const ns = this.ns(name);
    const iface = `cali${randomBytes(6).toString('hex').slice(0, 11)}`;
    const mac = `02:00:00:00:00:${(this.nextMac++).toString(16).padStart(2, '0')}`;
    sh(['ip', 'link', 'add', iface, 'netns', host.ns, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    sh(['ip', '-n', host.ns, 'link', 'set', iface, 'address', 'ee:ee:ee:ee:ee:ee', 'up']);
    sh(['ip', '-n', ns, 'link', 'set', 'eth0', 'address', mac, 'mtu', String(opts.mtu ?? 1500), 'up']);
    if (addr.includes(':')) {
      sh(['ip', '-n', ns, '-6', 'addr', 'add', `${addr}/128`, 'dev', 'eth0', 'nodad']);
      sh(['ip', '-n', ns, '-6', 'route', 'add', 'default', 'via', 'fe80::ecee:eeff:feee:eeee', 'dev', 'eth0']);
    } else {
      sh(['ip', '-n', ns, 'addr', 'add', `${addr}/32`, 'dev', 'eth0']);
      sh(['ip', '-n', ns, 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
      sh(['ip', '-n', ns, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
      // The host's proxy ARP answers only for addresses it routes elsewhere; these hosts have no IPv4 default route.
      sh(['ip', '-n', ns, 'neigh', 'replace', '169.254.1.1', 'lladdr', 'ee:ee:ee:ee:ee:ee', 'dev', 'eth0', 'nud', 'permanent']);
    }
    return { name, ns, host, iface, mac };
  }

  /** A long-running process in a namespace (killed by destroy); resolves when it printed "ready". */
  spawn(ns: string, argv: string[], waitReady = false): Promise<ChildProcess & { output: () => string }> {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] }) as ChildProcess & { output: () => string };
    this.children.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.output = () => out;
    if (!waitReady) return Promise.resolve(child);
    return eventually(`${argv.join(' ')} ready`, () => out.includes('ready') && child, 10000);
  }

  /** One TCP or UDP probe from a workload; "ok <reply>" or "fail ...". */
  probe(from: LabWorkload, proto: 'tcp' | 'udp', dst: string, port: number): string {
    const r = spawnSync('ip', ['netns', 'exec', from.ns, process.execPath, PROBE, proto, dst, String(port), '1500'], { encoding: 'utf8' });
    return (r.stdout ?? '').trim();
  }

  destroy(): void {
    for (const c of this.children) if (c.exitCode === null && c.pid) try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
    for (const ns of this.namespaces) {
      for (const pid of sh(['ip', 'netns', 'pids', ns], { allowFail: true }).split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    for (const ns of [...this.namespaces].reverse()) sh(['ip', 'netns', 'del', ns], { allowFail: true });
    if (this.mounted) sh(['umount', this.bpffs], { allowFail: true });
    this.mounted = false;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
