import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseNodeAddress } from './autodetect.js';
import type { HostAddress } from './autodetect.js';

const addrs: HostAddress[] = [
  { iface: 'lo', address: '127.0.0.1', prefixLength: 8, family: 4, internal: true },
  { iface: 'cali123', address: '169.254.1.1', prefixLength: 32, family: 4, internal: false },
  { iface: 'docker0', address: '172.17.0.1', prefixLength: 16, family: 4, internal: false },
  { iface: 'eth1', address: '198.51.100.7', prefixLength: 24, family: 4, internal: false },
  { iface: 'eth0', address: '192.0.2.10', prefixLength: 24, family: 4, internal: false },
  { iface: 'eth0', address: 'fe80::1', prefixLength: 64, family: 6, internal: false },
  { iface: 'eth0', address: '2001:db8::10', prefixLength: 64, family: 6, internal: false },
];

test('first-found skips loopback, link-local and container interfaces, and says why', () => {
  const c = chooseNodeAddress(addrs, { family: 4, method: 'first-found' });
  assert.deepEqual(c.ok && c.cidr, '192.0.2.10/24');
  assert.match(c.reason, /first-found.*eth0/);
  const v6 = chooseNodeAddress(addrs, { family: 6, method: '' });
  assert.equal(v6.ok && v6.cidr, '2001:db8::10/64');
});

test('interface=, skip-interface=, cidr= and failures', () => {
  assert.equal((chooseNodeAddress(addrs, { family: 4, method: 'interface=eth1' }) as { cidr: string }).cidr, '198.51.100.7/24');
  assert.equal((chooseNodeAddress(addrs, { family: 4, method: 'skip-interface=eth0' }) as { cidr: string }).cidr, '198.51.100.7/24');
  assert.equal((chooseNodeAddress(addrs, { family: 4, method: 'cidr=198.51.100.0/24' }) as { cidr: string }).cidr, '198.51.100.7/24');
  assert.equal((chooseNodeAddress(addrs, { family: 6, method: 'cidr=2001:db8::/32' }) as { cidr: string }).cidr, '2001:db8::10/64');
  const none = chooseNodeAddress(addrs, { family: 4, method: 'interface=bond0' });
  assert.equal(none.ok, false);
  assert.match(none.reason, /no IPv4 address matched/);
  assert.equal(chooseNodeAddress(addrs, { family: 4, method: 'can-reach=8.8.8.8' }).ok, false);
});
