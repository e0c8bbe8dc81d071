import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dhcpAgentConfigFromEnv } from './config.js';

test('dhcp agent config: defaults, node name from NODENAME, else calico-node\'s nodename file, else the host name', () => {
  const c = dhcpAgentConfigFromEnv({}, { hostname: 'Host-A' });
  assert.deepEqual(c, { nodeName: 'host-a', runDir: '/var/run/calico', stateDir: '/var/run/calico/dhcp', leaseFile: '/var/run/calico/dhcp/dnsmasq.leases', dhcpInterface: 'ns-calico-dhcp', leaseSeconds: 86400, orchestrators: ['openstack'], dnsmasq: 'dnsmasq' });
  assert.equal(dhcpAgentConfigFromEnv({ CALICO_RUN_DIR: '/r' }, { hostname: 'h', nodenameFile: (d) => (d === '/r' ? 'node7\n' : undefined) }).nodeName, 'node7');
  assert.equal(dhcpAgentConfigFromEnv({ NODENAME: 'n1' }, { hostname: 'h', nodenameFile: () => 'node7' }).nodeName, 'n1');
  assert.deepEqual(dhcpAgentConfigFromEnv({ CALICO_DHCP_ORCHESTRATORS: 'openstack, libvirt' }, { hostname: 'h' }).orchestrators, ['openstack', 'libvirt']);
});

test('dhcp agent config: bad values name the variable and the fix', () => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ CALICO_DHCP_INTERFACE: 'tapdhcp' }, /CALICO_DHCP_INTERFACE: "tapdhcp" starts with a workload interface prefix/],
    [{ CALICO_DHCP_INTERFACE: 'calidhcp' }, /workload interface prefix/],
    [{ CALICO_DHCP_INTERFACE: 'a name' }, /is not an interface name/],
    [{ CALICO_DHCP_LEASE_SECONDS: '60' }, /CALICO_DHCP_LEASE_SECONDS: "60" must be a whole number of seconds, at least 120/],
    [{ CALICO_DHCP_ORCHESTRATORS: ' , ' }, /CALICO_DHCP_ORCHESTRATORS: empty/],
    [{ NODENAME: 'bad_name' }, /NODENAME: "bad_name" is not a valid node name/],
  ];
  for (const [env, re] of bad) assert.throws(() => dhcpAgentConfigFromEnv(env, { hostname: 'h' }), re);
});
