// The lab's verbs: up, down, status. Each step reports progress; `up` ends
// with a summary, `down` removes everything with the lab's prefix (also after
// a crash: it works from the kernel's list of namespaces, not from memory).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { planLab, type LabPlan } from './plan.js';
import type { Topology } from './topology.js';
import { createNetwork, destroyNetwork, labNamespaces } from './network.js';
import { routerPaths, startDetached, startEtcd, startRouter } from './daemons.js';
import { createWorkload, loadWorkloads, probeServerArgv, saveWorkloads, type WorkloadState } from './workloads.js';
import { LabRuntimes } from './runtime-workloads.js';
import { clusterResources } from './resources.js';
import { inNetns, type Shell } from './shell.js';

export const PROJECT_ROOT = new URL('../../../', import.meta.url).pathname;
export const DEFAULT_STATE_ROOT = process.env.CALICO_LAB_DIR ?? '/run/calico-lab';

export interface LabContext {
  shell: Shell;
  stateRoot: string;
  progress: (msg: string) => void;
}

export const stateDirOf = (ctx: LabContext, topology: Pick<Topology, 'name'>) => join(ctx.stateRoot, topology.name);

export function loadPlan(ctx: LabContext, name: string): LabPlan | undefined {
  const file = join(ctx.stateRoot, name, 'plan.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as LabPlan) : undefined;
}

/** Runs calicoctl inside the management namespace, where etcd is. */
export async function calicoctl(ctx: LabContext, plan: LabPlan, args: string[], input?: string) {
  return ctx.shell.run(
    inNetns(plan.etcd.ns, ['env', `ETCD_ENDPOINTS=${plan.etcd.clientURL}`, 'DATASTORE_TYPE=etcdv3', join(PROJECT_ROOT, 'bin/calicoctl'), ...args]),
    { input, allowFail: true },
  );
}

export async function up(ctx: LabContext, topology: Topology): Promise<LabPlan> {
  const started = Date.now();
  const plan = planLab(topology);
  const stateDir = stateDirOf(ctx, topology);
  const step = (n: number, msg: string) => ctx.progress(`[${n}/8] ${msg}`);
  step(1, `clearing any earlier lab "${topology.name}" (prefix ${topology.prefix})`);
  await down(ctx, topology.name, topology.prefix);
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(join(stateDir, 'plan.json'), JSON.stringify(plan, null, 2));

  step(2, 'building the network');
  await createNetwork(ctx.shell, plan, (m) => ctx.progress(`      ${m}`));

  step(3, `starting etcd at ${plan.etcd.clientURL} (namespace ${plan.etcd.ns})`);
  await startEtcd(ctx.shell, plan, stateDir);

  step(4, `starting ${plan.routers.length} routers (BIRD): ${plan.routers.map((r) => r.ns.slice(topology.prefix.length)).join(', ')}`);
  for (const r of plan.routers) await startRouter(ctx.shell, r, stateDir);

  step(5, 'writing the cluster configuration (pools, BGP, nodes, profiles)');
  const resources = clusterResources(plan);
  const applied = await calicoctl(ctx, plan, ['apply', '-f', '-'], resources.map((r) => stringify(r)).join('---\n'));
  if (applied.code !== 0) throw new Error(`calicoctl apply of the cluster configuration failed:\n${applied.stdout}${applied.stderr}`);

  step(6, `starting calico-node on ${plan.hosts.length} hosts`);
  if (topology.addressSpaces.length) await prepareTranslator(ctx, stateDir);
  if (existsSync(NODE_MAIN)) {
    for (const h of plan.hosts) startNode(plan, h.host.name, stateDir);
  } else {
    ctx.progress(`      calico-node is not built (${NODE_MAIN} missing): hosts run without an agent`);
  }

  step(7, `creating ${topology.workloads.length} workloads (IPAM, veth, WorkloadEndpoint) and probe servers`);
  startDetached(plan.namespaces.find((n) => n.role === 'internet')!.name, 'probe-internet', probeServerArgv('internet'), { stateDir });
  const workloads: WorkloadState[] = [];
  const runtimes = new LabRuntimes(ctx.shell, plan, stateDir);
  for (const w of topology.workloads) {
    const state = w.runtime
      ? await runtimes.create({ ...w, runtime: w.runtime }, { agents: existsSync(NODE_MAIN) })
      : await createWorkload(ctx.shell, plan, w, { stateDir, agents: existsSync(NODE_MAIN) });
    workloads.push(state);
    const where = w.runtime ? ` (${w.runtime})` : w.space ? ` (address space ${w.space.name})` : '';
    ctx.progress(`      ${state.namespace}/${w.name} on ${w.host}${where}: ${state.addresses.join(', ')} via ${state.interfaceName}`);
    // Saved as it goes: a failing `up` leaves down what it needs to remove runtime containers.
    saveWorkloads(stateDir, workloads);
  }
  saveWorkloads(stateDir, workloads);

  step(8, topology.resources.length ? `applying ${topology.resources.join(', ')}` : 'no extra resources to apply');
  for (const file of topology.resources) {
    const res = await calicoctl(ctx, plan, ['apply', '-f', file]);
    if (res.code !== 0) throw new Error(`calicoctl apply -f ${file} failed:\n${res.stdout}${res.stderr}`);
  }

  ctx.progress(
    `\nlab "${topology.name}" is up in ${((Date.now() - started) / 1000).toFixed(1)}s: ` +
      `${topology.racks.length} racks, ${topology.hosts.length} hosts, ${plan.routers.length} routers, ${topology.workloads.length} workloads; state in ${stateDir}`,
  );
  return plan;
}

const NODE_MAIN = join(PROJECT_ROOT, 'dist/src/node/main.js');
/** The 464-XLAT translator calico-node loads for address spaces (bpf/xlat/build.sh builds it). */
export const XLAT_OBJECT = join(PROJECT_ROOT, 'dist/bpf/xlat.o');
/** The lab's own bpf filesystem: calico-node pins the translator's maps below it, one directory per host. */
export const bpffsOf = (stateDir: string): string => join(stateDir, 'bpffs');

/**
 * Address spaces need the translator and a bpffs for its pins. The lab mounts
 * a bpffs of its own on its state directory (a fresh instance nobody else
 * uses; never the machine's /sys/fs/bpf, which `ip netns exec` would hide
 * anyway by remounting /sys). `down` unmounts everything under the state
 * directory, also after a failed `up`.
 */
async function prepareTranslator(ctx: LabContext, stateDir: string): Promise<void> {
  if (!existsSync(XLAT_OBJECT)) {
    throw new Error(`the topology has addressSpaces, which need the translator ${XLAT_OBJECT}: build it with "bash bpf/xlat/build.sh" (needs clang, llvm, libbpf-dev; scripts/install-deps.sh installs them), then run up again`);
  }
  const dir = bpffsOf(stateDir);
  mkdirSync(dir, { recursive: true });
  await ctx.shell.run(['mount', '-t', 'bpf', 'bpf', dir]);
  ctx.progress(`      bpffs for the translator's pins mounted on ${dir}`);
}

/** One calico-node per host, inside the host's namespace, configured the way calico/node is. */
function startNode(plan: LabPlan, hostName: string, stateDir: string): void {
  const h = plan.hosts.find((x) => x.host.name === hostName)!;
  const runDir = join(stateDir, 'nodes', hostName);
  mkdirSync(runDir, { recursive: true });
  startDetached(h.ns, `calico-node-${hostName}`, [join(PROJECT_ROOT, 'bin/calico-node')], {
    stateDir,
    env: {
      NODENAME: hostName,
      // The lab writes the topology's pools itself (step 5); no calico/node default pools next to them.
      NO_DEFAULT_POOLS: 'true',
      IP: `${h.ipv4}/24`,
      IP6: `${h.ipv6}/64`,
      AS: String(h.asNumber),
      DATASTORE_TYPE: 'etcdv3',
      ETCD_ENDPOINTS: plan.etcd.clientURL,
      CALICO_RUN_DIR: runDir,
      CALICO_NETWORKING_BACKEND: 'bird',
      FELIX_LOGSEVERITYSCREEN: 'Info',
      // Used only once an endpoint of this host is in an address space (the lab's bpffs, prepareTranslator).
      CALICO_BPF_PIN_DIR: join(bpffsOf(stateDir), hostName),
      CALICO_XLAT_OBJECT: XLAT_OBJECT,
    },
  });
}

/** Processes inside `ns` whose command line contains `pattern`. */
async function pidsMatching(ctx: LabContext, ns: string, pattern: string): Promise<number[]> {
  const pids = (await ctx.shell.run(['ip', 'netns', 'pids', ns], { allowFail: true })).stdout.split('\n').filter(Boolean);
  const out: number[] = [];
  for (const pid of pids) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(pattern)) out.push(Number(pid));
    } catch {
      // gone already
    }
  }
  return out;
}

