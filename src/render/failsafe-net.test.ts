// FelixConfiguration failsafe entries with a `net`: the net must reach both
// renderers as a peer-address match (source inbound, destination outbound),
// only in its own family; dropping it would open the port to everyone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRuleset } from '../rules/compile-endpoints.js';
import type { DataplaneModel } from '../rules/model.js';
import { goldenCases } from './golden-cases.js';
import { renderIptablesFull } from './iptables/render.js';
import { renderNftFull } from './nft/render.js';

function model(): DataplaneModel {
  const m = structuredClone(goldenCases().find((c) => c.name === 'host-endpoints-nat')!.model);
  m.config.failsafeInbound = [{ protocol: 'tcp', port: 22, net: '10.0.0.0/8' }, { protocol: 'tcp', port: 2222, net: '2001:db8:5::/48' }];
  m.config.failsafeOutbound = [{ protocol: 'udp', port: 53, net: '192.0.2.53/32' }];
  return m;
}

const lines = (text: string, re: RegExp) => text.split('\n').filter((l) => re.test(l));

test('failsafe net: iptables restricts the source inbound and the destination outbound, per family', () => {
  const rs = compileRuleset(model());
  const v4 = renderIptablesFull(rs, 4);
  const v6 = renderIptablesFull(rs, 6);
  assert.deepEqual(lines(v4, /failsafe/).filter((l) => l.startsWith('-A cali-th-')), ['-A cali-th-eth0 -s 10.0.0.0/8 -p tcp -m multiport --dports 22 -m comment --comment "failsafe" -j ACCEPT']);
  assert.deepEqual(lines(v4, /failsafe/).filter((l) => l.startsWith('-A cali-fh-')), ['-A cali-fh-eth0 -d 192.0.2.53 -p udp -m multiport --dports 53 -m comment --comment "failsafe" -j ACCEPT']);
  assert.deepEqual(lines(v6, /failsafe/).filter((l) => l.startsWith('-A cali-th-')), ['-A cali-th-eth0 -s 2001:db8:5::/48 -p tcp -m multiport --dports 2222 -m comment --comment "failsafe" -j ACCEPT']);
  assert.deepEqual(lines(v6, /failsafe/).filter((l) => l.startsWith('-A cali-fh-')), []);
  // No failsafe rule without its net.
  assert.deepEqual(lines(v4 + v6, /--dports (22|2222|53) .*failsafe/).filter((l) => !/ -[sd] /.test(l)), []);
});

test('failsafe net: nft restricts the source inbound and the destination outbound, per family', () => {
  const text = renderNftFull(compileRuleset(model()));
  const fs = lines(text, /dport (22|2222|53) .*failsafe/).map((l) => l.trim());
  assert.equal(fs.length, 3, fs.join('\n'));
  assert.ok(fs.some((l) => /meta nfproto ipv4 ip saddr 10\.0\.0\.0\/8 meta l4proto tcp th dport 22 accept/.test(l)), fs.join('\n'));
  assert.ok(fs.some((l) => /meta nfproto ipv6 ip6 saddr 2001:db8:5::\/48 meta l4proto tcp th dport 2222 accept/.test(l)), fs.join('\n'));
  assert.ok(fs.some((l) => /meta nfproto ipv4 ip daddr 192\.0\.2\.53 meta l4proto udp th dport 53 accept/.test(l)), fs.join('\n'));
});

test('failsafe net: an unreadable net drops the entry instead of opening the port to all', () => {
  const m = model();
  m.config.failsafeInbound = [{ protocol: 'tcp', port: 22, net: 'not-a-cidr' }];
  const rs = compileRuleset(m);
  assert.deepEqual(lines(renderIptablesFull(rs, 4) + renderIptablesFull(rs, 6), /dports 22 .*failsafe/), []);
  assert.deepEqual(lines(renderNftFull(rs), /dport 22 .*failsafe/), []);
});
