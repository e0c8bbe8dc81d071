// A small data center for the CNI kernel tests, on the BGP tests' NetnsLab:
// host namespaces on one bridge (192.0.2.N/24, a default route so proxy ARP
// answers the workloads' gateway), etcd on the bridge (192.0.2.250:2379, so
// every host reaches it), calico-node per host when asked, container
// namespaces the tests make. The plugins run inside a host namespace as a
// runtime on that node would run them: directly (plugin()) or through the
// conflist runner (runner()). destroy() kills everything it started and
// deletes every namespace, also after a failure.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { NetnsLab, sh, sleep, waitFor, type LabHost } from '../bgp/netns-lab.js';
import { ConflistRunner, systemProgramExec } from '../../../src/cni/conflist-exec.js';

export { isRoot, sleep, waitFor } from '../bgp/netns-lab.js';

export const ROOT = new URL('../../../../', import.meta.url).pathname;
export const ETCD_IP = '192.0.2.250';
export const ETCD = `http://${ETCD_IP}:2379`;
export const CNI_PATH = [join(ROOT, 'bin'), '/usr/lib/cni'];

export interface PluginRun {
  code: number;
  out: string;
  err: string;
  json: Record<string, unknown> | undefined;
}

export class CniLab {
  readonly lab = new NetnsLab();
  private readonly containers: string[] = [];
  private readonly procs: ChildProcess[] = [];
  readonly nodeLogs = new Map<string, string>();
  private etcd: ChildProcess | undefined;

  /** etcd on the bridge in the switch namespace, and the hosts (no agents yet). */
  async start(hosts: string[]): Promise<void> {
    const sw = this.lab.switchNs;
    this.lab.ipn(sw, ['addr', 'add', `${ETCD_IP}/24`, 'dev', 'br0']);
    this.lab.ipn(sw, ['link', 'set', 'lo', 'up']);
    const data = join(this.lab.dir, 'etcd');
    this.etcd = this.lab.spawnIn(sw, ['etcd', '--data-dir', data, '--listen-client-urls', ETCD, '--advertise-client-urls', ETCD, '--listen-peer-urls', `http://${ETCD_IP}:2380`, '--log-level', 'warn']);
    for (const h of hosts) {
      const host = this.lab.addHost(h);
      this.lab.ipn(host.ns, ['route', 'add', 'default', 'via', '192.0.2.254', 'dev', 'eth0', 'onlink']);
    }
    // etcdctl reports health on stderr: the exit code is what counts.
    const healthy = await waitFor(() => spawnSync('ip', ['netns', 'exec', sw, 'env', 'ETCDCTL_API=3', 'etcdctl', '--endpoints', ETCD, 'endpoint', 'health']).status === 0, 20_000);
    if (!healthy) throw new Error('etcd did not come up');
  }

  /** Takes the datastore away (SIGKILL), to see the plugins fail cleanly. */
  async killEtcd(): Promise<void> {
    const etcd = this.etcd;
    if (!etcd || etcd.exitCode !== null) return;
    const exited = new Promise((r) => etcd.once('exit', r));
    etcd.kill('SIGKILL');
    await exited;
  }

  host(name: string): LabHost {
    return this.lab.host(name);
  }

  etcdctl(args: string[], opts: { allowFail?: boolean } = {}): string {
    return this.lab.exec(this.lab.switchNs, ['env', 'ETCDCTL_API=3', 'etcdctl', '--endpoints', ETCD, ...args], opts);
  }

  /** calicoctl against the lab's etcd (run in a host namespace, which reaches it). */
  calicoctl(args: string[], input?: string): { code: number; out: string; err: string } {
    const first = [...this.lab.hosts.values()][0]!;
    const r = spawnSync('ip', ['netns', 'exec', first.ns, join(ROOT, 'bin/calicoctl'), ...args], { input: input ?? '', encoding: 'utf8', env: { ...process.env, ETCD_ENDPOINTS: ETCD, DATASTORE_TYPE: 'etcdv3' } });
    return { code: r.status ?? 1, out: r.stdout ?? '', err: r.stderr ?? '' };
  }

  apply(resources: object[]): void {
    const r = this.calicoctl(['apply', '-f', '-'], resources.map((x) => JSON.stringify(x)).join('\n---\n'));
    if (r.code !== 0) throw new Error(`calicoctl apply: ${r.out}${r.err}`);
  }

