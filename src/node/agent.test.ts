import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryKV } from '../datastore/memory-kv.js';
import { ResourceStore } from '../datastore/resource-store.js';
import { fold, gnp, res, wep } from '../calc/fixtures.test-support.js';
import { CalicoNode } from './agent.js';
import { nodeConfigFromEnv } from './config.js';
import type { FelixSettings } from './config.js';
import { FakeDataplane } from './dataplane.js';
import { FakeClock } from '../dataplane/fakes.js';
import { createLogger } from './log.js';
import { startHttpEndpoints } from './health-server.js';
import { desiredNode } from './registration.js';

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !cond(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(cond(), 'condition not reached');
}

function setup(env: Record<string, string>) {
  const ds = new ResourceStore(new MemoryKV());
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', sink: (l) => lines.push(l), now: () => new Date(0) });
  const dataplanes: FakeDataplane[] = [];
  let settings: FelixSettings | undefined;
  const clock = new FakeClock();
  const node = new CalicoNode({
    config: nodeConfigFromEnv(env, 'host-a'),
    env,
    datastore: ds,
    log,
    hostAddresses: () => [{ iface: 'eth0', address: '192.0.2.10', prefixLength: 24, family: 4, internal: false }],
    makeDataplane: (s) => {
      settings = s;
      dataplanes.push(new FakeDataplane());
      return dataplanes.at(-1)!;
    },
    clock,
  });
  return {
    ds,
    lines,
    get dataplane() {
      return dataplanes.at(-1)!;
    },
    dataplanes,
    clock,
    node,
    settings: () => settings,
  };
}

test('agent: registers its Node, merges FelixConfiguration, feeds the dataplane, reports health and metrics', async () => {
  const t = setup({ NODENAME: 'node-a', AS: '64512', FELIX_LOGSEVERITYSCREEN: 'Debug', FELIX_BOGUS: 'x' });
  await t.ds.create(res('FelixConfiguration', 'default', { defaultEndpointToHostAction: 'Accept', logSeverityScreen: 'Warning' }));
  await t.ds.create(res('FelixConfiguration', 'node.node-a', { healthPort: 9199 }));
  await t.ds.create(wep({ name: 'w', ips: ['10.0.0.1'], labels: { app: 'w' } }));
  await t.ds.create(gnp('p', { selector: 'all()', ingress: [{ action: 'Allow' }] }));
  assert.equal(t.node.health().live, false, 'not live before start');
  await t.node.start();
  const stored = await t.ds.get({ kind: 'Node', name: 'node-a' });
  assert.deepEqual((stored.spec as { bgp: unknown }).bgp, { ipv4Address: '192.0.2.10/24', asNumber: 64512 });
  assert.ok(t.lines.some((l) => /autodetected IPv4 address/.test(l) && /first-found/.test(l)), 'the choice and its reason are logged');
  assert.ok(t.lines.some((l) => /FELIX_BOGUS/.test(l)));
  const s = t.settings()!;
  assert.equal(s.logSeverityScreen, 'Debug');
  assert.equal(s.healthPort, 9199);
  assert.equal(s.defaultEndpointToHostAction, 'Accept');
  await until(() => t.node.health().ready);
  const state = fold(t.dataplane.batches);
  assert.ok(state.inSync);
  assert.deepEqual(state.workloadEndpoints.get('default/w')!.policies.ingress[0]!.policies, ['gnp/p']);
  const metrics = t.node.renderMetrics();
  assert.match(metrics, /^felix_active_local_endpoints 1$/m);
  assert.match(metrics, /^felix_active_local_policies 1$/m);
  assert.match(metrics, /^calico_node_datastore_in_sync 1$/m);

  // HTTP endpoints on a free loopback port.
  const http = await startHttpEndpoints([{ host: '127.0.0.1', port: 0, serveHealth: true, serveMetrics: true }], t.node);
  const base = `http://127.0.0.1:${http.ports[0]}`;
  assert.equal((await fetch(`${base}/readiness`)).status, 200);
  assert.equal((await fetch(`${base}/liveness`)).status, 200);
  assert.match(await (await fetch(`${base}/metrics`)).text(), /# TYPE felix_int_dataplane_apply_time_seconds histogram/);
  assert.equal((await fetch(`${base}/nope`)).status, 404);

  // A FelixConfiguration change rebuilds the dataplane in process (live-config.test.ts has the details).
  await t.ds.update({ ...(await t.ds.get({ kind: 'FelixConfiguration', name: 'default' })), spec: { defaultEndpointToHostAction: 'Drop' } });
  await until(() => t.lines.some((l) => /FelixConfiguration changed; applying/.test(l)));
  t.clock.advance(500);
  await until(() => t.dataplanes.length === 2);
  assert.equal(t.settings()!.defaultEndpointToHostAction, 'Drop');

  await t.node.stop();
  assert.ok(t.dataplanes.every((d) => d.stopped));
  assert.equal(t.node.state, 'stopped');
  assert.equal((await fetch(`${base}/readiness`)).status, 503);
  await http.close();
  await t.ds.close();
});

test('agent: an existing Node keeps its other fields; autodetection failure refuses to start', async () => {
  const t = setup({ NODENAME: 'node-a', IP: '192.0.2.20/24', IP6: '2001:db8::20/64' });
  await t.ds.create(res('Node', 'node-a', { bgp: { ipv4Address: '192.0.2.1/24', routeReflectorClusterID: '1.0.0.1' }, orchRefs: [{ orchestrator: 'k8s' }] }));
  await t.node.start();
  const spec = (await t.ds.get({ kind: 'Node', name: 'node-a' })).spec as Record<string, unknown>;
  assert.deepEqual(spec.bgp, { ipv4Address: '192.0.2.20/24', routeReflectorClusterID: '1.0.0.1', ipv6Address: '2001:db8::20/64' });
  assert.deepEqual(spec.orchRefs, [{ orchestrator: 'k8s' }]);
  await t.node.stop();
  await t.ds.close();

  const u = setup({ NODENAME: 'node-b', IP_AUTODETECTION_METHOD: 'interface=bond9' });
  await assert.rejects(u.node.start(), /cannot autodetect.*IP=<address>/);
  assert.equal(u.node.state, 'failed');
  await assert.rejects(u.ds.get({ kind: 'Node', name: 'node-b' }), 'no Node is registered with a guessed address');
  await u.ds.close();
});

test('desiredNode drops addresses no longer configured', () => {
  const current = { apiVersion: 'projectcalico.org/v3', kind: 'Node' as const, metadata: { name: 'n' }, spec: { bgp: { ipv4Address: '192.0.2.1/24', ipv6Address: '2001:db8::1/64' } } };
  const next = desiredNode(current, { nodeName: 'n', ipv4: '192.0.2.2/24' });
  assert.deepEqual(next.spec, { bgp: { ipv4Address: '192.0.2.2/24' }, addresses: [{ address: '192.0.2.2', type: 'CalicoNodeIP' }] });
});
