import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addToIP,
  addressIndex,
  cidrContains,
  cidrContainsIP,
  cidrOverlaps,
  cidrSize,
  compareCIDR,
  enclosingSubnet,
  formatCIDR,
  formatIP,
  IPParseError,
  lastAddress,
  normalizeCIDR,
  normalizeIP,
  normalizeMAC,
  nthAddress,
  parseCIDR,
  parseCIDROrIP,
  parseIP,
  subnets,
  tryParseCIDRWithIP,
  tryParseStrictCIDROrIP,
  tryParseIP,
} from './ip.js';

test('IPv4 addresses parse and format', () => {
  for (const text of ['0.0.0.0', '192.0.2.1', '255.255.255.255', '198.51.100.7']) {
    assert.equal(formatIP(parseIP(text)), text);
  }
  assert.equal(parseIP('192.0.2.1').value, 0xc0000201n);
  assert.equal(parseIP('192.0.2.1').family, 4);
});

test('malformed addresses are rejected', () => {
  for (const bad of [
    '', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.-4', ' 1.2.3.4', 'a.b.c.d',
    '1::2::3', ':::', '12345::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', 'fe80::1%eth0', 'g::1',
    '::ffff:1.2.3', '1:2:3:4:5:6:7::8', '2001:db8::/32',
  ]) {
    assert.equal(tryParseIP(bad), undefined, bad);
  }
  assert.throws(() => parseIP('nope'), IPParseError);
});

test('IPv6 addresses parse and format per RFC 5952', () => {
  const cases: [string, string][] = [
    ['2001:db8::1', '2001:db8::1'],
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2:3:4:5:6'],
    ['2001:db8::a:0:0:0', '2001:db8:0:0:a::'],
  ];
  for (const [input, want] of cases) assert.equal(formatIP(parseIP(input)), want, input);
  assert.equal(parseIP('::ffff:192.0.2.1').value, 0xffffc0000201n);
  assert.equal(parseIP('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff').value, (1n << 128n) - 1n);
});

test('CIDRs mask host bits and remember them', () => {
  assert.equal(formatCIDR(parseCIDR('192.0.2.77/24')), '192.0.2.0/24');
  const w = tryParseCIDRWithIP('192.0.2.77/24')!;
  assert.equal(w.hadHostBits, true);
  assert.equal(formatIP(w.ip), '192.0.2.77');
  assert.equal(tryParseCIDRWithIP('192.0.2.0/24')!.hadHostBits, false);
  assert.equal(normalizeCIDR('2001:DB8:0:0::1/64'), '2001:db8::/64');
  assert.equal(normalizeCIDR('0.0.0.0/0'), '0.0.0.0/0');
  assert.equal(normalizeCIDR('::/0'), '::/0');
  for (const bad of ['192.0.2.0/33', '192.0.2.0/', '192.0.2.0', '2001:db8::/129', '192.0.2.0/024', '/24', '192.0.2.0/-1']) {
    assert.equal(normalizeCIDR(bad), undefined, bad);
  }
  assert.equal(formatCIDR(parseCIDROrIP('198.51.100.9')), '198.51.100.9/32');
  assert.equal(formatCIDR(parseCIDROrIP('2001:db8::9')), '2001:db8::9/128');
  assert.equal(normalizeIP('2001:db8:0::0:1'), '2001:db8::1');
});

test('strict CIDR-or-IP parsing refuses host bits', () => {
  assert.equal(formatCIDR(tryParseStrictCIDROrIP('192.0.2.0/24')!), '192.0.2.0/24');
  assert.equal(formatCIDR(tryParseStrictCIDROrIP('192.0.2.5')!), '192.0.2.5/32');
  assert.equal(formatCIDR(tryParseStrictCIDROrIP('2001:db8::/32')!), '2001:db8::/32');
  for (const bad of ['192.0.2.5/24', '2001:db8::1/64', '192.0.2.0/33', 'x', '192.0.2.0/24/1', '']) {
    assert.equal(tryParseStrictCIDROrIP(bad), undefined, bad);
  }
});

