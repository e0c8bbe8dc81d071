import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNetConf, resolveMtu, resolveNodeName, type NetConf } from './config.js';
import { CALICO_FIELDS, CALICO_IPAM_FIELDS } from './config-fields.js';
import { CniError } from './protocol.js';

const BASE = { cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'calico', ipam: { type: 'calico-ipam' } };
const parse = (extra: Record<string, unknown>, env: Record<string, string> = {}): NetConf => parseNetConf(JSON.stringify({ ...BASE, ...extra }), { plugin: 'calico', env });

function failure(f: () => unknown): CniError {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof CniError, `expected CniError, got ${String(err)}`);
    return err;
  }
  assert.fail('accepted');
}

test('config: honoured Calico fields are read into the plan inputs', () => {
  const c = parse({
    etcd_endpoints: 'http://198.18.0.1:2379,https://198.18.0.2:2379',
    etcd_ca_cert_file: '/ca.pem',
    etcd_cert_file: '/c.pem',
    etcd_key_file: '/k.pem',
    datastore_type: 'etcdv3',
    nodename: 'host1',
    nodename_file: '/run/x/nodename',
    nodename_file_optional: true,
    hostname: 'old-name',
    mtu: 1400,
    num_queues: 4,
    log_level: 'DEBUG',
    log_file_path: '/var/log/calico/cni.log',
    container_settings: { allow_ip_forwarding: true },
    include_default_routes: true,
    readiness_gates: ['http://127.0.0.1:9099/readiness'],
    policy_setup_timeout_seconds: 10,
    endpoint_status_dir: '/run/calico/endpoint-status',
    require_mtu_file: false,
    policy: { type: '' },
    feature_control: { ip_addrs_no_ipam: false, floating_ips: false },
    device_type: 'veth',
    dns: { nameservers: ['192.0.2.53'], search: ['svc.local'] },
    runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], dns: { servers: ['198.51.100.53'], searches: ['a.example'] } },
    args: {
      cni: { labels: [{ key: 'app', value: 'web' }], ips: ['198.18.0.7/24'] },
      'org.apache.mesos': { network_info: { labels: { labels: [{ key: 'tier', value: 'front' }] } } },
      'projectcalico.org': { ports: [{ name: 'http', protocol: 'TCP', port: 80 }] },
    },
    ipam: { type: 'calico-ipam', assign_ipv4: 'true', assign_ipv6: 'true', ipv4_pools: ['198.18.0.0/24', 'pool-b'], ipv6_pools: ['2001:db8::/112'], routes: [{ dst: '198.51.100.0/24' }] },
  });
  assert.deepEqual(c.ipam, { type: 'calico-ipam', assignIpv4: true, assignIpv6: true, ipv4Pools: ['198.18.0.0/24', 'pool-b'], ipv6Pools: ['2001:db8::/112'] });
  assert.deepEqual(c.datastore.etcdEndpoints, ['http://198.18.0.1:2379', 'https://198.18.0.2:2379']);
  assert.equal(c.datastore.etcdCACertFile, '/ca.pem');
  assert.equal(c.datastore.etcdCertFile, '/c.pem');
  assert.equal(c.datastore.etcdKeyFile, '/k.pem');
  assert.deepEqual(c.node, { nodename: 'host1', nodenameFiles: ['/run/x/nodename'], nodenameFileOptional: true, hostnameField: 'old-name' });
  assert.equal(c.mtu, 1400);
  assert.equal(c.numQueues, 4);
  assert.equal(c.logLevel, 'debug');
  assert.equal(c.logFilePath, '/var/log/calico/cni.log');
  assert.equal(c.allowIpForwarding, true);
  assert.equal(c.includeDefaultRoutes, true);
  assert.deepEqual(c.routes, ['198.51.100.0/24']);
  assert.deepEqual(c.readinessGates, ['http://127.0.0.1:9099/readiness']);
  assert.equal(c.policySetupTimeoutSeconds, 10);
  assert.equal(c.endpointStatusDir, '/run/calico/endpoint-status');
  // runtimeConfig.dns (the runtime's) overrides the configured dns field by field.
  assert.deepEqual(c.dns, { nameservers: ['198.51.100.53'], search: ['a.example'] });
  assert.deepEqual(c.portMappings, [{ hostPort: 8080, containerPort: 80, protocol: 'TCP' }]);
  assert.deepEqual(c.labels, { app: 'web', tier: 'front' });
  assert.deepEqual(c.ips, ['198.18.0.7']);
  assert.deepEqual(c.namedPorts, [{ name: 'http', protocol: 'TCP', port: 80 }]);
  assert.deepEqual(c.notes, []);
});

