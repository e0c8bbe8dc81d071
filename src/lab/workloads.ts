// Creates the lab's workloads: a namespace each, a probe server inside, and
// the CNI-style plumbing done from the workload's host (plumb.ts).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabPlan } from './plan.js';
import { nsName } from './plan.js';
import type { LabWorkload } from './topology.js';
import type { PlumbRequest } from './plumb.js';
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
}

const DIST = new URL('../', import.meta.url).pathname; // dist/src/

export function probeServerArgv(): string[] {
  return ['node', join(DIST, 'lab/probe-agent.js'), 'serve'];
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

export async function createWorkload(shell: Shell, plan: LabPlan, w: LabWorkload, stateDir: string): Promise<WorkloadState> {
  const ns = nsName(plan.topology, 'workload', w.name);
  const host = plan.hosts.find((h) => h.host.name === w.host)!;
  await shell.run(['ip', 'netns', 'add', ns]);
  await shell.run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  await shell.run(inNetns(ns, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']));
  startDetached(ns, `probe-${w.name}`, probeServerArgv(), { stateDir });
  const req: PlumbRequest = { node: w.host, name: w.name, namespace: w.namespace, labels: w.labels, netns: ns, addresses: w.addresses, ports: w.ports, ...poolsFor(plan, w) };
  const res = await shell.run(inNetns(host.ns, ['node', join(DIST, 'lab/plumb.js'), 'add', JSON.stringify(req)]), {
    env: { ETCD_ENDPOINTS: plan.etcd.clientURL, DATASTORE_TYPE: 'etcdv3' },
    allowFail: true,
  });
  if (res.code !== 0) throw new Error(res.stderr.trim() || `plumbing ${w.name} failed`);
  const wep = JSON.parse(res.stdout) as { metadata: { name: string }; spec: { ipNetworks: string[]; interfaceName: string } };
  return {
    name: w.name,
    namespace: w.namespace,
    host: w.host,
    ns,
    addresses: wep.spec.ipNetworks.map((n) => n.split('/')[0]!),
    interfaceName: wep.spec.interfaceName,
    wepName: wep.metadata.name,
  };
}

export function saveWorkloads(stateDir: string, workloads: WorkloadState[]): void {
  writeFileSync(join(stateDir, 'workloads.json'), JSON.stringify(workloads, null, 2));
}

export function loadWorkloads(stateDir: string): WorkloadState[] {
  const file = join(stateDir, 'workloads.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as WorkloadState[]) : [];
}
