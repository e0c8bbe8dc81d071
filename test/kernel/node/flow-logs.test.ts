// Flow logs end to end: bin/calico-node in a throw-away host namespace with
// etcd, two workloads on cali* veths, a tiered policy that denies TCP 5432 and
// allows TCP 8080 into one of them. Flow logs start off (no NFLOG rule, no
// reader), are switched on live through FelixConfiguration, and then a denied
// and an allowed connection each produce a JSON-lines record naming both
// workloads, the verdict and the tier / policy / rule, and per-policy
// counters on the metrics endpoint. Everything is deleted even on failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from '../../../src/api/resource.js';
import type { FlowLogLine } from '../../../src/flowlogs/record.js';
import { eventually } from '../../support/eventually.js';
import { inNs, must, putResource, sh } from './node-shell.js';

const ROOT = new URL('../../../../', import.meta.url).pathname;
const isRoot = process.getuid?.() === 0;
const suffix = `${process.pid % 100000}`;
const HOST = `ctfl-h${suffix}`;
const WA = `ctfl-a${suffix}`;
const WB = `ctfl-b${suffix}`;
const UP = `ctfl-u${suffix}`;
const IFA = `cali${suffix.padStart(5, '0')}fla`.slice(0, 15);
const IFB = `cali${suffix.padStart(5, '0')}flb`.slice(0, 15);
const ETCD = 'http://127.0.0.1:23791';



const put = (r: Resource): void => putResource(HOST, ETCD, r);

