// A Docker engine (Debian's docker.io 20.10) on a lab host, networking its
// containers through bin/calico-libnetwork. dockerd runs in the host's
// network namespace with everything of its own under one folder, and with
// --iptables=false --ip-forward=false --bridge=none, so it writes no firewall
// rule, sysctl or bridge anywhere.
//
// dockerd finds plugins only in /run/docker/plugins (and spec files under
// /etc/docker/plugins), and its managed containerd keeps an "opt" folder in
// /opt; dockerd also keeps a key in /etc/docker. So it runs in a mount
// namespace of its own where /run, /opt and /etc/docker are private tmpfs and
// our plugin folder is bound at /run/docker/plugins: nothing of the
// machine's is written.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { alive, spawnLogged, stopPid } from '../daemons.js';
import { join } from 'node:path';
import type { Shell } from '../shell.js';
import { inHostNetns } from './netns.js';

/** The checkout (this file is dist/src/lab/runtimes/docker.js). */
const PROJECT_ROOT = new URL('../../../../', import.meta.url).pathname;

export interface DockerPaths {
  dir: string;
}

/** dockerd's flags (pure): state under `dir`, no firewall, forwarding or bridge of its own. */
export function dockerdArgs(dir: string): string[] {
  return [
    'dockerd',
    '--data-root', join(dir, 'data'),
    '--exec-root', join(dir, 'exec'),
    '--pidfile', join(dir, 'docker.pid'),
    '-H', `unix://${join(dir, 'docker.sock')}`,
    '--config-file', join(dir, 'daemon.json'),
    '--iptables=false',
    '--ip-forward=false',
    '--ip-masq=false',
    '--bridge=none',
    '--userland-proxy=false',
    // vfs needs nothing from the kernel or the filesystem underneath.
    '--storage-driver', 'vfs',
  ];
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The `sh -c` script that gives dockerd its private /run, /opt and
 * /etc/docker, then becomes it (pure). The machine's /run stays reachable
 * under the private /opt, so a state folder under /run (the lab keeps its
 * state in /run/calico-lab) is bound back in place.
 */
export function dockerdScript(dir: string, pluginDir: string, etcDockerExists: boolean): string {
  const underRun = (p: string) => p.startsWith('/run/');
  const source = (p: string) => (underRun(p) ? `/opt/machine-run/${p.slice('/run/'.length)}` : p);
  return [
    'set -e',
    'mount --make-rprivate /',
    'mount -t tmpfs calico-ts-docker /opt',
    'mkdir /opt/machine-run',
    'mount --rbind /run /opt/machine-run',
    'mount -t tmpfs calico-ts-docker /run',
    'mkdir -p /run/docker/plugins',
    `mount --bind ${q(source(pluginDir))} /run/docker/plugins`,
    ...(underRun(dir) ? [`mkdir -p ${q(dir)}`, `mount --rbind ${q(source(dir))} ${q(dir)}`] : []),
    ...(etcDockerExists ? ['mount -t tmpfs calico-ts-docker /etc/docker'] : []),
    `exec ${dockerdArgs(dir).map(q).join(' ')}`,
  ].join('\n');
}

const readPid = (file: string): number => (existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) || -1 : -1);
const tail = (file: string, n = 3000) => (existsSync(file) ? readFileSync(file, 'utf8').slice(-n) : '');

export class Docker {
  constructor(
    private readonly shell: Shell,
    private readonly hostNs: string,
    private readonly paths: DockerPaths,
  ) {
    for (const d of ['data', 'exec', 'plugins']) mkdirSync(join(paths.dir, d), { recursive: true });
    writeFileSync(join(paths.dir, 'daemon.json'), '{}\n');
  }

  get socket(): string {
    return join(this.paths.dir, 'docker.sock');
  }

  get log(): string {
    return tail(join(this.paths.dir, 'dockerd.log'));
  }

  get pluginLog(): string {
    return tail(join(this.paths.dir, 'calico-libnetwork.log'));
  }

  /** `docker -H <our socket> ...args` */
  docker(args: string[], opts: { allowFail?: boolean; timeoutMs?: number } = {}) {
    return this.shell.run(['docker', '-H', `unix://${this.socket}`, ...args], { timeoutMs: opts.timeoutMs ?? 120_000, ...(opts.allowFail ? { allowFail: true } : {}) });
  }

  /**
   * calico-libnetwork in the host's namespace (it makes the veths there), its
   * sockets in our plugin folder, then dockerd; both detached (they outlive
   * `calico-lab up`). Resolves when Docker answers.
   */
  async start(env: Record<string, string>): Promise<void> {
    const dir = this.paths.dir;
    const plugin = spawnLogged(inHostNetns(this.hostNs, [join(PROJECT_ROOT, 'bin/calico-libnetwork')]), join(dir, 'calico-libnetwork.log'), {
      ...env,
      CALICO_LIBNETWORK_PLUGIN_DIR: join(dir, 'plugins'),
      DOCKER_HOST: `unix://${this.socket}`,
    });
    writeFileSync(join(dir, 'calico-libnetwork.pid'), String(plugin));
    const script = dockerdScript(dir, join(dir, 'plugins'), existsSync('/etc/docker'));
    const daemon = spawnLogged(inHostNetns(this.hostNs, ['unshare', '-m', 'sh', '-c', script]), join(dir, 'dockerd.log'));
    writeFileSync(join(dir, 'dockerd.pid'), String(daemon));
    for (let i = 0; i < 150; i++) {
      const pluginUp = existsSync(join(dir, 'plugins', 'calico-ipam.sock'));
      if (pluginUp && (await this.docker(['version'], { allowFail: true, timeoutMs: 10_000 })).code === 0) return;
      if (!alive(daemon) || !alive(plugin)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`Docker did not start in ${this.hostNs}:\ndockerd: ${this.log}\ncalico-libnetwork: ${this.pluginLog}`);
  }

  /** Imports a root filesystem archive as an image. */
  async importImage(rootfsTar: string, name: string): Promise<void> {
    await this.docker(['import', rootfsTar, name]);
  }

  /** Every container removed (Docker calls Leave, DeleteEndpoint, ReleaseAddress), then dockerd and the plugin stopped. */
  async stop(): Promise<void> {
    const dir = this.paths.dir;
    if (alive(readPid(join(dir, 'dockerd.pid')))) {
      const ids = (await this.docker(['ps', '-aq'], { allowFail: true, timeoutMs: 10_000 })).stdout.split('\n').filter(Boolean);
      if (ids.length) await this.docker(['rm', '-f', ...ids], { allowFail: true });
    }
    await stopPid(readPid(join(dir, 'dockerd.pid')));
    await stopPid(readPid(join(dir, 'calico-libnetwork.pid')));
    // Shims and the managed containerd outlive a killed dockerd: ours go too.
    await this.shell.run(['pkill', '-KILL', '-f', dir], { allowFail: true });
  }
}
