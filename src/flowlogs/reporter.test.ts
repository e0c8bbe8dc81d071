// Flow logs from NFLOG bytes to JSON lines and Prometheus counters, on fakes:
// a real calc graph for the node's state, a fake clock, a fake reader and an
// in-memory file system.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../api/resource.js';
import { CalcGraph, CALC_KINDS } from '../calc/graph.js';
import { FakeClock } from '../dataplane/fakes.js';
import { createLogger } from '../node/log.js';
import { MetricsRegistry } from '../node/metrics.js';
import { flowLogPrefix } from '../rules/flow-log.js';
import { FakeConntrackTable, FakePacketLogSource, MemoryFileSystem } from './fakes.js';
import { ipv4, pcapStream, type FakeNflog } from './pcap.test-support.js';
import type { FlowLogLine } from './record.js';
import { FlowLogReporter } from './reporter.js';
import { RotatingFile } from './rotating-file.js';

const r = (kind: Resource['kind'], name: string, spec: Record<string, unknown>, extra: { namespace?: string; labels?: Record<string, string> } = {}): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind,
  metadata: { name, ...(extra.namespace ? { namespace: extra.namespace } : {}), ...(extra.labels ? { labels: extra.labels } : {}) },
  spec,
});
const wep = (pod: string, ip: string, app: string) =>
  r('WorkloadEndpoint', `host1-k8s-${pod}-eth0`, { orchestrator: 'k8s', node: 'host1', pod, endpoint: 'eth0', interfaceName: `cali${pod}`, ipNetworks: [`${ip}/32`], profiles: ['kns.prod'] }, { namespace: 'prod', labels: { app, 'projectcalico.org/namespace': 'prod' } });

function state() {
  const graph = new CalcGraph({ nodeName: 'host1' });
  const kinds = new Set<string>(CALC_KINDS);
  const resources = [
    r('Profile', 'kns.prod', { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] }),
    r('Tier', 'security', { order: 100 }),
    // The kernel's prefix names no rule (merged runs stand for many); attribution finds it on this state.
    r('GlobalNetworkPolicy', 'security.db', {
      tier: 'security',
      order: 10,
      selector: "app == 'db'",
      types: ['Ingress'],
      ingress: [
        { action: 'Deny', protocol: 'TCP', source: { selector: "app == 'client'" }, destination: { ports: [5432] } },
        { action: 'Allow', protocol: 'TCP', source: { selector: "app == 'web'" }, destination: { ports: [5432] } },
      ],
    }),
    wep('web-1', '198.18.0.1', 'web'),
    wep('client-1', '198.18.0.2', 'client'),
    wep('db-1', '198.18.0.3', 'db'),
  ];
  for (const res of resources) if (kinds.has(res.kind)) graph.upsert(res);
  graph.onInSync();
  graph.flush();
  return graph.snapshot();
}

function setup(opts: { maxFlows?: number; conntrack?: FakeConntrackTable } = {}) {
  const clock = new FakeClock();
  const source = new FakePacketLogSource();
  const fs = new MemoryFileSystem();
  const metrics = new MetricsRegistry();
  const logs: string[] = [];
  const log = createLogger({ level: 'debug', sink: (l) => logs.push(l), now: () => new Date(0) });
  const s = state();
  const reporter = new FlowLogReporter({
    source,
    file: new RotatingFile({ fs, directory: '/flows', maxFiles: 2, maxFileSizeBytes: 1 << 20 }),
    clock,
    flushIntervalMs: 15000,
    host: 'host1',
    policyState: () => ({ version: 1, state: s }),
    metrics,
    log,
    restartDelayMs: 5000,
    ...(opts.maxFlows ? { maxFlows: opts.maxFlows } : {}),
    ...(opts.conntrack ? { conntrack: opts.conntrack } : {}),
  });
  const lines = () => (fs.files.get('/flows/flows.log') ?? '').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as FlowLogLine);
  return { clock, source, fs, metrics, logs, reporter, lines };
}

const tcp = (src: string, dst: string, sport: number, dport: number, length = 60) => ipv4({ src, dst, protocol: 6, srcPort: sport, dstPort: dport, length });
const at = (timeMs: number, prefix: string, packet: Uint8Array): FakeNflog => ({ timeMs, prefix, family: 4, packet });

