import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCalicoError } from '../base/errors.js';
import { DEFAULT_ETCD_ENDPOINT, datastoreConfigFromEnv, parseCalicoAPIConfig } from './config.js';

test('env: defaults to etcdv3 on the local endpoint', () => {
  assert.deepEqual(datastoreConfigFromEnv({}), { datastoreType: 'etcdv3', etcdEndpoints: [DEFAULT_ETCD_ENDPOINT], source: 'environment' });
});

test('env: endpoints list, TLS files and credentials', () => {
  const c = datastoreConfigFromEnv({
    DATASTORE_TYPE: 'etcdv3',
    ETCD_ENDPOINTS: 'https://10.0.0.1:2379, https://10.0.0.2:2379',
    ETCD_CA_CERT_FILE: '/etc/calico/ca.pem',
    ETCD_CERT_FILE: '/etc/calico/cert.pem',
    ETCD_KEY_FILE: '/etc/calico/key.pem',
    ETCD_USERNAME: 'calico',
    ETCD_PASSWORD: 's3cret',
  });
  assert.deepEqual(c.etcdEndpoints, ['https://10.0.0.1:2379', 'https://10.0.0.2:2379']);
  assert.equal(c.etcdCACertFile, '/etc/calico/ca.pem');
  assert.equal(c.etcdKeyFile, '/etc/calico/key.pem');
  assert.equal(c.etcdUsername, 'calico');
  assert.equal(c.etcdPassword, 's3cret');
});

const bad: [string, Record<string, string>, RegExp][] = [
  ['kubernetes is not supported', { DATASTORE_TYPE: 'kubernetes' }, /kubernetes is not supported/],
  ['unknown datastore type', { DATASTORE_TYPE: 'consul' }, /not a datastore type/],
  ['endpoint not a URL', { ETCD_ENDPOINTS: '127.0.0.1:2379' }, /ETCD_ENDPOINTS: '127.0.0.1:2379'/],
  ['endpoint with wrong scheme', { ETCD_ENDPOINTS: 'unix:///run/etcd.sock' }, /http:\/\/ or https:\/\//],
  ['cert without key', { ETCD_CERT_FILE: '/c.pem' }, /together/],
  ['password without username', { ETCD_PASSWORD: 'x' }, /without a username/],
];
for (const [name, env, message] of bad) {
  test(`env rejected: ${name}`, () => {
    assert.throws(() => datastoreConfigFromEnv(env), (e) => isCalicoError(e, 'invalid-argument') && message.test((e as Error).message));
  });
}

test('config file: CalicoAPIConfig with every field', () => {
  const c = parseCalicoAPIConfig(
    `apiVersion: projectcalico.org/v3
kind: CalicoAPIConfig
metadata: {}
spec:
  datastoreType: etcdv3
  etcdEndpoints: http://192.0.2.1:2379,http://192.0.2.2:2379
  etcdUsername: root
  etcdPassword: pw
  etcdCACertFile: /ca.pem
  etcdCertFile: /cert.pem
  etcdKeyFile: /key.pem
`.replace('metadata: {}\n', ''),
    '/etc/calico/calicoctl.cfg',
  );
  assert.deepEqual(c, {
    datastoreType: 'etcdv3',
    etcdEndpoints: ['http://192.0.2.1:2379', 'http://192.0.2.2:2379'],
    etcdUsername: 'root',
    etcdPassword: 'pw',
    etcdCACertFile: '/ca.pem',
    etcdCertFile: '/cert.pem',
    etcdKeyFile: '/key.pem',
    source: '/etc/calico/calicoctl.cfg',
  });
});

test('config file: errors name the file and the field', () => {
  const cases: [string, RegExp][] = [
    ['kind: Nope\napiVersion: projectcalico.org/v3\n', /cfg: kind must be CalicoAPIConfig/],
    ['kind: CalicoAPIConfig\napiVersion: v1\n', /apiVersion must be projectcalico.org\/v3/],
    ['kind: CalicoAPIConfig\napiVersion: projectcalico.org/v3\nspec:\n  etcdEndpoint: x\n', /spec.etcdEndpoint is not a known field/],
    ['kind: CalicoAPIConfig\napiVersion: projectcalico.org/v3\nspec:\n  datastoreType: kubernetes\n', /spec.datastoreType=kubernetes is not supported/],
    ['kind: [unclosed', /not valid YAML/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseCalicoAPIConfig(text, '/x/calicoctl.cfg'), (e) => isCalicoError(e, 'invalid-argument') && message.test((e as Error).message), text);
  }
});
