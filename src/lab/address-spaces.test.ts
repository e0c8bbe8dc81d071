import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseTopology } from './topology.js';
import { planLab } from './plan.js';
import { clusterResources } from './resources.js';
import { workloadNetwork } from './workloads.js';
import { answeredBy, echoRequestsReceived, parseExpectation, probeReply, replyReaches, sharedAddresses, expected } from './matrix.js';
import { requestConfig, selectVersion, pluginEnv } from '../cni/conflist.js';
import { parseNetConf } from '../cni/config.js';
import { parseCniEnv } from '../cni/protocol.js';
import { workloadEndpointFor, workloadFor } from '../cni/plan.js';
import { validateResource } from '../api/index.js';
import { ValidationError } from '../base/errors.js';

const root = new URL('../../../', import.meta.url).pathname;
const example = () => parseTopology(parse(readFileSync(`${root}examples/lab/address-spaces.yaml`, 'utf8')), 'address-spaces.yaml');

test('examples/lab/address-spaces.yaml: two spaces with the same /24, two workloads each on two hosts, and a plain one', () => {
  const t = example();
  assert.deepEqual(t.addressSpaces.map((s) => [s.name, s.prefix]), [['tenant-a', '2001:db8:64:1::/96'], ['tenant-b', '2001:db8:64:2::/96']]);
  const members = t.workloads.filter((w) => w.space).map((w) => [w.name, w.host, w.space!.name, w.space!.ip]);
  assert.deepEqual(members, [
    ['a1', 'host1', 'tenant-a', '198.51.100.1'],
    ['a2', 'host2', 'tenant-a', '198.51.100.2'],
    ['b1', 'host1', 'tenant-b', '198.51.100.1'],
    ['b2', 'host2', 'tenant-b', '198.51.100.2'],
  ]);
  assert.equal(t.workloads.find((w) => w.name === 'plain-1')!.space, undefined);
  // Every host has IPv6 on the fabric (the translated traffic is routed there).
  assert.ok(planLab(t).hosts.every((h) => h.ipv6.startsWith('2001:db8:18:')));
});

test('up writes the spaces as AddressSpace resources, first, and valid', () => {
  const resources = clusterResources(planLab(example()));
  assert.deepEqual(resources.slice(0, 2).map((r) => [r.kind, r.metadata.name]), [['AddressSpace', 'tenant-a'], ['AddressSpace', 'tenant-b']]);
  for (const r of resources.slice(0, 2)) validateResource(r);
});

test('a space workload\'s network: the real plugin parser accepts it; space, ipAddrsNoIpam address (not IPAM), MTU 1480, the endpoint in the space with its MAC', () => {
  const plan = planLab(example());
  const w = plan.topology.workloads.find((x) => x.name === 'b1')!;
  const { list, attachment } = workloadNetwork(plan, w, '/run/calico-lab/spaces');
  const request = requestConfig(list.plugins[0]!, { list, version: selectVersion(list), op: 'ADD', ...(attachment.capabilityArgs ? { capabilityArgs: attachment.capabilityArgs } : {}) });
  const conf = parseNetConf(JSON.stringify(request), { plugin: 'calico' });
  assert.equal(conf.addressSpace, 'tenant-b');
  assert.deepEqual(conf.ipAddrsNoIpam, ['198.51.100.1']);
  assert.equal(conf.mtu, 1480);
  assert.deepEqual(conf.notes, []);
  const identity = workloadFor(parseCniEnv(pluginEnv('ADD', { attachment, path: [] })), conf, w.host);
  const wep = workloadEndpointFor(identity, { ips: conf.ipAddrsNoIpam, mac: '02:00:00:00:00:07' });
  const spec = validateResource(wep).spec as { addressSpace?: string; mac?: string; ipNetworks?: string[] };
  assert.deepEqual([spec.addressSpace, spec.mac, spec.ipNetworks], ['tenant-b', '02:00:00:00:00:07', ['198.51.100.1/32']]);
  // An ordinary workload's network has none of it.
  const plain = workloadNetwork(plan, plan.topology.workloads.find((x) => x.name === 'plain-1')!, '/run/calico-lab/spaces');
  assert.equal(plain.attachment.capabilityArgs, undefined);
  assert.equal(plain.list.plugins[0]!.address_space, undefined);
});

