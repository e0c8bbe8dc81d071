// Removing an endpoint flushes the conntrack entries of its addresses, so no
// established flow outlives the endpoint (or leaks to a reuse of its address).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { allowAll, workload } from '../../../src/dataplane/testing-fixtures.js';
import { TestAgent } from './agent.js';
import { Topology, canRunKernelTests, sh, type Workload } from './topology.js';

const skip = canRunKernelTests();

describe('conntrack flush of a removed endpoint', { skip }, () => {
  const topo = new Topology();
  let h1 = '';
  let w1: Workload;
  let w2: Workload;
  let agent: TestAgent;
  const wl = (w: Workload) => workload({ name: w.ns.split('-').pop()!, iface: w.iface, ipv4: [`${w.ip}/32`], mac: w.mac, profiles: ['kns.default'] });
  const entries = (flag: '-s' | '-d', ip: string) => sh(['ip', 'netns', 'exec', h1, 'conntrack', '-L', flag, ip], { allowFail: true }).split('\n').filter((l) => l.includes(ip)).length;

  before(async () => {
    ({ h1 } = topo.hosts());
    sh(['ip', '-n', h1, 'route', 'add', 'default', 'via', '192.0.2.2']);
    w1 = topo.workload(h1, { name: 'c1', iface: 'calict00000001', ip: '198.18.1.1', ip6: '2001:db8:1::1', mac: '02:00:00:00:01:01' });
    w2 = topo.workload(h1, { name: 'c2', iface: 'calict00000002', ip: '198.18.1.2', ip6: '2001:db8:1::2', mac: '02:00:00:00:01:02' });
    await topo.background(w1.ns, ['serve', '', '9090']);
    agent = new TestAgent(h1, 'nftables');
    await agent.apply([
      { type: 'profileUpserted', profile: allowAll('kns.default') },
      { type: 'workloadEndpointUpserted', endpoint: wl(w1) },
      { type: 'workloadEndpointUpserted', endpoint: wl(w2) },
      { type: 'inSync' },
    ]);
  });
  after(async () => {
    await agent?.loop.stop();
    topo.teardown();
  });

  test('entries to the removed address are gone; others stay', async () => {
    assert.equal(topo.probe(w2.ns, ['udp', w1.ip, '9090', '1000']).ok, true);
    assert.equal(topo.probe(w1.ns, ['udp', w2.ip, '9999', '200']).ok, false); // an entry FROM w1
    assert.equal(topo.probe(w2.ns, ['udp', '192.0.2.2', '9999', '200']).ok, false); // an unrelated entry
    assert.ok(entries('-d', w1.ip) > 0 && entries('-s', w1.ip) > 0, 'flows to and from w1 are tracked');
    const unrelated = entries('-d', '192.0.2.2');
    assert.ok(unrelated > 0);
    await agent.apply([{ type: 'workloadEndpointRemoved', id: wl(w1).id }]);
    assert.equal(entries('-d', w1.ip), 0);
    assert.equal(entries('-s', w1.ip), 0);
    assert.equal(entries('-d', '192.0.2.2'), unrelated, 'unrelated entries are untouched');
  });
});
