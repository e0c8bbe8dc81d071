import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCalicoError } from '../base/errors.js';
import { cidrOverlaps, enclosingSubnet, formatCIDR } from '../base/ip.js';
import { blockCount, canonicalCidr, canonicalIp, nthBlock, parseCidr, parseIp, tryParseIp } from './cidr-math.js';

test('addresses round-trip in canonical form', () => {
  const cases: [string, string][] = [
    ['10.0.0.1', '10.0.0.1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::', '::'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2:3:4:5:6'],
  ];
  for (const [input, want] of cases) assert.equal(canonicalIp(input), want, input);
});

test('malformed addresses and CIDRs are rejected with a validation error', () => {
  for (const bad of ['10.0.0', '10.0.0.256', '1::2::3', 'hello', '1:2:3:4:5:6:7:8:9', '']) {
    assert.equal(tryParseIp(bad), undefined, bad);
  }
  for (const bad of ['10.0.0.0', '10.0.0.0/33', '2001:db8::/129', 'x/8', '10.0.0.0/-1']) {
    assert.throws(() => parseCidr(bad), (e) => isCalicoError(e, 'validation'), bad);
  }
  assert.throws(() => parseCidr('10.0.0.1/24', { strict: true }), /host bits/);
});

test('CIDR math: overlap, blocks, enclosing block', () => {
  assert.equal(canonicalCidr('10.1.2.3/16'), '10.1.0.0/16');
  assert.ok(cidrOverlaps(parseCidr('10.0.0.0/8'), parseCidr('10.5.0.0/16')));
  assert.ok(!cidrOverlaps(parseCidr('10.0.0.0/16'), parseCidr('10.1.0.0/16')));
  assert.ok(!cidrOverlaps(parseCidr('10.0.0.0/8'), parseCidr('::/0')));
  const pool = parseCidr('192.0.2.0/24');
  assert.equal(blockCount(pool, 26), 4n);
  assert.equal(formatCIDR(nthBlock(pool, { blockSize: 26, index: 3n })), '192.0.2.192/26');
  assert.equal(formatCIDR(enclosingSubnet(parseIp('192.0.2.77'), 26)), '192.0.2.64/26');
  const pool6 = parseCidr('2001:db8::/120');
  assert.equal(blockCount(pool6, 122), 4n);
  assert.equal(formatCIDR(nthBlock(pool6, { blockSize: 122, index: 1n })), '2001:db8::40/122');
});
