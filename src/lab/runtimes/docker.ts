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
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
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

/** The `sh -c` script that gives dockerd its private /run, /opt and /etc/docker, then becomes it (pure). */
export function dockerdScript(dir: string, pluginDir: string, etcDockerExists: boolean): string {
  return [
    'set -e',
    'mount --make-rprivate /',
    'mount -t tmpfs calico-ts-docker /run',
    'mkdir -p /run/docker/plugins',
    `mount --bind ${q(pluginDir)} /run/docker/plugins`,
    'mount -t tmpfs calico-ts-docker /opt',
    ...(etcDockerExists ? ['mount -t tmpfs calico-ts-docker /etc/docker'] : []),
    `exec ${dockerdArgs(dir).map(q).join(' ')}`,
  ].join('\n');
}

export class Docker {
  private daemon: ChildProcess | undefined;
  private plugin: ChildProcess | undefined;
  log = '';
  pluginLog = '';

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

  /** `docker -H <our socket> ...args` */
  docker(args: string[], opts: { allowFail?: boolean; timeoutMs?: number } = {}) {
    return this.shell.run(['docker', '-H', `unix://${this.socket}`, ...args], { timeoutMs: opts.timeoutMs ?? 120_000, ...(opts.allowFail ? { allowFail: true } : {}) });
  }

  /**
   * calico-libnetwork in the host's namespace (it makes the veths there), its
   * sockets in our plugin folder, then dockerd; resolves when Docker answers.
   */
  async start(env: Record<string, string>): Promise<void> {
    const pluginArgv = inHostNetns(this.hostNs, [join(PROJECT_ROOT, 'bin/calico-libnetwork')]);
    this.plugin = spawn(pluginArgv[0]!, pluginArgv.slice(1), {
      env: { ...process.env, ...env, CALICO_LIBNETWORK_PLUGIN_DIR: join(this.paths.dir, 'plugins'), DOCKER_HOST: `unix://${this.socket}` },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.plugin.stderr!.on('data', (d: Buffer) => (this.pluginLog = (this.pluginLog + d.toString()).slice(-50_000)));
    const script = dockerdScript(this.paths.dir, join(this.paths.dir, 'plugins'), existsSync('/etc/docker'));
    const argv = inHostNetns(this.hostNs, ['unshare', '-m', 'sh', '-c', script]);
    this.daemon = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    this.daemon.stderr!.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-30_000)));
    for (let i = 0; i < 150; i++) {
      const pluginUp = existsSync(join(this.paths.dir, 'plugins', 'calico-ipam.sock'));
      if (pluginUp && (await this.docker(['version'], { allowFail: true, timeoutMs: 10_000 })).code === 0) return;
      if (this.daemon.exitCode !== null || this.plugin.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`Docker did not start in ${this.hostNs}:\ndockerd: ${this.log.slice(-3000)}\ncalico-libnetwork: ${this.pluginLog.slice(-2000)}`);
  }

  /** Imports a root filesystem archive as an image. */
  async importImage(rootfsTar: string, name: string): Promise<void> {
    await this.docker(['import', rootfsTar, name]);
  }

  /** Every container removed (Docker calls Leave, DeleteEndpoint, ReleaseAddress), then dockerd and the plugin stopped. */
  async stop(): Promise<void> {
    if (this.daemon && this.daemon.exitCode === null) {
      const ids = (await this.docker(['ps', '-aq'], { allowFail: true, timeoutMs: 10_000 })).stdout.split('\n').filter(Boolean);
      if (ids.length) await this.docker(['rm', '-f', ...ids], { allowFail: true });
    }
    for (const p of [this.daemon, this.plugin]) {
      if (!p || p.exitCode !== null) continue;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (p.exitCode === null) p.kill('SIGKILL');
    }
    // Shims and the managed containerd outlive a killed dockerd: ours go too.
    await this.shell.run(['pkill', '-KILL', '-f', this.paths.dir], { allowFail: true });
  }
}
