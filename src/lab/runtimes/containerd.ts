// containerd (Debian's 1.6) on a lab host, containers started with
// `ctr run --cni`: ctr itself runs the CNI ADD (and DEL when the container
// ends) from the host's network namespace, through the configured plugins.
//
// ctr 1.6 reads its CNI configuration only from /etc/cni/net.d and its
// plugins only from /opt/cni/bin. So each ctr runs in a mount namespace of
// its own (`unshare -m`) where the network's folder is bound over
// /etc/cni/net.d and a tmpfs /opt holds links to our plugins: the machine's
// own folders are never written. The daemon keeps everything (content,
// snapshots, state, socket, its "opt" folder) under the runtime's folder.
// Daemon and ctr processes are detached (they outlive `calico-lab up`); their
// pids and logs are files in that folder, so any later process can stop them.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NetworkConfigList } from '../../cni/conflist.js';
import { alive, spawnLogged, stopPid } from '../daemons.js';
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

const readPid = (file: string): number => (existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) || -1 : -1);
const tail = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').slice(-3000) : '');

export class Containerd {
  constructor(
    private readonly shell: Shell,
    private readonly hostNs: string,
    private readonly paths: ContainerdPaths,
  ) {
    for (const d of ['root', 'state', 'opt', 'cni', 'tasks']) mkdirSync(join(paths.dir, d), { recursive: true });
    writeFileSync(join(paths.dir, 'config.toml'), containerdConfig(paths.dir));
  }

  get log(): string {
    return tail(join(this.paths.dir, 'containerd.log'));
  }

  private ctr(args: string[]): string[] {
    return ['ctr', '-a', socketOf(this.paths.dir), ...args];
  }

  /** Starts the daemon in the host's namespace (unless it runs) and waits until it answers. */
  async start(): Promise<void> {
    const pidFile = join(this.paths.dir, 'containerd.pid');
    if (!alive(readPid(pidFile))) {
      const pid = spawnLogged(inHostNetns(this.hostNs, ['containerd', '--config', join(this.paths.dir, 'config.toml')]), join(this.paths.dir, 'containerd.log'));
      writeFileSync(pidFile, String(pid));
    }
    for (let i = 0; i < 100; i++) {
      if ((await this.shell.run(this.ctr(['version']), { allowFail: true })).code === 0) return;
      if (!alive(readPid(pidFile))) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`containerd did not start in ${this.hostNs}:\n${this.log}`);
  }

  async importImage(archive: string, name: string): Promise<void> {
    await this.shell.run(this.ctr(['image', 'import', '--base-name', name.split(':')[0]!, archive]));
  }

  /** Installs a network; `netDir` (default: the runtime's) lets one container have a network config of its own. */
  addNetwork(list: NetworkConfigList, netDir = join(this.paths.dir, 'cni')): void {
    mkdirSync(netDir, { recursive: true });
    writeFileSync(join(netDir, `10-${list.name}.conflist`), JSON.stringify(list, null, 2));
  }

  /**
   * `ctr run --rm --cni IMAGE ID CMD`, kept running (detached): ADD happens
   * before the command starts; when the task ends, ctr removes the container
   * and runs DEL. Resolves once the task is running; returns the task's pid.
   */
  async run(id: string, image: string, command: string[], opts: { netDir?: string } = {}): Promise<number> {
    if (!existsSync('/etc/cni/net.d')) throw new Error("/etc/cni/net.d does not exist: ctr --cni needs it as a mount point (Debian's podman or containernetworking-plugins creates it)");
    const links = pluginLinks(this.paths.cniPath, (d) => (existsSync(d) ? readdirSync(d) : []));
    const script = ctrScript(opts.netDir ?? join(this.paths.dir, 'cni'), links, this.ctr(['run', '--rm', '--cni', image, id, ...command]));
    const log = join(this.paths.dir, 'tasks', `${id}.log`);
    const pid = spawnLogged(inHostNetns(this.hostNs, ['unshare', '-m', 'sh', '-c', script]), log);
    writeFileSync(join(this.paths.dir, 'tasks', `${id}.pid`), String(pid));
    for (let i = 0; i < 150; i++) {
      const r = await this.shell.run(this.ctr(['task', 'ls']), { allowFail: true });
      const m = new RegExp(`^${id}\\s+(\\d+)\\s+RUNNING`, 'm').exec(r.stdout);
      if (m) return Number(m[1]);
      if (!alive(pid)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`ctr run ${id} did not start a running task:\n${tail(log)}`);
  }

  exec(id: string, command: string[], opts: { allowFail?: boolean } = {}) {
    return this.shell.run(this.ctr(['task', 'exec', '--exec-id', `x${Date.now()}`, id, ...command]), { timeoutMs: 30_000, ...(opts.allowFail ? { allowFail: true } : {}) });
  }

  /** Kills the task; its ctr then deletes the container and runs DEL. Resolves when that ctr has exited. */
  async remove(id: string): Promise<void> {
    const pidFile = join(this.paths.dir, 'tasks', `${id}.pid`);
    const pid = readPid(pidFile);
    await this.shell.run(this.ctr(['task', 'kill', '-s', 'SIGKILL', id]), { allowFail: true });
    const deadline = Date.now() + 30_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await stopPid(pid, 1000);
    rmSync(pidFile, { force: true });
  }

  /** Every task removed (DEL for each), then the daemon stopped and leftover shims killed. */
  async stop(): Promise<void> {
    const tasks = existsSync(join(this.paths.dir, 'tasks')) ? readdirSync(join(this.paths.dir, 'tasks')).filter((f) => f.endsWith('.pid')) : [];
    for (const f of tasks) await this.remove(f.slice(0, -'.pid'.length));
    await stopPid(readPid(join(this.paths.dir, 'containerd.pid')), 5000);
    // Shims outlive a killed daemon: any left in our state folder go too.
    await this.shell.run(['pkill', '-KILL', '-f', `containerd-shim.*${this.paths.dir}`], { allowFail: true });
  }
}
