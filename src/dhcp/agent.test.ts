// The DHCP agent over the in-memory datastore and fake ports: nothing before
// the watch is in sync, dnsmasq restarted only when its file changes, the
// DHCP interface carries the gateways, a failure is retried from scratch, a
// crashed dnsmasq is started again, the last VM gone stops everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryKV } from '../datastore/memory-kv.js';
import { ResourceStore } from '../datastore/resource-store.js';
import type { Resource } from '../api/resource.js';
import type { WorkloadEndpointSpec } from '../api/kinds/endpoint.js';
import { createLogger } from '../node/log.js';
import { DhcpAgent } from './agent.js';
import { FakeDhcpHost, FakeTimers } from './fakes.js';

function vm(name: string, n: number, spec: Partial<WorkloadEndpointSpec> = {}): Resource {
  const r: Resource<WorkloadEndpointSpec> = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'WorkloadEndpoint',
    metadata: { name: `node1-openstack-${name}-eth0`, namespace: 'openstack' },
    spec: { orchestrator: 'openstack', node: 'node1', workload: name, endpoint: 'eth0', interfaceName: `tap${name}`, mac: `52:54:00:00:00:0${n}`, ipNetworks: [`198.19.0.${n}/32`], profiles: ['vms'], ...spec },
  };
  return r as unknown as Resource;
}

async function setup() {
  const ds = new ResourceStore(new MemoryKV());
  const host = new FakeDhcpHost();
  const timers = new FakeTimers();
  const logs: string[] = [];
  const agent = new DhcpAgent({
    datastore: ds,
    nodeName: 'node1',
    orchestrators: ['openstack'],
    dhcpInterface: 'ns-calico-dhcp',
    leaseSeconds: 600,
    leaseFile: '/tmp/leases',
    ports: { iface: host, dnsmasq: host, timers },
    log: createLogger({ level: 'debug', sink: (l) => logs.push(l), now: () => new Date(0) }),
  });
  // The watch delivers asynchronously: wait until `cond` holds and the agent is idle.
  const until = async (what: string, cond: () => boolean) => {
    for (let i = 0; i < 500; i++) {
      await agent.settled();
      if (cond()) return;
      await new Promise((r) => setImmediate(r));
    }
    assert.fail(`never: ${what}; ops ${host.ops.join(' | ')}`);
  };
  return { ds, host, timers, logs, agent, until };
}

test('dhcp agent: serves this node\'s VMs once in sync; restarts dnsmasq only when its file changes', async () => {
  const { ds, host, agent, until } = await setup();
  await ds.create(vm('a', 1));
  await ds.create(vm('other', 2, { node: 'node2' }));
  agent.start();
  await until('first apply', () => host.ops.includes('restart'));
  assert.deepEqual(host.ops, ['ensure ns-calico-dhcp 169.254.1.1', 'restart']);
  assert.match(host.conf, /^dhcp-host=52:54:00:00:00:01,198\.19\.0\.1$/m);
  assert.doesNotMatch(host.conf, /198\.19\.0\.2/);

  // A change dnsmasq does not see (labels) restarts nothing; one it sees does.
  const a = await ds.get({ kind: 'WorkloadEndpoint', namespace: 'openstack', name: 'node1-openstack-a-eth0' });
  await ds.update({ ...a, metadata: { ...a.metadata, labels: { role: 'web' } } });
  await ds.create(vm('b', 3, { ipv4Gateway: '198.19.0.254' }));
  await until('b served', () => /198\.19\.0\.3/.test(host.conf));
  assert.deepEqual(host.ops.slice(2), ['ensure ns-calico-dhcp 169.254.1.1,198.19.0.254', 'restart']);

  // The last VM goes: dnsmasq stops and the gateways leave the host.
  await ds.delete({ kind: 'WorkloadEndpoint', namespace: 'openstack', name: 'node1-openstack-a-eth0' });
  await until('a gone', () => !/198\.19\.0\.1,/.test(host.conf) && host.ops.length > 4);
  await ds.delete({ kind: 'WorkloadEndpoint', namespace: 'openstack', name: 'node1-openstack-b-eth0' });
  await until('all gone', () => host.ops.includes('remove ns-calico-dhcp'));
  assert.deepEqual(host.ops.slice(-2), ['stop', 'remove ns-calico-dhcp']);
  assert.equal(host.addresses, undefined);
  await agent.stop();
});

test('dhcp agent: a failed apply is retried from scratch after the retry timer; a crashed dnsmasq is started again', async () => {
  const { ds, host, timers, logs, agent, until } = await setup();
  await ds.create(vm('a', 1));
  host.failNext('restart');
  agent.start();
  await until('first attempt', () => agent.failures === 1);
  assert.equal(host.conf, '');
  assert.ok(logs.some((l) => l.includes('DHCP service not updated; retrying')));
  assert.equal(timers.fireAll(), 1);
  await until('retried', () => host.conf !== '');
  // From scratch: the interface is ensured again too.
  assert.deepEqual(host.ops, ['ensure ns-calico-dhcp 169.254.1.1', 'restart', 'ensure ns-calico-dhcp 169.254.1.1', 'restart']);

  host.crash();
  await until('restarted after crash', () => host.conf !== '');
  assert.equal(host.ops.at(-1), 'restart');
  assert.ok(logs.some((l) => l.includes('dnsmasq exited; starting it again')));
  await agent.stop();
  assert.equal(host.ops.at(-1), 'stop');
  assert.equal(host.addresses?.join(), '169.254.1.1', 'stop leaves the gateway addresses (leases stay usable)');
});

test('dhcp agent: an endpoint it cannot serve is logged once with the reason, the rest still served', async () => {
  const { ds, host, logs, agent, until } = await setup();
  await ds.create(vm('a', 1));
  await ds.create(vm('nomac', 2, { mac: undefined }));
  agent.start();
  await until('served', () => host.conf !== '');
  const warnings = logs.filter((l) => l.includes('not fully served'));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /node1-openstack-nomac-eth0.*spec\.mac/);
  await ds.create(vm('c', 3));
  await until('c', () => /198\.19\.0\.3/.test(host.conf));
  assert.equal(logs.filter((l) => l.includes('not fully served')).length, 1, 'not repeated while unchanged');
  await agent.stop();
});

test('dhcp agent: start twice is an illegal transition', async () => {
  const { agent } = await setup();
  agent.start();
  assert.throws(() => agent.start(), /start in state running/);
  await agent.stop();
});