test('config: defaults are Calico\'s', () => {
  const c = parse({});
  assert.equal(c.mtu, undefined);
  assert.equal(c.numQueues, 1);
  assert.deepEqual(c.datastore.etcdEndpoints, ['http://127.0.0.1:2379']);
  assert.equal(c.ipam.assignIpv4, true);
  assert.equal(c.ipam.assignIpv6, false);
  assert.deepEqual(c.node, { nodenameFiles: ['/var/lib/calico/nodename', '/var/run/calico/nodename'], nodenameFileOptional: false });
  assert.equal(c.endpointStatusDir, '/var/run/calico/endpoint-status');
  assert.equal(c.policySetupTimeoutSeconds, 0);
  assert.equal(c.allowIpForwarding, false);
  assert.equal(c.logLevel, 'info');
});

test('config: the datastore falls back to the variables calicoctl reads; the config wins over them', () => {
  const env = { ETCD_ENDPOINTS: 'https://198.51.100.1:2379', ETCD_CA_CERT_FILE: '/env-ca.pem', ETCD_CERT_FILE: '/env-c.pem', ETCD_KEY_FILE: '/env-k.pem', ETCD_USERNAME: 'calico', ETCD_PASSWORD: 'pw' };
  const fromEnv = parse({}, env);
  assert.deepEqual(fromEnv.datastore.etcdEndpoints, ['https://198.51.100.1:2379']);
  assert.equal(fromEnv.datastore.etcdCACertFile, '/env-ca.pem');
  assert.equal(fromEnv.datastore.etcdUsername, 'calico');
  const mixed = parse({ etcd_endpoints: 'http://192.0.2.1:2379', etcd_ca_cert_file: '/conf-ca.pem' }, env);
  assert.deepEqual(mixed.datastore.etcdEndpoints, ['http://192.0.2.1:2379']);
  assert.equal(mixed.datastore.etcdCACertFile, '/conf-ca.pem');
  assert.equal(mixed.datastore.etcdCertFile, '/env-c.pem');
  // DATASTORE_TYPE=kubernetes in the environment does not switch the plugin away from etcd.
  assert.equal(parse({}, { DATASTORE_TYPE: 'kubernetes' }).datastore.datastoreType, 'etcdv3');
});

test('config: refused fields are error 2 and the message names the field, its value and the fix', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['kubernetes datastore', { datastore_type: 'kubernetes' }, /datastore_type="kubernetes".*etcdv3/],
    ['k8s policy', { policy: { type: 'k8s' } }, /policy.type="k8s".*Kubernetes API/],
    ['floating_ips', { feature_control: { floating_ips: true } }, /feature_control.floating_ips=true/],
    ['unknown feature', { feature_control: { magic: true } }, /feature_control.magic=true/],
    ['vxlan mode', { mode: 'vxlan' }, /mode="vxlan".*encapsulation/],
    ['etcd discovery', { etcd_discovery_srv: 'example.com' }, /etcd_discovery_srv="example.com"/],
    ['etcd_scheme', { etcd_scheme: 'https' }, /etcd_scheme="https".*etcd_endpoints/],
    ['etcd_authority', { etcd_authority: '127.0.0.1:2379' }, /etcd_authority=.*etcd_endpoints/],
    ['dataplane_options', { dataplane_options: { type: 'grpc' } }, /dataplane_options=.*gRPC/],
    ['device type', { device_type: 'tap' }, /device_type="tap"/],
    ['ipMasq', { ipMasq: true }, /ipMasq=true.*natOutgoing/],
    ['inline pem (not a Calico field)', { etcd_key: 'PEM' }, /etcd_key="PEM"/],
    ['unknown field', { bogus: 1 }, /bogus=1/],
    ['unknown calico-ipam field', { ipam: { type: 'calico-ipam', ranges: [] } }, /ipam.ranges=\[\]/],
  ];
  for (const [name, extra, msg] of cases) {
    const e = failure(() => parse(extra));
    assert.equal(e.code, 2, `${name}: ${e.message}`);
    assert.match(e.message, msg, name);
  }
});

