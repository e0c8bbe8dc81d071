import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cmdAdd, cmdCheck, cmdDel, ipamAdd, ipamDel } from './commands.js';
import { FakeCniWorld } from './fakes.js';
import { CniError, parseCniEnv, parseNetConf } from './protocol.js';
import { hostInterfaceName } from './names.js';
import { runPlugin } from './run.js';
import { CalicoError } from '../base/errors.js';

const NETNS = '/var/run/netns/c1';
const HOST_IF = hostInterfaceName('web', 'a');
const env = (command = 'ADD', extra: Record<string, string> = {}) =>
  parseCniEnv({ CNI_COMMAND: command, CNI_CONTAINERID: 'c0ffee', CNI_NETNS: NETNS, CNI_IFNAME: 'eth0', CNI_ARGS: 'K8S_POD_NAMESPACE=web;K8S_POD_NAME=a', ...extra });
const conf = (extra: Record<string, unknown> = {}) =>
  parseNetConf(JSON.stringify({ cniVersion: '1.0.0', name: 'net1', type: 'calico', ipam: { type: 'calico-ipam', assign_ipv6: 'true' }, ...extra }), 'calico');
const args = (command = 'ADD', c = conf()) => ({ env: env(command), conf: c, node: 'host1' });

test('ADD: addresses, veth, both sides configured, WorkloadEndpoint written, in that order', async () => {
  const w = new FakeCniWorld();
  const res = await cmdAdd(w.ports(), args());
  assert.deepEqual(w.ops, ['ipam.assign net1.c0ffee', `veth.create ${HOST_IF}/eth0`, `host.configure ${HOST_IF}`, 'container.configure eth0 198.18.0.1/32,2001:db8::1/128', 'wep.put host1-k8s-a-eth0']);
  assert.deepEqual(res.ips.map((i) => i.address), ['198.18.0.1/32', '2001:db8::1/128']);
  const wep = w.weps.get('web/host1-k8s-a-eth0')!;
  assert.deepEqual((wep.spec as { ipNetworks: string[] }).ipNetworks, ['198.18.0.1/32', '2001:db8::1/128']);
  assert.equal((wep.spec as { interfaceName: string }).interfaceName, HOST_IF);
});

test('ADD: repeated ADD reuses the handle\'s addresses and rebuilds the veth', async () => {
  const w = new FakeCniWorld();
  const first = await cmdAdd(w.ports(), args());
  w.ops.length = 0;
  const second = await cmdAdd(w.ports(), args());
  assert.deepEqual(second.ips, first.ips);
  assert.deepEqual(w.handles.get('net1.c0ffee'), ['198.18.0.1', '2001:db8::1']);
  assert.ok(!w.ops.some((o) => o.startsWith('ipam.assign')), w.ops.join('\n'));
  assert.equal(w.ops[0], `veth.delete ${HOST_IF}`);
});

test('ADD: a failure at each step rolls back everything done before it', async () => {
  const steps: [string, string[]][] = [
    ['ipam.assign', ['ipam.release net1.c0ffee']],
    ['veth.create', [`veth.delete ${HOST_IF}`, 'ipam.release net1.c0ffee']],
    ['host.configure', [`veth.delete ${HOST_IF}`, 'ipam.release net1.c0ffee']],
    ['container.configure', [`veth.delete ${HOST_IF}`, 'ipam.release net1.c0ffee']],
    ['wep.put', ['wep.delete host1-k8s-a-eth0', `veth.delete ${HOST_IF}`, 'ipam.release net1.c0ffee']],
  ];
  for (const [op, undo] of steps) {
    const w = new FakeCniWorld();
    w.failOn(op);
    await assert.rejects(cmdAdd(w.ports(), args()), (err: unknown) => err instanceof CniError && err.code === 5, op);
    const at = w.ops.indexOf(`! ${op} failed`);
    assert.ok(at >= 0, `${op}: ${w.ops.join(' | ')}`);
    assert.deepEqual(w.ops.slice(at + 1), undo, op);
    assert.equal(w.handles.size, 0, `${op}: addresses left`);
    assert.equal(w.hostLinks.size, 0, `${op}: veth left`);
    assert.equal(w.containerLinks.size, 0, `${op}: container link left`);
    assert.equal(w.weps.size, 0, `${op}: endpoint left`);
  }
});

test('ADD: the rollback keeps going when one undo step fails, and logs it', async () => {
  const w = new FakeCniWorld();
  w.failOn('wep.put');
  w.failOn('veth.delete');
  await assert.rejects(cmdAdd(w.ports(), args()));
  assert.ok(w.ops.includes('ipam.release net1.c0ffee'));
  assert.equal(w.handles.size, 0);
  assert.ok(w.logs.some((l) => /rollback: delete veth .* failed/.test(l)), w.logs.join('\n'));
});