const base = () => ({
  name: 'x',
  racks: [{ name: 'rack1', hosts: ['host1'] }],
  pools: [{ name: 'private', cidr: '198.19.0.0/16' }],
  addressSpaces: [{ name: 'tenant-a', prefix: '2001:db8:64:1::/96' }],
  workloads: [{ name: 'a1', host: 'host1', addressSpace: 'tenant-a', ip: '198.51.100.1' }],
});

const REFUSED: { name: string; change: (d: ReturnType<typeof base>) => void; path: string; message: RegExp }[] = [
  { name: 'a workload in a space nobody declared', change: (d) => (d.workloads[0]!.addressSpace = 'tenant-z'), path: 'workloads[0].addressSpace', message: /no address space named "tenant-z"; declare it under addressSpaces/ },
  { name: 'a space workload without ip', change: (d) => delete (d.workloads[0] as { ip?: string }).ip, path: 'workloads[0].ip', message: /is required in address space "tenant-a": the tenant's own IPv4 address/ },
  { name: 'an IPv6 ip', change: (d) => (d.workloads[0]!.ip = '2001:db8::1'), path: 'workloads[0].ip', message: /is not an IPv4 address/ },
  { name: 'an ip outside the lab ranges', change: (d) => (d.workloads[0]!.ip = '10.0.0.1'), path: 'workloads[0].ip', message: /outside the ranges the lab may give workloads/ },
  { name: 'ip without a space', change: (d) => delete (d.workloads[0] as { addressSpace?: string }).addressSpace, path: 'workloads[0].ip', message: /add addressSpace, or give a pool address with addresses/ },
  { name: 'pools on a space workload', change: (d) => Object.assign(d.workloads[0]!, { pools: ['private'] }), path: 'workloads[0].pools', message: /remove pools/ },
  { name: 'a runtime for a space workload', change: (d) => Object.assign(d.workloads[0]!, { runtime: 'podman' }), path: 'workloads[0].runtime', message: /is a plain namespace: remove runtime/ },
  { name: 'the same ip twice in one space', change: (d) => d.workloads.push({ name: 'a2', host: 'host1', addressSpace: 'tenant-a', ip: '198.51.100.1' }), path: 'workloads[1].ip', message: /already workload "a1"'s in address space "tenant-a" \(the same address is fine in another space\)/ },
  { name: 'a prefix that is not a /96', change: (d) => (d.addressSpaces[0]!.prefix = '2001:db8:64:1::/64'), path: 'addressSpaces[0].prefix', message: /must be a \/96/ },
  { name: 'a prefix outside 2001:db8::/32', change: (d) => (d.addressSpaces[0]!.prefix = '2001:db9:64:1::/96'), path: 'addressSpaces[0].prefix', message: /outside the lab's translation range/ },
  { name: 'a prefix in the fabric', change: (d) => (d.addressSpaces[0]!.prefix = '2001:db8:18:1::/96'), path: 'addressSpaces[0].prefix', message: /outside the lab's translation range/ },
  { name: 'two spaces with one prefix', change: (d) => d.addressSpaces.push({ name: 'tenant-b', prefix: '2001:db8:64:1::/96' }), path: 'addressSpaces[1].prefix', message: /overlaps address space "tenant-a"/ },
  { name: 'a prefix in a pool', change: (d) => d.pools.push({ name: 'v6', cidr: '2001:db8:64::/48' }), path: 'addressSpaces[0].prefix', message: /overlaps pool "v6"/ },
  { name: 'a bad space name', change: (d) => (d.addressSpaces[0]!.name = 'Tenant_A'), path: 'addressSpaces[0].name', message: /"Tenant_A" is not a valid name: must consist of lower case/ },
  { name: 'an unknown field in a space', change: (d) => Object.assign(d.addressSpaces[0]!, { cidr: '198.51.100.0/24' }), path: 'addressSpaces[0].cidr', message: /unknown field; valid fields: name, prefix, services/ },
  { name: 'addressSpaces not a list', change: (d) => Object.assign(d, { addressSpaces: { name: 'tenant-a' } }), path: 'addressSpaces', message: /must be a list of \{name, prefix\}/ },
];

for (const c of REFUSED) {
  test(`topology refused, naming the field: ${c.name}`, () => {
    const doc = base();
    c.change(doc);
    assert.throws(
      () => parseTopology(doc, 't.yaml'),
      (e: unknown) => e instanceof ValidationError && e.issues.some((i) => i.path === c.path && c.message.test(i.message)) || assert.fail(`${(e as Error).message}`),
    );
  });
}

test('the same address in two spaces is fine', () => {
  const doc = base();
  doc.addressSpaces.push({ name: 'tenant-b', prefix: '2001:db8:64:2::/96' });
  doc.workloads.push({ name: 'b1', host: 'host1', addressSpace: 'tenant-b', ip: '198.51.100.1' });
  assert.equal(parseTopology(doc).workloads.length, 2);
});

test('probe identity: shared addresses, who answered, and the echo-request counter', () => {
  assert.deepEqual([...sharedAddresses([{ name: 'a1', address: '198.51.100.1' }, { name: 'b1', address: '198.51.100.1' }, { name: 'a2', address: '198.51.100.2' }])], ['198.51.100.1']);
  assert.equal(answeredBy(probeReply(80, '198.51.100.2', 'a1')), 'a1');
  assert.equal(answeredBy(probeReply(80, '198.51.100.2')), undefined);
  assert.equal(replyReaches({ server: 'b1' }, probeReply(5353, '198.51.100.2', 'a1')), false, 'its namesake in the other space answered');
  assert.equal(replyReaches({ server: 'b1' }, probeReply(5353, '198.51.100.2', 'b1')), true);
  assert.equal(replyReaches({}, probeReply(80, '198.51.100.2')), true, 'an unshared address: any answer');
  const snmp = 'Ip: Forwarding DefaultTTL\nIp: 1 64\nIcmp: InMsgs InErrors InCsumErrors InDestUnreachs InTimeExcds InParmProbs InSrcQuenchs InRedirects InEchos InEchoReps\nIcmp: 9 0 0 3 0 0 0 0 5 1\nIcmpMsg: InType3\nIcmpMsg: 3\n';
  assert.equal(echoRequestsReceived(snmp, 4), 5);
  assert.equal(echoRequestsReceived('Icmp6InMsgs 4\nIcmp6InEchos                    \t7\n', 6), 7);
  assert.equal(echoRequestsReceived('nothing', 4), undefined);
});

test('examples/lab/address-spaces-expect.yaml: own space allowed, the other space, the plain workload and the internet denied', () => {
  const e = parseExpectation(parse(readFileSync(`${root}examples/lab/address-spaces-expect.yaml`, 'utf8')), 'expect');
  assert.deepEqual(e.probes, ['tcp/80', 'tcp/5432', 'udp/5353', 'icmp']);
  const cases: [string, string, boolean][] = [['a1', 'a2', true], ['b2', 'b1', true], ['a1', 'b1', false], ['a1', 'b2', false], ['b1', 'a2', false], ['a1', 'plain-1', false], ['plain-1', 'b1', false], ['a2', 'internet', false], ['plain-1', 'internet', true]];
  for (const [from, to, want] of cases) for (const p of e.probes!) assert.equal(expected(e, from, to, p), want, `${from} -> ${to} ${p}`);
});
