import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CalcUpdate, WorkloadEndpointState } from '../calc/output.js';
import { FakeClock } from '../dataplane/fakes.js';
import type { Dataplane, DataplaneStatus } from './dataplane.js';
import { EndpointStatusReporter, endpointStatusDir, statusDirectory, type StatusFiles } from './endpoint-status.js';

/** A dataplane whose rounds the test finishes by hand. */
class SteppedDataplane implements Dataplane {
  rounds = 0;
  state = 'waiting-for-sync';
  healthy = true;
  pendingFailures = 0;
  readonly applied: CalcUpdate[] = [];
  apply(updates: CalcUpdate[]): void {
    this.applied.push(...updates);
  }
  status(): DataplaneStatus {
    return { state: this.state, healthy: this.healthy, programmed: this.rounds > 0, pendingFailures: this.pendingFailures, metrics: { rounds: this.rounds } as DataplaneStatus['metrics'] };
  }
  async stop(): Promise<void> {
    this.state = 'stopped';
  }
}

class MemoryFiles implements StatusFiles {
  readonly files = new Map<string, string>();
  write(name: string, content: string): void {
    this.files.set(name, content);
  }
  remove(name: string): void {
    this.files.delete(name);
  }
  list(): string[] {
    return [...this.files.keys()];
  }
}

const endpoint = (pod: string): WorkloadEndpointState => ({
  id: `web/host1-k8s-${pod}-eth0`,
  namespace: 'web',
  name: `host1-k8s-${pod}-eth0`,
  interfaceName: `cali${pod}`,
  mac: '02:00:00:00:00:01',
  ipv4Nets: ['198.18.0.1/32'],
  ipv6Nets: [],
  policies: { ingress: [], egress: [] },
  profileIds: ['kns.web'],
  hasIngressPolicy: false,
  hasEgressPolicy: false,
});

function setup() {
  const inner = new SteppedDataplane();
  const files = new MemoryFiles();
  const clock = new FakeClock();
  const reporter = new EndpointStatusReporter(inner, { files, clock, pollMs: 10 });
  return { inner, files, clock, reporter };
}

test('endpoint status: the file appears only after a round that carried the endpoint has finished', () => {
  const { inner, files, clock, reporter } = setup();
  reporter.apply([{ type: 'workloadEndpointUpserted', endpoint: endpoint('a') }, { type: 'inSync' }]);
  assert.equal(inner.applied.length, 2, 'updates pass through');
  clock.advance(100);
  assert.equal(files.files.size, 0, 'nothing before the first round');
  inner.rounds = 1;
  inner.state = 'idle';
  clock.advance(10);
  assert.deepEqual([...files.files.keys()], ['k8s web%2Fa eth0']);
  assert.deepEqual(JSON.parse(files.files.get('k8s web%2Fa eth0')!), { ifaceName: 'calia', mac: '02:00:00:00:00:01', ipv4Nets: ['198.18.0.1/32'], ipv6Nets: [], profiles: ['kns.web'] });
});

test('endpoint status: an endpoint recorded during a running round waits for the round after', () => {
  const { inner, files, clock, reporter } = setup();
  inner.rounds = 3;
  inner.state = 'applying';
  reporter.apply([{ type: 'workloadEndpointUpserted', endpoint: endpoint('b') }]);
  inner.rounds = 4; // the running round ends: it compiled its input before the update came
  inner.state = 'idle';
  clock.advance(50);
  assert.equal(files.files.size, 0);
  inner.rounds = 5;
  clock.advance(10);
  assert.equal(files.files.size, 1);
});

test('endpoint status: nothing is reported while failures are pending or the dataplane is unhealthy; removal deletes the file', () => {
  const { inner, files, clock, reporter } = setup();
  inner.rounds = 1;
  inner.state = 'idle';
  inner.pendingFailures = 1;
  reporter.apply([{ type: 'workloadEndpointUpserted', endpoint: endpoint('c') }]);
  inner.rounds = 2;
  clock.advance(100);
  assert.equal(files.files.size, 0, 'a route or rule still failing: not programmed');
  inner.pendingFailures = 0;
  inner.healthy = false;
  clock.advance(100);
  assert.equal(files.files.size, 0, 'unhealthy: not programmed');
  inner.healthy = true;
  clock.advance(10);
  assert.equal(files.files.size, 1);
  reporter.apply([{ type: 'workloadEndpointRemoved', id: 'web/host1-k8s-c-eth0' }]);
  clock.advance(50);
  assert.equal(files.files.size, 1, 'removed only once a round carried the removal');
  inner.rounds = 3;
  clock.advance(10);
  assert.equal(files.files.size, 0);
});

test('endpoint status: stale files from an earlier run are removed once programmed; stop stops polling', async () => {
  const { inner, files, clock, reporter } = setup();
  files.write('k8s web%2Fgone eth0', '{}');
  reporter.apply([{ type: 'workloadEndpointUpserted', endpoint: endpoint('d') }, { type: 'inSync' }]);
  inner.rounds = 1;
  inner.state = 'idle';
  clock.advance(10);
  assert.deepEqual([...files.files.keys()], ['k8s web%2Fd eth0']);
  reporter.apply([{ type: 'workloadEndpointUpserted', endpoint: endpoint('e') }]);
  await reporter.stop();
  assert.equal(clock.pendingTimers(), 0);
  assert.equal(inner.state, 'stopped');
});

test('endpoint status directory: files are written whole and listed without temp files; the prefix setting decides the place', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cts-status-'));
  try {
    const files = statusDirectory(join(dir, 'endpoint-status'));
    assert.deepEqual(files.list(), []);
    files.write('k8s web%2Fa eth0', '{"x":1}\n');
    writeFileSync(join(dir, 'endpoint-status', '.half.tmp'), '');
    assert.deepEqual(files.list(), ['k8s web%2Fa eth0']);
    assert.equal(readFileSync(join(dir, 'endpoint-status', 'k8s web%2Fa eth0'), 'utf8'), '{"x":1}\n');
    files.remove('k8s web%2Fa eth0');
    files.remove('k8s web%2Fa eth0');
    assert.deepEqual(readdirSync(join(dir, 'endpoint-status')), ['.half.tmp']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(endpointStatusDir(undefined, '/run/node1'), '/run/node1/endpoint-status');
  assert.equal(endpointStatusDir('/var/run/calico', '/run/node1'), '/var/run/calico/endpoint-status');
  assert.equal(endpointStatusDir('', '/run/node1'), undefined);
});
