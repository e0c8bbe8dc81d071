import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseTopology } from './topology.js';
import { planLab } from './plan.js';
import { renderRouterConfig } from './router-config.js';
import { clusterResources } from './resources.js';
import { ValidationError } from '../base/errors.js';

const root = new URL('../../../', import.meta.url).pathname;
const defaultTopology = () => parseTopology(parse(readFileSync(`${root}examples/lab/default.yaml`, 'utf8')), 'default.yaml');

test('the default topology parses and plans a unique address per interface', () => {
  const t = defaultTopology();
  assert.equal(t.hosts.length, 4);
  assert.equal(t.racks.length, 2);
  const plan = planLab(t);
  const addresses = [...plan.links.flatMap((l) => [...l.a.addresses, ...l.b.addresses]), ...plan.bridges.flatMap((b) => b.addresses)].map((a) => a.split('/')[0]);
  assert.equal(new Set(addresses).size, addresses.length, 'an address is planned twice');
  assert.ok(plan.namespaces.every((n) => n.name.startsWith(t.prefix)), 'every namespace carries the prefix');
  const devs = plan.links.flatMap((l) => [l.a.dev, l.b.dev]);
  assert.ok(devs.every((d) => d.length <= 15), 'interface names fit IFNAMSIZ');
});

test('router configs peer each ToR with its hosts and the border', () => {
  const plan = planLab(defaultTopology());
  const tor = plan.routers.find((r) => r.ns.endsWith('r-rack1'))!;
  const conf = renderRouterConfig(tor);
  assert.match(conf, /neighbor 198\.18\.1\.10 as 65001;/);
  assert.match(conf, /rr client;/);
  assert.match(conf, /neighbor 198\.18\.250\.0 as 65000;/);
  const border = renderRouterConfig(plan.routers.find((r) => r.role === 'border')!);
  // The internet learns the fabric and public pools, never the private (natOutgoing) pool.
  assert.match(border, /198\.51\.100\.0\/24\+/);
  assert.doesNotMatch(border, /198\.19\.0\.0/);
});

test('cluster resources: mesh off with ToRs, one peer per rack and family, a Node per host', () => {
  const res = clusterResources(planLab(defaultTopology()));
  const bgp = res.find((r) => r.kind === 'BGPConfiguration')!;
  assert.equal((bgp.spec as { nodeToNodeMeshEnabled: boolean }).nodeToNodeMeshEnabled, false);
  assert.equal(res.filter((r) => r.kind === 'BGPPeer').length, 4);
  assert.deepEqual(res.filter((r) => r.kind === 'Node').map((r) => r.metadata.labels?.rack), ['rack1', 'rack1', 'rack2', 'rack2']);
  assert.deepEqual(res.filter((r) => r.kind === 'Profile').map((r) => r.metadata.name), ['kns.dev', 'kns.prod']);
});

const invalid: [string, unknown, RegExp][] = [
  ['not a mapping', 'racks', /a topology is a YAML mapping/],
  ['no racks', { name: 'x', racks: [] }, /racks: need at least one rack/],
  ['unknown field', { racks: [{ name: 'r', hosts: ['h'] }], rackz: 1 }, /rackz: unknown field/],
  ['duplicate host', { racks: [{ name: 'r1', hosts: ['h'] }, { name: 'r2', hosts: ['h'] }] }, /racks\[1\]\.hosts\[0\]: duplicate host name "h"/],
  ['bad host name', { racks: [{ name: 'r', hosts: ['Host_1'] }] }, /must be 1-15 lower-case/],
  ['workload on unknown host', { racks: [{ name: 'r', hosts: ['h'] }], workloads: [{ name: 'w', host: 'nope' }] }, /workloads\[0\]\.host: no host named "nope"/],
  ['pool outside lab ranges', { racks: [{ name: 'r', hosts: ['h'] }], pools: [{ name: 'p', cidr: '10.0.0.0/16' }] }, /pools\[0\]\.cidr: 10\.0\.0\.0\/16 is outside/],
  ['pool on the fabric', { racks: [{ name: 'r', hosts: ['h'] }], pools: [{ name: 'p', cidr: '198.18.4.0/24' }] }, /pools\[0\]\.cidr/],
  ['overlapping pools', { racks: [{ name: 'r', hosts: ['h'] }], pools: [{ name: 'a', cidr: '198.19.0.0/16' }, { name: 'b', cidr: '198.19.1.0/24' }] }, /pools\[1\]\.cidr: overlaps pool "a"/],
  ['bad CIDR', { racks: [{ name: 'r', hosts: ['h'] }], pools: [{ name: 'a', cidr: '198.19.0.0/33' }] }, /is not a CIDR/],
  ['mixed tor', { racks: [{ name: 'a', hosts: ['h1'] }, { name: 'b', tor: false, hosts: ['h2'] }] }, /all racks must agree/],
  ['bad AS', { clusterAS: 0, racks: [{ name: 'r', hosts: ['h'] }] }, /clusterAS: 0 is not an AS number/],
  ['bad named port', { racks: [{ name: 'r', hosts: ['h'] }], workloads: [{ name: 'w', host: 'h', ports: [{ name: 'HTTP', protocol: 'tcp', port: 0 }] }] }, /workloads\[0\]\.ports\[0\]\.name: .*; workloads\[0\]\.ports\[0\]\.port: must be a port number/],
  ['rr in a ToR rack', { racks: [{ name: 'r', hosts: ['h'] }], routeReflectors: ['h'] }, /route reflectors are for flat racks/],
];
for (const [name, doc, expected] of invalid) {
  test(`invalid topology: ${name}`, () => {
    assert.throws(() => parseTopology(doc, 'bad.yaml'), (err: unknown) => err instanceof ValidationError && expected.test(err.message) && err.message.startsWith('bad.yaml: '));
  });
}

test('runtime workloads: podman, containerd, docker; what a runtime cannot carry is refused with the fix', () => {
  const base = parse(readFileSync(`${root}examples/lab/runtimes.yaml`, 'utf8'));
  const t = parseTopology(base, 'runtimes.yaml');
  assert.deepEqual(t.workloads.map((w) => w.runtime ?? 'plain'), ['plain', 'podman', 'containerd', 'docker']);
  // The lab's open network profile comes with runtime workloads.
  const profiles = clusterResources(planLab(t)).filter((r) => r.kind === 'Profile').map((r) => r.metadata.name);
  assert.ok(profiles.includes('k8s-pod-network'), profiles.join(' '));
  const bad = (workload: Record<string, unknown>, path: string, msg: RegExp) => {
    const doc = { ...base, workloads: [{ name: 'x-1', host: 'host1', ...workload }] };
    assert.throws(() => parseTopology(doc, 't.yaml'), (e) => e instanceof ValidationError && e.issues.some((i) => i.path === path && msg.test(i.message)), JSON.stringify(workload));
  };
  bad({ runtime: 'crio' }, 'workloads[0].runtime', /"crio" is not a runtime the lab runs: podman, containerd, docker/);
  bad({ runtime: 'podman', namespace: 'prod' }, 'workloads[0].namespace', /in namespace default: remove namespace/);
  bad({ runtime: 'docker', labels: { app: 'web' } }, 'workloads[0].labels', /calico-libnetwork takes no labels from the lab: remove labels, or use runtime podman or containerd/);
  bad({ runtime: 'docker', pools: ['private'] }, 'workloads[0].pools', /takes no pools/);
});
