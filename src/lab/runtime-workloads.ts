// Lab workloads started by a real container runtime on their host (topology
// `runtime: podman | containerd | docker`): podman and containerd through the
// same CNI configuration the lab's plain workloads get (labels, pools, fixed
// addresses and named ports travel in the network configuration's `args`),
// Docker through calico-libnetwork. The container's network namespace is then
// named like any lab workload's (`ip netns attach`), so probes, `exec` and the
// matrix see no difference. `down` removes the containers through their
// runtime (so DEL / Leave / ReleaseAddress run) before the namespaces go.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { workloadEndpointName } from '../api/index.js';
import { hostInterfaceNameForContainer } from '../cni/names.js';
import { hostIfFor, wepNameFor } from '../libnetwork/driver.js';
import type { LabPlan } from './plan.js';
import { nsName } from './plan.js';
import { Containerd } from './runtimes/containerd.js';
import { Docker } from './runtimes/docker.js';
import { buildBusyboxRootfs, buildOciImage } from './runtimes/image.js';
import { Podman } from './runtimes/podman.js';
import type { LabRuntime, LabWorkload } from './topology.js';
import { startDetached } from './daemons.js';
import type { Shell } from './shell.js';
import { LAB_CNI_PATH, LAB_NETWORK, probeServerArgv, workloadNetwork, type WorkloadState } from './workloads.js';

const IMAGE = 'localhost/calico-lab-busybox:latest';
const SLEEP = ['sleep', '1000000000'];

/** The runtimes of one lab, created on first use per host; everything under <state>/runtimes. */
export class LabRuntimes {
  private image: { rootfs: string; archive: string; layer: string } | undefined;
  private readonly podmans = new Map<string, Podman>();
  private readonly containerds = new Map<string, Containerd>();
  private readonly dockers = new Map<string, Docker>();

  constructor(
    private readonly shell: Shell,
    private readonly plan: LabPlan,
    private readonly stateDir: string,
  ) {}

  private dirOf(host: string, runtime: LabRuntime): string {
    return join(this.stateDir, 'runtimes', host, runtime);
  }

  private hostNs(host: string): string {
    return this.plan.hosts.find((h) => h.host.name === host)!.ns;
  }

  private async busybox() {
    if (!this.image) {
      const dir = join(this.stateDir, 'runtimes', 'image');
      mkdirSync(dir, { recursive: true });
      const rootfs = buildBusyboxRootfs(dir);
      const archive = await buildOciImage(this.shell, rootfs, dir, IMAGE);
      this.image = { rootfs, archive, layer: join(dir, 'layer.tar') };
    }
    return this.image;
  }

  /** podman for one workload: the host's storage, the workload's own network folder. */
  podman(host: string, workload: string): Podman {
    const key = `${host}/${workload}`;
    let p = this.podmans.get(key);
    const dir = this.dirOf(host, 'podman');
    if (!p) this.podmans.set(key, (p = new Podman(this.shell, this.hostNs(host), { dir, cniPath: LAB_CNI_PATH, networkDir: join(dir, 'networks', workload) })));
    return p;
  }

  containerd(host: string): Containerd {
    let c = this.containerds.get(host);
    if (!c) this.containerds.set(host, (c = new Containerd(this.shell, this.hostNs(host), { dir: this.dirOf(host, 'containerd'), cniPath: LAB_CNI_PATH })));
    return c;
  }

  docker(host: string): Docker {
    let d = this.dockers.get(host);
    if (!d) this.dockers.set(host, (d = new Docker(this.shell, this.hostNs(host), { dir: this.dirOf(host, 'docker') })));
    return d;
  }

