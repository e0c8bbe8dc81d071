// Lab benchmark (not a test: prints numbers, asserts nothing). For the default
// topology and a 20-host one: time of `calico-lab up`, time until every BGP
// session of the fabric is established and the open connectivity matrix
// holds (ICMP), and time of `calico-lab down`. Writes bench/results/lab.json.
// Run as root: npm run build && node dist/bench/lab.js
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';

const ROOT = new URL('../../', import.meta.url).pathname;
const STATE = mkdtempSync(join(tmpdir(), 'calico-lab-bench-'));

function lab(name: string, args: string[]): { code: number; out: string; ms: number } {
  const t0 = performance.now();
  const r = spawnSync(join(ROOT, 'bin/calico-lab'), args, { encoding: 'utf8', env: { ...process.env, CALICO_LAB_DIR: STATE, CALICO_LAB_NAME: name }, timeout: 600_000 });
  return { code: r.status ?? -1, out: (r.stdout ?? '') + (r.stderr ?? ''), ms: performance.now() - t0 };
}

interface Row {
  topology: string;
  hosts: number;
  workloads: number;
  upSeconds: number;
  convergedSeconds: number;
  downSeconds: number;
}

function measure(file: string, name: string): Row {
  const up = lab(name, ['up', join(ROOT, file)]);
  if (up.code !== 0) throw new Error(`up ${file} failed:\n${up.out}`);
  const t0 = performance.now();
  let converged = NaN;
  for (let i = 0; i < 240; i++) {
    const status = lab(name, ['status', name]).out;
    const sessions = [...status.matchAll(/(\d+)\/(\d+) BGP sessions established/g)];
    const allUp = sessions.length > 0 && sessions.every((m) => m[1] === m[2]);
    if (allUp && lab(name, ['probe', '--probes', 'icmp', '--expect', join(ROOT, 'examples/lab/open-expect.yaml')]).code === 0) {
      converged = (performance.now() - t0) / 1000;
      break;
    }
    spawnSync('sleep', ['0.5']);
  }
  const hosts = Number(/(\d+) hosts/.exec(up.out)?.[1] ?? 0);
  const workloads = Number(/(\d+) workloads/.exec(up.out)?.[1] ?? 0);
  const down = lab(name, ['down', name]);
  return { topology: file, hosts, workloads, upSeconds: up.ms / 1000, convergedSeconds: converged, downSeconds: down.ms / 1000 };
}

const rows = [measure('examples/lab/default.yaml', 'demo'), measure('examples/lab/twenty-hosts.yaml', 'big')];
const machine = `${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
console.log(`calico-lab up/down (${machine})`);
console.log('topology                         hosts  workloads   up (s)   +converged (s)   down (s)');
for (const r of rows) {
  console.log(`${r.topology.padEnd(33)}${String(r.hosts).padStart(5)}${String(r.workloads).padStart(11)}${r.upSeconds.toFixed(1).padStart(9)}${r.convergedSeconds.toFixed(1).padStart(17)}${r.downSeconds.toFixed(1).padStart(11)}`);
}
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/lab.json'), JSON.stringify({ machine, rows }, null, 2));
