// notICMP {type, code} excludes one (type, code) pair. A Deny rule with
// notICMP {8, 0} before an Allow-all lets only echo requests with code 0
// through: an echo request with code 1 must be dropped. Negating only the type
// (the old nft rendering) let every type-8 packet through, whatever its code.
// ping can't set the code, so a raw-socket sender in python3 crafts the request;
// the kernel's echo responder answers whatever the code, which the control
// test below checks.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { CalcUpdate } from '../../../src/calc/output.js';
import { allowAll, policy, rule, workload } from '../../../src/dataplane/testing-fixtures.js';
import { TestAgent } from './agent.js';
import { Topology, canRunKernelTests, sh, type Workload } from './topology.js';

const skip = canRunKernelTests();

// argv: destination, icmp code, echo id. Exit 0 when the matching echo reply arrives within 1s.
const ECHO = `
import socket, struct, sys, time
dst, code, ident = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
v6 = ':' in dst
def csum(b):
    if len(b) % 2: b += b'\\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
req_t, rep_t = (128, 129) if v6 else (8, 0)
body = struct.pack('!HH', ident, 1) + b'calico-ts'
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
# ICMPv6 raw sockets get their checksum from the kernel.
ck = 0 if v6 else csum(struct.pack('!BBH', req_t, code, 0) + body)
s.sendto(struct.pack('!BBH', req_t, code, ck) + body, (dst, 0))
end = time.time() + 1.0
while time.time() < end:
    s.settimeout(max(0.01, end - time.time()))
    try:
        pkt, addr = s.recvfrom(2048)
    except socket.timeout:
        break
    icmp = pkt if v6 else pkt[(pkt[0] & 15) * 4:]
    if addr[0] == dst and icmp[0] == rep_t and struct.unpack('!H', icmp[4:6])[0] == ident:
        sys.exit(0)
sys.exit(1)
`;

function wlState(w: Workload, opts: { ingress?: string[]; profiles?: string[] }) {
  return workload({ name: w.ns.split('-').pop()!, iface: w.iface, ipv4: [`${w.ip}/32`], ipv6: [`${w.ip6}/128`], mac: w.mac, ...opts });
}

for (const backend of ['nftables', 'iptables'] as const) {
  describe(`notICMP with a code on ${backend}`, { skip }, () => {
    const topo = new Topology();
    let agent: TestAgent;
    let w1: Workload, w2: Workload;
    let ident = 0x4300;
    const onlyEcho = (withDeny: boolean): CalcUpdate => ({
      type: 'policyUpserted',
      policy: policy('np/default/only-echo', {
        inbound: [
          ...(withDeny
            ? [rule({ action: 'Deny', protocol: 1, notIcmp: { type: 8, code: 0 } }), rule({ action: 'Deny', protocol: 58, notIcmp: { type: 128, code: 0 } })]
            : []),
          rule({ action: 'Allow' }),
        ],
      }),
    });
    const echo = (dst: string, code: number): boolean =>
      spawnSync('ip', ['netns', 'exec', w2.ns, 'python3', '-c', ECHO, dst, String(code), String(ident++)]).status === 0;

    before(async () => {
      const { h1 } = topo.hosts();
      w1 = topo.workload(h1, { name: 'w1', iface: 'caliw1000000001', ip: '198.18.1.1', ip6: '2001:db8:1::1', mac: '02:00:00:00:01:01' });
      w2 = topo.workload(h1, { name: 'w2', iface: 'caliw2000000002', ip: '198.18.1.2', ip6: '2001:db8:1::2', mac: '02:00:00:00:01:02' });
      // Proxy ARP for the workloads' gateway 169.254.1.1 only answers with a default route on the host.
      sh(['ip', '-n', h1, 'route', 'add', 'default', 'via', '192.0.2.2']);
      agent = new TestAgent(h1, backend);
      await agent.apply([
        onlyEcho(true),
        { type: 'profileUpserted', profile: allowAll('kns.default') },
        { type: 'workloadEndpointUpserted', endpoint: wlState(w1, { ingress: ['np/default/only-echo'] }) },
        { type: 'workloadEndpointUpserted', endpoint: wlState(w2, { profiles: ['kns.default'] }) },
        { type: 'inSync' },
      ]);
    });

    after(async () => {
      await agent?.loop.stop();
      topo.teardown();
    });

    test('IPv4: echo request code 0 passes, code 1 is denied', () => {
      assert.equal(topo.ping(w2.ns, w1.ip), true);
      assert.equal(echo(w1.ip, 0), true);
      assert.equal(echo(w1.ip, 1), false);
    });

    test('IPv6: echo request code 0 passes, code 1 is denied', () => {
      assert.equal(topo.ping(w2.ns, w1.ip6), true);
      assert.equal(echo(w1.ip6, 0), true);
      assert.equal(echo(w1.ip6, 1), false);
    });

    test('without the Deny rule an echo request with code 1 is answered (so the Deny is what dropped it)', async () => {
      await agent.apply([onlyEcho(false)]);
      assert.equal(echo(w1.ip, 1), true);
      assert.equal(echo(w1.ip6, 1), true);
    });
  });
}
