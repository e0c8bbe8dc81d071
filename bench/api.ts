// Resource validation, codec and CIDR benchmark (not a test: prints numbers, asserts nothing).
//   parseCIDR / formatCIDR per second;
//   validateResource/s for a small IPPool, a 20-rule NetworkPolicy and a
//   WorkloadEndpoint; parseDocuments + validate of a 1000-document YAML
//   stream and of the same as JSON; formatYaml / formatJson of 1000 policies.
// Prints a table and writes bench/results/api.json.
// Run: npm run build && node dist/bench/api.js [--rounds 5]
import { cpus } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { formatJson, formatYaml, parseDocuments, validateResource } from '../src/api/index.js';
import type { Resource } from '../src/api/resource.js';
import { formatCIDR, parseCIDR } from '../src/base/ip.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const ROUNDS = arg('rounds', 5);
const V3 = 'projectcalico.org/v3';

const pool = { apiVersion: V3, kind: 'IPPool', metadata: { name: 'pool' }, spec: { cidr: '198.18.0.0/16', natOutgoing: true } };
const policy = (i: number): unknown => ({
  apiVersion: V3,
  kind: 'NetworkPolicy',
  metadata: { name: `policy-${i}`, namespace: `ns-${i % 20}`, labels: { team: `team-${i % 7}` } },
  spec: {
    order: i,
    selector: `app == 'app-${i % 50}' && has(role)`,
    ingress: Array.from({ length: 10 }, (_, r) => ({
      action: 'Allow',
      protocol: 'TCP',
      source: { selector: `role in {'web', 'api'} && tier == 't${r}'`, nets: [`198.18.${r}.0/24`] },
      destination: { ports: [80 + r, `${8000 + r}:${8100 + r}`, 'http'] },
    })),
    egress: Array.from({ length: 10 }, (_, r) => ({
      action: r % 2 ? 'Allow' : 'Deny',
      protocol: 'UDP',
      destination: { nets: [`203.0.113.${r * 8}/29`], ports: [53] },
    })),
  },
});
const wep = {
  apiVersion: V3,
  kind: 'WorkloadEndpoint',
  metadata: { name: 'host1-k8s-api--6f7c9-eth0', namespace: 'shop', labels: { app: 'api' } },
  spec: {
    node: 'host1', orchestrator: 'k8s', pod: 'api-6f7c9', endpoint: 'eth0', interfaceName: 'cali5d2f8a1b3c4',
    mac: 'ee:ee:ee:ee:ee:ee', ipNetworks: ['198.18.0.2/32', '2001:db8:1::2/128'], profiles: ['kns.shop'],
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
  },
};

function best(units: number, fn: () => void): number {
  let top = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    fn();
    const s = (performance.now() - t0) / 1000;
    top = Math.max(top, units / s);
  }
  return top;
}

const rows: { name: string; unit: string; rate: number }[] = [];
const loop = (n: number, f: () => void) => () => { for (let i = 0; i < n; i++) f(); };

const v6 = parseCIDR('2001:db8::/32');
rows.push({ name: 'parseCIDR IPv4', unit: 'ops/s', rate: best(200_000, loop(200_000, () => parseCIDR('198.18.7.0/26'))) });
rows.push({ name: 'parseCIDR IPv6', unit: 'ops/s', rate: best(200_000, loop(200_000, () => parseCIDR('2001:db8:1:2::40/122'))) });
rows.push({ name: 'formatCIDR IPv6', unit: 'ops/s', rate: best(200_000, loop(200_000, () => formatCIDR(v6))) });
rows.push({ name: 'validate IPPool', unit: 'docs/s', rate: best(20_000, loop(20_000, () => validateResource(pool))) });
const p = policy(1);
rows.push({ name: 'validate NetworkPolicy (20 rules)', unit: 'docs/s', rate: best(1_000, loop(1_000, () => validateResource(p))) });
rows.push({ name: 'validate WorkloadEndpoint', unit: 'docs/s', rate: best(20_000, loop(20_000, () => validateResource(wep))) });

const policies: Resource[] = Array.from({ length: 1000 }, (_, i) => validateResource(policy(i)));
const yamlText = formatYaml(policies);
rows.push({ name: 'formatYaml 1000 policies', unit: 'docs/s', rate: best(1000, () => void formatYaml(policies)) });
rows.push({ name: 'formatJson 1000 policies', unit: 'docs/s', rate: best(1000, () => void formatJson(policies)) });
rows.push({
  name: 'parseDocuments+validate 1000-doc YAML',
  unit: 'docs/s',
  rate: best(1000, () => {
    for (const d of parseDocuments(yamlText, 'bench.yaml')) validateResource(d.value, d);
  }),
});

const jsonText = formatJson(policies);
rows.push({
  name: 'parseDocuments+validate 1000-doc JSON',
  unit: 'docs/s',
  rate: best(1000, () => {
    for (const d of parseDocuments(jsonText, 'bench.json')) validateResource(d.value, d);
  }),
});

const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`;
console.log(`api benchmark (${machine}, best of ${ROUNDS})`);
console.log('| case | rate |');
console.log('|---|---:|');
for (const r of rows) console.log(`| ${r.name} | ${Math.round(r.rate).toLocaleString('en-US')} ${r.unit} |`);
mkdirSync(new URL('../../bench/results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('../../bench/results/api.json', import.meta.url),
  JSON.stringify({ machine, rounds: ROUNDS, date: new Date().toISOString(), rows }, null, 2) + '\n',
);
