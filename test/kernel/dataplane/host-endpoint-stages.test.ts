// Host endpoint policy at the stages before and beside normal policy, with
// real packets on both backends: untracked (doNotTrack, raw, no conntrack),
// preDNAT (before DNAT, ingress) and applyOnForward (forwarded traffic
// between peers and to/from a local workload). See hep-topology.ts.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostEndpoint, policy, rule, side } from '../../../src/dataplane/testing-fixtures.js';
import type { CalcUpdate } from '../../../src/calc/output.js';
import { TestAgent } from './agent.js';
import { P2, R_ETH0, RouterLab, W, allowProfile } from './hep-topology.js';
import { canRunKernelTests, sh } from './topology.js';

const skip = canRunKernelTests();
const port = (p: number) => [{ first: p, last: p }];
const aof = { applyOnForward: true };
const untracked = { doNotTrack: true, applyOnForward: true };
const preDnat = { preDnat: true, applyOnForward: true };

const allowAllIn = policy('gnp/n-all', { inbound: [rule({ action: 'Allow' })] });
const uIn = policy('gnp/u-in', { inbound: [rule({ action: 'Allow', protocol: 6, destination: side({ ports: port(7072) }) })] }, untracked);
// The reply rule: untracked flows have no conntrack entry, so the host's replies need their own allow.
const uOut = policy('gnp/u-out', { outbound: [rule({ action: 'Allow', protocol: 6, source: side({ ports: port(7072) }) })] }, untracked);
const uDeny = policy('gnp/u-deny', { inbound: [rule({ action: 'Deny', protocol: 6, destination: side({ ports: port(7073) }) })] }, untracked);
const dDeny = policy('gnp/d-deny', { inbound: [rule({ action: 'Deny', protocol: 6, destination: side({ ports: port(7072) }) })] }, preDnat);
const dDenyNat = policy('gnp/d-deny-8072', { inbound: [rule({ action: 'Deny', protocol: 6, destination: side({ ports: port(8072) }) })] }, preDnat);

