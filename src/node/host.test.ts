import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeExec } from '../dataplane/fakes.js';
import { detectNodeAddress } from './autodetect.js';
import { linuxHostAddresses, linuxReachLookup, parseIpAddrJson } from './host.js';

// Captured from `ip -j addr show` (iproute2 6.1), addresses changed to documentation ranges.
const IP_ADDR = JSON.stringify([
  { ifindex: 1, ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host' }, { family: 'inet6', local: '::1', prefixlen: 128, scope: 'host' }] },
  { ifindex: 2, ifname: 'ifb0', flags: ['BROADCAST', 'NOARP'], operstate: 'DOWN', addr_info: [] },
  { ifindex: 4, ifname: 'eth0', addr_info: [{ family: 'inet', local: '192.0.2.2', prefixlen: 24, scope: 'global' }, { family: 'inet6', local: '2001:db8::2', prefixlen: 64, scope: 'global' }, { family: 'inet6', local: 'fe80::fc:ff:fe00:1', prefixlen: 64, scope: 'link' }] },
  { ifindex: 5, ifname: 'eth1', operstate: 'DOWN', addr_info: [{ family: 'inet', local: '198.51.100.2', prefixlen: 25, scope: 'global' }] },
]);

test('host: ip -j addr show -> addresses with interface index, kernel order; down interfaces count (as in calico/node)', async () => {
  const exec = new FakeExec((argv) => (argv.join(' ') === 'ip -j addr show' ? { code: 0, stdout: IP_ADDR, stderr: '' } : { code: 1, stdout: '', stderr: 'unexpected' }));
  const got = await linuxHostAddresses(exec);
  assert.deepEqual(
    got.map((a) => `${a.ifindex} ${a.iface} ${a.address}/${a.prefixLength}`),
    ['1 lo 127.0.0.1/8', '1 lo ::1/128', '4 eth0 192.0.2.2/24', '4 eth0 2001:db8::2/64', '4 eth0 fe80::fc:ff:fe00:1/64', '5 eth1 198.51.100.2/25'],
  );
  const first = await detectNodeAddress(got, { family: 4, method: { kind: 'first-found' } });
  assert.deepEqual(first.ok && first.cidr, '198.51.100.2/25', 'the highest index first, even when the link is down');
  assert.deepEqual(parseIpAddrJson(''), []);
});

test('host: can-reach asks the kernel (ip route get) for the source; names are resolved for the family first', async () => {
  const exec = new FakeExec((argv) => {
    const line = argv.join(' ');
    if (line === 'ip -j -4 route get 198.51.100.1') return { code: 0, stdout: '[{"dst":"198.51.100.1","dev":"eth1","prefsrc":"198.51.100.2","flags":[],"uid":0,"cache":[]}]', stderr: '' };
    if (line === 'ip -j -6 route get 2001:db8:ffff::1') return { code: 0, stdout: '[{"dst":"2001:db8:ffff::1","gateway":"2001:db8::1","dev":"eth0","prefsrc":"2001:db8::2","metric":1024}]', stderr: '' };
    return { code: 2, stdout: '', stderr: 'RTNETLINK answers: Network is unreachable\n' };
  });
  const resolved: string[] = [];
  const reach = linuxReachLookup(exec, async (name, family) => {
    resolved.push(`${name}/${family}`);
    return name === 'gw.example' ? '198.51.100.1' : Promise.reject(new Error(`cannot resolve ${name}`));
  });
  assert.equal(await reach.sourceFor('198.51.100.1', 4), '198.51.100.2');
  assert.equal(await reach.sourceFor('gw.example', 4), '198.51.100.2');
  assert.equal(await reach.sourceFor('2001:db8:ffff::1', 6), '2001:db8::2');
  await assert.rejects(reach.sourceFor('203.0.113.9', 4), /RTNETLINK answers: Network is unreachable/);
  await assert.rejects(reach.sourceFor('nowhere.example', 4), /cannot resolve nowhere\.example/);
  assert.deepEqual(resolved, ['gw.example/4', 'nowhere.example/4']);
  assert.deepEqual(exec.log.filter((l) => l.startsWith('ip')), ['ip -j -4 route get 198.51.100.1', 'ip -j -4 route get 198.51.100.1', 'ip -j -6 route get 2001:db8:ffff::1', 'ip -j -4 route get 203.0.113.9']);
});