test('reporter: a denied and an allowed flow become records naming both endpoints, the verdict and tier / policy / rule; per-policy counters', async () => {
  const { clock, source, reporter, lines, metrics } = setup();
  reporter.start();
  assert.deepEqual(source.ops, ['start']);
  const denied = tcp('198.18.0.2', '198.18.0.3', 40000, 5432);
  const allowed = tcp('198.18.0.1', '198.18.0.3', 40001, 5432, 60);
  source.emit(
    pcapStream([
      at(1_000_000, flowLogPrefix('allow', 'outbound'), tcp('198.18.0.2', '198.18.0.3', 40000, 5432)),
      at(1_000_001, flowLogPrefix('deny', 'inbound'), denied),
      at(1_001_000, flowLogPrefix('deny', 'inbound'), denied), // the retransmitted SYN
      at(1_002_000, flowLogPrefix('allow', 'inbound'), allowed),
      at(1_002_000, 'someone-else', allowed),
    ]),
  );
  assert.equal(lines().length, 0, 'nothing written before the flush interval');
  clock.advance(15000);
  await reporter.flush(); // waits for the timer's batch (an empty one adds nothing)
  const got = lines();
  const deny = got.find((l) => l.action === 'deny')!;
  assert.deepEqual(
    { ...deny },
    {
      start_time: 1000, end_time: 1001, source_ip: '198.18.0.2', source_port: 40000, source_type: 'wep', source_namespace: 'prod', source_name: 'host1-k8s-client-1-eth0',
      dest_ip: '198.18.0.3', dest_port: 5432, dest_type: 'wep', dest_namespace: 'prod', dest_name: 'host1-k8s-db-1-eth0', proto: 'tcp', action: 'deny', reporter: 'dst',
      policy: { decided_by: 'rule', tier: 'security', name: 'gnp/security.db', rule: 0 }, packets: 2, bytes: 120, host: 'host1',
    },
  );
  const allowIn = got.find((l) => l.action === 'allow' && l.reporter === 'dst')!;
  assert.deepEqual([allowIn.source_name, allowIn.dest_name, allowIn.policy], ['host1-k8s-web-1-eth0', 'host1-k8s-db-1-eth0', { decided_by: 'rule', tier: 'security', name: 'gnp/security.db', rule: 1 }]);
  const allowOut = got.find((l) => l.action === 'allow' && l.reporter === 'src')!;
  assert.deepEqual(allowOut.policy, { decided_by: 'rule', tier: '__PROFILE__', name: 'profile:kns.prod', rule: 0 });
  assert.equal(got.length, 3);
  const text = metrics.render();
  assert.match(text, /calico_flow_logs_policy_packets_total\{action="deny",tier="security",policy="gnp\/security.db"\} 2/);
  assert.match(text, /calico_flow_logs_policy_packets_total\{action="allow",tier="security",policy="gnp\/security.db"\} 1/);
  assert.match(text, /calico_flow_logs_policy_bytes_total\{action="deny",tier="security",policy="gnp\/security.db"\} 120/);
  assert.match(text, /calico_flow_logs_foreign_packets_total 1/);
  assert.match(text, /calico_flow_logs_records_written_total 3/);
  // The next interval starts empty.
  clock.advance(15000);
  await reporter.flush();
  assert.equal(lines().length, 3);
  await reporter.stop();
  assert.deepEqual(source.ops, ['start', 'stop']);
});

test('reporter: bounded table: flows past maxFlows are counted, not kept; the next interval has room again', async () => {
  const { clock, source, reporter, lines, metrics, logs } = setup({ maxFlows: 2 });
  reporter.start();
  const recs = [0, 1, 2, 3, 4].map((i) => at(2_000_000 + i, flowLogPrefix('deny', 'inbound'), tcp('203.0.113.9', '198.18.0.3', 50000 + i, 22)));
  source.emit(pcapStream([...recs, recs[4]!]));
  clock.advance(15000);
  await reporter.flush();
  assert.deepEqual(lines().map((l) => l.source_port), [50000, 50001]);
  assert.equal(lines()[0]!.source_type, 'net');
  assert.equal(lines()[0]!.policy.decided_by, 'end-of-tier', 'port 22 is neither of security.db\'s rules: end of tier');
  assert.match(metrics.render(), /calico_flow_logs_dropped_packets_total 4/);
  assert.ok(logs.some((l) => /table full/.test(l) && /"droppedFlows":3/.test(l)), logs.join('\n'));
  source.emit(pcapStream([recs[4]!]).subarray(24)); // same stream: no second header
  clock.advance(15000);
  await reporter.flush();
  assert.deepEqual(lines().map((l) => l.source_port), [50000, 50001, 50004]);
  await reporter.stop();
});

