// `calico-lab probe`: every workload tries every other workload and the
// internet host, on every probe, at once; the result is a matrix.
import { join } from 'node:path';
import type { LabPlan } from './plan.js';
import { cellKey, probeName, targetsFor, type MatrixResult, type ProbeOutcome } from './matrix.js';
import type { WorkloadState } from './workloads.js';
import { inNetns, type Shell } from './shell.js';

const DIST = new URL('../', import.meta.url).pathname;

export async function runProbes(shell: Shell, plan: LabPlan, workloads: WorkloadState[], opts: { probes: string[]; family: 4 | 6; timeoutMs?: number }): Promise<MatrixResult> {
  const pick = (addrs: string[]) => addrs.find((a) => a.includes(':') === (opts.family === 6));
  const internet = { name: 'internet', address: opts.family === 4 ? plan.internetAddress.ipv4 : plan.internetAddress.ipv6 };
  const destinations = [...workloads.flatMap((w) => (pick(w.addresses) ? [{ name: w.name, address: pick(w.addresses)! }] : [])), internet];
  const cells = new Map<string, boolean>();
  const sources = workloads.filter((w) => pick(w.addresses));
  await Promise.all(
    sources.map(async (src) => {
      const targets = targetsFor(opts.probes, destinations.filter((d) => d.name !== src.name));
      const res = await shell.run(inNetns(src.ns, ['node', join(DIST, 'lab/probe-agent.js'), 'connect', JSON.stringify(targets), String(opts.timeoutMs ?? 1500)]), { allowFail: true });
      const outcomes = res.code === 0 ? (JSON.parse(res.stdout) as ProbeOutcome[]) : [];
      for (const o of outcomes) cells.set(cellKey(src.name, o.to, probeName(o)), o.ok);
    }),
  );
  return { probes: opts.probes, sources: sources.map((s) => s.name), destinations: destinations.map((d) => d.name), cells };
}
