import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cmdAdd } from './add.js';
import { FakeCniWorld } from './fakes.js';
import { CniError } from './protocol.js';
import { HOST_IF, NETNS, WEP, args, conf } from './fixtures.test-support.js';
import type { Resource } from '../api/resource.js';

const wepOf = (w: FakeCniWorld): Resource => w.weps.get(`web/${WEP}`)!;
const specOf = (w: FakeCniWorld) => wepOf(w).spec as Record<string, unknown>;

test('ADD: addresses, veth, both sides, profile, WorkloadEndpoint, in that order', async () => {
  const w = new FakeCniWorld();
  await cmdAdd(w.ports(), args());
  assert.deepEqual(w.ops, [
    'ipam.assign net1.c0ffee',
    `veth.create ${HOST_IF}/eth0`,
    `host.configure ${HOST_IF}`,
    'container.configure eth0 198.18.0.1/32,2001:db8::1/128',
    'profile.create kns.web',
    `wep.put ${WEP}`,
  ]);
  assert.deepEqual(specOf(w), {
    orchestrator: 'k8s',
    node: 'host1',
    pod: 'a',
    containerID: 'c0ffee',
    endpoint: 'eth0',
    interfaceName: HOST_IF,
    mac: '02:00:00:00:00:01',
    ipNetworks: ['198.18.0.1/32', '2001:db8::1/128'],
    profiles: ['kns.web'],
  });
  assert.deepEqual(wepOf(w).metadata.labels, { 'projectcalico.org/namespace': 'web', 'projectcalico.org/orchestrator': 'k8s' });
  assert.deepEqual(wepOf(w).metadata.annotations, { 'cni.projectcalico.org/network': 'net1' });
  // The namespace profile Calico's kube-controllers would make: allow, and the namespace name for namespaceSelector.
  assert.deepEqual(w.profiles.get('kns.web')!.spec, { labelsToApply: { 'pcns.projectcalico.org/name': 'web' }, ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] });
});

test('ADD result: interfaces (container one in the sandbox), ips with interface index and gateway, routes, dns', async () => {
  const w = new FakeCniWorld();
  const res = await cmdAdd(w.ports(), args('ADD', conf({ mtu: 1400, dns: { nameservers: ['192.0.2.53'] } })));
  assert.deepEqual(res, {
    cniVersion: '1.0.0',
    interfaces: [
      { name: HOST_IF, mac: 'ee:ee:ee:ee:ee:ee' },
      { name: 'eth0', mac: '02:00:00:00:00:01', mtu: 1400, sandbox: NETNS },
    ],
    ips: [
      { address: '198.18.0.1/32', gateway: '169.254.1.1', interface: 1 },
      { address: '2001:db8::1/128', gateway: 'fe80::ecee:eeff:feee:eeee', interface: 1 },
    ],
    routes: [
      { dst: '0.0.0.0/0', gw: '169.254.1.1' },
      { dst: '::/0', gw: 'fe80::ecee:eeff:feee:eeee' },
    ],
    dns: { nameservers: ['192.0.2.53'] },
  });
  const v04 = await cmdAdd(new FakeCniWorld().ports(), args('ADD', conf({ cniVersion: '0.4.0' })));
  assert.deepEqual(v04.ips.map((i) => i.version), ['4', '6']);
  assert.equal(v04.cniVersion, '0.4.0');
});

test('ADD with a prevResult (chained after another plugin): its entries stay, ours are appended with the right index', async () => {
  const w = new FakeCniWorld();
  const prev = { cniVersion: '1.0.0', interfaces: [{ name: 'dummy0' }], ips: [{ address: '192.0.2.9/24', interface: 0 }], routes: [{ dst: '192.0.2.0/24' }], dns: { search: ['x'] } };
  const res = await cmdAdd(w.ports(), args('ADD', conf({ prevResult: prev })));
  assert.deepEqual(res.interfaces!.map((i) => i.name), ['dummy0', HOST_IF, 'eth0']);
  assert.deepEqual(res.ips.map((i) => [i.address, i.interface]), [['192.0.2.9/24', 0], ['198.18.0.1/32', 2], ['2001:db8::1/128', 2]]);
  assert.deepEqual(res.routes!.map((r) => r.dst), ['192.0.2.0/24', '0.0.0.0/0', '::/0']);
  assert.deepEqual(res.dns, { search: ['x'] });
});

