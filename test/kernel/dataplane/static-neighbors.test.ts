// The host's neighbour entry for a workload address is static (PERMANENT, the
// endpoint's MAC): a workload that changes its MAC and sends traffic (ARP with
// the forged MAC) cannot repoint the host's replies for its address. A second
// workload whose endpoint has no MAC gets no static entry, and its entry does
// follow the forged MAC: the control that shows the first assertion can fail.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { allowAll, workload } from '../../../src/dataplane/testing-fixtures.js';
import { TestAgent } from './agent.js';
import { Topology, canRunKernelTests, sh, type Workload } from './topology.js';

const skip = canRunKernelTests();
const FORGED = '02:00:00:00:0f:0f';

describe('static neighbour entries for workload addresses', { skip }, () => {
  const topo = new Topology();
  let h1 = '';
  let w1: Workload;
  let w2: Workload;
  let agent: TestAgent;
  const neigh = (ip: string, dev: string) => sh(['ip', '-n', h1, 'neigh', 'show', ip, 'dev', dev]).trim();

  before(async () => {
    ({ h1 } = topo.hosts());
    sh(['ip', '-n', h1, 'route', 'add', 'default', 'via', '192.0.2.2']);
    w1 = topo.workload(h1, { name: 'n1', iface: 'calinb00000001', ip: '198.18.1.1', ip6: '2001:db8:1::1', mac: '02:00:00:00:01:01' });
    w2 = topo.workload(h1, { name: 'n2', iface: 'calinb00000002', ip: '198.18.1.2', ip6: '2001:db8:1::2', mac: '02:00:00:00:01:02' });
    agent = new TestAgent(h1, 'nftables');
    await agent.apply([
      { type: 'profileUpserted', profile: allowAll('kns.default') },
      { type: 'workloadEndpointUpserted', endpoint: workload({ name: 'n1', iface: w1.iface, ipv4: [`${w1.ip}/32`], ipv6: [`${w1.ip6}/128`], mac: w1.mac, profiles: ['kns.default'] }) },
      { type: 'workloadEndpointUpserted', endpoint: workload({ name: 'n2', iface: w2.iface, ipv4: [`${w2.ip}/32`], ipv6: [`${w2.ip6}/128`], profiles: ['kns.default'] }) },
      { type: 'inSync' },
    ]);
  });
  after(async () => {
    await agent?.loop.stop();
    topo.teardown();
  });

  test('a PERMANENT entry with the endpoint MAC for each address; none for an endpoint without a MAC', () => {
    assert.equal(neigh(w1.ip, w1.iface), `${w1.ip} lladdr ${w1.mac} PERMANENT proto 80`);
    assert.equal(neigh(w1.ip6, w1.iface), `${w1.ip6} lladdr ${w1.mac} PERMANENT proto 80`);
    assert.equal(neigh(w2.ip, w2.iface), '');
    assert.equal(topo.ping(w1.ns, w2.ip), true, 'with its real MAC the workload is forwarded');
  });

  test('after the workload forges its MAC and sends traffic, the host entry keeps the original MAC', () => {
    for (const [w, peer] of [[w1, w2], [w2, w1]] as const) {
      sh(['ip', '-n', w.ns, 'link', 'set', 'eth0', 'address', FORGED]);
      // Forget the gateway so the next packet starts with an ARP request carrying the forged MAC.
      sh(['ip', '-n', w.ns, 'neigh', 'flush', 'dev', 'eth0']);
      const replied = topo.ping(w.ns, peer.ip, { count: 2 });
      if (w === w1) assert.equal(replied, false, 'anti-spoofing drops the forged packets');
    }
    assert.equal(neigh(w1.ip, w1.iface), `${w1.ip} lladdr ${w1.mac} PERMANENT proto 80`);
    assert.match(neigh(w2.ip, w2.iface), new RegExp(`^${w2.ip.replace(/\./g, '\\.')} lladdr ${FORGED} `), 'control: without a static entry the forged ARP wins');
  });

  test('a removed endpoint loses its entries', async () => {
    await agent.apply([{ type: 'workloadEndpointRemoved', id: 'default/n1' }]);
    assert.equal(neigh(w1.ip, w1.iface), '');
    assert.equal(neigh(w1.ip6, w1.iface), '');
  });
});
