// BGP benchmark (not a test: prints numbers, asserts nothing).
// (b) Time from a new local route decision on one host (a WorkloadEndpoint
//     that needs a new IPAM block: BgpAgent.update with one more block) to
//     that block's route in the kernel of every other host: render + bird -p
//     + birdc configure + BGP + kernel. 10 hosts in a full mesh, and 10 hosts
//     behind 2 route reflectors. Arrival is timestamped by `ip monitor route`
//     in each receiving namespace (no polling). p50 / p99 over all samples.
// Needs root. Prints a table, writes bench/results/bgp-propagation.json.
// Run: npm run build && node dist/bench/bgp-propagation.js [--rounds 20]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { cpus } from 'node:os';
import { NetnsLab, skipReason, waitFor, type LabHost } from '../test/kernel/bgp/netns-lab.js';
import { blockV4, inputsFor, labNode } from '../test/kernel/bgp/inputs.js';
import type { BgpNode } from '../src/bgp/model.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const ROUNDS = arg('rounds', 20);
const HOSTS = arg('hosts', 10);

interface Row {
  topology: string;
  hosts: number;
  samples: number;
  p50ms: number;
  p99ms: number;
  maxms: number;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function scenario(topology: 'full mesh' | '2 route reflectors'): Promise<Row> {
  const lab = new NetnsLab();
  try {
    const hosts: LabHost[] = [];
    for (let i = 1; i <= HOSTS; i++) hosts.push(lab.addHost(`h${i}`));
    const rr = topology === '2 route reflectors';
    const nodes: BgpNode[] = hosts.map((h, i) => labNode(h, rr && i < 2 ? { routeReflectorClusterID: '224.0.0.1' } : {}));
    const blocksOf = new Map(hosts.map((h) => [h.name, [blockV4(h)]]));
    const update = (h: LabHost) => lab.runBgp(h.name, inputsFor(h, { nodes, blocks: blocksOf.get(h.name)! }));
    for (const h of hosts) await update(h);
    const source = hosts[hosts.length - 1]!; // a client in the RR case
    const receivers = hosts.filter((h) => h !== source);
    // Wait for convergence before measuring.
    await waitFor(() => receivers.every((r) => lab.birdRoutes(r.name).has(blockV4(source))), 60_000);
    // One `ip monitor route` per receiver: record first sight of each prefix.
    const seen = new Map<string, number>();
    const monitors = receivers.map((r) => {
      const m = spawn('ip', ['-n', r.ns, '-4', 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
      m.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        const t = performance.now();
        for (const line of chunk.split('\n')) {
          const dst = /^(\d+\.\d+\.\d+\.\d+\/\d+) via/.exec(line)?.[1];
          if (dst && !seen.has(`${r.name} ${dst}`)) seen.set(`${r.name} ${dst}`, t);
        }
      });
      return m;
    });
    await new Promise((res) => setTimeout(res, 500));
    const samples: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const block = `198.18.${200 + (round % 50)}.${(Math.floor(round / 50) * 64) % 256}/26`;
      blocksOf.set(source.name, [blockV4(source), block]);
      const t0 = performance.now();
      await update(source);
      await waitFor(() => receivers.every((r) => seen.has(`${r.name} ${block}`)), 30_000, 5);
      for (const r of receivers) {
        const t = seen.get(`${r.name} ${block}`);
        if (t !== undefined) samples.push(t - t0);
      }
      // Withdraw before the next round so each round adds exactly one block.
      blocksOf.set(source.name, [blockV4(source)]);
      await update(source);
      await waitFor(() => receivers.every((r) => !lab.birdRoutes(r.name).has(block)), 30_000, 20);
      for (const r of receivers) seen.delete(`${r.name} ${block}`);
    }
    for (const m of monitors) m.kill('SIGKILL');
    const sorted = samples.sort((a, b) => a - b);
    return {
      topology,
      hosts: HOSTS,
      samples: sorted.length,
      p50ms: Number(pct(sorted, 50).toFixed(1)),
      p99ms: Number(pct(sorted, 99).toFixed(1)),
      maxms: Number(sorted[sorted.length - 1]!.toFixed(1)),
    };
  } finally {
    await lab.destroy();
  }
}

async function main(): Promise<void> {
  if (skipReason) {
    console.log(`bgp-propagation benchmark skipped: ${skipReason}`);
    return;
  }
  const rows = [await scenario('full mesh'), await scenario('2 route reflectors')];
  console.log(`new block on one host -> route in every other host's kernel; ${ROUNDS} rounds, ${cpus().length} cores`);
  console.table(rows);
  const dir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'bgp-propagation.json'), JSON.stringify({ date: new Date().toISOString(), cores: cpus().length, rounds: ROUNDS, rows }, null, 2) + '\n');
}

await main();
