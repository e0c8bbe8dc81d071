import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cmdAdd } from './add.js';
import { cmdCheck } from './check.js';
import { cmdDel } from './teardown.js';
import { FakeCniWorld } from './fakes.js';
import { runPlugin } from './run.js';
import { CniError } from './protocol.js';
import { HOST_IF, WEP, args, conf } from './fixtures.test-support.js';
import type { NetConf } from './config.js';

const ANNOTATIONS = 'io.kubernetes.cri.pod-annotations';
/** A tenant network: every workload in space tenant-a, its address from the pod annotation. */
const spaceConf = (extra: Record<string, unknown> = {}, ips = '["198.51.100.7"]') =>
  conf({
    address_space: 'tenant-a',
    feature_control: { ip_addrs_no_ipam: true },
    mtu: 1480,
    ipam: { type: 'calico-ipam' },
    runtimeConfig: { [ANNOTATIONS]: { 'cni.projectcalico.org/ipAddrsNoIpam': ips } },
    ...extra,
  });

test('ADD in an address space: the annotation\'s address bypasses IPAM; a permanent neighbour for the gateway; the endpoint gets addressSpace, the MAC and MTU 1480', async () => {
  const w = new FakeCniWorld();
  const res = await cmdAdd(w.ports(), args('ADD', spaceConf()));
  assert.ok(!w.ops.some((o) => o.startsWith('ipam.')), `no IPAM call: ${w.ops.join(' | ')}`);
  // The host has no IPv4 route for a space address, so its proxy ARP would not answer: the gateway's MAC is written in.
  assert.deepEqual(w.ops, [`veth.create ${HOST_IF}/eth0`, `host.configure ${HOST_IF}`, 'container.configure eth0 198.51.100.7/32 neigh 169.254.1.1 ee:ee:ee:ee:ee:ee', 'profile.create kns.web', `wep.put ${WEP}`]);
  const spec = w.weps.get(`web/${WEP}`)!.spec as Record<string, unknown>;
  assert.equal(spec.addressSpace, 'tenant-a');
  assert.equal(spec.mac, '02:00:00:00:00:01');
  assert.deepEqual(spec.ipNetworks, ['198.51.100.7/32']);
  assert.equal(res.interfaces![1]!.mtu, 1480);
  assert.deepEqual(res.ips.map((i) => i.address), ['198.51.100.7/32']);
  // CHECK agrees (IPAM holds nothing for these addresses, and must not be asked to), DEL releases nothing that is not there.
  await cmdCheck(w.ports(), args('CHECK', spaceConf({ prevResult: res })));
  await cmdDel(w.ports(), args('DEL', spaceConf()));
  assert.equal(w.weps.size, 0);
});

test('the space can come per pod from the annotation cni.projectcalico.org/addressSpace', async () => {
  const c = conf({
    feature_control: { ip_addrs_no_ipam: true },
    runtimeConfig: { [ANNOTATIONS]: { 'cni.projectcalico.org/ipAddrsNoIpam': '["198.51.100.7"]', 'cni.projectcalico.org/addressSpace': 'tenant-a', 'other.example/x': 'kept out' } },
  });
  assert.equal(c.addressSpace, 'tenant-a');
  const w = new FakeCniWorld();
  await cmdAdd(w.ports(), args('ADD', c));
  assert.equal((w.weps.get(`web/${WEP}`)!.spec as { addressSpace?: string }).addressSpace, 'tenant-a');
});

test('ipAddrsNoIpam outside a space: both families allowed, IPAM bypassed', async () => {
  const c = conf({ feature_control: { ip_addrs_no_ipam: true }, runtimeConfig: { [ANNOTATIONS]: { 'cni.projectcalico.org/ipAddrsNoIpam': '["192.0.2.9", "2001:db8::9"]' } } });
  assert.equal(c.addressSpace, undefined);
  const w = new FakeCniWorld();
  await cmdAdd(w.ports(), args('ADD', c));
  assert.deepEqual((w.weps.get(`web/${WEP}`)!.spec as { ipNetworks: string[] }).ipNetworks, ['192.0.2.9/32', '2001:db8::9/128']);
  assert.ok(!w.ops.some((o) => o.startsWith('ipam.')));
});

