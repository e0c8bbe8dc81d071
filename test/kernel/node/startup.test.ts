// calico-node's start-up duties and probes on a real host namespace with a
// real etcd: two `calico-node -startup` at once make one default pool per
// family; the agent autodetects its addresses (can-reach= through the kernel's
// route lookup, interface= for IPv6), writes ClusterInformation so `calicoctl
// version` shows the cluster, and `calico-node -felix-ready / -bird-ready /
// -bird-live / -felix-live` report what is true. Everything is deleted even on failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resourceKeyPath } from '../../../src/datastore/keys.js';
import { eventually } from '../../support/eventually.js';

const ROOT = new URL('../../../../', import.meta.url).pathname;
const isRoot = process.getuid?.() === 0;
const suffix = `${process.pid % 100000}`;
const HOST = `ctsu-h${suffix}`;
const PEER = `ctsu-p${suffix}`;
const ETCD = 'http://127.0.0.1:23791';

function sh(argv: string[], opts: { env?: Record<string, string> } = {}): { code: number; out: string; err: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: { ...process.env, ...opts.env } });
  return { code: r.status ?? 1, out: r.stdout ?? '', err: r.stderr ?? '' };
}
const must = (argv: string[]): string => {
  const r = sh(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.err}`);
  return r.out;
};
const inHost = (argv: string[], env: Record<string, string> = {}) => sh(['ip', 'netns', 'exec', HOST, 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv]);
const etcdGet = (key: string, prefix = false) => inHost(['etcdctl', '--endpoints', ETCD, 'get', ...(prefix ? ['--prefix'] : []), '--print-value-only', key], { ETCDCTL_API: '3' }).out;


test('calico-node start-up: default pools once (two nodes at once), autodetected addresses, ClusterInformation for calicoctl version, real probes', { skip: isRoot ? false : 'needs root (network namespaces)' }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cts-startup-etcd-'));
  const runDir = mkdtempSync(join(tmpdir(), 'cts-startup-run-'));
  const procs: ChildProcess[] = [];
  let nodeLog = '';
  const nodeEnv = {
    DATASTORE_TYPE: 'etcdv3',
    ETCD_ENDPOINTS: ETCD,
    CALICO_RUN_DIR: runDir,
    FELIX_HEALTHENABLED: 'true',
    FELIX_HEALTHHOST: '127.0.0.1',
    FELIX_HEALTHPORT: '29111',
    FELIX_LOGSEVERITYSCREEN: 'Info',
  };
  const calicoNode = (args: string[], env: Record<string, string> = {}) => inHost([join(ROOT, 'bin/calico-node'), ...args], { ...nodeEnv, ...env });
  try {
    must(['ip', 'netns', 'add', HOST]);
    must(['ip', 'netns', 'add', PEER]);
    must(['ip', '-n', HOST, 'link', 'set', 'lo', 'up']);
    must(['ip', '-n', HOST, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', PEER]);
    for (const ns of [HOST, PEER]) must(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    must(['ip', '-n', HOST, 'addr', 'add', '198.18.20.1/24', 'dev', 'eth0']);
    must(['ip', '-n', HOST, '-6', 'addr', 'add', '2001:db8:20::1/64', 'dev', 'eth0', 'nodad']);
    must(['ip', '-n', PEER, 'addr', 'add', '198.18.20.2/24', 'dev', 'eth0']);

    procs.push(spawn('ip', ['netns', 'exec', HOST, 'etcd', '--data-dir', dataDir, '--listen-client-urls', ETCD, '--advertise-client-urls', ETCD, '--listen-peer-urls', 'http://127.0.0.1:23801'], { stdio: 'ignore' }));
    await eventually('etcd', () => inHost(['etcdctl', '--endpoints', ETCD, 'endpoint', 'health'], { ETCDCTL_API: '3' }).code === 0);

    // Bad pool settings: a clear error naming the variable, exit 2, nothing written.
    const bad = calicoNode(['-startup'], { NODENAME: 'n-bad', IP: '198.18.20.9/24', CALICO_IPV4POOL_IPIP: 'Always' });
    assert.equal(bad.code, 2, bad.err);
    assert.match(bad.err, /CALICO_IPV4POOL_IPIP: .*IPIP encapsulation is not supported by calico-ts/);
    assert.equal(etcdGet('/calico/resources/v3/projectcalico.org/', true), '', 'nothing written');

    // Two nodes doing their start-up at once, each with its own idea of the pools: one pool per family.
    const startupAt = (name: string, ip: string, v4: string, v6: string) =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const p = spawn('ip', ['netns', 'exec', HOST, join(ROOT, 'bin/calico-node'), '-startup'], {
          env: { ...process.env, ...nodeEnv, NODENAME: name, IP: ip, CALICO_IPV4POOL_CIDR: v4, CALICO_IPV6POOL_CIDR: v6, CLUSTER_TYPE: 'k8s' },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        procs.push(p);
        let err = '';
        p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
        p.on('exit', (code) => resolve({ code, err }));
      });
    const [a, b] = await Promise.all([startupAt('n-a', '198.18.20.11/24', '198.18.128.0/24', '2001:db8:128::/64'), startupAt('n-b', '198.18.20.12/24', '198.18.129.0/24', '2001:db8:129::/64')]);
    assert.equal(a.code, 0, a.err);
    assert.equal(b.code, 0, b.err);
    const pools = etcdGet('/calico/resources/v3/projectcalico.org/ippools/', true)
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { metadata: { name: string }; spec: { cidr: string; natOutgoing: boolean } });
    assert.deepEqual(pools.map((p) => p.metadata.name).sort(), ['default-ipv4-ippool', 'default-ipv6-ippool'], 'exactly one pool per family');
    assert.ok(['198.18.128.0/24', '198.18.129.0/24'].includes(pools.find((p) => p.metadata.name === 'default-ipv4-ippool')!.spec.cidr));
    assert.equal(pools.find((p) => p.metadata.name === 'default-ipv4-ippool')!.spec.natOutgoing, true);
    const guid = (JSON.parse(etcdGet(resourceKeyPath({ kind: 'ClusterInformation', name: 'default' }))) as { spec: { clusterGUID: string } }).spec.clusterGUID;
    assert.match(guid, /^[0-9a-f]{32}$/);

    // The agent: addresses detected through the kernel (can-reach) and the interface list (IPv6).
    const node = spawn('ip', ['netns', 'exec', HOST, join(ROOT, 'bin/calico-node')], {
      env: {
        ...process.env,
        ...nodeEnv,
        NODENAME: 'host1',
        IP_AUTODETECTION_METHOD: 'can-reach=198.18.20.2',
        IP6: 'autodetect',
        IP6_AUTODETECTION_METHOD: 'interface=eth0',
        CALICO_IPV4POOL_CIDR: '198.18.130.0/24',
        CALICO_IPV6POOL_CIDR: '2001:db8:130::/64',
        CLUSTER_TYPE: 'k8s,bgp',
        CALICO_NETWORKING_BACKEND: 'bird',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    procs.push(node);
    node.stderr!.on('data', (d: Buffer) => (nodeLog += d.toString()));
    const exited = new Promise<number | null>((resolve) => node.on('exit', resolve));

    const ready = await eventually('calico-node -felix-ready to pass', () => {
      const r = calicoNode(['-felix-ready']);
      return r.code === 0 ? r : undefined;
    });
    assert.match(ready.out, /^calico\/node is ready: Felix is ready\n$/);
    const stored = JSON.parse(etcdGet(resourceKeyPath({ kind: 'Node', name: 'host1' }))) as { spec: { bgp: { ipv4Address: string; ipv6Address: string } } };
    assert.deepEqual(stored.spec.bgp, { ipv4Address: '198.18.20.1/24', ipv6Address: '2001:db8:20::1/64' });
    assert.match(nodeLog, /autodetected IPv4 address.*can-reach=198\.18\.20\.2: the kernel routes to 198\.18\.20\.2 from 198\.18\.20\.1/);
    assert.equal(etcdGet('/calico/resources/v3/projectcalico.org/ippools/', true).split('\n').filter(Boolean).length, 2, 'pools exist: the agent created none');

    const version = inHost([join(ROOT, 'bin/calicoctl'), 'version'], { ETCD_ENDPOINTS: ETCD, DATASTORE_TYPE: 'etcdv3' });
    assert.equal(version.code, 0, version.err);
    assert.match(version.out, /Cluster Version: +v0\.1\.0/);
    assert.match(version.out, /Cluster Type: +k8s,bgp/);

    // BIRD meshes with n-a and n-b, which run no BIRD: within the threshold that is not ready.
    await eventually('BIRD answering', () => calicoNode(['-bird-live']).code === 0);
    const unready = await eventually('-bird-ready naming the mesh peers', () => {
      const r = calicoNode(['-bird-ready']);
      return r.code === 1 && /BGP not established with 198\.18\.20\.11,198\.18\.20\.12/.test(r.out) ? r : undefined;
    });
    assert.match(unready.out, /^calico\/node is not ready: BIRD is not ready: BGP not established with/);
    assert.equal(calicoNode(['-bird-ready', '-threshold-time=0s']).code, 1, 'after the threshold one session must be up; none is');
    // Without those nodes there are no peers: ready.
    for (const n of ['n-a', 'n-b']) assert.equal(inHost([join(ROOT, 'bin/calicoctl'), 'delete', 'node', n], { ETCD_ENDPOINTS: ETCD, DATASTORE_TYPE: 'etcdv3' }).code, 0);
    const birdReady = await eventually('-bird-ready once there are no peers', () => {
      const r = calicoNode(['-bird-ready']);
      return r.code === 0 ? r : undefined;
    });
    assert.match(birdReady.out, /BIRD is ready \(no BGP peers\)/);

    node.kill('SIGTERM');
    assert.equal(await exited, 0, `calico-node exit code; log:\n${nodeLog}`);
    const dead = calicoNode(['-felix-live']);
    assert.equal(dead.code, 1);
    assert.match(dead.out, /Felix is not live: GET http:\/\/127\.0\.0\.1:29111\/liveness: ECONNREFUSED/);

    // A restart keeps the cluster's GUID.
    assert.equal(calicoNode(['-startup'], { NODENAME: 'host1', IP: 'autodetect', IP_AUTODETECTION_METHOD: 'cidr=198.18.20.0/24', CLUSTER_TYPE: 'k8s,bgp' }).code, 0);
    const after = JSON.parse(etcdGet(resourceKeyPath({ kind: 'ClusterInformation', name: 'default' }))) as { spec: Record<string, unknown> };
    assert.deepEqual(after.spec, { calicoVersion: 'v0.1.0', clusterGUID: guid, clusterType: 'k8s,bgp', datastoreReady: true });
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    // BIRD runs in its own session inside the namespace: kill whatever is left there.
    sh(['ip', 'netns', 'pids', HOST]).out.split('\n').filter(Boolean).forEach((pid) => sh(['kill', '-9', pid]));
    sh(['ip', 'netns', 'del', PEER]);
    sh(['ip', 'netns', 'del', HOST]);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(runDir, { recursive: true, force: true });
  }
});