/**
 * Restarts one component on a host: `calico-node` (stopped with SIGTERM, which
 * leaves the dataplane and BIRD in place, then started again) or `bird`
 * (killed; calico-node's supervisor brings it back).
 */
export async function restartComponent(ctx: LabContext, plan: LabPlan, hostName: string, component: 'calico-node' | 'bird'): Promise<void> {
  const h = plan.hosts.find((x) => x.host.name === hostName);
  if (!h) throw new Error(`no host named "${hostName}"; hosts: ${plan.hosts.map((x) => x.host.name).join(', ')}`);
  const stateDir = join(ctx.stateRoot, plan.topology.name);
  const pattern = component === 'calico-node' ? 'src/node/main.js' : 'bird';
  const pids = await pidsMatching(ctx, h.ns, pattern);
  if (pids.length === 0) throw new Error(`${component} is not running on ${hostName}`);
  for (const pid of pids) process.kill(pid, component === 'calico-node' ? 'SIGTERM' : 'SIGKILL');
  for (let i = 0; i < 50 && (await pidsMatching(ctx, h.ns, pattern)).some((p) => pids.includes(p)); i++) await new Promise((r) => setTimeout(r, 100));
  if (component === 'calico-node') startNode(plan, hostName, stateDir);
  ctx.progress(`${component} on ${hostName}: ${component === 'calico-node' ? 'restarted' : 'killed (calico-node restarts it)'}`);
}