/** Configurations the plugin must refuse while parsing, with the field and the fix in the message. */
const REFUSED: { name: string; conf: Record<string, unknown>; message: RegExp }[] = [
  { name: 'a bad space name', conf: { address_space: 'Tenant_A' }, message: /address_space "Tenant_A" is not an AddressSpace name: use lower-case/ },
  { name: 'a space name that is not a string', conf: { address_space: 7 }, message: /'address_space' must be the name of an AddressSpace/ },
  { name: 'the feature flag missing', conf: { feature_control: undefined }, message: /ipAddrsNoIpam bypasses IPAM.*add "feature_control": \{"ip_addrs_no_ipam": true\}/ },
  { name: 'the feature flag false', conf: { feature_control: { ip_addrs_no_ipam: false } }, message: /"ip_addrs_no_ipam": true/ },
  { name: 'an IPv6 address in a space', conf: { runtimeConfig: { [ANNOTATIONS]: { 'cni.projectcalico.org/ipAddrsNoIpam': '["198.51.100.7", "2001:db8::7"]' } } }, message: /"2001:db8::7" is IPv6, but an endpoint in address space "tenant-a" has one IPv4 address only/ },
  { name: 'only an IPv6 address in a space', conf: { runtimeConfig: { [ANNOTATIONS]: { 'cni.projectcalico.org/ipAddrsNoIpam': '["2001:db8::7"]' } } }, message: /is IPv6/ },
  { name: 'a space without an address (IPAM would pick one from a shared pool)', conf: { runtimeConfig: undefined }, message: /address space "tenant-a" \(address_space\).*come from no IP pool: give its IPv4 address with the pod annotation cni.projectcalico.org\/ipAddrsNoIpam/ },
  { name: 'not JSON', conf: { runtimeConfig: { [ANNOTATIONS]: { 'cni.projectcalico.org/ipAddrsNoIpam': '198.51.100.7' } } }, message: /is not JSON: write a list such as \["198.51.100.7"\]/ },
  { name: 'not an address', conf: { runtimeConfig: { [ANNOTATIONS]: { 'cni.projectcalico.org/ipAddrsNoIpam': '["198.51.100.0/24"]' } } }, message: /"198.51.100.0\/24" is not an IP address/ },
  { name: 'two IPv4 addresses', conf: { runtimeConfig: { [ANNOTATIONS]: { 'cni.projectcalico.org/ipAddrsNoIpam': '["198.51.100.7", "198.51.100.8"]' } } }, message: /more than one IPv4 address/ },
  { name: 'an empty list', conf: { runtimeConfig: { [ANNOTATIONS]: { 'cni.projectcalico.org/ipAddrsNoIpam': '[]' } } }, message: /is empty/ },
  { name: 'both args.cni.ips and ipAddrsNoIpam', conf: { args: { cni: { ips: ['198.51.100.9'] } } }, message: /both give addresses: use one of them/ },
  { name: 'a conflicting per-pod space', conf: { runtimeConfig: { [ANNOTATIONS]: { 'cni.projectcalico.org/ipAddrsNoIpam': '["198.51.100.7"]', 'cni.projectcalico.org/addressSpace': 'tenant-b' } } }, message: /address_space is "tenant-a" but the pod annotation cni.projectcalico.org\/addressSpace says "tenant-b"/ },
  { name: 'Calico\'s ipv4pools annotation', conf: { runtimeConfig: { [ANNOTATIONS]: { 'cni.projectcalico.org/ipAddrsNoIpam': '["198.51.100.7"]', 'cni.projectcalico.org/ipv4pools': '["p"]' } } }, message: /cni.projectcalico.org\/ipv4pools is not supported: choose pools with ipam.ipv4_pools/ },
  { name: 'floating IPs', conf: { feature_control: { ip_addrs_no_ipam: true, floating_ips: true } }, message: /feature_control.floating_ips=true: floating IPs/ },
  { name: 'annotations that are not strings', conf: { runtimeConfig: { [ANNOTATIONS]: { 'cni.projectcalico.org/ipAddrsNoIpam': ['198.51.100.7'] } } }, message: /\["cni.projectcalico.org\/ipAddrsNoIpam"\] must be a string/ },
];

for (const c of REFUSED) {
  test(`refused while parsing, the datastore never opened: ${c.name}`, async () => {
    const base = JSON.parse(JSON.stringify({ cniVersion: '1.0.0', name: 'net1', type: 'calico', nodename: 'host1', address_space: 'tenant-a', feature_control: { ip_addrs_no_ipam: true }, ipam: { type: 'calico-ipam' }, runtimeConfig: { [ANNOTATIONS]: { 'cni.projectcalico.org/ipAddrsNoIpam': '["198.51.100.7"]' } } }));
    const stdin = { ...base, ...c.conf };
    for (const [k, v] of Object.entries(c.conf)) if (v === undefined) delete stdin[k];
    const w = new FakeCniWorld();
    let opened: NetConf | undefined;
    const out = await runPlugin({
      plugin: 'calico',
      env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/var/run/netns/c1', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' },
      stdin: JSON.stringify(stdin),
      openPorts: (conf) => {
        opened = conf;
        return w.ports();
      },
    });
    assert.equal(out.exitCode, 1);
    const err = JSON.parse(out.stdout) as { code: number; msg: string };
    assert.match(err.msg, c.message);
    assert.equal(opened, undefined, 'refused before the datastore was opened');
    assert.deepEqual(w.ops, []);
  });
}

test('a space that does not exist is refused before anything is made', async () => {
  const w = new FakeCniWorld();
  w.addressSpaces.clear();
  await assert.rejects(cmdAdd(w.ports(), args('ADD', spaceConf())), (e: unknown) => e instanceof CniError && /AddressSpace "tenant-a" does not exist: create it first/.test(e.message));
  assert.deepEqual(w.ops, []);
  assert.equal(w.weps.size, 0);
  assert.equal(w.hostLinks.size, 0);
});

test('a space without mtu is accepted with a note about the 20 bytes', () => {
  const c = spaceConf({ mtu: undefined });
  assert.ok(c.notes.some((n) => /fabric MTU - 20/.test(n)), c.notes.join('\n'));
  assert.ok(!spaceConf().notes.some((n) => /fabric MTU - 20/.test(n)));
});

test('CHECK notices an endpoint moved out of its space', async () => {
  const w = new FakeCniWorld();
  const res = await cmdAdd(w.ports(), args('ADD', spaceConf()));
  const wep = w.weps.get(`web/${WEP}`)!;
  delete (wep.spec as { addressSpace?: string }).addressSpace;
  await assert.rejects(cmdCheck(w.ports(), args('CHECK', spaceConf({ prevResult: res }))), /is in address space \(none\), the configuration says tenant-a/);
});
