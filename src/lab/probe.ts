// `calico-lab probe`: every workload tries every other workload and the
// internet host, on every probe, at once; the result is a matrix.
//
// Overlapping addresses (address spaces): when two workloads share an
// address, reaching the address is not reaching the workload. TCP and UDP
// answers name their server, and only the right name counts. An echo reply
// names nobody, so ICMP to a shared address is probed one cell at a time
// afterwards, and counts only if the destination's own echo-request counter
// went up (not that of its namesake in the other space, or the prober's own).
import { join } from 'node:path';
import type { LabPlan } from './plan.js';
import { cellKey, echoRequestsReceived, probeName, sharedAddresses, targetsFor, type MatrixResult, type ProbeOutcome, type ProbeTarget } from './matrix.js';
import type { WorkloadState } from './workloads.js';
import { inNetns, type Shell } from './shell.js';

const DIST = new URL('../', import.meta.url).pathname;

interface Destination {
  name: string;
  address: string;
  server?: string;
}

export async function runProbes(shell: Shell, plan: LabPlan, workloads: WorkloadState[], opts: { probes: string[]; family: 4 | 6; timeoutMs?: number }): Promise<MatrixResult> {
  const pick = (addrs: string[]) => addrs.find((a) => a.includes(':') === (opts.family === 6));
  const internet: Destination = { name: 'internet', address: opts.family === 4 ? plan.internetAddress.ipv4 : plan.internetAddress.ipv6 };
  const plain: Destination[] = [...workloads.flatMap((w) => (pick(w.addresses) ? [{ name: w.name, address: pick(w.addresses)! }] : [])), internet];
  const shared = sharedAddresses(plain);
  const destinations = plain.map((d) => (shared.has(d.address) ? { ...d, server: d.name } : d));
  const cells = new Map<string, boolean>();
  const sources = workloads.filter((w) => pick(w.addresses));
  const timeoutMs = opts.timeoutMs ?? 1500;
  const identifiedIcmp: { src: WorkloadState; target: ProbeTarget }[] = [];
  await Promise.all(
    sources.map(async (src) => {
      const all = targetsFor(opts.probes, destinations.filter((d) => d.name !== src.name));
      identifiedIcmp.push(...all.filter((t) => t.protocol === 'icmp' && t.server).map((target) => ({ src, target })));
      const targets = all.filter((t) => !(t.protocol === 'icmp' && t.server));
      const res = await shell.run(inNetns(src.ns, ['node', join(DIST, 'lab/probe-agent.js'), 'connect', JSON.stringify(targets), String(timeoutMs)]), { allowFail: true });
      const outcomes = res.code === 0 ? (JSON.parse(res.stdout) as ProbeOutcome[]) : [];
      for (const o of outcomes) cells.set(cellKey(src.name, o.to, probeName(o)), o.ok);
    }),
  );
  for (const { src, target } of identifiedIcmp) {
    cells.set(cellKey(src.name, target.to, 'icmp'), await identifiedPing(shell, { src, target, workloads, family: opts.family, timeoutMs }));
  }
  return { probes: opts.probes, sources: sources.map((s) => s.name), destinations: destinations.map((d) => d.name), cells };
}

/** One ping from `src`; true only if it was answered and `target.to` itself counted the request. */
async function identifiedPing(shell: Shell, opts: { src: WorkloadState; target: ProbeTarget; workloads: WorkloadState[]; family: 4 | 6; timeoutMs: number }): Promise<boolean> {
  const dest = opts.workloads.find((w) => w.name === opts.target.to);
  if (!dest) return false;
  const counter = async (): Promise<number | undefined> => {
    const file = opts.family === 4 ? '/proc/net/snmp' : '/proc/net/snmp6';
    const res = await shell.run(inNetns(dest.ns, ['cat', file]), { allowFail: true });
    return res.code === 0 ? echoRequestsReceived(res.stdout, opts.family) : undefined;
  };
  const before = await counter();
  const wait = String(Math.max(1, Math.round(opts.timeoutMs / 1000)));
  const ping = await shell.run(inNetns(opts.src.ns, ['ping', `-${opts.family}`, '-c', '1', '-W', wait, opts.target.address]), { allowFail: true });
  const after = await counter();
  return ping.code === 0 && before !== undefined && after !== undefined && after > before;
}