test('config: invalid values are error 7 (6 for undecodable, 1 for the version), naming the field', () => {
  const cases: [string, string, number, RegExp][] = [
    ['not JSON', '{', 6, /not JSON/],
    ['not an object', '[1]', 6, /JSON object/],
    ['unsupported version', JSON.stringify({ ...BASE, cniVersion: '0.2.0' }), 1, /cniVersion 0.2.0.*supported/],
    ['no name', JSON.stringify({ ...BASE, name: undefined }), 7, /'name' is required/],
    ['bad name', JSON.stringify({ ...BASE, name: '-x' }), 7, /name '-x'/],
    ['wrong type', JSON.stringify({ ...BASE, type: 'bridge' }), 7, /type 'bridge'/],
    ['no ipam', JSON.stringify({ ...BASE, ipam: undefined }), 7, /'ipam' is required/],
    ['no family', JSON.stringify({ ...BASE, ipam: { type: 'calico-ipam', assign_ipv4: 'false' } }), 7, /assigns no address/],
    ['assign flag', JSON.stringify({ ...BASE, ipam: { type: 'calico-ipam', assign_ipv6: 'yes' } }), 7, /ipam.assign_ipv6/],
    ['v6 cidr in v4 pools', JSON.stringify({ ...BASE, ipam: { type: 'calico-ipam', ipv4_pools: ['2001:db8::/64'] } }), 7, /not an IPv4 CIDR/],
    ['bad route', JSON.stringify({ ...BASE, ipam: { type: 'calico-ipam', routes: [{ dst: 'nowhere' }] } }), 7, /ipam.routes entry 'nowhere'/],
    ['mtu', JSON.stringify({ ...BASE, mtu: 20 }), 7, /'mtu' must be an integer from 68/],
    ['bad endpoint', JSON.stringify({ ...BASE, etcd_endpoints: 'ftp://198.18.0.1:2379' }), 7, /ETCD_ENDPOINTS.*http/],
    ['cert without key', JSON.stringify({ ...BASE, etcd_cert_file: '/c.pem' }), 7, /together/],
    ['log level', JSON.stringify({ ...BASE, log_level: 'loud' }), 7, /log_level/],
    ['timeout', JSON.stringify({ ...BASE, policy_setup_timeout_seconds: -1 }), 7, /policy_setup_timeout_seconds/],
    ['gate', JSON.stringify({ ...BASE, readiness_gates: ['not a url'] }), 7, /readiness_gates/],
    ['label key', JSON.stringify({ ...BASE, args: { cni: { labels: [{ key: 'a b', value: 'x' }] } } }), 7, /args.cni.labels\[0\].key/],
    ['reserved label', JSON.stringify({ ...BASE, args: { cni: { labels: [{ key: 'projectcalico.org/namespace', value: 'x' }] } } }), 7, /reserved/],
    ['ip', JSON.stringify({ ...BASE, args: { cni: { ips: ['300.1.1.1'] } } }), 7, /args.cni.ips entry/],
    ['port mapping', JSON.stringify({ ...BASE, runtimeConfig: { portMappings: [{ hostPort: 0, containerPort: 80 }] } }), 7, /hostPort/],
    ['named port', JSON.stringify({ ...BASE, args: { 'projectcalico.org': { ports: [{ name: 'HTTP', port: 80 }] } } }), 7, /\.name must be a port name/],
    ['attachments', JSON.stringify({ ...BASE, 'cni.dev/valid-attachments': [{ containerID: 1 }] }), 7, /valid-attachments\[0\]/],
  ];
  for (const [name, text, want, msg] of cases) {
    const e = failure(() => parseNetConf(text, { plugin: 'calico' }));
    assert.equal(e.code, want, `${name}: ${e.message}`);
    assert.match(e.message, msg, name);
  }
});

test('config: ignored fields are accepted with one log line each', () => {
  const c = parse({ qps: 5, burst: 10, kubernetes: { kubeconfig: '/etc/k' }, ipam_lock_file: '/run/lock', log_file_max_size: 100, vxlan_vni: 4096, windows_use_single_network: true, calico_api_group: 'crd.projectcalico.org', capabilities: { portMappings: true } });
  for (const f of ['qps', 'burst', 'kubernetes', 'ipam_lock_file', 'log_file_max_size', 'vxlan_vni', 'windows_use_single_network', 'calico_api_group']) {
    assert.ok(c.notes.some((n) => n.startsWith(`${f} is ignored`)), `${f}: ${c.notes.join(' | ')}`);
  }
  assert.ok(!c.notes.some((n) => n.startsWith('capabilities')), 'capabilities is the runtime\'s: no noise');
  assert.ok(parse({ device_type: 'netkit' }).notes.some((n) => /netkit: using a veth/.test(n)));
  assert.ok(parse({ ipam: { type: 'calico-ipam', subnet: 'usePodCidr' } }).notes.some((n) => /ipam.subnet is ignored/.test(n)));
});

