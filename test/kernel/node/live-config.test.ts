// Live FelixConfiguration on a real bin/calico-node (etcd and the agent in a
// host namespace, two workloads on cali veths):
//   1. defaultEndpointToHostAction Drop -> Accept takes effect (a workload
//      reaches a port on its host) while a ping and a TCP stream between the
//      two workloads run: 0 % loss, every byte arrives, the agent never restarts;
//   2. nftablesMode Disabled switches the backend to iptables + ipset under a
//      ping (0 % loss): our nft table is gone, policy still enforced;
//      and back (Enabled): no cali chain, hook rule or ipset is left.
// Everything is deleted even on failure.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeResource } from '../../../src/datastore/resource-store.js';
import { resourceKeyPath } from '../../../src/datastore/keys.js';
import type { Resource } from '../../../src/api/resource.js';
import { Topology, canRunKernelTests, sh, type Workload } from '../dataplane/topology.js';
import { eventually } from '../../support/eventually.js';

const ROOT = new URL('../../../../', import.meta.url).pathname;
const PROBE = new URL('../dataplane/probe.js', import.meta.url).pathname;
const skip = canRunKernelTests();
const ETCD = 'http://127.0.0.1:23791';


describe('calico-node: FelixConfiguration changes apply live, without losing packets', { skip }, () => {
  const topo = new Topology();
  const dataDir = mkdtempSync(join(tmpdir(), 'cts-live-etcd-'));
  // calico-node writes <CALICO_RUN_DIR>/nodename: a private one, never the machine's /var/run/calico.
  const runDir = mkdtempSync(join(tmpdir(), 'cts-live-run-'));
  const procs: ChildProcess[] = [];
  let h1 = '';
  let w1: Workload;
  let w2: Workload;
  let node: ChildProcess;
  let nodeLog = '';
  let sink: { output: () => string };

  const inH1 = (argv: string[], opts: { input?: string; allowFail?: boolean } = {}) => sh(['ip', 'netns', 'exec', h1, ...argv], opts);
  const put = (r: Resource) => {
    const key = resourceKeyPath({ kind: r.kind, name: r.metadata.name, ...(r.metadata.namespace ? { namespace: r.metadata.namespace } : {}) });
    inH1(['env', 'ETCDCTL_API=3', 'etcdctl', '--endpoints', ETCD, 'put', key], { input: encodeResource(r) });
  };
  const felix = (spec: Record<string, unknown>) => put({ apiVersion: 'projectcalico.org/v3', kind: 'FelixConfiguration', metadata: { name: 'default' }, spec });
  const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(inH1(['curl', '-sf', 'http://127.0.0.1:29191/metrics']))?.[1] ?? 'NaN');
  const toHost = () => spawnSync('ip', ['netns', 'exec', w1.ns, process.execPath, PROBE, 'tcp', '192.0.2.1', '7070', '500'], { encoding: 'utf8' }).status === 0;
  const nftTable = () => sh(['ip', 'netns', 'exec', h1, 'nft', 'list', 'table', 'inet', 'calico'], { allowFail: true });
  const iptablesOurs = () => (inH1(['iptables-save']) + inH1(['ip6tables-save'])).split('\n').filter((l) => /cali/.test(l));
  const ipsetOurs = () => inH1(['ipset', 'save']).split('\n').filter((l) => /^create cali[46]0/.test(l));

  before(async () => {
    ({ h1 } = topo.hosts());
    sh(['ip', '-n', h1, 'route', 'add', 'default', 'via', '192.0.2.2']);
    w1 = topo.workload(h1, { name: 'l1', iface: 'calilc00000001', ip: '198.18.4.1', ip6: '2001:db8:4::1', mac: '02:00:00:00:04:01' });
    w2 = topo.workload(h1, { name: 'l2', iface: 'calilc00000002', ip: '198.18.4.2', ip6: '2001:db8:4::2', mac: '02:00:00:00:04:02' });
    await topo.background(h1, ['serve', '7070', '']);
    sink = await topo.background(w1.ns, ['sink', '8082']);

    const etcd = spawn('ip', ['netns', 'exec', h1, 'etcd', '--data-dir', dataDir, '--listen-client-urls', ETCD, '--advertise-client-urls', ETCD, '--listen-peer-urls', 'http://127.0.0.1:23801'], { stdio: 'ignore' });
    procs.push(etcd);
    await eventually('etcd', () => spawnSync('ip', ['netns', 'exec', h1, 'env', 'ETCDCTL_API=3', 'etcdctl', '--endpoints', ETCD, 'endpoint', 'health']).status === 0);
    put({ apiVersion: 'projectcalico.org/v3', kind: 'Profile', metadata: { name: 'kns.default' }, spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] } });
    for (const w of [w1, w2]) {
      put({
        apiVersion: 'projectcalico.org/v3',
        kind: 'WorkloadEndpoint',
        metadata: { name: w.ns.split('-').pop()!, namespace: 'default' },
        spec: { node: 'host1', orchestrator: 'k8s', interfaceName: w.iface, mac: w.mac, ipNetworks: [`${w.ip}/32`, `${w.ip6}/128`], profiles: ['kns.default'] },
      });
    }
    felix({ defaultEndpointToHostAction: 'Drop' });
    node = spawn('ip', ['netns', 'exec', h1, join(ROOT, 'bin/calico-node')], {
      env: {
        ...process.env,
        NODENAME: 'host1',
        CALICO_RUN_DIR: runDir,
        // This test is about FelixConfiguration; default pools are startup.test.ts's.
        NO_DEFAULT_POOLS: 'true',
        IP: '192.0.2.1/24',
        CALICO_NETWORKING_BACKEND: 'none',
        DATASTORE_TYPE: 'etcdv3',
        ETCD_ENDPOINTS: ETCD,
        FELIX_PROMETHEUSMETRICSENABLED: 'true',
        FELIX_PROMETHEUSMETRICSHOST: '127.0.0.1',
        FELIX_PROMETHEUSMETRICSPORT: '29191',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    procs.push(node);
    node.stderr!.on('data', (d: Buffer) => (nodeLog += d.toString()));
    await eventually('readiness', () => inH1(['curl', '-sf', 'http://127.0.0.1:29191/readiness'], { allowFail: true }).includes('true'), 30_000);
    await eventually('w2 reaches w1', () => topo.ping(w2.ns, w1.ip));
  });

  after(() => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    topo.teardown();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(runDir, { recursive: true, force: true });
  });

  test('defaultEndpointToHostAction Drop -> Accept applies under a ping and a TCP stream: 0 % loss, no agent restart', async (t) => {
    assert.equal(toHost(), false, 'Drop: the workload cannot reach its host');
    const pid = node.pid;
    const ping = topo.run(w2.ns, ['ping', '-n', '-q', '-i', '0.01', '-c', '500', w1.ip]);
    const stream = topo.run(w2.ns, [process.execPath, PROBE, 'stream', w1.ip, '8082', '5']);
    await new Promise((r) => setTimeout(r, 700));
    felix({ defaultEndpointToHostAction: 'Accept' });
    await eventually('Accept in force', toHost, 15_000);
    const [p, s] = await Promise.all([ping, stream]);
    assert.match(p.out, / 0% packet loss/, p.out);
    assert.equal(s.code, 0, `stream: ${s.out}`);
    for (let i = 0; i < 50 && sink.output().trim().split('\n').length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(sink.output().trim().split('\n').at(-1), s.out.trim(), 'every byte sent arrived');
    assert.equal(node.exitCode, null);
    assert.equal(node.pid, pid, 'same process');
    assert.equal(metric('calico_node_dataplane_rebuilds_total'), 1);
    assert.match(nodeLog, /FelixConfiguration changed; applying the new settings.*defaultEndpointToHostAction/);
    t.diagnostic(`stream bytes: ${s.out.trim()}`);
  });

  test('nftablesMode Disabled -> iptables under a ping (0 % loss, old table removed); back to nftables leaves no iptables/ipset object of ours', async () => {
    assert.notEqual(nftTable(), '');
    assert.deepEqual(iptablesOurs(), []);
    const ping = topo.run(w2.ns, ['ping', '-n', '-q', '-i', '0.01', '-c', '400', w1.ip]);
    await new Promise((r) => setTimeout(r, 500));
    felix({ defaultEndpointToHostAction: 'Accept', nftablesMode: 'Disabled' });
    await eventually('iptables backend in place and our nft table gone', () => iptablesOurs().some((l) => l.includes('cali-FORWARD')) && nftTable() === '', 15_000);
    const p = await ping;
    assert.match(p.out, / 0% packet loss/, p.out);
    assert.equal(toHost(), true, 'the live settings carried over to the new backend');
    assert.ok(ipsetOurs().length > 0, 'the iptables backend uses its ipsets');

    const ping2 = topo.run(w2.ns, ['ping', '-n', '-q', '-i', '0.01', '-c', '400', w1.ip]);
    await new Promise((r) => setTimeout(r, 500));
    felix({ defaultEndpointToHostAction: 'Accept', nftablesMode: 'Enabled' });
    await eventually('nftables back and nothing of ours left in iptables/ipset', () => nftTable() !== '' && iptablesOurs().length === 0 && ipsetOurs().length === 0, 15_000);
    const p2 = await ping2;
    assert.match(p2.out, / 0% packet loss/, p2.out);
    assert.equal(toHost(), true);
    assert.equal(node.exitCode, null);
    assert.equal(metric('calico_node_dataplane_rebuilds_total'), 3);
    assert.ok(metric('calico_node_backend_objects_removed_total') >= 2);
  });

  test('an invalid FelixConfiguration is refused and logged; the working settings stay', async () => {
    const rebuilds = metric('calico_node_dataplane_rebuilds_total');
    felix({ defaultEndpointToHostAction: 'Drop', healthPort: 99999 });
    await eventually('refusal logged', () => /FelixConfiguration default is invalid.*spec\.healthPort/.test(nodeLog), 10_000);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(toHost(), true, 'Accept still in force');
    assert.equal(metric('calico_node_dataplane_rebuilds_total'), rebuilds);
    node.kill('SIGTERM');
    await new Promise((r) => node.once('exit', r));
    assert.equal(node.exitCode, 0, nodeLog.slice(-3000));
  });
});