/** Stops or starts the lab's etcd (to show the dataplane does not depend on it being up). */
export async function etcdControl(ctx: LabContext, plan: LabPlan, action: 'stop' | 'start'): Promise<void> {
  if (action === 'stop') {
    const pids = await pidsMatching(ctx, plan.etcd.ns, 'etcd --name lab');
    for (const pid of pids) process.kill(pid, 'SIGTERM');
    ctx.progress(pids.length ? `etcd stopped (pid ${pids.join(', ')})` : 'etcd was not running');
  } else {
    await startEtcd(ctx.shell, plan, join(ctx.stateRoot, plan.topology.name));
    ctx.progress('etcd started');
  }
}

export async function down(ctx: LabContext, name: string, prefix?: string): Promise<void> {
  const plan = loadPlan(ctx, name);
  const pfx = prefix ?? plan?.topology.prefix ?? `cts-${name}-`;
  const stateDir = join(ctx.stateRoot, name);
  const started = loadWorkloads(stateDir).filter((w) => w.runtime);
  if (plan && started.length) {
    // Through their runtimes first: DEL / Leave run and the daemons stop, before their namespaces go.
    ctx.progress(`removing ${started.length} runtime containers (${[...new Set(started.map((w) => w.runtime))].join(', ')})`);
    await new LabRuntimes(ctx.shell, plan, stateDir).removeAll(started).catch((err: unknown) => ctx.progress(`      runtime clean-up: ${(err as Error).message}`));
  }
  await unmountUnder(ctx.shell, stateDir);
  const removed = await destroyNetwork(ctx.shell, pfx, ctx.progress);
  // Again once nothing of the lab runs: a mount made while the first pass ran (a calico-node starting) goes too.
  await unmountUnder(ctx.shell, stateDir);
  rmSync(stateDir, { recursive: true, force: true });
  ctx.progress(removed ? `removed ${removed} namespaces with prefix ${pfx}` : `nothing to remove (no namespaces with prefix ${pfx})`);
}

