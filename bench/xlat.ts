// Address-space translation benchmark (not a test): single-stream TCP (iperf3)
// between two hosts through the translated path (space workloads, tc eBPF
// 4->6 and 6->4) and through the native routed path (plain IPv4 workloads),
// in the same run, alternating so drift cancels. Both paths go through the
// real calico-node (nftables policy, BGP routes) on two lab hosts.
// Reports Gbit/s per path, the ratio translated / native (target >= 0.8), and
// CPU cores busy per Gbit/s (machine-wide /proc/stat during the run).
// Usage: node dist/bench/xlat.js [--seconds 10] [--rounds 3]
// Prints a table and writes bench/results/xlat.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { Resource } from '../src/api/resource.js';
import { SpaceLab, eventually, type LabWorkload } from '../test/kernel/xlat/space-lab.js';
import { xlatUnavailable } from '../test/kernel/xlat/runner.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : process.argv[i + 1]!;
};
const SECONDS = Number(arg('seconds', '10'));
const ROUNDS = Number(arg('rounds', '3'));

/** Busy and total jiffies of all CPUs. */
function cpuTimes(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3]! + f[4]!;
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

function iperf(lab: SpaceLab, client: LabWorkload, dst: string): { gbps: number; cores: number; retransmits: number } {
  const before = cpuTimes();
  const r = spawnSync('ip', ['netns', 'exec', client.ns, 'iperf3', '-J', '-c', dst, '-t', String(SECONDS), '-P', '1'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const after = cpuTimes();
  if (r.status !== 0) throw new Error(`iperf3 to ${dst} failed: ${r.stdout.slice(-500)} ${r.stderr}`);
  const j = JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number }; sum_sent: { retransmits?: number } } };
  const share = (after.busy - before.busy) / Math.max(1, after.total - before.total);
  // Cores busy on average while the stream ran (the whole machine: sender, both hosts' forwarding, receiver).
  return { gbps: j.end.sum_received.bits_per_second / 1e9, cores: share * cpus().length, retransmits: j.end.sum_sent.retransmits ?? 0 };
}

async function main(): Promise<void> {
  const why = xlatUnavailable();
  if (why) throw new Error(`cannot run: ${why}`);
  const lab = new SpaceLab();
  try {
    const h1 = lab.addHost('h1', 1);
    const h2 = lab.addHost('h2', 2);
    await lab.startEtcd(h1);
    const w = {
      n1: lab.workload(h1, 'n1', '198.18.9.1'),
      n2: lab.workload(h2, 'n2', '198.18.9.2'),
      a1: lab.workload(h1, 'a1', '198.18.5.1', { mtu: 1480 }),
      a2: lab.workload(h2, 'a2', '198.18.5.2', { mtu: 1480 }),
    };
    const res = (kind: Resource['kind'], name: string, spec: Record<string, unknown>, namespace?: string): Resource => ({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name, ...(namespace ? { namespace } : {}) }, spec });
    lab.put(res('Profile', 'kns.t', { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] }));
    lab.put(res('IPPool', 'native', { cidr: '198.18.9.0/24' }));
    lab.put(res('AddressSpace', 'tenant-a', { prefix: '2001:db8:64:1::/96' }));
    for (const [wl, ip, space] of [[w.n1, '198.18.9.1'], [w.n2, '198.18.9.2'], [w.a1, '198.18.5.1', 'tenant-a'], [w.a2, '198.18.5.2', 'tenant-a']] as const) {
      const name = `${wl.host.name}-cni-${wl.name}-eth0`;
      lab.put(res('WorkloadEndpoint', name, { node: wl.host.name, orchestrator: 'cni', containerID: wl.name, endpoint: 'eth0', interfaceName: wl.iface, mac: wl.mac, ipNetworks: [`${ip}/32`], profiles: ['kns.t'], ...(space ? { addressSpace: space } : {}) }, 't'));
    }
    lab.startNode(h1);
    lab.startNode(h2);
    await eventually('routes', () => lab.in(h1.ns, ['ip', 'route', 'show', 'proto', 'bird']).includes('198.18.9.2') && lab.in(h1.ns, ['ip', '-6', 'route', 'show', 'proto', 'bird']).includes('2001:db8:64:1::c612:502'), 90_000);
    await eventually('translator', () => /xlat_to_wl/.test(lab.in(h2.ns, ['tc', 'filter', 'show', 'dev', w.a2.iface, 'egress'])), 30_000);
    await lab.spawn(w.n2.ns, ['iperf3', '-s']);
    await lab.spawn(w.a2.ns, ['iperf3', '-s']);
    await eventually('iperf3 servers', () => spawnSync('ip', ['netns', 'exec', w.a1.ns, 'ping', '-c', '1', '-W', '1', '198.18.5.2']).status === 0 && spawnSync('ip', ['netns', 'exec', w.n1.ns, 'ping', '-c', '1', '-W', '1', '198.18.9.2']).status === 0, 20_000);
    await new Promise((r) => setTimeout(r, 500));
    const runs: { path: string; gbps: number; cores: number; retransmits: number }[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      runs.push({ path: 'native', ...iperf(lab, w.n1, '198.18.9.2') });
      runs.push({ path: 'translated', ...iperf(lab, w.a1, '198.18.5.2') });
    }
    const avg = (p: string, k: 'gbps' | 'cores' | 'retransmits') => {
      const xs = runs.filter((r) => r.path === p).map((r) => r[k]);
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    const rows = ['native', 'translated'].map((p) => ({ path: p, gbps: avg(p, 'gbps'), coresPerGbps: avg(p, 'cores') / Math.max(1e-9, avg(p, 'gbps')), retransmits: avg(p, 'retransmits') }));
    const ratio = rows[1]!.gbps / rows[0]!.gbps;
    console.log(`single-stream TCP, ${SECONDS}s x ${ROUNDS} rounds per path, ${cpus().length} CPUs`);
    console.log('path        Gbit/s  cores per Gbit/s  retransmits');
    for (const r of rows) console.log(`${r.path.padEnd(10)}  ${r.gbps.toFixed(2).padStart(6)}  ${r.coresPerGbps.toFixed(3).padStart(16)}  ${r.retransmits.toFixed(0).padStart(11)}`);
    console.log(`translated / native: ${ratio.toFixed(3)} (target >= 0.8)`);
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/xlat.json'), JSON.stringify({ seconds: SECONDS, rounds: ROUNDS, cpus: cpus().length, runs, rows, ratio }, null, 2));
  } finally {
    lab.destroy();
  }
}
main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
