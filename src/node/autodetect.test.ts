import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectNodeAddress, isGlobalUnicast, parseAutodetectionMethod } from './autodetect.js';
import type { HostAddress, ReachLookup } from './autodetect.js';

const a = (ifindex: number, iface: string, cidr: string): HostAddress => {
  const [address, len] = cidr.split('/') as [string, string];
  return { iface, ifindex, address, prefixLength: Number(len), family: address.includes(':') ? 6 : 4 };
};

// Kernel order (by index). calico/node walks it backwards: the highest index is tried first.
const HOST: HostAddress[] = [
  a(1, 'lo', '127.0.0.1/8'),
  a(1, 'lo', '::1/128'),
  a(2, 'eth0', '192.0.2.10/24'),
  a(2, 'eth0', 'fe80::1/64'),
  a(2, 'eth0', '2001:db8::10/64'),
  a(3, 'eth1', '169.254.1.1/16'),
  a(3, 'eth1', '198.51.100.7/24'),
  a(4, 'docker0', '203.0.113.1/24'),
  a(5, 'cali1234567890a', '198.18.0.1/32'),
  a(6, 'veth0abc', '198.18.5.5/24'),
  a(7, 'br-lan', '198.18.7.1/24'),
];

/** A fake `ip route get`: a table of destination -> source, names resolved first. */
const reach = (routes: Record<string, string>, names: Record<string, string> = {}): ReachLookup & { asked: string[] } => {
  const asked: string[] = [];
  return {
    asked,
    async sourceFor(dest) {
      asked.push(dest);
      const ip = names[dest] ?? dest;
      const src = routes[ip];
      if (!src) throw new Error('RTNETLINK answers: Network is unreachable');
      return src;
    },
  };
};

const CASES: Array<{ family: 4 | 6; method: string; want: string | RegExp; reach?: ReachLookup }> = [
  // first-found: highest index first, default exclusions (br-, veth, cali, docker, lo), link-local skipped.
  { family: 4, method: '', want: '198.51.100.7/24' },
  { family: 4, method: 'first-found', want: '198.51.100.7/24' },
  { family: 6, method: 'first-found', want: '2001:db8::10/64' },
  // interface=: unanchored, no default exclusions: "eth0" also matches veth0abc, which has the higher index.
  { family: 4, method: 'interface=eth0', want: '198.18.5.5/24' },
  { family: 4, method: 'interface=^eth0$', want: '192.0.2.10/24' },
  { family: 4, method: 'interface=eth1 , docker0', want: '203.0.113.1/24' },
  { family: 4, method: 'interface=bond.*', want: /no valid host interfaces found/ },
  { family: 4, method: 'interface=lo', want: /no valid IPv4 addresses found/ },
  // skip-interface=: the default exclusions plus these, unanchored ("eth" skips eth0 and eth1).
  { family: 4, method: 'skip-interface=eth1', want: '192.0.2.10/24' },
  { family: 4, method: 'skip-interface=eth', want: /no valid host interfaces found/ },
  // cidr=: any interface (even docker0), first address inside one CIDR.
  { family: 4, method: 'cidr=192.0.2.0/24', want: '192.0.2.10/24' },
  { family: 4, method: 'cidr=203.0.113.0/24,192.0.2.0/24', want: '203.0.113.1/24' },
  { family: 4, method: 'cidr=198.18.100.0/24', want: /no valid IPv4 addresses found/ },
  { family: 6, method: 'cidr=2001:db8::/32', want: '2001:db8::10/64' },
  // can-reach=: the kernel's source address, with the prefix of the interface holding it.
  { family: 4, method: 'can-reach=198.51.100.1', reach: reach({ '198.51.100.1': '198.51.100.7' }), want: '198.51.100.7/24' },
  { family: 4, method: 'can-reach=gw.example', reach: reach({ '192.0.2.1': '192.0.2.10' }, { 'gw.example': '192.0.2.1' }), want: '192.0.2.10/24' },
  { family: 6, method: 'can-reach=2001:db8:ffff::1', reach: reach({ '2001:db8:ffff::1': '2001:db8::10' }), want: '2001:db8::10/64' },
  { family: 4, method: 'can-reach=198.51.100.1', reach: reach({ '198.51.100.1': '198.18.99.1' }), want: /source address 198\.18\.99\.1 does not match any address on the local interfaces/ },
  { family: 4, method: 'can-reach=203.0.113.99', reach: reach({}), want: /cannot reach 203\.0\.113\.99: RTNETLINK answers: Network is unreachable/ },
  { family: 4, method: 'kubernetes-internal-ip', want: /calico-ts does not run with Kubernetes/ },
];