  /** Starts `w`'s container, names its network namespace, starts its probe server. */
  async create(w: LabWorkload & { runtime: LabRuntime }, opts: { agents: boolean }): Promise<WorkloadState> {
    const ns = nsName(this.plan.topology, 'workload', w.name);
    const image = await this.busybox();
    let pid: number;
    let hostIf: string;
    let wepName: string;
    if (w.runtime === 'docker') {
      const d = this.docker(w.host);
      if ((await d.docker(['version'], { allowFail: true, timeoutMs: 5000 })).code !== 0) {
        await d.start({ NODENAME: w.host, DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: this.plan.etcd.clientURL });
        await d.importImage(image.layer, IMAGE);
        await d.docker(['network', 'create', '-d', 'calico', '--ipam-driver', 'calico-ipam', LAB_NETWORK]);
      }
      await d.docker(['run', '-d', '--name', w.name, '--network', LAB_NETWORK, IMAGE, ...SLEEP]);
      pid = Number((await d.docker(['inspect', '-f', '{{.State.Pid}}', w.name])).stdout.trim());
      const endpoint = (await d.docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${LAB_NETWORK}").EndpointID}}`, w.name])).stdout.trim();
      hostIf = hostIfFor(endpoint);
      wepName = wepNameFor(w.host, endpoint);
    } else {
      // The lab's own CNI configuration for this workload, in a folder of its own.
      const { list } = workloadNetwork(this.plan, w, this.stateDir, { agents: opts.agents });
      const netDir = join(this.dirOf(w.host, w.runtime), 'networks', w.name);
      let containerID: string;
      if (w.runtime === 'podman') {
        const p = this.podman(w.host, w.name);
        p.addNetwork(list);
        await p.run({ name: w.name, network: LAB_NETWORK, rootfs: image.rootfs, command: SLEEP });
        containerID = (await p.inspect(w.name, '{{.Id}}')).trim();
        pid = Number((await p.inspect(w.name, '{{.State.Pid}}')).trim());
      } else {
        const c = this.containerd(w.host);
        if ((await this.shell.run(['test', '-S', join(this.dirOf(w.host, 'containerd'), 'containerd.sock')], { allowFail: true })).code !== 0) {
          await c.start();
          await c.importImage(image.archive, IMAGE);
        }
        c.addNetwork(list, netDir);
        pid = await c.run(w.name, IMAGE, SLEEP, { netDir });
        containerID = `default-${w.name}`;
      }
      hostIf = hostInterfaceNameForContainer(containerID);
      wepName = workloadEndpointName({ node: w.host, orchestrator: 'cni', containerID, endpoint: 'eth0' }) ?? '';
    }
    await this.shell.run(['ip', 'netns', 'attach', ns, String(pid)]);
    startDetached(ns, `probe-${w.name}`, probeServerArgv(), { stateDir: this.stateDir });
    const addrs = JSON.parse((await this.shell.run(['ip', '-n', ns, '-j', 'addr', 'show'])).stdout) as { addr_info: { local: string; scope: string }[] }[];
    const addresses = addrs.flatMap((l) => l.addr_info.filter((a) => a.scope === 'global').map((a) => a.local));
    return { name: w.name, namespace: 'default', host: w.host, ns, addresses, interfaceName: hostIf, wepName, runtime: w.runtime };
  }

  /** Removes the runtime workloads through their runtimes, then stops every daemon. Best effort: `down` goes on. */
  async removeAll(workloads: WorkloadState[]): Promise<void> {
    const used = new Set<string>();
    for (const w of workloads) {
      if (!w.runtime) continue;
      used.add(`${w.host}/${w.runtime}`);
      if (w.runtime === 'podman') await this.podman(w.host, w.name).remove(w.name);
      else if (w.runtime === 'containerd') await this.containerd(w.host).remove(w.name);
      else await this.docker(w.host).docker(['rm', '-f', w.name], { allowFail: true });
    }
    for (const key of used) {
      const [host, runtime] = key.split('/') as [string, LabRuntime];
      if (runtime === 'containerd') await this.containerd(host).stop();
      else if (runtime === 'docker') await this.docker(host).stop();
      else await this.podman(host, '').destroy();
    }
  }
}
