// Creates the lab's workloads: a namespace each, a probe server inside, and
// its network from the real CNI plugins (bin/calico with calico-ipam), run
// the way a container runtime runs them: a network configuration list
// executed by src/cni's conflist runner, the plugin inside the workload's
// host namespace (so the host end of the veth lands there), CNI_ARGS naming
// the pod. There is no second plumbing path: what the lab shows is what a
// Kubernetes node would get.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { workloadEndpointName } from '../api/index.js';
import type { AttachmentParams, NetworkConfigList } from '../cni/conflist.js';
import { ConflistError, ConflistRunner, type ProgramExec } from '../cni/conflist-exec.js';
import { findPlugin } from '../cni/host.js';
import { CNI_CODES } from '../cni/protocol.js';
import type { LabPlan } from './plan.js';
import { nsName } from './plan.js';
import type { LabRuntime, LabWorkload } from './topology.js';
import type { LabSpaceMembership } from './address-spaces.js';
import { IP_ADDRS_NO_IPAM, POD_ANNOTATIONS_CAPABILITY } from '../cni/address-space.js';
import { startDetached } from './daemons.js';
import { inNetns, type Shell } from './shell.js';

export interface WorkloadState {
  name: string;
  namespace: string;
  host: string;
  ns: string;
  addresses: string[];
  interfaceName: string;
  wepName: string;
  /** Started by this runtime (runtime-workloads.ts); absent: a plain namespace. */
  runtime?: LabRuntime;
  /** Its address space (its addresses are that tenant's). */
  addressSpace?: string;
}

const DIST = new URL('../', import.meta.url).pathname; // dist/src/
const PROJECT_ROOT = join(DIST, '../..');
/** The network name, as Calico's Kubernetes manifests call it (the IPAM handles read `k8s-pod-network.<container>`). */
export const LAB_NETWORK = 'k8s-pod-network';
/** bin/ holds calico and calico-ipam; Debian's reference plugins (portmap, tuning ...) can be chained from /usr/lib/cni. */
export const LAB_CNI_PATH = [join(PROJECT_ROOT, 'bin'), '/usr/lib/cni'];
/** How long an ADD waits for calico-node to program the workload (its endpoint status file). */
const POLICY_SETUP_TIMEOUT_S = 15;
/** How long a workload waits for its host's calico-node to finish starting (the plugin says "try again later" until then). */
const NODE_START_TIMEOUT_MS = 60_000;

/** The probe server; with a name it says who answered (overlapping addresses: the matrix checks it reached the right one). */
export function probeServerArgv(name?: string): string[] {
  return ['node', join(DIST, 'lab/probe-agent.js'), 'serve', ...(name ? [name] : [])];
}

/** Pool names a workload takes addresses from: its own, else the topology's first pool of each family. */
export function poolsFor(plan: LabPlan, w: LabWorkload): { pools4: string[]; pools6: string[] } {
  const pools = plan.topology.pools;
  const chosen = w.pools.length ? pools.filter((p) => w.pools.includes(p.name)) : [];
  const v4 = chosen.filter((p) => !p.cidr.includes(':'));
  const v6 = chosen.filter((p) => p.cidr.includes(':'));
  const first = (v6: boolean) => pools.filter((p) => p.cidr.includes(':') === v6).slice(0, 1);
  return {
    pools4: (v4.length ? v4 : w.pools.length && v6.length ? [] : first(false)).map((p) => p.name),
    pools6: (v6.length ? v6 : w.pools.length && v4.length ? [] : first(true)).map((p) => p.name),
  };
}

/**
 * The network configuration and attachment of one workload (pure): Calico's
 * plugin with calico-ipam, the workload's pools, its labels and fixed
 * addresses as CNI `args`, its named ports, and the host's calico-node files
 * (nodename, endpoint status) under its run directory.
 */
export function workloadNetwork(plan: LabPlan, w: LabWorkload, stateDir: string, opts: { agents?: boolean } = {}): { list: NetworkConfigList; attachment: AttachmentParams } {
  const { pools4, pools6 } = poolsFor(plan, w);
  const fixed = w.addresses;
  const runDir = join(stateDir, 'nodes', w.host);
  const args: Record<string, unknown> = { cni: { labels: Object.entries(w.labels).map(([key, value]) => ({ key, value })), ...(fixed.length ? { ips: fixed } : {}) } };
  if (w.ports.length) args['projectcalico.org'] = { ports: w.ports };
  // Without calico-node (not built) nothing writes the nodename or status files: name the node, do not wait.
  const node = opts.agents === false ? { nodename: w.host, nodename_file_optional: true } : { nodename_file: join(runDir, 'nodename'), endpoint_status_dir: join(runDir, 'endpoint-status'), policy_setup_timeout_seconds: POLICY_SETUP_TIMEOUT_S };
  const calico: Record<string, unknown> = {
    type: 'calico',
    ...(w.space ? spaceNetconf(w.space) : {}),
    etcd_endpoints: plan.etcd.clientURL,
    ...node,
    log_level: 'info',
    log_file_path: join(stateDir, 'logs', 'cni.log'),
    // A space workload's address bypasses IPAM (ipAddrsNoIpam): calico-ipam is named but never asked.
    ipam: w.space
      ? { type: 'calico-ipam' }
      : {
          type: 'calico-ipam',
          assign_ipv4: String(fixed.length ? fixed.some((a) => !a.includes(':')) : pools4.length > 0),
          assign_ipv6: String(fixed.length ? fixed.some((a) => a.includes(':')) : pools6.length > 0),
          ...(pools4.length ? { ipv4_pools: pools4 } : {}),
          ...(pools6.length ? { ipv6_pools: pools6 } : {}),
        },
    args,
  };
  return {
    list: { cniVersion: '1.0.0', name: LAB_NETWORK, plugins: [calico] },
    attachment: {
      containerID: `lab-${w.namespace}-${w.name}`,
      netns: `/var/run/netns/${nsName(plan.topology, 'workload', w.name)}`,
      ifName: 'eth0',
      args: { IgnoreUnknown: '1', K8S_POD_NAMESPACE: w.namespace, K8S_POD_NAME: w.name },
      // As containerd and CRI-O pass a pod's annotations to a plugin that declares the capability.
      ...(w.space ? { capabilityArgs: { [POD_ANNOTATIONS_CAPABILITY]: { [IP_ADDRS_NO_IPAM]: JSON.stringify([w.space.ip]) } } } : {}),
    },
  };
}

