// Host endpoints: policy on the host's own interface, with failsafe ports that
// stay open whatever the policy says (so an operator cannot lock themselves out).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CalcUpdate, HostEndpointState } from '../../../src/calc/output.js';
import { hostEndpoint as hepState, policy, rule, side } from '../../../src/dataplane/testing-fixtures.js';
import { TestAgent } from './agent.js';
import { R_ETH0, R_ETH1, RouterLab, W, allowProfile } from './hep-topology.js';
import { Topology, canRunKernelTests } from './topology.js';

const skip = canRunKernelTests();

const h1Eth0 = (policies: string[]): HostEndpointState => hepState({ id: 'h1-eth0', iface: 'eth0', expectedIPs: ['192.0.2.1'], normal: { ingress: policies } });

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
        { type: 'hostEndpointUpserted', endpoint: h1Eth0(['gnp/allow-7072']) },
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

const hostEndpoint = hepState;

// Which interface a host endpoint governs, profiles and named ports, on a
// router with two interfaces (see hep-topology.ts).
const only7072 = policy('gnp/n-7072', { inbound: [rule({ action: 'Allow', protocol: 6, destination: side({ ports: [{ first: 7072, last: 7072 }] }) })] });

for (const backend of ['nftables', 'iptables'] as const) {
  describe(`host endpoint interfaces, profiles and named ports on ${backend}`, { skip }, () => {
    const lab = new RouterLab();
    before(() => lab.start(backend));
    after(() => lab.stop());
    const viaEth0 = (p: number) => lab.tcp(lab.p1, R_ETH0, p);
    const viaEth1 = (p: number) => lab.tcp(lab.p2, R_ETH1, p);

    test('"*" polices every host interface without a named endpoint; failsafe ports still reach the host', async () => {
      await lab.scenario({ heps: [hostEndpoint({ id: 'all', iface: '*', normal: { ingress: [only7072.id] } })], policies: [only7072] });
      assert.equal(viaEth0(7071), false);
      assert.equal(viaEth1(7071), false);
      assert.equal(viaEth0(7072), true);
      assert.equal(viaEth0(22), true, 'failsafe');
      assert.equal(lab.tcp(lab.p1, W, 8080), true, 'forwarded traffic: no applyOnForward policy, allowed');
    });

    test('a named endpoint wins over "*" for its interface', async () => {
      await lab.scenario({
        heps: [hostEndpoint({ id: 'all', iface: '*', normal: { ingress: [only7072.id] } }), hostEndpoint({ id: 'r-eth1', iface: 'eth1', profiles: ['hep-allow'] })],
        policies: [only7072],
        extra: [{ type: 'profileUpserted', profile: allowProfile('hep-allow') }],
      });
      assert.equal(viaEth1(7071), true);
      assert.equal(viaEth0(7071), false);
    });

    test('expectedIPs only: the endpoint governs the interface carrying the address, and only that one', async () => {
      await lab.scenario({ heps: [hostEndpoint({ id: 'by-ip', expectedIPs: [R_ETH1], normal: { ingress: [only7072.id] } })], policies: [only7072] });
      assert.equal(viaEth1(7071), false);
      assert.equal(viaEth1(7072), true);
      assert.equal(viaEth0(7071), true, 'eth0 is not a host endpoint');
    });

    test('profiles on a host endpoint apply after its policies; none at all means drop (except failsafe)', async () => {
      const prof = { id: 'hep-7072', inboundRules: [rule({ action: 'Allow', protocol: 6, destination: side({ ports: [{ first: 7072, last: 7072 }] }) })], outboundRules: [rule({ action: 'Allow' })] };
      await lab.scenario({ heps: [hostEndpoint({ id: 'r-eth0', iface: 'eth0', profiles: [prof.id] })], extra: [{ type: 'profileUpserted', profile: prof }] });
      assert.equal(viaEth0(7072), true);
      assert.equal(viaEth0(7071), false);
      await lab.scenario({ heps: [hostEndpoint({ id: 'r-eth0', iface: 'eth0' })] });
      assert.equal(viaEth0(7072), false);
      assert.equal(viaEth0(22), true);
    });

    test("a named port of the host endpoint (its expectedIPs and port) works in a rule", async () => {
      const named = policy('gnp/n-named', { inbound: [rule({ action: 'Allow', protocol: 6, destination: side({ namedPortIpSetIds: ['nweb'] }) })] });
      await lab.scenario({
        heps: [hostEndpoint({ id: 'r-eth0', iface: 'eth0', expectedIPs: [R_ETH0], normal: { ingress: [named.id] } })],
        policies: [named],
        extra: [{ type: 'ipSetUpserted', ipSet: { id: 'nweb', kind: 'named-port', description: 'tcp:web', members: [{ net: `${R_ETH0}/32`, protocol: 6, port: 7072 }] } }],
      });
      assert.equal(viaEth0(7072), true);
      assert.equal(viaEth0(7071), false);
    });
  });
}
