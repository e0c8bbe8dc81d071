// bin/calico-node end to end in throw-away network namespaces: etcd and the
// agent run inside a "host" namespace (its own loopback), a workload namespace
// hangs off a cali* veth. Checks: Node registration, readiness, the workload's
// route and our nft table programmed, policy applied, BIRD started from the
// same process, a graceful stop that leaves the dataplane in place, a restart
// that reconciles to the identical kernel state, and an etcd outage that
// leaves the dataplane alone and is caught up after. Everything is deleted even on failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from '../../../src/api/resource.js';
import { eventually } from '../../support/eventually.js';
import { inNs, must, putResource, sh } from './node-shell.js';

const ROOT = new URL('../../../../', import.meta.url).pathname;
const isRoot = process.getuid?.() === 0;
const suffix = `${process.pid % 100000}`;
const HOST = `ctsn-h${suffix}`;
const WL = `ctsn-w${suffix}`;
const IFACE = `cali${suffix.padStart(5, '0')}abcdef`.slice(0, 15);

const inHost = (argv: string[], input?: string) => inNs(HOST, argv, input);


const put = (r: Resource): void => putResource(HOST, 'http://127.0.0.1:23790', r);

test('calico-node: registers, programs a workload, stops/restarts without touching the dataplane, survives an etcd outage', { skip: isRoot ? false : 'needs root (network namespaces)' }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cts-node-etcd-'));
  const runDir = mkdtempSync(join(tmpdir(), 'cts-node-run-'));
  const procs: ChildProcess[] = [];
  let nodeLog = '';
  try {
    must(['ip', 'netns', 'add', HOST]);
    must(['ip', 'netns', 'add', WL]);
    inHost(['ip', 'link', 'set', 'lo', 'up']);
    must(['ip', '-n', HOST, 'link', 'add', IFACE, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', WL]);
    inHost(['ip', 'link', 'set', IFACE, 'up']);
    must(['ip', '-n', WL, 'link', 'set', 'eth0', 'up']);
    must(['ip', '-n', WL, 'addr', 'add', '198.18.1.2/32', 'dev', 'eth0']);
    const mac = must(['ip', '-n', WL, '-j', 'link', 'show', 'eth0']);
    const wlMac = (JSON.parse(mac) as Array<{ address: string }>)[0]!.address;

    const startEtcd = () => {
      const etcd = spawn('ip', ['netns', 'exec', HOST, 'etcd', '--data-dir', dataDir, '--listen-client-urls', 'http://127.0.0.1:23790', '--advertise-client-urls', 'http://127.0.0.1:23790', '--listen-peer-urls', 'http://127.0.0.1:23800'], { stdio: 'ignore' });
      procs.push(etcd);
      return etcd;
    };
    let etcd = startEtcd();
    await eventually('etcd', () => sh(['ip', 'netns', 'exec', HOST, 'env', 'ETCDCTL_API=3', 'etcdctl', '--endpoints', 'http://127.0.0.1:23790', 'endpoint', 'health']).code === 0 || undefined);

    put({ apiVersion: 'projectcalico.org/v3', kind: 'Profile', metadata: { name: 'kns.default' }, spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] } });
    put({
      apiVersion: 'projectcalico.org/v3',
      kind: 'WorkloadEndpoint',
      metadata: { name: 'wl1', namespace: 'default', labels: { app: 'web' } },
      spec: { node: 'host1', orchestrator: 'k8s', interfaceName: IFACE, mac: wlMac, ipNetworks: ['198.18.1.2/32'], profiles: ['kns.default'] },
    });
    put({ apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: 'allow-web' }, spec: { selector: "app == 'web'", ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [80] } }] } });

    const startNode = () => {
      const proc = spawn('ip', ['netns', 'exec', HOST, join(ROOT, 'bin/calico-node')], {
        env: {
          ...process.env,
          NODENAME: 'host1',
          // Default pools are covered by startup.test.ts; this test's kernel state stays about its workload.
          NO_DEFAULT_POOLS: 'true',
          IP: '192.0.2.10/24',
          CALICO_NETWORKING_BACKEND: 'bird',
          CALICO_RUN_DIR: runDir,
          DATASTORE_TYPE: 'etcdv3',
          ETCD_ENDPOINTS: 'http://127.0.0.1:23790',
          FELIX_HEALTHENABLED: 'true',
          FELIX_HEALTHHOST: '127.0.0.1',
          FELIX_HEALTHPORT: '29099',
          FELIX_LOGSEVERITYSCREEN: 'Info',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      procs.push(proc);
      proc.stderr!.on('data', (d: Buffer) => (nodeLog += d.toString()));
      return { proc, exited: new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code))) };
    };
    const ready = () => sh(['ip', 'netns', 'exec', HOST, 'curl', '-sf', 'http://127.0.0.1:29099/readiness']).code === 0;
    const kernelState = () =>
      inHost(['nft', 'list', 'ruleset']) + inHost(['ip', '-4', 'route', 'show']) + inHost(['ip', '-6', 'route', 'show']) + inHost(['ip', 'neigh', 'show', 'nud', 'permanent']);
    const first = startNode();
    const node = first.proc;
    const exited = first.exited;

    await eventually('readiness', () => ready() || undefined, 30000);
    const stored = inHost(['env', 'ETCDCTL_API=3', 'etcdctl', '--endpoints', 'http://127.0.0.1:23790', 'get', '--print-value-only', '/calico/resources/v3/projectcalico.org/nodes/host1']);
    assert.equal(JSON.parse(stored).spec.bgp.ipv4Address, '192.0.2.10/24');
    assert.match(nodeLog, /using IPv4 address from IP/);
    const routes = inHost(['ip', 'route', 'show', 'dev', IFACE]);
    assert.match(routes, /198\.18\.1\.2/);
    assert.match(inHost(['ip', 'neigh', 'show', '198.18.1.2', 'dev', IFACE]), new RegExp(`lladdr ${wlMac} PERMANENT`), 'static neighbour entry with the endpoint MAC');
    const ruleset = inHost(['nft', 'list', 'ruleset']);
    assert.match(ruleset, /table/);
    assert.match(ruleset, /dport 80/, 'the policy reached the kernel');
    // BGP shares the process: BIRD is started with a config rendered under CALICO_RUN_DIR.
    await eventually('BIRD answering', () => /BIRD/.test(sh(['ip', 'netns', 'exec', HOST, 'birdc', '-s', join(runDir, 'bird', 'bird.ctl'), 'show', 'status']).out) || undefined);

    const before = inHost(['nft', 'list', 'ruleset']);
    node.kill('SIGTERM');
    assert.equal(await exited, 0, `calico-node exit code; log:\n${nodeLog}`);
    assert.equal(inHost(['nft', 'list', 'ruleset']), before, 'graceful stop leaves the dataplane as it was');
    assert.match(inHost(['ip', 'route', 'show', 'dev', IFACE]), /198\.18\.1\.2/);

    // Restart: the new agent reconciles to byte-for-byte the same kernel state.
    const settled = kernelState();
    const second = startNode();
    await eventually('readiness after restart', () => ready() || undefined, 30000);
    assert.equal(kernelState(), settled, 'restart leaves the kernel objects exactly as they were');

    // etcd away for a while: the dataplane stays, the agent stays live, and catches up afterwards.
    etcd.kill('SIGKILL');
    await new Promise((r) => etcd.once('exit', r));
    await new Promise((r) => setTimeout(r, 5000));
    assert.equal(kernelState(), settled, 'datastore outage does not touch the dataplane');
    assert.equal(second.proc.exitCode, null, 'the agent keeps running while etcd is down');
    etcd = startEtcd();
    await eventually('etcd back', () => sh(['ip', 'netns', 'exec', HOST, 'env', 'ETCDCTL_API=3', 'etcdctl', '--endpoints', 'http://127.0.0.1:23790', 'endpoint', 'health']).code === 0 || undefined);
    put({ apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: 'allow-web' }, spec: { selector: "app == 'web'", ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [8443] } }] } });
    await eventually('change after reconnect applied', () => /dport 8443/.test(inHost(['nft', 'list', 'ruleset'])) || undefined, 40000);
    second.proc.kill('SIGTERM');
    assert.equal(await second.exited, 0);
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    sh(['ip', 'netns', 'del', WL]);
    // Processes inside the namespace (etcd via ip netns exec) die with their parent's kill above.
    sh(['ip', 'netns', 'pids', HOST]).out.split('\n').filter(Boolean).forEach((pid) => sh(['kill', '-9', pid]));
    sh(['ip', 'netns', 'del', HOST]);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(runDir, { recursive: true, force: true });
  }
});
