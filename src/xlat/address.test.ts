import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encodeText } from './address.js';

const SPACES = [
  { name: 'tenant-a', prefix: '2001:db8:64:1::/96' },
  { name: 'tenant-b', prefix: '2001:db8:64:2::/96' },
];

test('RFC 6052 /96: the IPv4 address fills the last 32 bits; CIDRs become /96+len', () => {
  assert.equal(encodeText('2001:db8:64:1::/96', '198.18.5.1'), '2001:db8:64:1::c612:501');
  assert.equal(encodeText('2001:db8:64:2::/96', '198.18.5.1'), '2001:db8:64:2::c612:501', 'same IPv4 in another space: another address');
  assert.equal(encodeText('2001:db8:64:1::/96', '198.18.5.0/24'), '2001:db8:64:1::c612:500/120');
  assert.equal(encodeText('2001:db8:64:1::/96', '0.0.0.0/0'), '2001:db8:64:1::/96');
});

test('decode: space and IPv4 of a captured address; undefined outside every space', () => {
  assert.deepEqual(decode(SPACES, '2001:db8:64:2::c612:502'), { space: 'tenant-b', ipv4: '198.18.5.2' });
  assert.deepEqual(decode(SPACES, '2001:DB8:64:1:0:0:C612:501'), { space: 'tenant-a', ipv4: '198.18.5.1' });
  assert.equal(decode(SPACES, '2001:db8:64:3::c612:501'), undefined);
  assert.equal(decode(SPACES, '198.18.5.1'), undefined);
  assert.equal(decode(SPACES, 'not-an-address'), undefined);
});