function workload(ns: string, iface: string, ip: string): string {
  must(['ip', 'netns', 'add', ns]);
  must(['ip', '-n', HOST, 'link', 'add', iface, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  inNs(HOST, ['ip', 'link', 'set', iface, 'up']);
  must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  must(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
  must(['ip', '-n', ns, 'addr', 'add', `${ip}/32`, 'dev', 'eth0']);
  // Calico's workload plumbing: the gateway 169.254.1.1 is answered by the host (proxy ARP).
  must(['ip', '-n', ns, 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
  must(['ip', '-n', ns, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
  return (JSON.parse(must(['ip', '-n', ns, '-j', 'link', 'show', 'eth0'])) as Array<{ address: string }>)[0]!.address;
}

const connect = (port: number) => sh(['ip', 'netns', 'exec', WA, 'timeout', '3', 'bash', '-c', `exec 3<>/dev/tcp/198.18.1.3/${port}`]).code === 0;

test('flow logs: off by default; switched on live, a denied and an allowed connection each give a record naming the endpoints, verdict and tier/policy/rule, and per-policy counters', { skip: isRoot ? false : 'needs root (network namespaces)' }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cts-fl-etcd-'));
  const runDir = mkdtempSync(join(tmpdir(), 'cts-fl-run-'));
  const flowDir = mkdtempSync(join(tmpdir(), 'cts-fl-logs-'));
  const procs: ChildProcess[] = [];
  let nodeLog = '';
  try {
    must(['ip', 'netns', 'add', HOST]);
    inNs(HOST, ['ip', 'link', 'set', 'lo', 'up']);
    // An uplink with a default route, as a real host has: proxy ARP answers for 169.254.1.1 only when the host routes it elsewhere.
    must(['ip', 'netns', 'add', UP]);
    must(['ip', '-n', HOST, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', UP]);
    must(['ip', '-n', HOST, 'addr', 'add', '192.0.2.10/24', 'dev', 'eth0']);
    must(['ip', '-n', UP, 'addr', 'add', '192.0.2.1/24', 'dev', 'eth0']);
    must(['ip', '-n', HOST, 'link', 'set', 'eth0', 'up']);
    must(['ip', '-n', UP, 'link', 'set', 'eth0', 'up']);
    must(['ip', '-n', HOST, 'route', 'add', 'default', 'via', '192.0.2.1']);
    const macA = workload(WA, IFA, '198.18.1.2');
    const macB = workload(WB, IFB, '198.18.1.3');
    const etcd = spawn('ip', ['netns', 'exec', HOST, 'etcd', '--data-dir', dataDir, '--listen-client-urls', ETCD, '--advertise-client-urls', ETCD, '--listen-peer-urls', 'http://127.0.0.1:23801'], { stdio: 'ignore' });
    procs.push(etcd);
    await eventually('etcd', () => sh(['ip', 'netns', 'exec', HOST, 'env', 'ETCDCTL_API=3', 'etcdctl', '--endpoints', ETCD, 'endpoint', 'health']).code === 0);

    const v3 = (kind: Resource['kind'], name: string, spec: Record<string, unknown>, meta: Partial<Resource['metadata']> = {}): Resource => ({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name, ...meta }, spec });
    put(v3('Profile', 'kns.default', { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] }));
    const wep = (name: string, iface: string, mac: string, ip: string, app: string) =>
      put(v3('WorkloadEndpoint', name, { node: 'host1', orchestrator: 'k8s', interfaceName: iface, mac, ipNetworks: [`${ip}/32`], profiles: ['kns.default'] }, { namespace: 'default', labels: { app } }));
    wep('client', IFA, macA, '198.18.1.2', 'client');
    wep('db', IFB, macB, '198.18.1.3', 'db');
    put(v3('Tier', 'security', { order: 100 }));
    put(v3('GlobalNetworkPolicy', 'security.db', {
      tier: 'security',
      order: 10,
      selector: "app == 'db'",
      types: ['Ingress'],
      ingress: [
        { action: 'Deny', protocol: 'TCP', destination: { ports: [5432] } },
        { action: 'Allow', protocol: 'TCP', destination: { ports: [8080] } },
      ],
    }));
    // Something listening on both ports, so only policy decides.
    const server = spawn('ip', ['netns', 'exec', WB, process.execPath, '-e', "for (const p of [5432, 8080]) require('net').createServer((s) => s.end('ok')).listen(p, '0.0.0.0')"], { stdio: 'ignore' });
    procs.push(server);

    const node = spawn('ip', ['netns', 'exec', HOST, join(ROOT, 'bin/calico-node')], {
      env: {
        ...process.env,
        NODENAME: 'host1',
        NO_DEFAULT_POOLS: 'true',
        IP: '192.0.2.10/24',
        CALICO_NETWORKING_BACKEND: 'none',
        CALICO_RUN_DIR: runDir,
        DATASTORE_TYPE: 'etcdv3',
        ETCD_ENDPOINTS: ETCD,
        FELIX_HEALTHENABLED: 'true',
        FELIX_HEALTHHOST: '127.0.0.1',
        FELIX_HEALTHPORT: '29199',
        FELIX_PROMETHEUSMETRICSENABLED: 'true',
        FELIX_PROMETHEUSMETRICSHOST: '127.0.0.1',
        FELIX_PROMETHEUSMETRICSPORT: '29191',
        FELIX_LOGSEVERITYSCREEN: 'Info',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    procs.push(node);
    node.stderr!.on('data', (d: Buffer) => (nodeLog += d.toString()));
    await eventually('readiness', () => sh(['ip', 'netns', 'exec', HOST, 'curl', '-sf', 'http://127.0.0.1:29199/readiness']).code === 0);
    await eventually('policy in the kernel', () => /dport 8080/.test(inNs(HOST, ['nft', 'list', 'table', 'inet', 'calico'])));
    const diagnostics = () => [inNs(HOST, ['nft', 'list', 'table', 'inet', 'calico']), inNs(HOST, ['ip', 'route']), inNs(HOST, ['ip', 'neigh']), inNs(WB, ['ss', '-ltn']), nodeLog.slice(-3000)].join('\n');
    // The server may still be starting: the allowed port answers once it listens.
    await eventually('TCP 8080 allowed', () => connect(8080), 20000).catch((err: Error) => assert.fail(`${err.message}\n${diagnostics()}`));
    assert.equal(connect(5432), false, 'TCP 5432 denied');

    // Off by default: no NFLOG rule, no reader process, no file.
    assert.doesNotMatch(inNs(HOST, ['nft', 'list', 'table', 'inet', 'calico']), /group 20|cali-fl/);
    assert.doesNotMatch(sh(['ip', 'netns', 'pids', HOST]).out.split('\n').filter(Boolean).map((pid) => sh(['cat', `/proc/${pid}/comm`]).out).join(''), /tcpdump/);
    assert.equal(existsSync(join(flowDir, 'flows.log')), false);

    // On, live.
    put(v3('FelixConfiguration', 'default', { flowLogsFileEnabled: true, flowLogsFileDirectory: flowDir, flowLogsFlushInterval: '1s' }));
    await eventually('NFLOG rules rendered', () => /log prefix "cali-fl\|D\|I" group 20/.test(inNs(HOST, ['nft', 'list', 'table', 'inet', 'calico'])));
    await eventually('NFLOG reader running', () => /flow logs on/.test(nodeLog));
    // The reader binds its group asynchronously: repeat the allowed connection until it is logged.
    const records = () => (existsSync(join(flowDir, 'flows.log')) ? readFileSync(join(flowDir, 'flows.log'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as FlowLogLine) : []);
    const allowed = await eventually('a record of the allowed connection', () => {
      connect(8080);
      return records().find((r) => r.action === 'allow' && r.dest_port === 8080 && r.reporter === 'dst');
    }).catch((err: Error) => assert.fail(`${err.message}\nrecords:\n${records().map((r) => JSON.stringify(r)).join('\n')}\n${nodeLog.split('\n').filter((l) => /flow/i.test(l)).join('\n')}`));
    // Conntrack counters are joined when the connection is still in the table at the flush (not
    // always the case here: see docs/design/flow-logs.md); when present they must be the connection's.
    for (const r of records().filter((x) => x.conntrack)) {
      assert.ok(r.action === 'allow' && r.conntrack!.orig_packets >= 1 && r.conntrack!.reply_packets >= 1 && r.conntrack!.orig_bytes >= 40, JSON.stringify(r));
    }
    assert.equal(connect(5432), false);
    const denied = await eventually('a record of the denied connection', () => records().find((r) => r.action === 'deny' && r.dest_port === 5432));

    for (const r of [allowed, denied]) {
      assert.deepEqual([r.source_ip, r.source_type, r.source_namespace, r.source_name], ['198.18.1.2', 'wep', 'default', 'client'], JSON.stringify(r));
      assert.deepEqual([r.dest_ip, r.dest_type, r.dest_namespace, r.dest_name, r.proto, r.reporter, r.host], ['198.18.1.3', 'wep', 'default', 'db', 'tcp', 'dst', 'host1'], JSON.stringify(r));
      assert.ok(r.packets >= 1 && r.bytes >= 40 && r.start_time <= r.end_time, JSON.stringify(r));
    }
    assert.deepEqual(denied.policy, { decided_by: 'rule', tier: 'security', name: 'gnp/security.db', rule: 0 });
    assert.deepEqual(allowed.policy, { decided_by: 'rule', tier: 'security', name: 'gnp/security.db', rule: 1 });
    // The client's own egress (its profile allows) is logged too, by the source side.
    assert.ok(records().some((r) => r.action === 'allow' && r.reporter === 'src' && r.dest_port === 8080 && r.policy.name === 'profile:kns.default'));

    const metrics = inNs(HOST, ['curl', '-sf', 'http://127.0.0.1:29191/metrics']);
    const count = (action: string) => Number(new RegExp(`^calico_flow_logs_policy_packets_total\\{action="${action}",tier="security",policy="gnp/security.db"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0);
    assert.ok(count('deny') >= 1 && count('allow') >= 1, metrics);

    // Off again: rules gone, reader stopped.
    put(v3('FelixConfiguration', 'default', { flowLogsFileEnabled: false }));
    await eventually('NFLOG rules removed', () => !/cali-fl/.test(inNs(HOST, ['nft', 'list', 'table', 'inet', 'calico'])));
    await eventually('reader stopped', () => /flow logs off/.test(nodeLog));
    node.kill('SIGTERM');
    assert.equal(await new Promise((resolve) => (node.exitCode !== null ? resolve(node.exitCode) : node.once('exit', resolve))), 0, nodeLog);
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    for (const ns of [WA, WB, UP, HOST]) {
      sh(['ip', 'netns', 'pids', ns]).out.split('\n').filter(Boolean).forEach((pid) => sh(['kill', '-9', pid]));
      sh(['ip', 'netns', 'del', ns]);
    }
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(runDir, { recursive: true, force: true });
    rmSync(flowDir, { recursive: true, force: true });
  }
});