test('contains and overlaps respect the family', () => {
  const pool = parseCIDR('198.18.0.0/15');
  assert.ok(cidrContains(pool, parseCIDR('198.19.4.0/26')));
  assert.ok(!cidrContains(parseCIDR('198.19.4.0/26'), pool));
  assert.ok(cidrOverlaps(parseCIDR('198.19.4.0/26'), pool));
  assert.ok(!cidrOverlaps(parseCIDR('192.0.2.0/24'), pool));
  assert.ok(cidrContainsIP(pool, parseIP('198.19.255.255')));
  assert.ok(!cidrContainsIP(pool, parseIP('198.20.0.0')));
  // ::c612:0/111 has the same bits as 198.18.0.0/15 but is another family.
  assert.ok(!cidrOverlaps(parseCIDR('::c612:0/111'), pool));
  assert.ok(cidrContains(parseCIDR('0.0.0.0/0'), pool));
  assert.ok(!cidrContains(parseCIDR('::/0'), pool));
});

test('sizes, nth and last addresses, offsets', () => {
  const block = parseCIDR('192.0.2.64/26');
  assert.equal(cidrSize(block), 64n);
  assert.equal(formatIP(nthAddress(block, 5)), '192.0.2.69');
  assert.equal(formatIP(lastAddress(block)), '192.0.2.127');
  assert.throws(() => nthAddress(block, 64), RangeError);
  assert.equal(addressIndex(block, parseIP('192.0.2.70')), 6n);
  assert.equal(addressIndex(block, parseIP('192.0.2.1')), undefined);
  const v6 = parseCIDR('2001:db8::/64');
  assert.equal(cidrSize(v6), 1n << 64n);
  assert.equal(formatIP(lastAddress(v6)), '2001:db8::ffff:ffff:ffff:ffff');
  assert.equal(formatIP(addToIP(parseIP('2001:db8::ffff'), 1)), '2001:db8::1:0');
  assert.throws(() => addToIP(parseIP('255.255.255.255'), 1), RangeError);
});

test('subnets splits lazily and enclosingSubnet finds the block', () => {
  const blocks = [...subnets(parseCIDR('192.0.2.0/24'), 26)].map(formatCIDR);
  assert.deepEqual(blocks, ['192.0.2.0/26', '192.0.2.64/26', '192.0.2.128/26', '192.0.2.192/26']);
  const it = subnets(parseCIDR('2001:db8::/48'), 122);
  assert.equal(formatCIDR(it.next().value as ReturnType<typeof parseCIDR>), '2001:db8::/122');
  assert.equal(formatCIDR(it.next().value as ReturnType<typeof parseCIDR>), '2001:db8::40/122');
  assert.throws(() => subnets(parseCIDR('192.0.2.0/24'), 20).next(), RangeError);
  assert.equal(formatCIDR(enclosingSubnet(parseIP('192.0.2.200'), 26)), '192.0.2.192/26');
});

test('compareCIDR orders family, address, prefix', () => {
  const list = ['2001:db8::/32', '192.0.2.0/25', '192.0.2.0/24', '10.0.0.0/8'].map(parseCIDR);
  assert.deepEqual(list.sort(compareCIDR).map(formatCIDR), ['10.0.0.0/8', '192.0.2.0/24', '192.0.2.0/25', '2001:db8::/32']);
});

test('MAC addresses normalize', () => {
  assert.equal(normalizeMAC('EE:EE:EE:EE:EE:01'), 'ee:ee:ee:ee:ee:01');
  assert.equal(normalizeMAC('ee-ee-ee-ee-ee-01'), 'ee:ee:ee:ee:ee:01');
  assert.equal(normalizeMAC('ee:ee:ee:ee:ee'), undefined);
  assert.equal(normalizeMAC('ee:ee:ee:ee:ee:gg'), undefined);
});

// Property test against an independent oracle: the WHATWG URL parser
// serializes IPv6 hosts in RFC 5952 canonical form and validates IPv4.
test('random addresses round-trip and match the URL parser', () => {
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let i = 0; i < 2000; i++) {
    // Zero-heavy groups so "::" compression is exercised.
    const groups = Array.from({ length: 8 }, () => (rand(3) === 0 ? 0 : rand(0x10000)));
    const text = groups.map((g) => g.toString(16)).join(':');
    const ip = parseIP(text);
    const canonical = formatIP(ip);
    assert.equal(`[${canonical}]`, new URL(`http://[${text}]/`).hostname, text);
    assert.equal(parseIP(canonical).value, ip.value);
    const len = rand(129);
    const c = parseCIDR(`${canonical}/${len}`);
    assert.ok(cidrContainsIP(c, ip));
    assert.ok(cidrContains(c, parseCIDR(`${canonical}/128`)));
    const v4 = [rand(256), rand(256), rand(256), rand(256)].join('.');
    assert.equal(formatIP(parseIP(v4)), new URL(`http://${v4}/`).hostname);
  }
});