  /** calico-node in the host namespace, its run dir the host's (nodename and endpoint status files there). */
  startNode(name: string, env: Record<string, string> = {}): void {
    const h = this.host(name);
    mkdirSync(h.runDir, { recursive: true });
    const vars = {
      NODENAME: name,
      IP: `${h.v4}/24`,
      IP6: `${h.v6}/64`,
      NO_DEFAULT_POOLS: 'true',
      CALICO_NETWORKING_BACKEND: 'bird',
      CALICO_RUN_DIR: h.runDir,
      DATASTORE_TYPE: 'etcdv3',
      ETCD_ENDPOINTS: ETCD,
      FELIX_LOGSEVERITYSCREEN: 'Info',
      ...env,
    };
    const child = spawn('ip', ['netns', 'exec', h.ns, 'env', ...Object.entries(vars).map(([k, v]) => `${k}=${v}`), join(ROOT, 'bin/calico-node')], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.procs.push(child);
    this.nodeLogs.set(name, '');
    child.stderr!.on('data', (d: Buffer) => this.nodeLogs.set(name, (this.nodeLogs.get(name) ?? '') + d.toString()));
  }

  /** Waits until calico-node on `name` has finished starting (it writes <run dir>/nodename then). */
  async nodeReady(name: string, timeoutMs = 60_000): Promise<void> {
    const file = join(this.host(name).runDir, 'nodename');
    const ok = await waitFor(() => spawnSync('test', ['-f', file]).status === 0, timeoutMs);
    if (!ok) throw new Error(`calico-node on ${name} did not start; log:\n${(this.nodeLogs.get(name) ?? '').slice(-3000)}`);
  }

  /** A container: a fresh network namespace; returns its path (CNI_NETNS). */
  addContainer(name: string): string {
    const ns = `${this.lab.prefix}c-${name}`;
    sh('ip', ['netns', 'add', ns]);
    this.containers.push(ns);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    return `/var/run/netns/${ns}`;
  }

  removeContainer(netnsPath: string): void {
    sh('ip', ['netns', 'del', netnsPath.split('/').pop()!], { allowFail: true });
  }

  /** Runs `cmd` inside a container namespace (by its CNI_NETNS path). */
  inContainer(netnsPath: string, cmd: string[], opts: { allowFail?: boolean } = {}): string {
    return this.lab.exec(netnsPath.split('/').pop()!, cmd, opts);
  }

  /** Runs bin/<plugin> in the host namespace with the CNI variables, config on stdin. */
  plugin(host: string, name: 'calico' | 'calico-ipam', env: Record<string, string>, conf: object): Promise<PluginRun> {
    return new Promise((resolve) => {
      const child = spawn('ip', ['netns', 'exec', this.host(host).ns, join(ROOT, 'bin', name)], { env: { ...process.env, CNI_PATH: CNI_PATH.join(':'), ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('close', (code) => {
        let json: Record<string, unknown> | undefined;
        try {
          json = out.trim() ? (JSON.parse(out) as Record<string, unknown>) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ code: code ?? 1, out, err, json });
      });
      child.stdin.end(JSON.stringify(conf));
    });
  }

  /** A conflist runner whose plugins run in the host namespace (where a runtime on that node runs them). */
  runner(host: string): ConflistRunner {
    return new ConflistRunner({ exec: systemProgramExec({ commandPrefix: ['ip', 'netns', 'exec', this.host(host).ns] }), path: CNI_PATH });
  }

  /** cali* interfaces in a host namespace. */
  caliLinks(host: string): string[] {
    const links = JSON.parse(this.lab.ipn(this.host(host).ns, ['-j', 'link', 'show']) || '[]') as { ifname: string }[];
    return links.map((l) => l.ifname).filter((n) => n.startsWith('cali'));
  }

  async destroy(): Promise<void> {
    for (const p of this.procs) if (p.exitCode === null) p.kill('SIGTERM');
    await sleep(300);
    for (const p of this.procs) if (p.exitCode === null) p.kill('SIGKILL');
    for (const ns of this.containers) {
      for (const pid of sh('ip', ['netns', 'pids', ns], { allowFail: true }).split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // gone
        }
      }
      sh('ip', ['netns', 'del', ns], { allowFail: true });
    }
    await this.lab.destroy();
  }
}
