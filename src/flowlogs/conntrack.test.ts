import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conntrackKey, parseConntrackTable } from './conntrack.js';

// As conntrack-tools 1.4.7 prints them with nf_conntrack_acct=1 (and one without counters, accounting off).
const TABLE = [
  'ipv4     2 tcp      6 117 TIME_WAIT src=198.18.1.2 dst=198.18.1.3 sport=40312 dport=8080 packets=6 bytes=332 src=198.18.1.3 dst=198.18.1.2 sport=8080 dport=40312 packets=4 bytes=224 [ASSURED] mark=0 use=1',
  'ipv4     2 udp      17 28 src=198.18.1.2 dst=192.0.2.53 sport=5353 dport=53 packets=1 bytes=60 src=192.0.2.53 dst=198.18.1.2 sport=53 dport=5353 packets=1 bytes=120 mark=0 use=1',
  'ipv6     10 tcp      6 431999 ESTABLISHED src=2001:db8::1 dst=2001:DB8::2 sport=1 dport=22 packets=3 bytes=200 src=2001:db8::2 dst=2001:db8::1 sport=22 dport=1 packets=2 bytes=150 [ASSURED] mark=0 use=1',
  'ipv4     2 icmp     1 29 src=198.18.1.2 dst=198.18.1.3 type=8 code=0 id=7 packets=1 bytes=84 src=198.18.1.3 dst=198.18.1.2 type=0 code=0 id=7 packets=1 bytes=84 mark=0 use=1',
  'ipv4     2 tcp      6 100 ESTABLISHED src=198.18.9.9 dst=198.18.1.3 sport=1 dport=2 src=198.18.1.3 dst=198.18.9.9 sport=2 dport=1 [ASSURED] mark=0 use=1',
  'conntrack v1.4.7 (conntrack-tools): 5 flow entries have been shown.',
].join('\n');

test('conntrack table: counters of both directions by the original 5-tuple; lines without counters skipped', () => {
  const t = parseConntrackTable(TABLE);
  assert.deepEqual(t.get(conntrackKey({ family: 4, protocol: 6, src: '198.18.1.2', dst: '198.18.1.3', srcPort: 40312, dstPort: 8080 })), { origPackets: 6, origBytes: 332, replyPackets: 4, replyBytes: 224 });
  assert.deepEqual(t.get(conntrackKey({ family: 4, protocol: 17, src: '198.18.1.2', dst: '192.0.2.53', srcPort: 5353, dstPort: 53 })), { origPackets: 1, origBytes: 60, replyPackets: 1, replyBytes: 120 });
  assert.equal(t.get(conntrackKey({ family: 6, protocol: 6, src: '2001:db8::1', dst: '2001:db8::2', srcPort: 1, dstPort: 22 }))?.origBytes, 200, 'IPv6, case-insensitive');
  assert.equal(t.get(conntrackKey({ family: 4, protocol: 1, src: '198.18.1.2', dst: '198.18.1.3' }))?.replyBytes, 84, 'ICMP: no ports');
  assert.equal(t.get(conntrackKey({ family: 4, protocol: 6, src: '198.18.9.9', dst: '198.18.1.3', srcPort: 1, dstPort: 2 })), undefined, 'no counters: accounting was off');
  assert.equal(t.get(conntrackKey({ family: 4, protocol: 6, src: '198.18.1.3', dst: '198.18.1.2', srcPort: 8080, dstPort: 40312 })), undefined, 'the reply tuple is not a key');
  assert.equal(t.size, 4);
});