/** The lab's fabric MTU (veth default); space workloads get 20 less, the translation's overhead. */
export const LAB_FABRIC_MTU = 1500;

/** What makes a workload's network a tenant's: its space, IPAM bypassed for its own address, MTU for the translation. */
function spaceNetconf(space: LabSpaceMembership): Record<string, unknown> {
  return {
    address_space: space.name,
    feature_control: { ip_addrs_no_ipam: true },
    mtu: LAB_FABRIC_MTU - 20,
    capabilities: { [POD_ANNOTATIONS_CAPABILITY]: true },
  };
}

/** Plugins run through the lab's shell, inside a namespace (`ip netns exec <ns> <plugin>`). */
function shellProgramExec(shell: Shell, ns: string): ProgramExec {
  return {
    run: async (type, opts) => {
      const file = findPlugin(type, opts.path);
      if (!file) return { exitCode: 1, stdout: JSON.stringify({ code: CNI_CODES.invalidConfig, msg: `plugin ${type} not found in ${opts.path.join(':')}` }), stderr: '' };
      return shell.run(inNetns(ns, [file]), { input: opts.stdin, env: opts.env, allowFail: true }).then((r) => ({ exitCode: r.code, stdout: r.stdout, stderr: r.stderr }));
    },
  };
}

export async function createWorkload(shell: Shell, plan: LabPlan, w: LabWorkload, opts: { stateDir: string; agents: boolean }): Promise<WorkloadState> {
  const { stateDir } = opts;
  const ns = nsName(plan.topology, 'workload', w.name);
  const host = plan.hosts.find((h) => h.host.name === w.host)!;
  await shell.run(['ip', 'netns', 'add', ns]);
  await shell.run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  startDetached(ns, `probe-${w.name}`, probeServerArgv(w.name), { stateDir });
  const { list, attachment } = workloadNetwork(plan, w, stateDir, { agents: opts.agents });
  const runner = new ConflistRunner({ exec: shellProgramExec(shell, host.ns), path: LAB_CNI_PATH });
  const deadline = Date.now() + NODE_START_TIMEOUT_MS;
  let result: unknown;
  for (;;) {
    try {
      result = await runner.add(list, attachment);
      break;
    } catch (err) {
      // Spec: a failed ADD is followed by DEL. 11 = try again later (calico-node still starting).
      await runner.del(list, attachment).catch(() => undefined);
      if (err instanceof ConflistError && err.code === CNI_CODES.tryAgainLater && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      throw new Error(`CNI ADD of ${w.namespace}/${w.name} on ${w.host} failed: ${(err as Error).message} (plugin log: ${join(stateDir, 'logs', 'cni.log')})`);
    }
  }
  // Kept as a runtime keeps it: CHECK and DEL need the ADD's result.
  mkdirSync(join(stateDir, 'cni'), { recursive: true });
  writeFileSync(join(stateDir, 'cni', `${w.namespace}.${w.name}.json`), JSON.stringify({ list, attachment, result }, null, 2));
  const r = result as { interfaces?: { name: string; sandbox?: string }[]; ips: { address: string }[] };
  return {
    name: w.name,
    namespace: w.namespace,
    host: w.host,
    ns,
    addresses: r.ips.map((i) => i.address.split('/')[0]!),
    interfaceName: (r.interfaces ?? []).find((i) => !i.sandbox)?.name ?? '',
    wepName: workloadEndpointName({ node: w.host, orchestrator: 'k8s', pod: w.name, endpoint: 'eth0' }) ?? '',
    ...(w.space ? { addressSpace: w.space.name } : {}),
  };
}

export function saveWorkloads(stateDir: string, workloads: WorkloadState[]): void {
  writeFileSync(join(stateDir, 'workloads.json'), JSON.stringify(workloads, null, 2));
}

export function loadWorkloads(stateDir: string): WorkloadState[] {
  const file = join(stateDir, 'workloads.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as WorkloadState[]) : [];
}
