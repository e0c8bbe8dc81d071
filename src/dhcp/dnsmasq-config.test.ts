// The VM endpoints -> dnsmasq configuration mapping: which endpoints are
// served, why the others are not (naming the field and the fix), and the
// exact lines that give a VM its /32, gateway route and default route.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../api/resource.js';
import type { WorkloadEndpointSpec } from '../api/kinds/endpoint.js';
import { DEFAULT_IPV4_GATEWAY, gatewayAddresses, renderDnsmasqConf, servedEndpoints } from './dnsmasq-config.js';

function vm(name: string, spec: Partial<WorkloadEndpointSpec> = {}): Resource<WorkloadEndpointSpec> {
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'WorkloadEndpoint',
    metadata: { name: `node1-openstack-${name}-eth0`, namespace: 'openstack' },
    spec: { orchestrator: 'openstack', node: 'node1', workload: name, endpoint: 'eth0', interfaceName: `tap${name}`, mac: '52:54:00:00:00:01', ipNetworks: ['198.19.0.5/32'], ...spec },
  };
}
const serve = (rs: Resource<WorkloadEndpointSpec>[]) => servedEndpoints(rs, { nodeName: 'node1', orchestrators: ['openstack'] });
const OPTS = { dhcpInterface: 'ns-calico-dhcp', leaseSeconds: 3600, leaseFile: '/run/calico/dhcp/leases', nodeName: 'node1' };

test('dhcp config: a VM gets its /32, an on-link route to the gateway and the default route via it', () => {
  const { endpoints, skipped } = serve([vm('a', { mac: '52:54:00:AB:CD:EF' })]);
  assert.deepEqual(skipped, []);
  assert.deepEqual(endpoints, [{ id: 'openstack/node1-openstack-a-eth0', interfaceName: 'tapa', mac: '52:54:00:ab:cd:ef', ipv4: '198.19.0.5', gateway: DEFAULT_IPV4_GATEWAY }]);
  const conf = renderDnsmasqConf(endpoints, OPTS).split('\n');
  for (const line of [
    'port=0',
    'interface=ns-calico-dhcp',
    'interface=tapa',
    'bridge-interface=ns-calico-dhcp,tapa',
    'shared-network=ns-calico-dhcp,198.19.0.5',
    'dhcp-range=set:tapa,198.19.0.5,static,255.255.255.255,3600s',
    'dhcp-host=52:54:00:ab:cd:ef,198.19.0.5',
    'dhcp-option=tag:tapa,option:classless-static-route,169.254.1.1/32,0.0.0.0,0.0.0.0/0,169.254.1.1',
    'dhcp-option=tag:tapa,option:router,169.254.1.1',
    'dhcp-ignore=tag:!known',
    'dhcp-leasefile=/run/calico/dhcp/leases',
  ])
    assert.ok(conf.includes(line), `missing: ${line}`);
  assert.deepEqual(gatewayAddresses(endpoints), ['169.254.1.1']);
});

test('dhcp config: spec.ipv4Gateway is the offered gateway and a host address', () => {
  const { endpoints } = serve([vm('a', { ipv4Gateway: '198.19.0.1' }), vm('b', { mac: '52:54:00:00:00:02', ipNetworks: ['198.19.0.6/32'] })]);
  const conf = renderDnsmasqConf(endpoints, OPTS);
  assert.match(conf, /^dhcp-option=tag:tapa,option:classless-static-route,198\.19\.0\.1\/32,0\.0\.0\.0,0\.0\.0\.0\/0,198\.19\.0\.1$/m);
  assert.match(conf, /^dhcp-option=tag:tapb,option:router,169\.254\.1\.1$/m);
  assert.deepEqual(gatewayAddresses(endpoints), ['169.254.1.1', '198.19.0.1']);
});

