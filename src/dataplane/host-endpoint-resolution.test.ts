import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveHostEndpoints } from './host-endpoint-resolution.js';
import { modelFromCalc } from './model-from-calc.js';
import { hostEndpoint, workload } from './testing-fixtures.js';
import { emptyDesiredState } from '../calc/output.js';
import { defaultDataplaneConfig } from '../rules/model.js';

const isWorkloadInterface = (n: string) => n.startsWith('cali');
const ifaces = [
  { name: 'lo', addresses: ['127.0.0.1', '::1'] },
  { name: 'eth0', addresses: ['192.0.2.1', '2001:db8:ffff::1'] },
  { name: 'eth1', addresses: ['198.51.100.1'] },
  { name: 'cali0000000001', addresses: ['198.51.100.9'] },
];
const pairs = (r: ReturnType<typeof resolveHostEndpoints>) => r.resolved.map((x) => `${x.iface}=${x.endpoint.id}`);

test('expectedIPs only: resolves to the interface carrying one of the addresses (IPv6 compared canonically)', () => {
  const r = resolveHostEndpoints([hostEndpoint({ id: 'by-ip', expectedIPs: ['10.9.9.9', '2001:DB8:FFFF:0::1'] })], { interfaces: ifaces, isWorkloadInterface });
  assert.deepEqual(pairs(r), ['eth0=by-ip']);
});

test('one endpoint may govern several interfaces', () => {
  const r = resolveHostEndpoints([hostEndpoint({ id: 'both', expectedIPs: ['192.0.2.1', '198.51.100.1'] })], { interfaces: ifaces, isWorkloadInterface });
  assert.deepEqual(pairs(r), ['eth0=both', 'eth1=both']);
});

test('several candidates for one interface: the alphabetically first id wins, named or by address', () => {
  const named = hostEndpoint({ id: 'b-named', iface: 'eth0' });
  const byIp = hostEndpoint({ id: 'a-by-ip', expectedIPs: ['192.0.2.1'] });
  assert.deepEqual(pairs(resolveHostEndpoints([named, byIp], { interfaces: ifaces, isWorkloadInterface })), ['eth0=a-by-ip']);
  const r = resolveHostEndpoints([hostEndpoint({ id: 'a-named', iface: 'eth0' }), hostEndpoint({ id: 'b-by-ip', expectedIPs: ['192.0.2.1'] })], { interfaces: ifaces, isWorkloadInterface });
  assert.deepEqual(pairs(r), ['eth0=a-named']);
  assert.deepEqual(r.inactive, ['b-by-ip']);
});

test('an endpoint naming an interface never matches another one by address', () => {
  const r = resolveHostEndpoints([hostEndpoint({ id: 'x', iface: 'eth1', expectedIPs: ['192.0.2.1'] })], { interfaces: ifaces, isWorkloadInterface });
  assert.deepEqual(pairs(r), ['eth1=x']);
});

test('the all-interfaces endpoint is separate (a default), never a per-interface match; the first id wins', () => {
  const r = resolveHostEndpoints(
    [hostEndpoint({ id: 'z-star', iface: '*' }), hostEndpoint({ id: 'a-star', iface: '*' }), hostEndpoint({ id: 'eth0', iface: 'eth0' })],
    { interfaces: ifaces, isWorkloadInterface },
  );
  assert.deepEqual(pairs(r), ['*=a-star', 'eth0=eth0']);
  assert.deepEqual(r.inactive, ['z-star']);
});

test('workload interfaces are never host endpoints, by name or by address', () => {
  const r = resolveHostEndpoints([hostEndpoint({ id: 'n', iface: 'cali0000000001' }), hostEndpoint({ id: 'ip', expectedIPs: ['198.51.100.9'] })], { interfaces: ifaces, isWorkloadInterface });
  assert.deepEqual(pairs(r), []);
  assert.deepEqual(r.inactive, ['ip', 'n']);
});

test('a named endpoint for an interface not (yet) listed is kept; expectedIPs without a listing governs nothing', () => {
  const r = resolveHostEndpoints([hostEndpoint({ id: 'later', iface: 'eth9' }), hostEndpoint({ id: 'ip', expectedIPs: ['192.0.2.1'] })], { isWorkloadInterface });
  assert.deepEqual(pairs(r), ['eth9=later']);
  assert.deepEqual(r.inactive, ['ip']);
});

test('modelFromCalc: host endpoints become one model endpoint per resolved interface, with every stage', () => {
  const state = emptyDesiredState();
  const hep = hostEndpoint({ id: 'h', expectedIPs: ['198.51.100.1'], normal: { ingress: ['n'] }, untracked: { egress: ['u'] }, preDnat: { ingress: ['d'] }, forward: { ingress: ['f'] }, profiles: ['p'] });
  state.hostEndpoints.set('h', hep);
  state.workloadEndpoints.set('w', workload({ name: 'w', iface: 'tap0' }));
  state.hostEndpoints.set('t', hostEndpoint({ id: 't', iface: 'tap0' }));
  const model = modelFromCalc(state, defaultDataplaneConfig(), [...ifaces, { name: 'tap0', addresses: [] }]);
  const hosts = model.endpoints.filter((e) => e.kind === 'host');
  assert.equal(hosts.length, 1, 'tap0 is a workload interface (by endpoint), so no host endpoint governs it');
  const ep = hosts[0]!;
  assert.equal(ep.interfaceName, 'eth1');
  assert.equal(ep.policies, hep.policies, 'the calc graph\'s tier lists, as they are');
  assert.deepEqual(ep.untrackedPolicies!.egress.map((t) => t.policies), [['u']]);
  assert.deepEqual(ep.preDnatPolicies!.ingress.map((t) => t.policies), [['d']]);
  assert.deepEqual(ep.forwardPolicies!.ingress.map((t) => t.policies), [['f']]);
  assert.deepEqual(ep.profileIds, ['p']);
  // Same inputs, same object: the compiler's per-endpoint cache keeps hitting.
  assert.equal(modelFromCalc(state, defaultDataplaneConfig(), ifaces).endpoints.find((e) => e.kind === 'host'), ep);
  assert.equal(modelFromCalc(state, defaultDataplaneConfig()).endpoints.filter((e) => e.kind === 'host').length, 0, 'no listing: not resolvable');
});
