// BGP benchmark (not a test: prints numbers, asserts nothing).
// (a) One calico-node BIRD (config rendered by our renderer, run by our
//     supervisor) learns N routes from a BIRD peer acting as a border router:
//     time until all N are in BIRD's table, until all N are exported to the
//     kernel, BIRD's RSS and its own memory accounting. IPv4 /32s (at most
//     131072 fit in 198.18.0.0/15) and IPv6 /64s (2001:db8::/32) for 500k.
// Needs root (network namespaces). Prints a table, writes bench/results/bgp-routes.json.
// Run: npm run build && node dist/bench/bgp-routes.js [--sizes 100000,500000]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { cpus, totalmem } from 'node:os';
import { NetnsLab, skipReason, sleep } from '../test/kernel/bgp/netns-lab.js';
import { inputsFor, labNode } from '../test/kernel/bgp/inputs.js';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : process.argv[i + 1]!;
};
const SIZES = arg('sizes', '100000,500000').split(',').map(Number);

interface Row {
  family: 'IPv4' | 'IPv6';
  routes: number;
  tableSeconds: number;
  kernelSeconds: number;
  kernelRoutes: number;
  birdRssMiB: number;
  birdRssBaselineMiB: number;
  birdTables: string;
}

function routeList(family: 4 | 6, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    if (family === 4) {
      const v = (198 << 24) + (18 << 16) + i; // inside 198.18.0.0/15 while i < 131072
      out.push(`${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}/32`);
    } else {
      out.push(`2001:db8:${((i >>> 16) + 0x10).toString(16)}:${(i & 0xffff).toString(16)}::/64`);
    }
  }
  return out;
}

function injectorConfig(family: 4 | 6, routes: string[], self: string, peer: string): string {
  return [
    `router id 192.0.2.2;`,
    `protocol device {}`,
    `protocol static inject { ipv${family}; ${routes.map((r) => `route ${r} blackhole;`).join('\n')} }`,
    `protocol bgp dut { local ${self} as 65000; neighbor ${peer} as 64512; ipv${family} { import none; export all; next hop self; }; connect delay time 1; }`,
    '',
  ].join('\n');
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function one(family: 4 | 6, n: number): Promise<Row> {
  const lab = new NetnsLab();
  try {
    const dut = lab.addHost('dut');
    const inj = lab.addHost('inj');
    const peerIP = family === 4 ? inj.v4 : inj.v6;
    await lab.runBgp('dut', inputsFor(dut, {
      nodes: [labNode(dut)],
      blocks: [],
      peers: [{ name: 'border', spec: { peerIP, asNumber: 65000 } }],
    }));
    const pid = Number(readFileSync(dut.agent!.supervisor.paths.pid, 'utf8').trim());
    await sleep(500);
    const baseline = rssMiB(pid);
    const conf = join(lab.dir, 'injector.conf');
    writeFileSync(conf, injectorConfig(family, routeList(family, n), family === 4 ? inj.v4 : inj.v6, family === 4 ? dut.v4 : dut.v6));
    const t0 = performance.now();
    lab.spawnIn(inj.ns, ['bird', '-f', '-c', conf, '-s', join(lab.dir, 'inj.ctl'), '-P', join(lab.dir, 'inj.pid')]);
    const table = `master${family}`;
    let tableSeconds = NaN;
    let kernelSeconds = NaN;
    const deadline = t0 + 600_000;
    while (performance.now() < deadline) {
      const count = await lab.birdc('dut', ['show', 'route', 'count', 'table', table]);
      const m = /(\d+) of (\d+) routes/.exec(count);
      if (Number.isNaN(tableSeconds) && m && Number(m[1]) >= n) tableSeconds = (performance.now() - t0) / 1000;
      const k = await lab.birdc('dut', ['show', 'protocols', 'all', `calico_kernel_v${family}`]);
      const e = /Routes:\s+\d+ imported, (\d+) exported/.exec(k);
      if (!Number.isNaN(tableSeconds) && e && Number(e[1]) >= n) {
        kernelSeconds = (performance.now() - t0) / 1000;
        break;
      }
      await sleep(200);
    }
    const rss = rssMiB(pid);
    const mem = await lab.birdc('dut', ['show', 'memory']);
    const tables = /Routing tables:\s+(\S+ \S+)/.exec(mem)?.[1] ?? '?';
    const kernelRoutes = lab.ipn(dut.ns, [`-${family}`, 'route', 'show', 'proto', 'bird']).split('\n').filter(Boolean).length;
    return {
      family: family === 4 ? 'IPv4' : 'IPv6',
      routes: n,
      tableSeconds: Number(tableSeconds.toFixed(2)),
      kernelSeconds: Number(kernelSeconds.toFixed(2)),
      kernelRoutes,
      birdRssMiB: Number(rss.toFixed(1)),
      birdRssBaselineMiB: Number(baseline.toFixed(1)),
      birdTables: tables,
    };
  } finally {
    await lab.destroy();
  }
}

async function main(): Promise<void> {
  if (skipReason) {
    console.log(`bgp-routes benchmark skipped: ${skipReason}`);
    return;
  }
  const rows: Row[] = [];
  for (const n of SIZES) {
    if (n <= 131072) rows.push(await one(4, n));
    rows.push(await one(6, n));
  }
  console.log(`BIRD ${'2.0.12'} learning N routes from one eBGP peer; ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`);
  console.table(rows);
  const dir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'bgp-routes.json'), JSON.stringify({ date: new Date().toISOString(), cores: cpus().length, rows }, null, 2) + '\n');
}

await main();