/** Runtimes mount into their state (podman's shm, containerd's snapshots); a crash can leave such mounts behind. */
async function unmountUnder(shell: LabContext['shell'], dir: string): Promise<void> {
  const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(dir + '/'));
  for (const m of mounts.sort().reverse()) await shell.run(['umount', '-l', m], { allowFail: true });
}

export async function status(ctx: LabContext, name: string): Promise<string> {
  const plan = loadPlan(ctx, name);
  if (!plan) return `lab "${name}" is not up (no state in ${join(ctx.stateRoot, name)})`;
  const lines: string[] = [];
  const live = new Set(await labNamespaces(ctx.shell, plan.topology.prefix));
  lines.push(`lab "${name}": ${live.size} namespaces (prefix ${plan.topology.prefix}), etcd at ${plan.etcd.clientURL}`);
  lines.push('', 'ROUTER'.padEnd(28) + 'AS'.padEnd(8) + 'SESSIONS');
  for (const r of plan.routers) {
    const { socket } = routerPaths(join(ctx.stateRoot, name), r);
    const res = await ctx.shell.run(['birdc', '-s', socket, 'show', 'protocols'], { allowFail: true });
    const sessions = res.code !== 0 ? 'BIRD not running' : summarizeSessions(res.stdout);
    lines.push(r.ns.padEnd(28) + String(r.asNumber).padEnd(8) + sessions);
  }
  lines.push('', 'HOST'.padEnd(12) + 'ADDRESS'.padEnd(16) + 'AGENT'.padEnd(22) + 'ROUTES (v4: blocks learned / local workloads / other)');
  for (const h of plan.hosts) {
    const res = await ctx.shell.run(['ip', '-n', h.ns, 'route', 'show'], { allowFail: true });
    const routes = res.stdout.split('\n').filter((l) => l && !l.includes('proto kernel'));
    const learned = routes.filter((l) => l.includes('proto bird')).length;
    const local = routes.filter((l) => /dev cali/.test(l)).length;
    const node = (await pidsMatching(ctx, h.ns, 'src/node/main.js')).length ? 'calico-node running' : 'calico-node DOWN';
    const bird = (await pidsMatching(ctx, h.ns, 'bird -f')).length ? '' : ', BIRD DOWN';
    lines.push(h.host.name.padEnd(12) + h.ipv4.padEnd(16) + (node + bird).padEnd(22) + `${learned} / ${local} / ${routes.length - learned - local}`);
  }
  const wl = loadWorkloads(join(ctx.stateRoot, name));
  if (wl.length) {
    lines.push('', 'WORKLOAD'.padEnd(22) + 'HOST'.padEnd(12) + 'INTERFACE'.padEnd(18) + 'ADDRESSES');
    for (const w of wl) lines.push(`${w.namespace}/${w.name}`.padEnd(22) + w.host.padEnd(12) + w.interfaceName.padEnd(18) + w.addresses.join(', ') + (w.addressSpace ? ` (address space ${w.addressSpace})` : ''));
  }
  return lines.join('\n');
}

function summarizeSessions(birdOutput: string): string {
  const bgp = birdOutput.split('\n').filter((l) => /\sBGP\s/.test(l));
  const established = bgp.filter((l) => /Established/.test(l)).length;
  return `${established}/${bgp.length} BGP sessions established`;
}
