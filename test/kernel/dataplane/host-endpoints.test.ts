// Host endpoints: policy on the host's own interface, with failsafe ports that
// stay open whatever the policy says (so an operator cannot lock themselves out).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CalcUpdate, HostEndpointState } from '../../../src/calc/output.js';
import { policy, rule, side } from '../../../src/dataplane/testing-fixtures.js';
import { TestAgent } from './agent.js';
import { Topology, canRunKernelTests } from './topology.js';

const skip = canRunKernelTests();

function hostEndpoint(policies: string[]): HostEndpointState {
  const dir = { ingress: policies.length ? [{ tier: 'default', policies, defaultAction: 'Deny' as const }] : [], egress: [] };
  const none = { ingress: [], egress: [] };
  return { id: 'h1-eth0', interfaceName: 'eth0', expectedIPs: ['192.0.2.1'], policies: dir, untrackedPolicies: none, preDnatPolicies: none, forwardPolicies: none, profileIds: [], hasIngressPolicy: policies.length > 0, hasEgressPolicy: false };
}

for (const backend of ['nftables', 'iptables'] as const) {
  describe(`host endpoints on ${backend}`, { skip }, () => {
    const topo = new Topology();
    let h1 = '';
    let h2 = '';
    let agent: TestAgent;
    before(async () => {
      ({ h1, h2 } = topo.hosts());
      await topo.background(h1, ['serve', '22,7071,7072', '']);
      agent = new TestAgent(h1, backend);
      const updates: CalcUpdate[] = [
        { type: 'policyUpserted', policy: policy('gnp/allow-7072', { inbound: [rule({ action: 'Allow', protocol: 6, destination: side({ ports: [{ first: 7072, last: 7072 }] }) })] }) },
        { type: 'hostEndpointUpserted', endpoint: hostEndpoint(['gnp/allow-7072']) },
        { type: 'inSync' },
      ];
      await agent.apply(updates);
    });
    after(async () => {
      await agent?.loop.stop();
      topo.teardown();
    });
    const tcp = (port: number) => topo.probe(h2, ['tcp', '192.0.2.1', String(port), '500']).ok;

    test('the policy decides for ordinary ports', () => {
      assert.equal(tcp(7072), true);
      assert.equal(tcp(7071), false);
    });

    test('a failsafe port (SSH) stays reachable even with a deny-everything policy', async () => {
      await agent.apply([{ type: 'policyUpserted', policy: policy('gnp/allow-7072', { inbound: [rule({ action: 'Deny' })] }) }]);
      assert.equal(tcp(7072), false);
      assert.equal(tcp(22), true);
    });

    test('removing the host endpoint opens the host again', async () => {
      await agent.apply([{ type: 'hostEndpointRemoved', id: 'h1-eth0' }]);
      assert.equal(tcp(7071), true);
    });
  });
}
