// The libnetwork driver against fakes: the calls Docker makes for one
// container, in order, and each refusal (with nothing stored or made).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../api/resource.js';
import { LibnetworkDriver, LibnetworkError, POOL_ID_V4, type LibnetworkPorts } from './driver.js';
import { handle } from './server.js';

function world(opts: { failMac?: boolean; dockerName?: string } = {}) {
  const ops: string[] = [];
  const held = new Set<string>();
  const weps = new Map<string, Resource>();
  const profiles = new Map<string, Resource>();
  const links = new Set<string>();
  let next = 10;
  const pools: Resource[] = [
    { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool-a' }, spec: { cidr: '198.18.8.0/24' } },
    { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool-b' }, spec: { cidr: '198.18.9.0/24' } },
  ];
  const ports: LibnetworkPorts = {
    node: 'host1',
    ipam: {
      autoAssign: async (req) => {
        ops.push(`autoAssign ${req.num4}/${req.num6} pools=${req.pools4.join(',') || '*'} handle=${req.handleId.split('.')[0]} node=${req.host}`);
        const base = req.pools4[0] === 'pool-b' ? '198.18.9' : '198.18.8';
        const ip = `${base}.${next++}`;
        held.add(ip);
        return [ip];
      },
      assignIps: async (req) => {
        ops.push(`assign ${req.ips.join(',')}`);
        for (const ip of req.ips) {
          if (held.has(ip)) throw new LibnetworkError(`${ip} is already in use`);
          held.add(ip);
        }
      },
      release: async (ip) => {
        ops.push(`release ${ip}`);
        held.delete(ip);
      },
    },
    pools: async () => pools,
    endpoints: {
      get: async (ns, name) => weps.get(`${ns}/${name}`),
      put: async (w) => {
        ops.push(`put wep ${w.metadata.name} mac=${(w.spec as { mac?: string }).mac ?? '-'}`);
        weps.set(`${w.metadata.namespace}/${w.metadata.name}`, w);
      },
      delete: async (ns, name) => {
        ops.push(`delete wep ${name}`);
        weps.delete(`${ns}/${name}`);
      },
      listOnNode: async () => [...weps.values()],
    },
    cluster: {
      ensureProfile: async (p) => {
        if (profiles.has(p.metadata.name)) return 'exists';
        profiles.set(p.metadata.name, p);
        ops.push(`profile ${p.metadata.name}`);
        return 'created';
      },
    },
    links: {
      createVeth: async (host, temp) => {
        ops.push(`veth ${host} ${temp}`);
        links.add(host);
      },
      mac: async () => {
        if (opts.failMac) throw new Error('link vanished');
        return '02:42:c6:12:08:0a';
      },
      delete: async (name) => {
        ops.push(`del link ${name}`);
        links.delete(name);
      },
    },
    ...(opts.dockerName !== undefined ? { docker: { networkName: async () => opts.dockerName } } : {}),
    newId: () => 'uuid',
    log: () => undefined,
  };
  return { ops, held, weps, profiles, links, driver: new LibnetworkDriver(ports) };
}

const EID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9';
const call = async (d: LibnetworkDriver, path: string, body: object = {}) => handle(d, path, JSON.stringify(body), () => undefined);

test('docker run: RequestPool, RequestAddress, CreateEndpoint, Join, then Leave, DeleteEndpoint, ReleaseAddress undo it all', async () => {
  const w = world({ dockerName: 'calinet' });
  assert.deepEqual((await call(w.driver, '/Plugin.Activate')).body, { Implements: ['NetworkDriver', 'IpamDriver'] });
  const pool = await call(w.driver, '/IpamDriver.RequestPool', { AddressSpace: 'CalicoGlobalAddressSpace', Pool: '', SubPool: '', Options: {}, V6: false });
  assert.deepEqual(pool.body, { PoolID: POOL_ID_V4, Pool: '0.0.0.0/0', Data: { 'com.docker.network.gateway': '0.0.0.0/0' } });
  assert.equal((await call(w.driver, '/NetworkDriver.CreateNetwork', { NetworkID: 'n1', Options: { 'com.docker.network.generic': {} }, IPv4Data: [{ AddressSpace: 'CalicoGlobalAddressSpace', Pool: '0.0.0.0/0', Gateway: '0.0.0.0/0' }] })).status, 200);
  const addr = await call(w.driver, '/IpamDriver.RequestAddress', { PoolID: POOL_ID_V4, Address: '', Options: {} });
  assert.deepEqual(addr.body, { Address: '198.18.8.10/32', Data: {} });
  assert.equal((await call(w.driver, '/NetworkDriver.CreateEndpoint', { NetworkID: 'n1', EndpointID: EID, Interface: { Address: '198.18.8.10/32', AddressIPv6: '', MacAddress: '' } })).status, 200);
  const join = await call(w.driver, '/NetworkDriver.Join', { NetworkID: 'n1', EndpointID: EID, SandboxKey: '/var/run/docker/netns/x' });
  assert.deepEqual(join.body, {
    InterfaceName: { SrcName: 'tempa1b2c3d4e5f', DstPrefix: 'cali' },
    Gateway: '169.254.1.1',
    StaticRoutes: [{ Destination: '169.254.1.1/32', RouteType: 1, NextHop: '' }],
    DisableGatewayService: false,
  });
  const wep = [...w.weps.values()][0]!;
  assert.equal(wep.metadata.namespace, 'libnetwork');
  assert.equal(wep.metadata.name, `host1-libnetwork-libnetwork-${EID}`);
  assert.deepEqual(wep.spec, { orchestrator: 'libnetwork', node: 'host1', workload: 'libnetwork', endpoint: EID, interfaceName: 'calia1b2c3d4e5f', ipNetworks: ['198.18.8.10/32'], profiles: ['calinet'], mac: '02:42:c6:12:08:0a' });
  assert.deepEqual(w.profiles.get('calinet')!.spec, { labelsToApply: { calinet: '' }, ingress: [{ action: 'Allow', source: { selector: 'has(calinet)' } }], egress: [{ action: 'Allow' }] });

  await call(w.driver, '/NetworkDriver.Leave', { NetworkID: 'n1', EndpointID: EID });
  await call(w.driver, '/NetworkDriver.DeleteEndpoint', { NetworkID: 'n1', EndpointID: EID });
  await call(w.driver, '/IpamDriver.ReleaseAddress', { PoolID: POOL_ID_V4, Address: '198.18.8.10' });
  assert.deepEqual([w.weps.size, w.held.size, w.links.size], [0, 0, 0], 'nothing left');
  assert.deepEqual(w.ops, [
    'autoAssign 1/0 pools=* handle=libnetwork node=host1',
    'profile calinet',
    `put wep host1-libnetwork-libnetwork-${EID} mac=-`,
    'del link calia1b2c3d4e5f',
    'veth calia1b2c3d4e5f tempa1b2c3d4e5f',
    `put wep host1-libnetwork-libnetwork-${EID} mac=02:42:c6:12:08:0a`,
    'del link calia1b2c3d4e5f',
    `delete wep host1-libnetwork-libnetwork-${EID}`,
    'release 198.18.8.10',
  ]);
});

test('--subnet: must be a Calico pool; addresses then come from that pool only', async () => {
  const w = world();
  const bad = await call(w.driver, '/IpamDriver.RequestPool', { Pool: '203.0.113.0/24', V6: false });
  assert.equal(bad.status, 500);
  assert.match((bad.body as { Err: string }).Err, /--subnet 203\.0\.113\.0\/24 must be the CIDR of a Calico IP pool/);
  const ok = await call(w.driver, '/IpamDriver.RequestPool', { Pool: '198.18.9.0/24', V6: false });
  assert.deepEqual(ok.body, { PoolID: '198.18.9.0/24', Pool: '198.18.9.0/24', Data: { 'com.docker.network.gateway': '0.0.0.0/0' } });
  assert.deepEqual((await call(w.driver, '/IpamDriver.RequestAddress', { PoolID: '198.18.9.0/24', Options: {} })).body, { Address: '198.18.9.10/32', Data: {} });
  assert.equal(w.ops[0], 'autoAssign 1/0 pools=pool-b handle=libnetwork node=host1');
  // --ip: that address, from any Calico pool.
  assert.deepEqual((await call(w.driver, '/IpamDriver.RequestAddress', { PoolID: '198.18.9.0/24', Address: '198.18.8.77', Options: {} })).body, { Address: '198.18.8.77/32', Data: {} });
});

test('refusals name the flag and the fix, and store nothing', async () => {
  const w = world();
  const cases: [string, object, RegExp][] = [
    ['/IpamDriver.RequestPool', { Pool: '198.18.8.0/24', SubPool: '198.18.8.0/25' }, /does not support --ip-range/],
    ['/IpamDriver.RequestPool', { Pool: '', Options: { foo: 'bar' } }, /takes no --ipam-opt options \(got foo\)/],
    ['/IpamDriver.RequestAddress', { PoolID: POOL_ID_V4, Options: { RequestAddressType: 'com.docker.network.gateway' } }, /does not support --gateway/],
    ['/IpamDriver.RequestAddress', { PoolID: '192.0.2.0/24', Options: {} }, /no longer a Calico IP pool/],
    ['/NetworkDriver.CreateNetwork', { NetworkID: 'n', Options: { 'com.docker.network.internal': true }, IPv4Data: [] }, /does not support --internal/],
    ['/NetworkDriver.CreateNetwork', { NetworkID: 'n', Options: {}, IPv4Data: [{ AddressSpace: 'LocalDefault', Pool: '172.18.0.0/16', Gateway: '172.18.0.1/16' }] }, /add --ipam-driver calico-ipam/],
    ['/NetworkDriver.CreateEndpoint', { NetworkID: 'n', EndpointID: EID, Interface: {} }, /has no address/],
    ['/NetworkDriver.Join', { NetworkID: 'n', EndpointID: EID }, /no WorkloadEndpoint libnetwork\/host1-libnetwork-libnetwork-/],
  ];
  for (const [path, body, msg] of cases) {
    const r = await call(w.driver, path, body);
    assert.equal(r.status, 500, path);
    assert.match((r.body as { Err: string }).Err, msg, path);
  }
  assert.deepEqual([w.weps.size, w.held.size, w.links.size, w.profiles.size], [0, 0, 0, 0]);
  assert.equal((await call(w.driver, '/NetworkDriver.Nope')).status, 404);
  const notJson = await handle(w.driver, '/IpamDriver.RequestPool', '{', () => undefined);
  assert.equal(notJson.status, 400);
});

test('Join that cannot finish removes its veth; ReleaseAddress of the dummy gateway is a no-op', async () => {
  const w = world({ failMac: true });
  await call(w.driver, '/NetworkDriver.CreateEndpoint', { NetworkID: 'n1', EndpointID: EID, Interface: { Address: '198.18.8.5/32' } });
  const r = await call(w.driver, '/NetworkDriver.Join', { NetworkID: 'n1', EndpointID: EID });
  assert.equal(r.status, 500);
  assert.equal(w.links.size, 0, 'no veth left behind');
  const before = w.ops.length;
  await call(w.driver, '/IpamDriver.ReleaseAddress', { PoolID: POOL_ID_V4, Address: '0.0.0.0' });
  assert.equal(w.ops.length, before);
});

test('without Docker\'s API the profile is named by the network ID; names that are not DNS labels get a safe one', async () => {
  const w = world();
  await call(w.driver, '/NetworkDriver.CreateEndpoint', { NetworkID: 'f00dfeedbeef0011', EndpointID: EID, Interface: { Address: '198.18.8.5/32' } });
  assert.ok(w.profiles.has('f00dfeedbeef'));
  const odd = world({ dockerName: 'My_Net' });
  await call(odd.driver, '/NetworkDriver.CreateEndpoint', { NetworkID: 'f00dfeedbeef0011', EndpointID: EID, Interface: { Address: '198.18.8.5/32' } });
  assert.ok(odd.profiles.has('docker-f00dfeedbeef'));
});
