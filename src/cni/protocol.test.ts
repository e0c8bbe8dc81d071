import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CNI_CODES, CniError, SUPPORTED_VERSIONS, compareVersions, encodeResult, errorResult, parseCniEnv, parseResult, toCniError, versionResult } from './protocol.js';
import { endpointStatusFilename, hostInterfaceName, hostInterfaceNameForContainer, workloadEndpointNameParts } from './names.js';
import { CalicoError } from '../base/errors.js';

const ENV = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'abc123', CNI_NETNS: '/var/run/netns/c1', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin:/usr/lib/cni' };

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

test('env: missing or malformed variables are error 4 and the message names the variable', () => {
  const cases: [string, Record<string, string | undefined>, number, RegExp?][] = [
    ['no command', { ...ENV, CNI_COMMAND: undefined }, 4, /CNI_COMMAND/],
    ['unknown command', { ...ENV, CNI_COMMAND: 'UP' }, 4, /CNI_COMMAND='UP'/],
    ['no container id', { ...ENV, CNI_CONTAINERID: undefined }, 4, /CNI_CONTAINERID/],
    ['bad container id', { ...ENV, CNI_CONTAINERID: '-x/y' }, 4, /CNI_CONTAINERID/],
    ['ADD without netns', { ...ENV, CNI_NETNS: '' }, 4, /CNI_NETNS/],
    ['CHECK without netns', { ...ENV, CNI_COMMAND: 'CHECK', CNI_NETNS: '' }, 4, /CNI_NETNS/],
    ['DEL without netns is fine', { ...ENV, CNI_COMMAND: 'DEL', CNI_NETNS: '' }, 0],
    ['no ifname', { ...ENV, CNI_IFNAME: undefined }, 4, /CNI_IFNAME/],
    ['ifname too long', { ...ENV, CNI_IFNAME: 'a23456789012345x' }, 4, /CNI_IFNAME/],
    ['ifname with slash', { ...ENV, CNI_IFNAME: 'a/b' }, 4, /CNI_IFNAME/],
    ['CNI_ARGS not key=value', { ...ENV, CNI_ARGS: 'K8S_POD_NAME' }, 4, /CNI_ARGS/],
    ['VERSION needs nothing else', { CNI_COMMAND: 'VERSION' }, 0],
    ['GC needs no attachment', { CNI_COMMAND: 'GC', CNI_PATH: '/opt/cni/bin' }, 0],
    ['STATUS needs no attachment', { CNI_COMMAND: 'STATUS' }, 0],
  ];
  for (const [name, env, want, msg] of cases) {
    assert.equal(code(() => parseCniEnv(env)), want, name);
    if (msg) {
      try {
        parseCniEnv(env);
      } catch (err) {
        assert.match((err as Error).message, msg, name);
      }
    }
  }
});

test('VERSION lists every supported version up to 1.1.0; error JSON carries cniVersion, code, msg and details', () => {
  const v = versionResult('1.0.0') as { cniVersion: string; supportedVersions: string[] };
  assert.equal(v.cniVersion, '1.0.0');
  assert.deepEqual(v.supportedVersions, ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']);
  assert.deepEqual(SUPPORTED_VERSIONS, v.supportedVersions);
  assert.deepEqual(errorResult('1.1.0', new CniError(7, 'bad', 'more')), { cniVersion: '1.1.0', code: 7, msg: 'bad', details: 'more' });
  assert.deepEqual(errorResult('1.1.0', new CniError(7, 'bad')), { cniVersion: '1.1.0', code: 7, msg: 'bad' });
});

test('versions compare numerically', () => {
  assert.ok(compareVersions('0.4.0', '0.10.0') < 0);
  assert.ok(compareVersions('1.1.0', '1.0.0') > 0);
  assert.equal(compareVersions('1.0.0', '1.0.0'), 0);
});

test('results: 0.x carry ips[].version, 1.x do not; prevResult of any version parses', () => {
  const r = { cniVersion: '', ips: [{ address: '198.18.0.1/32', interface: 1 }, { address: '2001:db8::1/128', interface: 1 }], dns: {} };
  assert.deepEqual(encodeResult(r, '0.4.0').ips.map((i) => i.version), ['4', '6']);
  assert.deepEqual(encodeResult(r, '1.0.0').ips.map((i) => i.version), [undefined, undefined]);
  assert.equal(encodeResult(r, '1.1.0').cniVersion, '1.1.0');
  const parsed = parseResult({ cniVersion: '0.4.0', interfaces: [{ name: 'eth0', sandbox: '/x', mac: 'aa' }], ips: [{ version: '4', address: '198.18.0.1/32', interface: 0, gateway: '169.254.1.1' }], routes: [{ dst: '0.0.0.0/0' }], dns: { nameservers: ['192.0.2.53'] }, extra: 1 }, 'prevResult');
  assert.deepEqual(parsed, { cniVersion: '0.4.0', interfaces: [{ name: 'eth0', sandbox: '/x', mac: 'aa' }], ips: [{ address: '198.18.0.1/32', interface: 0, gateway: '169.254.1.1' }], routes: [{ dst: '0.0.0.0/0' }], dns: { nameservers: ['192.0.2.53'] } });
  for (const bad of [[], { ips: [{}] }, { interfaces: {} }, { routes: [{ gw: 'x' }] }]) assert.equal(code(() => parseResult(bad, 'prevResult')), 6, JSON.stringify(bad));
});

test('errors: retryable datastore trouble is 11, bad input 7, anything else 5', () => {
  assert.equal(toCniError(new CalicoError('unavailable', 'etcd down', { retryable: true })).code, CNI_CODES.tryAgainLater);
  assert.equal(toCniError(new CalicoError('unavailable', 'pool full', { retryable: false })).code, CNI_CODES.ioFailure);
  assert.equal(toCniError(new CalicoError('not-found', 'IPPool x does not exist')).code, CNI_CODES.invalidConfig);
  assert.equal(toCniError(new Error('RTNETLINK answers: File exists')).code, CNI_CODES.ioFailure);
  const mine = new CniError(3, 'gone');
  assert.equal(toCniError(mine), mine);
});

test('names: host veth and endpoint status file names are Calico\'s', () => {
  // libcalico-go conversion_test: VethNameForWorkload("namespace", "podname") with prefix "eni" is eni82111e10a96.
  assert.equal(hostInterfaceName('namespace', 'podname'), 'cali82111e10a96');
  assert.equal(hostInterfaceNameForContainer('0123456789abcdef'), 'cali0123456789a');
  // libcalico-go workloadendpointstatus_test vectors.
  assert.equal(endpointStatusFilename({ namespace: 'default', name: 'cluster--node--0-k8s-testpod1-eth0' }), 'k8s default%2Ftestpod1 eth0');
  assert.equal(endpointStatusFilename({ namespace: 'default', name: 'node-k8s-t est-eth0' }), 'k8s default%2Ft%20est eth0');
  assert.equal(endpointStatusFilename({ namespace: 'prod', name: 'host1-cni-c0ffee--1-eth0' }), 'cni prod%2Fc0ffee-1 eth0');
  assert.equal(endpointStatusFilename({ namespace: 'prod', name: 'not-enough' }), undefined);
  assert.deepEqual(workloadEndpointNameParts('node--1-k8s-my--pod-eth0'), ['node-1', 'k8s', 'my-pod', 'eth0']);
});
