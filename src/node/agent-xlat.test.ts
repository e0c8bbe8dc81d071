// calico-node with address spaces: a space endpoint reaches the dataplane as
// its translated IPv6 address, the translator is handed this host's space
// endpoints once in sync, and an AddressSpace named "default" is not read as
// a FelixConfiguration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryKV } from '../datastore/memory-kv.js';
import { ResourceStore } from '../datastore/resource-store.js';
import { fold, res } from '../calc/fixtures.test-support.js';
import { CalicoNode } from './agent.js';
import { nodeConfigFromEnv } from './config.js';
import { FakeDataplane } from './dataplane.js';
import { FakeClock } from '../dataplane/fakes.js';
import { createLogger } from './log.js';
import { FakeXlatKernel } from '../xlat/fake.js';
import { XlatManager } from '../xlat/manager.js';
import type { Resource } from '../api/resource.js';

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !cond(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(cond(), 'condition not reached');
}

const wep = (name: string, node: string, ip: string, space?: string): Resource =>
  ({
    apiVersion: 'projectcalico.org/v3',
    kind: 'WorkloadEndpoint',
    metadata: { name: `${node}-cni-${name}-eth0`, namespace: 't' },
    spec: { node, orchestrator: 'cni', containerID: name, endpoint: 'eth0', interfaceName: `cali${name}`, mac: 'ee:ee:ee:ee:ee:01', ipNetworks: [ip], profiles: ['kns.t'], ...(space ? { addressSpace: space } : {}) },
  }) as Resource;

test('agent: space endpoints become translated IPv6 endpoints in the dataplane; the translator gets only this host\'s, after sync', async () => {
  const ds = new ResourceStore(new MemoryKV());
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', sink: (l) => lines.push(l), now: () => new Date(0) });
  const dataplane = new FakeDataplane();
  const kernel = new FakeXlatKernel();
  kernel.interfaces.set('calia1', 11).set('calib1', 12);
  const clock = new FakeClock();
  const xlat = new XlatManager({ kernel, clock, log });
  const node = new CalicoNode({
    config: nodeConfigFromEnv({ NODENAME: 'h1', IP: '192.0.2.10/24' }, 'h1'),
    env: {},
    datastore: ds,
    log,
    hostAddresses: () => [],
    makeDataplane: () => dataplane,
    clock,
    xlat,
  });
  await ds.create(res('AddressSpace', 'default', { prefix: '2001:db8:64:1::/96' }));
  await ds.create(res('AddressSpace', 'tenant-b', { prefix: '2001:db8:64:2::/96' }));
  await ds.create(wep('a1', 'h1', '198.18.5.1/32', 'default'));
  await ds.create(wep('b1', 'h1', '198.18.5.1/32', 'tenant-b'));
  await ds.create(wep('a2', 'h2', '198.18.5.2/32', 'default'));
  await ds.create(wep('plain', 'h1', '198.18.9.9/32'));
  await node.start();
  await until(() => fold(dataplane.batches).inSync);
  await xlat.settled();
  const eps = fold(dataplane.batches).workloadEndpoints;
  assert.deepEqual([eps.get('t/h1-cni-a1-eth0')?.ipv4Nets, eps.get('t/h1-cni-a1-eth0')?.ipv6Nets], [[], ['2001:db8:64:1::c612:501/128']]);
  assert.deepEqual(eps.get('t/h1-cni-b1-eth0')?.ipv6Nets, ['2001:db8:64:2::c612:501/128'], 'same IPv4, other space, other address');
  assert.deepEqual(eps.get('t/h1-cni-plain-eth0')?.ipv4Nets, ['198.18.9.9/32'], 'an endpoint in no space is unchanged');
  assert.deepEqual([...kernel.filters.keys()].sort(), ['calia1/egress', 'calia1/ingress', 'calib1/egress', 'calib1/ingress'], 'only this host\'s space endpoints, both hooks');
  assert.ok(!lines.some((l) => /FelixConfiguration default/.test(l)), 'an AddressSpace named default is not read as FelixConfiguration');
  kernel.counters = [7, 5, 0, 0, 2, 0, 0, 0];
  xlat.kick();
  await xlat.settled();
  const metrics = node.renderMetrics();
  assert.match(metrics, /^calico_xlat_packets_total\{result="translated-4to6"\} 7$/m);
  assert.match(metrics, /^calico_xlat_packets_total\{result="dropped-foreign"\} 2$/m);
  await node.stop();
  await ds.close();
});
