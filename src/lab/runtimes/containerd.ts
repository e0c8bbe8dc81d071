// containerd (Debian's 1.6) on a lab host, containers started with
// `ctr run --cni`: ctr itself runs the CNI ADD (and DEL when the container
// ends) from the host's network namespace, through the configured plugins.
//
// ctr 1.6 reads its CNI configuration only from /etc/cni/net.d and its
// plugins only from /opt/cni/bin. So each ctr runs in a mount namespace of
// its own (`unshare -m`) where our network's folder is bound over
// /etc/cni/net.d and a tmpfs /opt holds links to our plugins: the machine's
// own folders are never written. The daemon keeps everything (content,
// snapshots, state, socket, its "opt" folder) under the runtime's folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NetworkConfigList } from '../../cni/conflist.js';
import type { Shell } from '../shell.js';
import { inHostNetns } from './netns.js';

export interface ContainerdPaths {
  dir: string;
  cniPath: string[];
}

export const socketOf = (dir: string) => join(dir, 'containerd.sock');

/** containerd's config.toml (pure): state under `dir`, no CRI (no Kubernetes here, and it would open a port). */
export function containerdConfig(dir: string): string {
  const q = (s: string) => JSON.stringify(s);
  return [
    'version = 2',
    `root = ${q(join(dir, 'root'))}`,
    `state = ${q(join(dir, 'state'))}`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '[grpc]',
    `  address = ${q(socketOf(dir))}`,
    // Default /opt/containerd: created on the machine otherwise.
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${q(join(dir, 'opt'))}`,
    '',
  ].join('\n');
}

/** The plugins as /opt/cni/bin should list them: name -> file, first folder wins (pure over the listings). */
export function pluginLinks(cniPath: string[], list: (dir: string) => string[]): Map<string, string> {
  const links = new Map<string, string>();
  for (const dir of cniPath) for (const f of list(dir)) if (!links.has(f)) links.set(f, join(dir, f));
  return links;
}

/** The `sh -c` script that makes ctr's private CNI folders and then becomes ctr (pure). */
export function ctrScript(netConfDir: string, links: Map<string, string>, ctrArgv: string[]): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return [
    'set -e',
    'mount --make-rprivate /',
    'mount -t tmpfs calico-ts-cni /opt',
    'mkdir -p /opt/cni/bin',
    ...[...links].map(([name, file]) => `ln -s ${q(file)} ${q(`/opt/cni/bin/${name}`)}`),
    `mount --bind ${q(netConfDir)} /etc/cni/net.d`,
    `exec ${ctrArgv.map(q).join(' ')}`,
  ].join('\n');
}

export class Containerd {
  private daemon: ChildProcess | undefined;
  private readonly tasks = new Map<string, ChildProcess>();
  log = '';

  constructor(
    private readonly shell: Shell,
    private readonly hostNs: string,
    private readonly paths: ContainerdPaths,
  ) {
    for (const d of ['root', 'state', 'opt', 'cni']) mkdirSync(join(paths.dir, d), { recursive: true });
    writeFileSync(join(paths.dir, 'config.toml'), containerdConfig(paths.dir));
  }

  private ctr(args: string[]): string[] {
    return ['ctr', '-a', socketOf(this.paths.dir), ...args];
  }

  /** Starts the daemon in the host's namespace and waits until it answers. */
  async start(): Promise<void> {
    const argv = inHostNetns(this.hostNs, ['containerd', '--config', join(this.paths.dir, 'config.toml')]);
    this.daemon = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    this.daemon.stderr!.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-20_000)));
    for (let i = 0; i < 100; i++) {
      if ((await this.shell.run(this.ctr(['version']), { allowFail: true })).code === 0) return;
      if (this.daemon.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`containerd did not start in ${this.hostNs}:\n${this.log.slice(-3000)}`);
  }

  async importImage(archive: string, name: string): Promise<void> {
    await this.shell.run(this.ctr(['image', 'import', '--base-name', name.split(':')[0]!, archive]));
  }

  addNetwork(list: NetworkConfigList): void {
    writeFileSync(join(this.paths.dir, 'cni', `10-${list.name}.conflist`), JSON.stringify(list, null, 2));
  }

  /**
   * `ctr run --rm --cni IMAGE ID CMD`, kept running: ADD happens before the
   * command starts; when the task ends, ctr removes the container and runs DEL.
   * Resolves once the task is running.
   */
  async run(id: string, image: string, command: string[]): Promise<void> {
    if (!existsSync('/etc/cni/net.d')) throw new Error('/etc/cni/net.d does not exist: ctr --cni needs it as a mount point (Debian\'s podman or containernetworking-plugins creates it)');
    const links = pluginLinks(this.paths.cniPath, (d) => (existsSync(d) ? readdirSync(d) : []));
    const script = ctrScript(join(this.paths.dir, 'cni'), links, this.ctr(['run', '--rm', '--cni', image, id, ...command]));
    const argv = inHostNetns(this.hostNs, ['unshare', '-m', 'sh', '-c', script]);
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    this.tasks.set(id, child);
    for (let i = 0; i < 150; i++) {
      const r = await this.shell.run(this.ctr(['task', 'ls']), { allowFail: true });
      if (new RegExp(`^${id}\\s+\\d+\\s+RUNNING`, 'm').test(r.stdout)) return;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`ctr run ${id} did not start a running task:\n${err.slice(-3000)}`);
  }

  exec(id: string, command: string[], opts: { allowFail?: boolean } = {}) {
    return this.shell.run(this.ctr(['task', 'exec', '--exec-id', `x${Date.now()}`, id, ...command]), { timeoutMs: 30_000, ...(opts.allowFail ? { allowFail: true } : {}) });
  }

  /** The task's network namespace, for checks from outside. */
  async netnsPath(id: string): Promise<string> {
    const r = await this.shell.run(this.ctr(['task', 'ls']));
    const pid = new RegExp(`^${id}\\s+(\\d+)`, 'm').exec(r.stdout)?.[1];
    if (!pid) throw new Error(`no task ${id}`);
    return `/proc/${pid}/ns/net`;
  }

  /** Kills the task; its ctr then deletes the container and runs DEL. Resolves when ctr has exited. */
  async remove(id: string): Promise<void> {
    const child = this.tasks.get(id);
    await this.shell.run(this.ctr(['task', 'kill', '-s', 'SIGKILL', id]), { allowFail: true });
    if (child && child.exitCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 30_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.tasks.delete(id);
  }

  /** Every task removed, then the daemon stopped. */
  async stop(): Promise<void> {
    for (const id of [...this.tasks.keys()]) await this.remove(id);
    const d = this.daemon;
    if (d && d.exitCode === null) {
      const exited = new Promise((r) => d.once('exit', r));
      d.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (d.exitCode === null) d.kill('SIGKILL');
    }
    // Shims outlive a killed daemon: any left in our state folder go too.
    await this.shell.run(['pkill', '-KILL', '-f', `containerd-shim.*${this.paths.dir}`], { allowFail: true });
  }
}