test('ADD: labels, named ports and host ports reach the WorkloadEndpoint; plain CNI is orchestrator cni with the network profile', async () => {
  const w = new FakeCniWorld();
  const c = conf({
    args: { cni: { labels: [{ key: 'app', value: 'web' }] }, 'projectcalico.org': { ports: [{ name: 'http', protocol: 'TCP', port: 80 }] } },
    runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '192.0.2.10' }] },
  });
  await cmdAdd(w.ports(), { env: args().env, conf: c, node: 'host1' });
  assert.equal(wepOf(w).metadata.labels!.app, 'web');
  assert.deepEqual(specOf(w).ports, [{ name: 'http', protocol: 'TCP', port: 80 }, { protocol: 'TCP', port: 80, hostPort: 8080, hostIP: '192.0.2.10' }]);

  const plain = new FakeCniWorld();
  await cmdAdd(plain.ports(), args('ADD', conf(), { CNI_ARGS: '' }));
  const wep = plain.weps.get('default/host1-cni-c0ffee-eth0')!;
  assert.deepEqual(wep.spec, {
    orchestrator: 'cni',
    node: 'host1',
    workload: 'c0ffee',
    containerID: 'c0ffee',
    endpoint: 'eth0',
    interfaceName: 'calic0ffee',
    mac: '02:00:00:00:00:01',
    ipNetworks: ['198.18.0.1/32', '2001:db8::1/128'],
    profiles: ['net1'],
  });
  // Calico's plugin profile for a plain CNI network: members talk to each other, anything goes out.
  assert.deepEqual(plain.profiles.get('net1')!.spec, { labelsToApply: { net1: '' }, ingress: [{ action: 'Allow', source: { selector: 'has(net1)' } }], egress: [{ action: 'Allow' }] });
});

test('ADD: an existing profile is never touched', async () => {
  const w = new FakeCniWorld();
  const mine: Resource = { apiVersion: 'projectcalico.org/v3', kind: 'Profile', metadata: { name: 'kns.web' }, spec: { ingress: [{ action: 'Deny' }] } };
  w.profiles.set('kns.web', mine);
  await cmdAdd(w.ports(), args());
  assert.equal(w.profiles.get('kns.web'), mine);
  assert.ok(!w.ops.some((o) => o.startsWith('profile.create')));
});

test('ADD: repeated ADD of the same container reuses the handle\'s addresses (never a second one) and rebuilds our veth', async () => {
  const w = new FakeCniWorld();
  const first = await cmdAdd(w.ports(), args());
  w.ops.length = 0;
  const second = await cmdAdd(w.ports(), args());
  assert.deepEqual(second.ips, first.ips);
  assert.deepEqual(w.handles.get('net1.c0ffee'), ['198.18.0.1', '2001:db8::1']);
  assert.ok(!w.ops.some((o) => o.startsWith('ipam.assign')), w.ops.join('\n'));
  assert.equal(w.ops[0], `veth.delete ${HOST_IF}`);
  assert.equal(w.handles.size, 1);
});

test('ADD: an interface of that name in the container that is not ours is an error (102) and nothing changes', async () => {
  const w = new FakeCniWorld();
  w.addForeignContainerLink(NETNS, 'eth0');
  await assert.rejects(cmdAdd(w.ports(), args()), (err: unknown) => err instanceof CniError && err.code === 102 && /already has an interface eth0/.test(err.message));
  assert.deepEqual(w.ops, []);
  assert.equal(w.handles.size, 0);
});