for (const c of CASES) {
  test(`autodetect IPv${c.family} ${c.method || '(unset)'} -> ${c.want}`, async () => {
    const parsed = parseAutodetectionMethod(c.method, { variable: 'IP_AUTODETECTION_METHOD', family: c.family });
    assert.ok(parsed.ok, JSON.stringify(parsed));
    const got = await detectNodeAddress(HOST, { family: c.family, method: parsed.method, ...(c.reach ? { reach: c.reach } : {}) });
    if (typeof c.want === 'string') {
      assert.ok(got.ok, got.ok ? '' : got.reason);
      assert.equal(got.cidr, c.want);
      assert.match(got.reason, /autodetection method/);
    } else {
      assert.equal(got.ok, false);
      assert.match(got.reason, c.want);
    }
  });
}

test('autodetect: without interface indexes the list order stands in (last listed first, as calico/node walks backwards)', async () => {
  const plain = [
    { iface: 'ens3', address: '192.0.2.1', prefixLength: 24, family: 4 as const },
    { iface: 'ens4', address: '198.51.100.1', prefixLength: 24, family: 4 as const },
  ];
  const got = await detectNodeAddress(plain, { family: 4, method: { kind: 'first-found' } });
  assert.deepEqual(got.ok && got.cidr, '198.51.100.1/24');
});

const BAD_METHODS: Array<[string, 4 | 6, RegExp]> = [
  ['First-Found', 4, /not an autodetection method: use first-found, interface=.*case-sensitive/],
  ['bogus', 4, /not an autodetection method/],
  ['interface=', 4, /empty regular expression/],
  ['interface=eth0,', 4, /empty regular expression/],
  ['skip-interface=eth[', 4, /"eth\[" in IP_AUTODETECTION_METHOD=skip-interface=eth\[ is not a valid regular expression/],
  ['cidr=192.0.2.0', 4, /"192\.0\.2\.0" .* is not a CIDR/],
  ['cidr=192.0.2.0/24,nope', 4, /"nope" .* is not a CIDR/],
  ['can-reach=2001:db8::1', 4, /IPv6 address but IP_AUTODETECTION_METHOD detects the IPv4 address/],
  ['can-reach=198.51.100.1', 6, /IPv4 address but IP_AUTODETECTION_METHOD detects the IPv6 address/],
  ['can-reach=not a name', 4, /neither an IP address nor a host name/],
  ['can-reach=', 4, /neither an IP address nor a host name/],
];

for (const [text, family, want] of BAD_METHODS) {
  test(`autodetection method "${text}" (IPv${family}) is refused with the fix`, () => {
    const parsed = parseAutodetectionMethod(text, { variable: 'IP_AUTODETECTION_METHOD', family });
    assert.equal(parsed.ok, false);
    assert.match((parsed as { message: string }).message, want);
  });
}

test('autodetection method lists: commas with spaces around them, as Calico splits them', () => {
  assert.deepEqual(parseAutodetectionMethod('interface=eth0 ,  en.*', { variable: 'IP_AUTODETECTION_METHOD', family: 4 }), { ok: true, method: { kind: 'interface', patterns: ['eth0', 'en.*'] } });
  assert.deepEqual(parseAutodetectionMethod('cidr=192.0.2.0/24, 198.51.100.0/24', { variable: 'IP_AUTODETECTION_METHOD', family: 4 }), { ok: true, method: { kind: 'cidr', cidrs: ['192.0.2.0/24', '198.51.100.0/24'] } });
});

test("isGlobalUnicast: Go's rules", () => {
  const table: Array<[string, boolean]> = [
    ['192.0.2.1', true],
    ['10.0.0.1', true],
    ['127.0.0.1', false],
    ['0.0.0.0', false],
    ['255.255.255.255', false],
    ['169.254.3.4', false],
    ['224.0.0.1', false],
    ['239.255.255.255', false],
    ['240.0.0.1', true],
    ['2001:db8::1', true],
    ['fd00::1', true],
    ['::1', false],
    ['::', false],
    ['fe80::1', false],
    ['febf::1', false],
    ['fec0::1', true],
    ['ff02::1', false],
  ];
  for (const [ip, want] of table) assert.equal(isGlobalUnicast(ip), want, ip);
});