for (const backend of ['nftables', 'iptables'] as const) {
  describe(`host endpoint stages on ${backend}`, { skip }, () => {
    const lab = new RouterLab();
    before(() => lab.start(backend));
    after(() => lab.stop());
    const toHost = (p: number) => lab.tcp(lab.p1, R_ETH0, p);
    /** conntrack entries on the router towards one of its ports. */
    const tracked = (p: number) => sh(['ip', 'netns', 'exec', lab.r, 'conntrack', '-L', '-p', 'tcp', '--dport', String(p)], { allowFail: true }).split('\n').filter((l) => l.includes(`dport=${p} `)).length;

    test('untracked Allow without its reply rule: the reply is dropped, so the connection fails', async () => {
      await lab.scenario({ heps: [hostEndpoint({ id: 'r-eth0', iface: 'eth0', untracked: { ingress: [uIn.id] } })], policies: [uIn] });
      assert.equal(toHost(7072), false);
      assert.equal(toHost(7071), false, 'no normal policy: the host endpoint drops');
    });

    test('untracked Allow with its reply rule: the connection works and conntrack never sees it', async () => {
      await lab.scenario({ heps: [hostEndpoint({ id: 'r-eth0', iface: 'eth0', untracked: { ingress: [uIn.id], egress: [uOut.id] } })], policies: [uIn, uOut] });
      sh(['ip', 'netns', 'exec', lab.r, 'conntrack', '-D', '-p', 'tcp'], { allowFail: true });
      assert.equal(toHost(7072), true);
      assert.equal(tracked(7072), 0, 'no conntrack entry for the untracked flow');
      // Control: a tracked connection (failsafe SSH) does leave an entry, so the count above can see one.
      assert.equal(toHost(22), true);
      assert.ok(tracked(22) > 0);
      assert.equal(toHost(7071), false);
    });

    test('untracked Deny drops before a normal Allow', async () => {
      await lab.scenario({ heps: [hostEndpoint({ id: 'r-eth0', iface: 'eth0', normal: { ingress: [allowAllIn.id] }, untracked: { ingress: [uDeny.id] } })], policies: [allowAllIn, uDeny] });
      assert.equal(toHost(7073), false);
      assert.equal(toHost(7071), true, 'untracked policy that does not decide falls through to normal policy');
      await lab.scenario({ heps: [hostEndpoint({ id: 'r-eth0', iface: 'eth0', normal: { ingress: [allowAllIn.id] } })], policies: [allowAllIn] });
      assert.equal(toHost(7073), true);
    });

    test('preDNAT Deny beats a later normal Allow; what it does not decide goes on to normal policy', async () => {
      await lab.scenario({ heps: [hostEndpoint({ id: 'r-eth0', iface: 'eth0', normal: { ingress: [allowAllIn.id] } })], policies: [allowAllIn] });
      assert.equal(toHost(7072), true, 'control: normal policy allows');
      await lab.scenario({ heps: [hostEndpoint({ id: 'r-eth0', iface: 'eth0', normal: { ingress: [allowAllIn.id] }, preDnat: { ingress: [dDeny.id] } })], policies: [allowAllIn, dDeny] });
      assert.equal(toHost(7072), false);
      assert.equal(toHost(7071), true);
    });

    test('preDNAT policy sees the destination before DNAT', async () => {
      // A test-owned DNAT (port 8072 -> 7071), as kube-proxy would install for a NodePort.
      sh(['ip', 'netns', 'exec', lab.r, 'nft', '-f', '-'], { input: 'table ip testnat {\n chain pre {\n  type nat hook prerouting priority dstnat; policy accept;\n  tcp dport 8072 dnat to 192.0.2.1:7071\n }\n}\n' });
      try {
        await lab.scenario({ heps: [hostEndpoint({ id: 'r-eth0', iface: 'eth0', normal: { ingress: [allowAllIn.id] }, preDnat: { ingress: [dDenyNat.id] } })], policies: [allowAllIn, dDenyNat] });
        assert.equal(toHost(8072), false, 'denied by its original port');
        assert.equal(toHost(7071), true);
        await lab.scenario({ heps: [hostEndpoint({ id: 'r-eth0', iface: 'eth0', normal: { ingress: [allowAllIn.id] } })], policies: [allowAllIn] });
        assert.equal(toHost(8072), true, 'control: the DNAT itself works');
      } finally {
        sh(['ip', 'netns', 'exec', lab.r, 'nft', 'delete', 'table', 'ip', 'testnat'], { allowFail: true });
      }
    });

    test('applyOnForward: no forward policy lets forwarded traffic through, whatever the normal policy says', async () => {
      const only7072 = policy('gnp/n-7072', { inbound: [rule({ action: 'Allow', protocol: 6, destination: side({ ports: port(7072) }) })] });
      await lab.scenario({ heps: [hostEndpoint({ id: 'r-eth0', iface: 'eth0', normal: { ingress: [only7072.id] } }), hostEndpoint({ id: 'r-eth1', iface: 'eth1' })], policies: [only7072] });
      assert.equal(toHost(8080), false, 'normal policy applies to the host');
      assert.equal(lab.tcp(lab.p1, P2, 8080), true, 'peer to peer through two host endpoints');
      assert.equal(lab.tcp(lab.p1, W, 8080), true, 'peer to workload');
      assert.equal(lab.tcp(lab.w.ns, P2, 8080), true, 'workload to peer');
    });

    test('applyOnForward ingress policy decides forwarded traffic entering a host endpoint; workload policy applies too', async () => {
      const fIn = policy('gnp/f-in', { inbound: [rule({ action: 'Allow', protocol: 6, destination: side({ nets: [`${W}/32`], ports: port(8080) }) })] }, aof);
      const heps = [hostEndpoint({ id: 'r-eth0', iface: 'eth0', forward: { ingress: [fIn.id] } }), hostEndpoint({ id: 'r-eth1', iface: 'eth1' })];
      await lab.scenario({ heps, policies: [fIn] });
      assert.equal(lab.tcp(lab.p1, P2, 8080), false, 'peer to peer: no forward rule allows it');
      assert.equal(lab.tcp(lab.p1, W, 8080), true);
      assert.equal(lab.tcp(lab.p2, W, 8080), true, 'eth1 has no forward policy');
      // The workload's own ingress policy still applies after the host endpoint allowed it.
      const wDeny = policy('np/default/w-deny', { inbound: [rule({ action: 'Deny' })] });
      await lab.scenario({ heps, policies: [fIn, wDeny], extra: [{ type: 'workloadEndpointUpserted', endpoint: lab.workload([wDeny.id]) }] });
      assert.equal(lab.tcp(lab.p1, W, 8080), false);
      await lab.scenario({ heps, policies: [fIn], extra: [{ type: 'workloadEndpointUpserted', endpoint: lab.workload() }] });
    });

    test('applyOnForward egress policy decides forwarded traffic leaving through a host endpoint (from a workload too)', async () => {
      const fOut = policy('gnp/f-out', { outbound: [rule({ action: 'Deny', protocol: 6, destination: side({ ports: port(8080) }) })] }, aof);
      await lab.scenario({ heps: [hostEndpoint({ id: 'r-eth0', iface: 'eth0' }), hostEndpoint({ id: 'r-eth1', iface: 'eth1', forward: { egress: [fOut.id] } })], policies: [fOut] });
      assert.equal(lab.tcp(lab.w.ns, P2, 8080), false, 'workload to peer');
      assert.equal(lab.tcp(lab.p1, P2, 8080), false, 'peer to peer');
      assert.equal(lab.tcp(lab.p1, W, 8080), true, 'not leaving through eth1');
      await lab.scenario({ heps: [hostEndpoint({ id: 'r-eth0', iface: 'eth0' }), hostEndpoint({ id: 'r-eth1', iface: 'eth1' })] });
      assert.equal(lab.tcp(lab.w.ns, P2, 8080), true);
    });

    test('a restarted agent over every stage (named and "*") reads back and writes nothing', async () => {
      const fIn = policy('gnp/f-in', { inbound: [rule({ action: 'Allow' })] }, aof);
      const heps = [
        hostEndpoint({ id: 'all', iface: '*', normal: { ingress: [allowAllIn.id] }, untracked: { ingress: [uIn.id], egress: [uOut.id] }, preDnat: { ingress: [dDeny.id] }, forward: { ingress: [fIn.id] } }),
        hostEndpoint({ id: 'r-eth0', iface: 'eth0', normal: { ingress: [allowAllIn.id] }, preDnat: { ingress: [dDeny.id] } }),
      ];
      const policies = [allowAllIn, uIn, uOut, dDeny, fIn];
      await lab.scenario({ heps, policies });
      assert.equal(toHost(7072), false, 'preDNAT Deny on eth0');
      assert.equal(lab.tcp(lab.p2, '198.51.100.1', 7072), true, 'eth1 falls to "*": untracked Allow with its reply rule');
      const before = lab.agent.kernelState();
      const again = new TestAgent(lab.r, backend);
      try {
        const updates: CalcUpdate[] = [
          { type: 'profileUpserted', profile: allowProfile('kns.w') },
          { type: 'workloadEndpointUpserted', endpoint: lab.workload() },
          ...policies.map((p): CalcUpdate => ({ type: 'policyUpserted', policy: p })),
          ...heps.map((h): CalcUpdate => ({ type: 'hostEndpointUpserted', endpoint: h })),
          { type: 'inSync' },
        ];
        await again.apply(updates);
        assert.deepEqual(again.writes, []);
        assert.equal(again.kernelState(), before);
      } finally {
        await again.loop.stop();
      }
    });
  });
}
