import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CNI_CODES, CniError, SUPPORTED_VERSIONS, errorResult, parseCniEnv, parseNetConf, prevResultIps, versionResult } from './protocol.js';
import { hostInterfaceName, hostInterfaceNameForContainer } from './names.js';
import { addResult, containerPlan, workloadEndpointFor, workloadFor } from './plan.js';

const ENV = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'abc123', CNI_NETNS: '/var/run/netns/c1', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin:/usr/lib/cni' };
const CONF = { cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'calico', ipam: { type: 'calico-ipam' } };

function code(f: () => unknown): number {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof CniError, `expected CniError, got ${String(err)}`);
    return err.code;
  }
  return 0;
}

test('env: ADD with everything set parses, CNI_ARGS and CNI_PATH split', () => {
  const env = parseCniEnv({ ...ENV, CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=web;K8S_POD_NAME=a-1' });
  assert.deepEqual(env, { command: 'ADD', containerID: 'abc123', netns: '/var/run/netns/c1', ifName: 'eth0', args: { IgnoreUnknown: '1', K8S_POD_NAMESPACE: 'web', K8S_POD_NAME: 'a-1' }, path: ['/opt/cni/bin', '/usr/lib/cni'] });
});

test('env: missing or malformed variables are error 4 (invalid environment)', () => {
  const cases: [string, Record<string, string | undefined>, number][] = [
    ['no command', { ...ENV, CNI_COMMAND: undefined }, 4],
    ['unknown command', { ...ENV, CNI_COMMAND: 'UP' }, 4],
    ['no container id', { ...ENV, CNI_CONTAINERID: undefined }, 4],
    ['bad container id', { ...ENV, CNI_CONTAINERID: '-x/y' }, 4],
    ['ADD without netns', { ...ENV, CNI_NETNS: '' }, 4],
    ['CHECK without netns', { ...ENV, CNI_COMMAND: 'CHECK', CNI_NETNS: '' }, 4],
    ['DEL without netns is fine', { ...ENV, CNI_COMMAND: 'DEL', CNI_NETNS: '' }, 0],
    ['no ifname', { ...ENV, CNI_IFNAME: undefined }, 4],
    ['ifname too long', { ...ENV, CNI_IFNAME: 'a23456789012345x' }, 4],
    ['ifname with slash', { ...ENV, CNI_IFNAME: 'a/b' }, 4],
    ['CNI_ARGS not key=value', { ...ENV, CNI_ARGS: 'K8S_POD_NAME' }, 4],
    ['VERSION needs nothing else', { CNI_COMMAND: 'VERSION' }, 0],
  ];
  for (const [name, env, want] of cases) assert.equal(code(() => parseCniEnv(env)), want, name);
});

test('config: Calico fields are read, defaults applied', () => {
  const c = parseNetConf(
    JSON.stringify({
      ...CONF,
      etcd_endpoints: 'http://198.18.0.1:2379,https://198.18.0.2:2379',
      etcd_ca_cert_file: '/ca.pem',
      etcd_cert_file: '/c.pem',
      etcd_key_file: '/k.pem',
      datastore_type: 'etcdv3',
      nodename: 'host1',
      mtu: 1400,
      log_level: 'DEBUG',
      log_file_path: '/var/log/calico/cni.log',
      ipam: { type: 'calico-ipam', assign_ipv4: 'true', assign_ipv6: 'true', ipv4_pools: ['198.18.0.0/24', 'pool-b'], ipv6_pools: ['2001:db8::/112'] },
    }),
    'calico',
  );
  assert.deepEqual(c, {
    cniVersion: '1.0.0',
    name: 'k8s-pod-network',
    type: 'calico',
    ipam: { type: 'calico-ipam', assignIpv4: true, assignIpv6: true, ipv4Pools: ['198.18.0.0/24', 'pool-b'], ipv6Pools: ['2001:db8::/112'] },
    etcdEndpoints: ['http://198.18.0.1:2379', 'https://198.18.0.2:2379'],
    etcdCACertFile: '/ca.pem',
    etcdCertFile: '/c.pem',
    etcdKeyFile: '/k.pem',
    nodename: 'host1',
    mtu: 1400,
    logLevel: 'debug',
    ignored: ['log_file_path'],
  });
  const d = parseNetConf(JSON.stringify(CONF), 'calico');
  assert.equal(d.mtu, 1500);
  assert.deepEqual(d.etcdEndpoints, ['http://127.0.0.1:2379']);
  assert.equal(d.ipam.assignIpv4, true);
  assert.equal(d.ipam.assignIpv6, false);
});

test('config: bad configurations get the spec code and name the field', () => {
  const cases: [string, string, number, RegExp][] = [
    ['not JSON', '{', 6, /not JSON/],
    ['not an object', '[1]', 6, /JSON object/],
    ['unsupported version', JSON.stringify({ ...CONF, cniVersion: '0.2.0' }), 1, /cniVersion 0.2.0.*supported/],
    ['no name', JSON.stringify({ ...CONF, name: undefined }), 7, /'name' is required/],
    ['wrong type', JSON.stringify({ ...CONF, type: 'bridge' }), 7, /type 'bridge'/],
    ['kubernetes datastore', JSON.stringify({ ...CONF, datastore_type: 'kubernetes' }), 2, /datastore_type 'kubernetes'.*etcdv3/],
    ['other ipam', JSON.stringify({ ...CONF, ipam: { type: 'host-local' } }), 2, /ipam.type 'host-local'/],
    ['no ipam', JSON.stringify({ ...CONF, ipam: undefined }), 7, /'ipam' is required/],
    ['ipam unknown field', JSON.stringify({ ...CONF, ipam: { type: 'calico-ipam', subnet: 'usePodCidr' } }), 2, /ipam.subnet/],
    ['no family', JSON.stringify({ ...CONF, ipam: { type: 'calico-ipam', assign_ipv4: 'false' } }), 7, /assigns no address/],
    ['v6 cidr in v4 pools', JSON.stringify({ ...CONF, ipam: { type: 'calico-ipam', ipv4_pools: ['2001:db8::/64'] } }), 7, /not an IPv4 CIDR/],
    ['mtu', JSON.stringify({ ...CONF, mtu: 20 }), 7, /mtu 20/],
    ['bad endpoint', JSON.stringify({ ...CONF, etcd_endpoints: '198.18.0.1:2379' }), 7, /etcd_endpoints/],
    ['cert without key', JSON.stringify({ ...CONF, etcd_cert_file: '/c.pem' }), 7, /together/],
    ['inline pem', JSON.stringify({ ...CONF, etcd_key: 'PEM' }), 2, /etcd_key_file/],
    ['unknown field', JSON.stringify({ ...CONF, bogus: 1 }), 2, /'bogus'/],
    ['log level', JSON.stringify({ ...CONF, log_level: 'loud' }), 7, /log_level/],
  ];
  for (const [name, text, want, msg] of cases) {
    try {
      parseNetConf(text, 'calico');
      assert.fail(`${name}: accepted`);
    } catch (err) {
      assert.ok(err instanceof CniError, name);
      assert.equal(err.code, want, `${name}: ${err.message}`);
      assert.match(err.message, msg, name);
    }
  }
});

test('config: calico-ipam reads a delegating plugin\'s config (any type) and ignores its other fields', () => {
  const c = parseNetConf(JSON.stringify({ cniVersion: '1.1.0', name: 'net', type: 'bridge', bridge: 'br0', ipam: { type: 'calico-ipam', assign_ipv6: 'true', assign_ipv4: 'false' } }), 'calico-ipam');
  assert.equal(c.ipam.assignIpv4, false);
  assert.equal(c.ipam.assignIpv6, true);
});

test('VERSION lists 1.0.0 and 1.1.0; error JSON carries code and msg', () => {
  const v = versionResult('1.0.0') as { supportedVersions: string[] };
  assert.ok(v.supportedVersions.includes('1.0.0') && v.supportedVersions.includes('1.1.0'));
  assert.deepEqual(SUPPORTED_VERSIONS.includes('1.1.0'), true);
  assert.deepEqual(errorResult('1.0.0', new CniError(11, 'etcd down')), { cniVersion: '1.0.0', code: 11, msg: 'etcd down' });
  assert.equal(CNI_CODES.tryAgainLater, 11);
});

test('prevResult: addresses read, missing prevResult is error 7', () => {
  assert.deepEqual(prevResultIps({ ips: [{ address: '198.18.0.1/32', interface: 1 }] }), ['198.18.0.1/32']);
  assert.equal(code(() => prevResultIps(undefined)), 7);
  assert.equal(code(() => prevResultIps({ ips: [{}] })), 6);
});

test('names: k8s pods get a pod-named endpoint and cali<sha1> veth; others orchestrator cni with the container id', () => {
  const conf = parseNetConf(JSON.stringify({ ...CONF, ipam: { type: 'calico-ipam', assign_ipv6: 'true' } }), 'calico');
  const pod = workloadFor(parseCniEnv({ ...ENV, CNI_ARGS: 'K8S_POD_NAMESPACE=web;K8S_POD_NAME=front-1' }), conf, 'node-a');
  assert.equal(pod.orchestrator, 'k8s');
  assert.equal(pod.wepName, 'node--a-k8s-front--1-eth0');
  assert.equal(pod.namespace, 'web');
  assert.equal(pod.hostIf, hostInterfaceName('web', 'front-1'));
  assert.equal(pod.handleId, 'k8s-pod-network.abc123');
  assert.deepEqual(pod.labels, { 'projectcalico.org/namespace': 'web', 'projectcalico.org/orchestrator': 'k8s' });
  assert.deepEqual(pod.profiles, ['kns.web']);
  const plain = workloadFor(parseCniEnv(ENV), conf, 'node-a');
  assert.equal(plain.orchestrator, 'cni');
  assert.equal(plain.wepName, 'node--a-cni-abc123-eth0');
  assert.equal(plain.hostIf, hostInterfaceNameForContainer('abc123'));
  assert.equal(plain.hostIf, 'caliabc123');
  assert.ok(hostInterfaceName('web', 'front-1').length <= 15);

  const wep = workloadEndpointFor(pod, ['198.18.0.7', '2001:db8::7'], '02:00:00:00:00:01');
  assert.deepEqual(wep.spec, {
    orchestrator: 'k8s',
    node: 'node-a',
    pod: 'front-1',
    containerID: 'abc123',
    endpoint: 'eth0',
    interfaceName: pod.hostIf,
    mac: '02:00:00:00:00:01',
    ipNetworks: ['198.18.0.7/32', '2001:db8::7/128'],
    profiles: ['kns.web'],
  });
  const plan = containerPlan(parseCniEnv(ENV), pod, conf, ['198.18.0.7', '2001:db8::7']);
  assert.equal(plan.gateway4, '169.254.1.1');
  assert.equal(plan.gateway6, 'fe80::ecee:eeff:feee:eeee');
  const res = addResult({ conf, plan, hostMac: 'ee:ee:ee:ee:ee:ee', containerMac: '02:00:00:00:00:01' });
  assert.deepEqual(res.interfaces![1], { name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/var/run/netns/c1' });
  assert.deepEqual(res.ips, [
    { address: '198.18.0.7/32', interface: 1, gateway: '169.254.1.1' },
    { address: '2001:db8::7/128', interface: 1, gateway: 'fe80::ecee:eeff:feee:eeee' },
  ]);
  assert.deepEqual(res.routes, [{ dst: '0.0.0.0/0' }, { dst: '::/0' }]);
});