test('config: every Calico NetConf field is classified exactly once', () => {
  // cni-plugin/pkg/types NetConf json names (plus the spec's well-known keys we classify).
  const calico = ['cniVersion', 'name', 'type', 'mode', 'vxlan_mac_prefix', 'vxlan_vni', 'ipam', 'qps', 'burst', 'args', 'mtu', 'num_queues', 'nodename', 'nodename_file', 'ipam_lock_file',
    'nodename_file_optional', 'datastore_type', 'etcd_endpoints', 'etcd_discovery_srv', 'log_level', 'log_file_path', 'log_file_max_size', 'log_file_max_age', 'log_file_max_count', 'policy',
    'kubernetes', 'feature_control', 'etcd_scheme', 'etcd_key_file', 'etcd_cert_file', 'etcd_ca_cert_file', 'container_settings', 'include_default_routes', 'dataplane_options', 'device_type',
    'windows_pod_deletion_timestamp_timeout', 'windows_use_single_network', 'windows_disable_default_deny_all_policy', 'windows_loopback_DSR', 'runtimeConfig', 'readiness_gates',
    'policy_setup_timeout_seconds', 'endpoint_status_dir', 'etcd_authority', 'hostname', 'require_mtu_file', 'calico_api_group'];
  const listed = CALICO_FIELDS.map((f) => f.field);
  assert.equal(new Set(listed).size, listed.length, 'no field twice');
  for (const f of calico) assert.ok(listed.includes(f), `${f} is not classified`);
  for (const f of ['ipam.type', 'ipam.assign_ipv4', 'ipam.assign_ipv6', 'ipam.ipv4_pools', 'ipam.ipv6_pools', 'ipam.subnet']) assert.ok(CALICO_IPAM_FIELDS.some((r) => r.field === f), f);
});

test('config: calico-ipam reads a delegating plugin\'s config (any type) and ignores its other fields', () => {
  const c = parseNetConf(JSON.stringify({ cniVersion: '1.1.0', name: 'net', type: 'bridge', bridge: 'br0', isGateway: true, ipam: { type: 'calico-ipam', assign_ipv6: 'true', assign_ipv4: 'false' } }), { plugin: 'calico-ipam' });
  assert.equal(c.ipam.assignIpv4, false);
  assert.equal(c.ipam.assignIpv6, true);
});

test('node name: nodename, then the nodename file, then hostname, then the host name; the file must exist unless optional', () => {
  const files = new Map([['/var/run/calico/nodename', 'from-file\n']]);
  const host = { hostname: 'os-host', readFile: (p: string) => files.get(p) };
  const base = { nodenameFiles: ['/var/lib/calico/nodename', '/var/run/calico/nodename'], nodenameFileOptional: false };
  assert.equal(resolveNodeName({ ...base, nodename: 'conf-node', hostnameField: 'h' }, host), 'conf-node');
  assert.equal(resolveNodeName({ ...base, hostnameField: 'h' }, host), 'from-file');
  const none = { hostname: 'os-host', readFile: () => undefined };
  const missing = failure(() => resolveNodeName({ ...base, nodename: 'conf-node' }, none));
  assert.equal(missing.code, 11);
  assert.match(missing.message, /\/var\/lib\/calico\/nodename \(or \/var\/run\/calico\/nodename\) does not exist.*calico-node.*nodename_file_optional/);
  files.set('/var/lib/calico/nodename', 'calico-file');
  assert.equal(resolveNodeName(base, host), 'calico-file', 'Calico\'s file first');
  assert.equal(resolveNodeName({ ...base, nodenameFileOptional: true, hostnameField: 'h' }, none), 'h');
  assert.equal(resolveNodeName({ ...base, nodenameFileOptional: true }, none), 'os-host');
  assert.equal(failure(() => resolveNodeName({ ...base, nodenameFileOptional: true, nodename: 'Bad_Name' }, none)).code, 7);
});

test('MTU: the config, else /var/lib/calico/mtu, else the kernel default; require_mtu_file insists on the file', () => {
  const file = (text?: string) => (p: string) => (p === '/var/lib/calico/mtu' ? text : undefined);
  assert.equal(resolveMtu({ mtu: 1400, requireMtuFile: true }, file()), 1400);
  assert.equal(resolveMtu({ requireMtuFile: false }, file('1440\n')), 1440);
  assert.equal(resolveMtu({ requireMtuFile: false }, file()), undefined);
  assert.match(failure(() => resolveMtu({ requireMtuFile: true }, file())).message, /require_mtu_file/);
  assert.match(failure(() => resolveMtu({ requireMtuFile: false }, file('big'))).message, /not an MTU/);
});
