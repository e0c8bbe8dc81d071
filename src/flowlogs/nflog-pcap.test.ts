import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NflogPcapParser, PcapFormatError } from './nflog-pcap.js';
import { parseIpPacket } from './packet.js';
import { ipv4, ipv6, pcapStream } from './pcap.test-support.js';
import { seededRandom as prng } from '../base/prng.js';

const records = [
  { timeMs: 1_700_000_000_123, prefix: 'cali-fl|D|I', family: 4 as const, packet: ipv4({ src: '198.18.0.1', dst: '198.18.0.2', protocol: 6, srcPort: 40000, dstPort: 80, length: 60 }) },
  { timeMs: 1_700_000_001_000, prefix: 'cali-fl|A|O', family: 6 as const, packet: ipv6({ src: '2001:db8::1', dst: '2001:db8::2', protocol: 17, srcPort: 5353, dstPort: 53 }), group: 20 },
  { timeMs: 1_700_000_002_999, prefix: 'x', family: 4 as const, packet: ipv4({ src: '192.0.2.1', dst: '192.0.2.2', protocol: 1, icmpType: 8 }) },
];

test('nflog pcap: prefix, group, family, time and payload of each record, whatever the chunking, either byte order, micro or nano stamps', () => {
  for (const little of [true, false]) {
    for (const nano of [false, true]) {
      const bytes = pcapStream(records, { little, nano });
      const rand = prng(little ? 1 : 2);
      for (let trial = 0; trial < 20; trial++) {
        const parser = new NflogPcapParser();
        const got = [];
        for (let at = 0; at < bytes.length; ) {
          const n = trial === 0 ? 1 : 1 + Math.floor(rand() * 60);
          got.push(...parser.push(bytes.subarray(at, at + n)));
          at += n;
        }
        assert.deepEqual(got.map((r) => [r.prefix, r.group, r.family, r.timeMs]), records.map((r) => [r.prefix, r.group ?? 20, r.family, r.timeMs]), `little=${little} nano=${nano}`);
        assert.deepEqual(got.map((r) => Buffer.from(r.payload).toString('hex')), records.map((r) => Buffer.from(r.packet).toString('hex')));
      }
    }
  }
});

test('nflog pcap: not a pcap stream, or not NFLOG, is a clear error', () => {
  assert.throws(() => new NflogPcapParser().push(Buffer.from('tcpdump: nflog:20: No such device exists...')), (e: Error) => e instanceof PcapFormatError && /bad pcap magic/.test(e.message));
  assert.throws(() => new NflogPcapParser().push(pcapStream(records, { linktype: 1 })), /link type 1, expected NFLOG \(239\)/);
});

test('packet: IPv4/IPv6 5-tuples, ICMP type/code, length from the IP header, IPv6 extension headers stepped over', () => {
  assert.deepEqual(parseIpPacket(ipv4({ src: '198.18.0.1', dst: '203.0.113.5', protocol: 6, srcPort: 40000, dstPort: 443, length: 1500 }), 4), { family: 4, src: '198.18.0.1', dst: '203.0.113.5', protocol: 6, srcPort: 40000, dstPort: 443, length: 1500 });
  assert.deepEqual(parseIpPacket(ipv4({ src: '198.18.0.1', dst: '198.18.0.9', protocol: 1, icmpType: 8, icmpCode: 0, length: 84 }), 4), { family: 4, src: '198.18.0.1', dst: '198.18.0.9', protocol: 1, icmpType: 8, icmpCode: 0, length: 84 });
  assert.deepEqual(parseIpPacket(ipv6({ src: '2001:db8:0:0:1::5', dst: '2001:db8::a', protocol: 6, srcPort: 1, dstPort: 2, hopByHop: true, payloadLength: 100 }), 6), { family: 6, src: '2001:db8::1:0:0:5', dst: '2001:db8::a', protocol: 6, srcPort: 1, dstPort: 2, length: 140 });
  assert.equal(parseIpPacket(ipv6({ src: '2001:db8::1', dst: '2001:db8::2', protocol: 17 }), 4), undefined, 'family mismatch');
  assert.equal(parseIpPacket(new Uint8Array(10), 4), undefined, 'too short');
  // A later fragment has no transport header: no ports.
  const frag = Buffer.from(ipv4({ src: '198.18.0.1', dst: '198.18.0.2', protocol: 17, srcPort: 1, dstPort: 2 }));
  frag[7] = 10;
  assert.equal(parseIpPacket(frag, 4)?.srcPort, undefined);
});
