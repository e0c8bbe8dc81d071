// podman (Debian's 4.3, CNI network backend) on a lab host: containers get
// their network from the configured CNI plugins (calico + calico-ipam) the
// way any runtime on that node would. Everything podman keeps lives under the
// runtime's own folder (storage, run state, containers.conf, network
// configs); podman runs in the host's network namespace, so the host side of
// each container's veth lands there and never in the machine's own.
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetworkConfigList } from '../../cni/conflist.js';
import type { Shell } from '../shell.js';
import { inHostNetns } from './netns.js';

export interface PodmanPaths {
  /** The runtime's folder: storage, run state, configuration. */
  dir: string;
  /** Where the CNI plugins are looked up, in order. */
  cniPath: string[];
  /**
   * The network configurations this instance sees (default <dir>/cni). A
   * container with a configuration of its own (labels, addresses) gets an
   * instance with its own folder; storage and run state stay shared.
   */
  networkDir?: string;
}

/** containers.conf for this runtime (pure): CNI backend, our plugin dirs, runc with cgroupfs, state in `dir`. */
export function podmanContainersConf(p: PodmanPaths): string {
  const q = (s: string) => JSON.stringify(s);
  return [
    '[engine]',
    // crun fails on this kernel's cgroup setup; runc with cgroupfs works.
    'runtime = "runc"',
    'cgroup_manager = "cgroupfs"',
    // No journald here: events to a file of our own.
    'events_logger = "file"',
    `events_logfile_path = ${q(join(p.dir, 'events.log'))}`,
    `tmp_dir = ${q(join(p.dir, 'tmp'))}`,
    '',
    '[network]',
    'network_backend = "cni"',
    `cni_plugin_dirs = [${p.cniPath.map(q).join(', ')}]`,
    `network_config_dir = ${q(p.networkDir ?? join(p.dir, 'cni'))}`,
    '',
  ].join('\n');
}

export interface PodmanRun {
  name: string;
  network: string;
  rootfs: string;
  command: string[];
}

export class Podman {
  constructor(
    private readonly shell: Shell,
    private readonly hostNs: string,
    private readonly paths: PodmanPaths,
  ) {
    for (const d of ['storage', 'tmp']) mkdirSync(join(paths.dir, d), { recursive: true });
    mkdirSync(this.networkDir, { recursive: true });
    writeFileSync(this.confFile, podmanContainersConf(paths));
  }

  private get networkDir(): string {
    return this.paths.networkDir ?? join(this.paths.dir, 'cni');
  }

  /** Beside the network folder, never in it (podman would read a *.conf there as a network). */
  private get confFile(): string {
    return `${this.networkDir}.containers.conf`;
  }

  /** Installs a network (a CNI conflist); `podman run --network <name>` uses it. */
  addNetwork(list: NetworkConfigList): void {
    writeFileSync(join(this.networkDir, `${list.name}.conflist`), JSON.stringify(list, null, 2));
  }

  /**
   * podman refuses a runroot longer than 50 characters, so it lives in a
   * short folder named after the runtime's (the same for every instance and
   * process that uses that folder); destroy() removes it.
   */
  private get runroot(): string {
    return join(tmpdir(), `cts-podman-${createHash('sha1').update(this.paths.dir).digest('hex').slice(0, 12)}`);
  }

  private podman(args: string[], opts: { allowFail?: boolean; timeoutMs?: number } = {}) {
    const argv = inHostNetns(this.hostNs, ['podman', '--root', join(this.paths.dir, 'storage'), '--runroot', this.runroot, ...args]);
    return this.shell.run(argv, { env: { CONTAINERS_CONF: this.confFile }, timeoutMs: opts.timeoutMs ?? 120_000, ...(opts.allowFail ? { allowFail: true } : {}) });
  }

  /** Starts a detached container; podman runs the network's ADD before the command starts. */
  async run(r: PodmanRun): Promise<void> {
    // The ulimits podman would copy from this process exceed what runc may set here.
    await this.podman(['run', '-d', '--name', r.name, '--network', r.network, '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--rootfs', r.rootfs, ...r.command]);
  }

  /** Runs a command in a running container. */
  exec(name: string, command: string[], opts: { allowFail?: boolean } = {}) {
    return this.podman(['exec', name, ...command], { ...opts, timeoutMs: 30_000 });
  }

  /** `podman inspect --format FORMAT NAME` */
  async inspect(name: string, format: string): Promise<string> {
    return (await this.podman(['inspect', '--format', format, name])).stdout;
  }

  /** Stops and removes the container; podman runs the network's DEL. */
  async remove(name: string): Promise<void> {
    await this.podman(['rm', '-f', '-t', '0', name], { allowFail: true });
  }

  /** Every container of this runtime removed (DEL for each), for clean-up after a failure. */
  async removeAll(): Promise<void> {
    await this.podman(['rm', '-a', '-f', '-t', '0'], { allowFail: true });
  }

  /** removeAll(), then the run state outside the runtime's folder goes too. */
  async destroy(): Promise<void> {
    await this.removeAll();
    rmSync(this.runroot, { recursive: true, force: true });
  }
}