test('ADD: a failed repeated ADD restores the previous WorkloadEndpoint and keeps the addresses it held', async () => {
  const w = new FakeCniWorld();
  await cmdAdd(w.ports(), args());
  const before = w.weps.get('web/host1-k8s-a-eth0');
  w.failOn('wep.put');
  await assert.rejects(cmdAdd(w.ports(), args()));
  assert.deepEqual(w.handles.get('net1.c0ffee'), ['198.18.0.1', '2001:db8::1']);
  // put failed before writing, so the restore wrote the old one back.
  assert.deepEqual(w.weps.get('web/host1-k8s-a-eth0'), before);
});

test('ADD: exhausted pool is an error and leaves nothing; a missing netns is error 3 and touches nothing', async () => {
  const w = new FakeCniWorld({ pool: ['198.18.0.1'] });
  await assert.rejects(cmdAdd(w.ports(), args()), (err: unknown) => err instanceof CniError);
  assert.equal(w.handles.size + w.hostLinks.size + w.weps.size, 0);
  const v = new FakeCniWorld({ netnses: [] });
  await assert.rejects(cmdAdd(v.ports(), args()), (err: unknown) => err instanceof CniError && err.code === 3);
  assert.deepEqual(v.ops, []);
});

test('DEL: removes interface, addresses and endpoint; idempotent, also when netns and endpoint are gone', async () => {
  const w = new FakeCniWorld();
  await cmdAdd(w.ports(), args());
  await cmdDel(w.ports(), args('DEL'));
  assert.equal(w.handles.size + w.hostLinks.size + w.containerLinks.size + w.weps.size, 0);
  w.ops.length = 0;
  await cmdDel(w.ports(), args('DEL'));
  assert.deepEqual(w.ops, ['container.delete /var/run/netns/c1/eth0', 'ipam.release net1.c0ffee']);
  // netns already gone (empty CNI_NETNS), endpoint already deleted by someone: still fine.
  const x = new FakeCniWorld();
  await cmdAdd(x.ports(), args());
  x.netnses.clear();
  x.weps.clear();
  await cmdDel(x.ports(), { env: parseCniEnv({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c0ffee', CNI_NETNS: '', CNI_IFNAME: 'eth0', CNI_ARGS: 'K8S_POD_NAMESPACE=web;K8S_POD_NAME=a' }), conf: conf(), node: 'host1' });
  assert.equal(x.handles.size + x.hostLinks.size, 0);
});

test('DEL: an endpoint of a newer sandbox of the same pod is left alone', async () => {
  const w = new FakeCniWorld();
  await cmdAdd(w.ports(), args());
  await cmdDel(w.ports(), { env: env('DEL', { CNI_CONTAINERID: 'oldsandbox' }), conf: conf(), node: 'host1' });
  assert.ok(w.weps.has('web/host1-k8s-a-eth0'));
  assert.deepEqual(w.handles.get('net1.c0ffee'), ['198.18.0.1', '2001:db8::1']);
});

test('CHECK: passes against the ADD result, fails (code 100) when any part differs', async () => {
  const w = new FakeCniWorld();
  const res = await cmdAdd(w.ports(), args());
  const withPrev = conf({ prevResult: res });
  await cmdCheck(w.ports(), args('CHECK', withPrev));
  w.containerLinks.set(`${NETNS}/eth0`, ['198.18.0.1/32']);
  await assert.rejects(cmdCheck(w.ports(), args('CHECK', withPrev)), (err: unknown) => err instanceof CniError && err.code === 100 && /container interface has/.test(err.message));
  w.weps.clear();
  await assert.rejects(cmdCheck(w.ports(), args('CHECK', withPrev)), /WorkloadEndpoint is missing/);
  await assert.rejects(cmdCheck(w.ports(), args('CHECK', conf())), (err: unknown) => err instanceof CniError && err.code === 7);
});

test('calico-ipam: ADD returns addresses only, repeated ADD the same ones, DEL releases by handle', async () => {
  const w = new FakeCniWorld();
  const c = parseNetConf(JSON.stringify({ cniVersion: '1.1.0', name: 'net1', type: 'bridge', ipam: { type: 'calico-ipam' } }), 'calico-ipam');
  const a = { env: env(), conf: c, node: 'host1' };
  const r1 = await ipamAdd(w.ports(), a);
  const r2 = await ipamAdd(w.ports(), a);
  assert.equal(r1.interfaces, undefined);
  assert.deepEqual(r2, r1);
  assert.deepEqual(r1, { cniVersion: '1.1.0', ips: [{ address: '198.18.0.1/32' }], routes: [{ dst: '0.0.0.0/0' }], dns: {} });
  await ipamDel(w.ports(), a);
  assert.equal(w.handles.size, 0);
});

test('runPlugin: VERSION, error JSON with exit 1, and a bad config never opens the datastore', async () => {
  let opened = 0;
  const w = new FakeCniWorld();
  const openPorts = () => (opened++, w.ports());
  const v = await runPlugin({ plugin: 'calico', env: { CNI_COMMAND: 'VERSION' }, stdin: '{"cniVersion":"1.1.0"}', openPorts, hostname: 'h' });
  assert.equal(v.exitCode, 0);
  assert.deepEqual(JSON.parse(v.stdout).supportedVersions.slice(-2), ['1.0.0', '1.1.0']);
  const bad = await runPlugin({ plugin: 'calico', env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'x', CNI_NETNS: NETNS, CNI_IFNAME: 'eth0' }, stdin: '{"cniVersion":"1.0.0","name":"n","type":"calico","datastore_type":"kubernetes","ipam":{"type":"calico-ipam"}}', openPorts, hostname: 'h' });
  assert.equal(bad.exitCode, 1);
  assert.equal(JSON.parse(bad.stdout).code, 2);
  assert.equal(opened, 0);
  const env1 = await runPlugin({ plugin: 'calico', env: { CNI_COMMAND: 'ADD' }, stdin: '{}', openPorts, hostname: 'h' });
  assert.equal(JSON.parse(env1.stdout).code, 4);
  const ok = await runPlugin({ plugin: 'calico', env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'x', CNI_NETNS: NETNS, CNI_IFNAME: 'eth0' }, stdin: '{"cniVersion":"1.0.0","name":"n","type":"calico","nodename":"n1","ipam":{"type":"calico-ipam"}}', openPorts, hostname: 'h' });
  assert.equal(ok.exitCode, 0, ok.stdout);
  assert.equal(JSON.parse(ok.stdout).ips[0].address, '198.18.0.1/32');
  assert.ok(w.weps.has('default/n1-cni-x-eth0'));
});

test('runPlugin: STATUS asks the datastore (unreachable: code 11), GC warns that it is not implemented', async () => {
  const w = new FakeCniWorld();
  const conf = '{"cniVersion":"1.1.0","name":"n","type":"calico","ipam":{"type":"calico-ipam"}}';
  const ok = await runPlugin({ plugin: 'calico', env: { CNI_COMMAND: 'STATUS' }, stdin: conf, openPorts: () => w.ports(), hostname: 'h' });
  assert.equal(ok.exitCode, 0);
  const down = w.ports();
  down.ipam = { ...down.ipam, ipsByHandle: async () => Promise.reject(new CalicoError('unavailable', 'etcd unreachable')) };
  const st = await runPlugin({ plugin: 'calico', env: { CNI_COMMAND: 'STATUS' }, stdin: conf, openPorts: () => down, hostname: 'h' });
  assert.deepEqual(JSON.parse(st.stdout), { cniVersion: '1.1.0', code: 11, msg: 'etcd unreachable' });
  const gc = await runPlugin({ plugin: 'calico', env: { CNI_COMMAND: 'GC' }, stdin: conf, openPorts: () => w.ports(), hostname: 'h' });
  assert.equal(gc.exitCode, 0);
  assert.ok(w.logs.some((l) => /GC is not implemented/.test(l)));
});

test('results for cniVersion 0.x carry ips[].version, 1.x do not', async () => {
  const w = new FakeCniWorld();
  const old = await cmdAdd(w.ports(), { env: env(), conf: conf({ cniVersion: '0.3.1' }), node: 'host1' });
  assert.deepEqual(old.ips.map((i) => [i.version, i.address]), [['4', '198.18.0.1/32'], ['6', '2001:db8::1/128']]);
  assert.equal(old.cniVersion, '0.3.1');
  const x = new FakeCniWorld();
  const cur = await cmdAdd(x.ports(), args());
  assert.ok(cur.ips.every((i) => i.version === undefined));
});

test('runPlugin: CHECK with a cniVersion before 0.4.0 is error 1 and opens nothing', async () => {
  let opened = 0;
  const r = await runPlugin({ plugin: 'calico', env: { CNI_COMMAND: 'CHECK', CNI_CONTAINERID: 'x', CNI_NETNS: NETNS, CNI_IFNAME: 'eth0' }, stdin: '{"cniVersion":"0.3.1","name":"n","type":"calico","ipam":{"type":"calico-ipam"},"prevResult":{"ips":[]}}', openPorts: () => (opened++, new FakeCniWorld().ports()), hostname: 'h' });
  assert.equal(JSON.parse(r.stdout).code, 1);
  assert.equal(opened, 0);
});
