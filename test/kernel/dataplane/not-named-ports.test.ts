// A named port in a rule's notPorts narrows an Allow rule: the workload's port
// listed by name stays closed while its other ports open. Ignoring the negated
// named-port set would silently allow more than the policy says.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CalcUpdate } from '../../../src/calc/output.js';
import { allowAll, policy, rule, side, workload } from '../../../src/dataplane/testing-fixtures.js';
import { TestAgent } from './agent.js';
import { Topology, canRunKernelTests, sh, type Workload } from './topology.js';

const skip = canRunKernelTests();

function wlState(w: Workload, opts: { ingress?: string[]; profiles?: string[] }) {
  return workload({ name: w.ns.split('-').pop()!, iface: w.iface, ipv4: [`${w.ip}/32`], ipv6: [`${w.ip6}/128`], mac: w.mac, ...opts });
}

for (const backend of ['nftables', 'iptables'] as const) {
  describe(`named port in notPorts on ${backend}`, { skip }, () => {
    const topo = new Topology();
    let agent: TestAgent;
    let w1: Workload, w2: Workload;
    const allowTcp = (notNamed: string[]): CalcUpdate => ({
      type: 'policyUpserted',
      policy: policy('np/default/no-admin', { inbound: [rule({ action: 'Allow', protocol: 6, destination: side({ notNamedPortIpSetIds: notNamed }) })] }),
    });

    before(async () => {
      const { h1 } = topo.hosts();
      w1 = topo.workload(h1, { name: 'w1', iface: 'caliw1000000001', ip: '198.18.1.1', ip6: '2001:db8:1::1', mac: '02:00:00:00:01:01' });
      w2 = topo.workload(h1, { name: 'w2', iface: 'caliw2000000002', ip: '198.18.1.2', ip6: '2001:db8:1::2', mac: '02:00:00:00:01:02' });
      // Proxy ARP for the workloads' gateway 169.254.1.1 only answers with a default route on the host.
      sh(['ip', '-n', h1, 'route', 'add', 'default', 'via', '192.0.2.2']);
      await topo.background(w1.ns, ['serve', '8080,9090', '']);
      agent = new TestAgent(h1, backend);
      await agent.apply([
        // w1 names tcp/9090 "admin"; the set holds w1's (address, tcp, 9090) in both families.
        { type: 'ipSetUpserted', ipSet: { id: 'np-admin', kind: 'named-port', description: 'tcp:admin', members: [{ net: `${w1.ip}/32`, protocol: 6, port: 9090 }, { net: `${w1.ip6}/128`, protocol: 6, port: 9090 }] } },
        allowTcp(['np-admin']),
        { type: 'profileUpserted', profile: allowAll('kns.default') },
        { type: 'workloadEndpointUpserted', endpoint: wlState(w1, { ingress: ['np/default/no-admin'] }) },
        { type: 'workloadEndpointUpserted', endpoint: wlState(w2, { profiles: ['kns.default'] }) },
        { type: 'inSync' },
      ]);
    });

    after(async () => {
      await agent?.loop.stop();
      topo.teardown();
    });

    const tcp = (to: string, port: number) => topo.probe(w2.ns, ['tcp', to, String(port), '500']).ok;

    test('IPv4: the other port is allowed, the named one is not', () => {
      assert.equal(tcp(w1.ip, 8080), true);
      assert.equal(tcp(w1.ip, 9090), false);
    });

    test('IPv6: the other port is allowed, the named one is not', () => {
      assert.equal(tcp(w1.ip6, 8080), true);
      assert.equal(tcp(w1.ip6, 9090), false);
    });

    test('the same rule without the named notPort allows the port (so the exclusion above is what closed it)', async () => {
      await agent.apply([allowTcp([])]);
      assert.equal(tcp(w1.ip, 9090), true);
      assert.equal(tcp(w1.ip6, 9090), true);
    });
  });
}
