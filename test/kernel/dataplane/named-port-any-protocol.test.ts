// A named port in a rule without a protocol (allowed by current Calico) matches
// each endpoint port of that name with that port's own protocol: the calc graph
// puts (address, protocol, port) members in the set and the rule adds no
// protocol match. Here w1 names tcp/8080 and udp/5353 "svc": exactly those two
// (protocol, port) pairs open; the same ports under the other protocol and any
// other port stay closed.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { allowAll, policy, rule, side, workload } from '../../../src/dataplane/testing-fixtures.js';
import { TestAgent } from './agent.js';
import { Topology, canRunKernelTests, sh, type Workload } from './topology.js';

const skip = canRunKernelTests();

function wlState(w: Workload, opts: { ingress?: string[]; profiles?: string[] }) {
  return workload({ name: w.ns.split('-').pop()!, iface: w.iface, ipv4: [`${w.ip}/32`], ipv6: [`${w.ip6}/128`], mac: w.mac, ...opts });
}

for (const backend of ['nftables', 'iptables'] as const) {
  describe(`named port without a protocol on ${backend}`, { skip }, () => {
    const topo = new Topology();
    let agent: TestAgent;
    let w1: Workload, w2: Workload;

    before(async () => {
      const { h1 } = topo.hosts();
      w1 = topo.workload(h1, { name: 'w1', iface: 'caliw1000000001', ip: '198.18.1.1', ip6: '2001:db8:1::1', mac: '02:00:00:00:01:01' });
      w2 = topo.workload(h1, { name: 'w2', iface: 'caliw2000000002', ip: '198.18.1.2', ip6: '2001:db8:1::2', mac: '02:00:00:00:01:02' });
      sh(['ip', '-n', h1, 'route', 'add', 'default', 'via', '192.0.2.2']);
      await topo.background(w1.ns, ['serve', '8080,5353,9090', '8080,5353']);
      agent = new TestAgent(h1, backend);
      const members = [`${w1.ip}/32`, `${w1.ip6}/128`].flatMap((net) => [{ net, protocol: 6, port: 8080 }, { net, protocol: 17, port: 5353 }]);
      await agent.apply([
        { type: 'ipSetUpserted', ipSet: { id: 'np-svc', kind: 'named-port', description: 'any:svc', members } },
        { type: 'policyUpserted', policy: policy('np/default/svc', { inbound: [rule({ action: 'Allow', destination: side({ namedPortIpSetIds: ['np-svc'] }) })] }) },
        { type: 'profileUpserted', profile: allowAll('kns.default') },
        { type: 'workloadEndpointUpserted', endpoint: wlState(w1, { ingress: ['np/default/svc'] }) },
        { type: 'workloadEndpointUpserted', endpoint: wlState(w2, { profiles: ['kns.default'] }) },
        { type: 'inSync' },
      ]);
    });

    after(async () => {
      await agent?.loop.stop();
      topo.teardown();
    });

    const tcp = (to: string, port: number) => topo.probe(w2.ns, ['tcp', to, String(port), '500']).ok;
    const udp = (to: string, port: number) => topo.probe(w2.ns, ['udp', to, String(port), '500']).ok;

    for (const fam of ['IPv4', 'IPv6'] as const) {
      test(`${fam}: each named (protocol, port) opens, nothing else`, () => {
        const to = fam === 'IPv4' ? w1.ip : w1.ip6;
        assert.equal(tcp(to, 8080), true, 'tcp/8080 is named');
        assert.equal(udp(to, 5353), true, 'udp/5353 is named');
        assert.equal(tcp(to, 5353), false, 'tcp/5353 is not: the name is udp there');
        assert.equal(udp(to, 8080), false, 'udp/8080 is not: the name is tcp there');
        assert.equal(tcp(to, 9090), false, 'tcp/9090 has no name');
      });
    }
  });
}