test('ADD: a failure at each step rolls back everything done before it', async () => {
  const steps: [string, string[]][] = [
    ['ipam.assign', ['ipam.release net1.c0ffee']],
    ['veth.create', [`veth.delete ${HOST_IF}`, 'ipam.release net1.c0ffee']],
    ['host.configure', [`veth.delete ${HOST_IF}`, 'ipam.release net1.c0ffee']],
    ['container.configure', [`veth.delete ${HOST_IF}`, 'ipam.release net1.c0ffee']],
    ['profile.create', [`veth.delete ${HOST_IF}`, 'ipam.release net1.c0ffee']],
    ['wep.put', [`wep.delete ${WEP}`, `veth.delete ${HOST_IF}`, 'ipam.release net1.c0ffee']],
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
  const before = wepOf(w);
  w.failOn('wep.put');
  await assert.rejects(cmdAdd(w.ports(), args()));
  assert.deepEqual(w.handles.get('net1.c0ffee'), ['198.18.0.1', '2001:db8::1']);
  assert.deepEqual(wepOf(w), before);
});

test('ADD: exhausted pool is an error and leaves nothing; a missing netns is error 3; datastore not ready is 11; all touch nothing', async () => {
  const full = new FakeCniWorld({ pool: ['198.18.0.1'] });
  await assert.rejects(cmdAdd(full.ports(), args()), (err: unknown) => err instanceof CniError && err.code === 5 && /no free IPv6/.test(err.message));
  assert.equal(full.handles.size, 0);
  assert.equal(full.hostLinks.size, 0);
  assert.deepEqual(full.ops, ['ipam.assign net1.c0ffee', '! ipam.assign failed', 'ipam.release net1.c0ffee'].filter((o) => full.ops.includes(o)));

  const nons = new FakeCniWorld({ netnses: [] });
  await assert.rejects(cmdAdd(nons.ports(), args()), (err: unknown) => err instanceof CniError && err.code === 3);
  assert.deepEqual(nons.ops, []);

  const notReady = new FakeCniWorld();
  notReady.datastoreReadyFlag = false;
  await assert.rejects(cmdAdd(notReady.ports(), args()), (err: unknown) => err instanceof CniError && err.code === 11 && /not ready/.test(err.message));
  assert.deepEqual(notReady.ops, []);

  const down = new FakeCniWorld();
  down.datastoreDown = true;
  await assert.rejects(cmdAdd(down.ports(), args()), (err: unknown) => err instanceof CniError && err.code === 11);
  assert.deepEqual(down.ops, []);
});

test('ADD: a readiness gate that never answers stops the ADD before anything is done', async () => {
  const w = new FakeCniWorld();
  const c = conf({ readiness_gates: ['http://127.0.0.1:9099/ready'] });
  await assert.rejects(cmdAdd(w.ports(), args('ADD', c)), (err: unknown) => err instanceof CniError && err.code === 11 && /readiness gate/.test(err.message));
  assert.deepEqual(w.ops, []);
  w.gates.set('http://127.0.0.1:9099/ready', true);
  await cmdAdd(w.ports(), args('ADD', c));
  assert.equal(w.weps.size, 1);
});

test('ADD: specific addresses from args.cni.ips or CNI_ARGS IP go through IPAM under the handle', async () => {
  const w = new FakeCniWorld();
  const res = await cmdAdd(w.ports(), args('ADD', conf({ args: { cni: { ips: ['198.18.0.3'] } } })));
  assert.deepEqual(res.ips.map((i) => i.address), ['198.18.0.3/32']);
  assert.ok(w.ops.includes('ipam.assignIps net1.c0ffee 198.18.0.3'));
  const v = new FakeCniWorld();
  await cmdAdd(v.ports(), args('ADD', conf(), { CNI_ARGS: 'K8S_POD_NAMESPACE=web;K8S_POD_NAME=a;IP=198.18.0.2' }));
  assert.deepEqual(v.handles.get('net1.c0ffee'), ['198.18.0.2']);
  // Taken already: the ADD fails and nothing is left.
  const taken = new FakeCniWorld({ pool: ['198.18.0.1'] });
  await assert.rejects(cmdAdd(taken.ports(), args('ADD', conf({ args: { cni: { ips: ['198.18.0.9'] } } }))));
  assert.equal(taken.handles.size, 0);
});

test('ADD: ipam.routes replace the default routes (include_default_routes adds them back); MTU and forwarding reach the plan', async () => {
  const w = new FakeCniWorld();
  const res = await cmdAdd(w.ports(), args('ADD', conf({ ipam: { type: 'calico-ipam', routes: [{ dst: '198.51.100.0/24' }] } })));
  assert.deepEqual(res.routes, [{ dst: '198.51.100.0/24', gw: '169.254.1.1' }]);
  const both = await cmdAdd(new FakeCniWorld().ports(), args('ADD', conf({ include_default_routes: true, ipam: { type: 'calico-ipam', routes: [{ dst: '198.51.100.0/24' }] } })));
  assert.deepEqual(both.routes!.map((r) => r.dst), ['0.0.0.0/0', '198.51.100.0/24']);
  const fromFile = new FakeCniWorld();
  fromFile.files.set('/var/lib/calico/mtu', '1440');
  const r = await cmdAdd(fromFile.ports(), args());
  assert.equal(r.interfaces![1]!.mtu, 1440);
});

test('ADD: with policy_setup_timeout_seconds it waits for calico-node\'s status file; a timeout is logged and the ADD still succeeds', async () => {
  const w = new FakeCniWorld();
  const c = conf({ policy_setup_timeout_seconds: 5, endpoint_status_dir: '/run/status' });
  w.filesAppearing.set('/run/status/k8s web%2Fa eth0', 300);
  await cmdAdd(w.ports(), args('ADD', c));
  assert.deepEqual(w.waits, [{ path: '/run/status/k8s web%2Fa eth0', timeoutMs: 5000 }]);
  assert.ok(w.logs.some((l) => /calico-node programmed web\/host1-k8s-a-eth0/.test(l)), w.logs.join('\n'));

  const slow = new FakeCniWorld();
  await cmdAdd(slow.ports(), args('ADD', c));
  assert.ok(slow.logs.some((l) => /^warning: calico-node did not report .* within 5s/.test(l)), slow.logs.join('\n'));
  assert.equal(slow.weps.size, 1);

  const none = new FakeCniWorld();
  await cmdAdd(none.ports(), args());
  assert.deepEqual(none.waits, [], 'no wait without the setting');
});

test('ADD: IPAM delegated to another plugin (host-local) runs it from CNI_PATH; a later failure runs its DEL', async () => {
  const w = new FakeCniWorld();
  const seen: string[] = [];
  w.delegates.set('host-local', (command, stdin) => {
    seen.push(`${command} ${(JSON.parse(stdin) as { ipam: { type: string } }).ipam.type}`);
    return command === 'ADD' ? { exitCode: 0, stdout: JSON.stringify({ cniVersion: '1.0.0', ips: [{ address: '192.0.2.20/24', gateway: '192.0.2.1' }] }) } : { exitCode: 0, stdout: '' };
  });
  const c = conf({ ipam: { type: 'host-local', subnet: '192.0.2.0/24' } });
  const res = await cmdAdd(w.ports(), args('ADD', c));
  assert.deepEqual(res.ips, [{ address: '192.0.2.20/32', gateway: '169.254.1.1', interface: 1 }]);
  assert.deepEqual(seen, ['ADD host-local']);
  w.failOn('wep.put');
  const again = new FakeCniWorld();
  again.delegates.set('host-local', w.delegates.get('host-local')!);
  again.failOn('wep.put');
  await assert.rejects(cmdAdd(again.ports(), args('ADD', c)));
  assert.deepEqual(seen, ['ADD host-local', 'ADD host-local', 'DEL host-local']);
  // A delegate's own error is passed on with its code.
  const failing = new FakeCniWorld();
  failing.delegates.set('host-local', () => ({ exitCode: 1, stdout: JSON.stringify({ cniVersion: '1.0.0', code: 7, msg: 'no subnet' }) }));
  await assert.rejects(cmdAdd(failing.ports(), args('ADD', c)), (err: unknown) => err instanceof CniError && err.code === 7 && /host-local ADD failed: no subnet/.test(err.message));
  // Spec section 4: a delegate that failed ADD is run again with DEL before we return the failure.
  assert.deepEqual(failing.ops.filter((o) => o.startsWith('exec.')), ['exec.host-local ADD', 'exec.host-local DEL']);
  assert.deepEqual(failing.ops.filter((o) => !o.startsWith('exec.')), [], 'nothing else was made');
});

test('delegated IPAM: the delegate gets the whole configuration; DEL, CHECK and GC are passed on to it and its errors are ours', async () => {
  const { cmdDel, cmdGc } = await import('./teardown.js');
  const { cmdCheck } = await import('./check.js');
  const w = new FakeCniWorld();
  const stdins: Record<string, unknown>[] = [];
  let failCheck = false;
  w.delegates.set('host-local', (command, stdin) => {
    stdins.push(JSON.parse(stdin) as Record<string, unknown>);
    if (command === 'ADD') return { exitCode: 0, stdout: JSON.stringify({ cniVersion: '1.0.0', ips: [{ address: '192.0.2.20/24' }] }) };
    if (command === 'CHECK' && failCheck) return { exitCode: 1, stdout: JSON.stringify({ code: 7, msg: 'lease lost' }) };
    return { exitCode: 0, stdout: '' };
  });
  const c = conf({ ipam: { type: 'host-local', subnet: '192.0.2.0/24' }, dns: { nameservers: ['192.0.2.53'] } });
  const res = await cmdAdd(w.ports(), args('ADD', c));
  assert.deepEqual(stdins[0], c.raw, 'the delegate sees exactly our configuration');
  await cmdCheck(w.ports(), args('CHECK', conf({ ipam: { type: 'host-local', subnet: '192.0.2.0/24' }, prevResult: res })));
  failCheck = true;
  await assert.rejects(cmdCheck(w.ports(), args('CHECK', conf({ ipam: { type: 'host-local', subnet: '192.0.2.0/24' }, prevResult: res }))), (err: unknown) => err instanceof CniError && err.code === 7 && /lease lost/.test(err.message));
  await cmdGc(w.ports(), { env: args('GC').env, conf: conf({ ipam: { type: 'host-local' }, 'cni.dev/valid-attachments': [] }), node: 'host1' });
  await cmdDel(w.ports(), args('DEL', c));
  assert.deepEqual(w.ops.filter((o) => o.startsWith('exec.')), ['exec.host-local ADD', 'exec.host-local CHECK', 'exec.host-local CHECK', 'exec.host-local GC', 'exec.host-local DEL']);
  assert.equal(w.weps.size, 0);
});