test('reporter: a reader that dies is restarted after the delay; stop flushes what is left and leaves no timer', async () => {
  const { clock, source, reporter, lines, metrics } = setup();
  reporter.start();
  source.crash('tcpdump exited (code 1)');
  assert.equal(source.running, false);
  clock.advance(4999);
  assert.equal(source.running, false);
  clock.advance(1);
  assert.equal(source.running, true);
  assert.match(metrics.render(), /calico_flow_logs_reader_restarts_total 1/);
  // The restarted reader starts a new pcap stream (a header again).
  source.emit(pcapStream([at(3_000_000, flowLogPrefix('deny', 'outbound'), tcp('198.18.0.1', '192.0.2.1', 1, 2))]));
  await reporter.stop();
  assert.equal(lines().length, 1, 'stop wrote the partial interval');
  assert.equal(lines()[0]!.policy.decided_by, 'unattributed', 'the profile allows all egress: the kernel said deny, the state says allow');
  assert.equal(clock.pendingTimers(), 0);
  assert.equal(reporter.state, 'stopped');
});

test('reporter: a write error is logged and counted; later batches are written', async () => {
  const { clock, source, reporter, lines, metrics, fs } = setup();
  reporter.start();
  source.emit(pcapStream([at(1, flowLogPrefix('deny', 'inbound'), tcp('203.0.113.9', '198.18.0.3', 1, 22))]));
  fs.failNextCall(new Error('EACCES'));
  clock.advance(15000);
  await reporter.flush();
  assert.match(metrics.render(), /calico_flow_logs_write_errors_total 1/);
  source.emit(pcapStream([at(2, flowLogPrefix('deny', 'inbound'), tcp('203.0.113.9', '198.18.0.3', 1, 22))]).subarray(24));
  clock.advance(15000);
  await reporter.flush();
  assert.equal(lines().length, 1);
  await reporter.stop();
});

test('reporter: allowed records carry their connection\'s conntrack counters (one table read per flush); denied ones never', async () => {
  const conntrack = new FakeConntrackTable(
    'ipv4     2 tcp      6 117 TIME_WAIT src=198.18.0.1 dst=198.18.0.3 sport=40001 dport=5432 packets=6 bytes=332 src=198.18.0.3 dst=198.18.0.1 sport=5432 dport=40001 packets=4 bytes=224 [ASSURED] mark=0 use=1\n',
  );
  const { clock, source, reporter, lines } = setup({ conntrack });
  reporter.start();
  await Promise.resolve();
  assert.equal(conntrack.accounting, true, 'accounting turned on at start');
  source.emit(
    pcapStream([
      at(1_000_000, flowLogPrefix('allow', 'inbound'), tcp('198.18.0.1', '198.18.0.3', 40001, 5432)),
      at(1_000_000, flowLogPrefix('allow', 'outbound'), tcp('198.18.0.1', '198.18.0.3', 40001, 5432)),
      at(1_000_001, flowLogPrefix('deny', 'inbound'), tcp('198.18.0.2', '198.18.0.3', 40000, 5432)),
      at(1_000_002, flowLogPrefix('allow', 'inbound'), tcp('198.18.0.1', '198.18.0.3', 40002, 5432)),
    ]),
  );
  clock.advance(15000);
  await reporter.flush();
  const got = lines();
  const counters = { orig_packets: 6, orig_bytes: 332, reply_packets: 4, reply_bytes: 224 };
  assert.deepEqual(got.filter((l) => l.source_port === 40001).map((l) => l.conntrack), [counters, counters], 'both sides of the allowed connection');
  assert.equal(got.find((l) => l.action === 'deny')!.conntrack, undefined);
  assert.equal(got.find((l) => l.source_port === 40002)!.conntrack, undefined, 'not in the table (gone, or from before accounting)');
  assert.equal(conntrack.reads, 1);
  await reporter.stop();
});