test('dhcp config: only this node and the served orchestrators; the output does not depend on input order', () => {
  const list = [
    vm('c', { mac: '52:54:00:00:00:03', ipNetworks: ['198.19.0.7/32'] }),
    vm('other', { node: 'node2', mac: '52:54:00:00:00:09', ipNetworks: ['198.19.0.9/32'] }),
    vm('k8s', { orchestrator: 'k8s', mac: '52:54:00:00:00:08', ipNetworks: ['198.19.0.8/32'] }),
    vm('a'),
  ];
  const forward = serve(list);
  const backward = serve([...list].reverse());
  assert.deepEqual(forward.endpoints.map((e) => e.interfaceName), ['tapa', 'tapc']);
  assert.equal(renderDnsmasqConf(forward.endpoints, OPTS), renderDnsmasqConf(backward.endpoints, OPTS));
  assert.deepEqual(servedEndpoints(list, { nodeName: 'node1', orchestrators: ['openstack', 'k8s'] }).endpoints.length, 3);
});

test('dhcp config: endpoints that cannot be served are reported with the field and the fix, the others still served', () => {
  const cases: [string, Partial<WorkloadEndpointSpec>, RegExp][] = [
    ['nomac', { mac: undefined }, /spec\.mac is missing.*set it to the MAC/],
    ['badmac', { mac: 'zz' }, /spec\.mac/],
    ['v6only', { ipNetworks: ['2001:db8::5/128'] }, /no IPv4 \/32.*IPv6 is not served/],
    ['widenet', { ipNetworks: ['198.19.0.0/24'] }, /no IPv4 \/32/],
    ['noiface', { interfaceName: undefined }, /spec\.interfaceName "" is not a usable interface name/],
    ['badgw', { ipv4Gateway: '2001:db8::1' }, /spec\.ipv4Gateway "2001:db8::1" is not an IPv4 address/],
    ['owngw', { ipv4Gateway: '198.19.0.5' }, /is the VM's own address/],
  ];
  for (const [name, spec, reason] of cases) {
    const { endpoints, skipped } = serve([vm(name, spec), vm('ok', { mac: '52:54:00:00:00:77', ipNetworks: ['198.19.0.77/32'] })]);
    assert.deepEqual(endpoints.map((e) => e.interfaceName), ['tapok'], name);
    assert.equal(skipped.length, 1, name);
    assert.match(skipped[0]!.reason, reason, name);
    assert.equal(skipped[0]!.id, `openstack/node1-openstack-${name}-eth0`);
  }
});

test('dhcp config: a second endpoint with the same tap, MAC or address is refused (the first by name keeps it)', () => {
  const a = vm('a');
  const cases: [Partial<WorkloadEndpointSpec>, string][] = [
    [{ interfaceName: 'tapa', mac: '52:54:00:00:00:02', ipNetworks: ['198.19.0.6/32'] }, 'spec.interfaceName'],
    [{ mac: '52:54:00:00:00:01', ipNetworks: ['198.19.0.6/32'] }, 'spec.mac'],
    [{ mac: '52:54:00:00:00:02' }, 'spec.ipNetworks[0]'],
  ];
  for (const [spec, field] of cases) {
    const { endpoints, skipped } = serve([vm('b', spec), a]);
    assert.deepEqual(endpoints.map((e) => e.id), [a.metadata.namespace + '/' + a.metadata.name]);
    assert.ok(skipped[0]!.reason.startsWith(field), skipped[0]!.reason);
    assert.match(skipped[0]!.reason, /already served for openstack\/node1-openstack-a-eth0/);
  }
});

test('dhcp config: extra IPv4 addresses stay routed but only the first is leased (reported)', () => {
  const { endpoints, skipped } = serve([vm('a', { ipNetworks: ['198.19.0.5/32', '2001:db8::5/128', '198.19.0.50'] })]);
  assert.equal(endpoints[0]!.ipv4, '198.19.0.5');
  assert.match(skipped[0]!.reason, /only 198\.19\.0\.5 is leased; 198\.19\.0\.50 must be configured in the guest/);
});

test('dhcp config: a DHCP interface name that is not a plain name is refused', () => {
  assert.throws(() => renderDnsmasqConf([], { ...OPTS, dhcpInterface: 'x\ninterface=*' }), /not a plain interface name/);
});
