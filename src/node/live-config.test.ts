// Live FelixConfiguration through the whole agent: in-memory datastore, the
// real ApplyLoopDataplane over fake ports, one fake clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryKV } from '../datastore/memory-kv.js';
import { ResourceStore } from '../datastore/resource-store.js';
import { res, wep } from '../calc/fixtures.test-support.js';
import { FakeClock, fakePorts } from '../dataplane/fakes.js';
import { renderNftFull } from '../render/nft/render.js';
import { compileRuleset } from '../rules/compile-endpoints.js';
import { modelFromCalc } from '../dataplane/model-from-calc.js';
import { CalicoNode } from './agent.js';
import { dataplaneConfigFrom, dataplaneKeyFrom, nodeConfigFromEnv, policyBackendFrom, refreshIntervalsFrom } from './config.js';
import type { FelixSettings } from './config.js';
import { ApplyLoopDataplane } from './dataplane.js';
import { createLogger } from './log.js';
import type { BgpInputs } from '../bgp/model.js';

const IFACE = 'caliw000000000a';

async function tick(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

async function setup(opts: { env?: Record<string, string>; felix?: Record<string, unknown>; bgp?: boolean } = {}) {
  const ds = new ResourceStore(new MemoryKV());
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', sink: (l) => lines.push(l), now: () => new Date(0) });
  const clock = new FakeClock();
  const ports = fakePorts();
  ports.routes.devices.add(IFACE);
  ports.links.links = [{ name: IFACE, index: 7, up: true }];
  const built: { dp: ApplyLoopDataplane; settings: FelixSettings }[] = [];
  const onSettings: string[][] = [];
  const bgpUpdates: BgpInputs[] = [];
  const env = { NODENAME: 'node-a', IP: '192.0.2.10/24', ...(opts.env ?? {}) };
  if (opts.felix) await ds.create(res('FelixConfiguration', 'default', opts.felix));
  await ds.create(res('Profile', 'kns.default', { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] }));
  await ds.create(wep({ name: 'w', node: 'node-a', ips: ['198.18.0.1/32'], iface: IFACE }));
  const node = new CalicoNode({
    config: nodeConfigFromEnv(env, 'host-a'),
    env,
    datastore: ds,
    log,
    hostAddresses: () => [],
    clock,
    dataplaneKey: dataplaneKeyFrom,
    onSettings: (_s, changed) => onSettings.push(changed),
    ...(opts.bgp ? { bgp: { update: async (i: BgpInputs) => void bgpUpdates.push(i), stop: async () => undefined } } : {}),
    makeDataplane: (settings) => {
      const dp = new ApplyLoopDataplane({ ports, backend: policyBackendFrom(settings), config: dataplaneConfigFrom(settings), ...refreshIntervalsFrom(settings), clock, log: () => undefined, onFatal: (e) => lines.push(`fatal ${e.message}`) });
      built.push({ dp, settings });
      return dp;
    },
  });
  /** Lets watch events arrive and timers (settle delay, apply rounds) fire. */
  const run = async (ms: number) => {
    await tick();
    for (let t = 0; t < ms; t += 100) {
      clock.advance(100);
      await tick();
      for (const b of built) await b.dp.loop.roundFinished();
    }
  };
  /** The fake kernel now holds what the current dataplane wrote (the nft fake does not keep state by itself). */
  const kernelIsCurrent = () => {
    const last = built.at(-1)!;
    ports.nft.listing = renderNftFull(compileRuleset(modelFromCalc(last.dp.managers.snapshot(), dataplaneConfigFrom(last.settings))));
  };
  const update = async (name: string, spec: Record<string, unknown>) => {
    const cur = await ds.get({ kind: 'FelixConfiguration', name }).catch(() => undefined);
    // Merged into what is stored: start-up wrote Calico's defaults (reportingInterval, logSeverityScreen).
    if (cur) await ds.update({ ...cur, spec: { ...(cur.spec as object), ...spec } });
    else await ds.create(res('FelixConfiguration', name, spec));
  };
  await node.start();
  await run(300);
  assert.ok(node.health().ready, 'ready after the first round');
  return { ds, lines, clock, ports, built, onSettings, bgpUpdates, node, run, kernelIsCurrent, update };
}

test('defaultEndpointToHostAction Drop -> Accept: one rebuild, only the changed chain is written, routes untouched', async () => {
  const t = await setup();
  t.kernelIsCurrent();
  const nftBefore = t.ports.nft.log.length;
  const routesBefore = t.ports.routes.log.length;
  await t.update('default', { defaultEndpointToHostAction: 'Accept' });
  await t.run(0);
  assert.deepEqual(t.onSettings.at(-1), ['defaultEndpointToHostAction']);
  assert.equal(t.built.length, 1, 'not before the settle delay');
  await t.run(800);
  assert.equal(t.built.length, 2);
  assert.equal(t.built[0]!.dp.loop.state, 'stopped', 'the old loop stopped gracefully');
  const writes = t.ports.nft.log.slice(nftBefore).filter((l) => l.startsWith('apply'));
  assert.equal(writes.length, 1, 'one transaction');
  const chains = [...writes[0]!.matchAll(/chain inet calico (\S+)/g)].map((m) => m[1]);
  assert.deepEqual([...new Set(chains)], ['cali-wl-to-host'], `only the chain that changed: ${writes[0]}`);
  assert.match(writes[0]!, /accept comment "endpoint to host action"/);
  assert.deepEqual(t.ports.routes.log.slice(routesBefore), ['list 4', 'list 6'], 'routes read back, none written');
  assert.ok(t.node.health().ready);
  assert.match(t.node.renderMetrics(), /^calico_node_dataplane_rebuilds_total 1$/m);
  assert.match(t.node.renderMetrics(), /^calico_node_felix_configuration_updates_total\{result="applied"\} 1$/m);
  await t.node.stop();
});

test('a burst of FelixConfiguration changes (default and node.<name>) is one rebuild with the final settings', async () => {
  const t = await setup();
  await t.update('default', { defaultEndpointToHostAction: 'Accept' });
  await t.run(0);
  await t.update('node.node-a', { interfacePrefix: 'cali,tap' });
  await t.run(0);
  await t.update('default', { defaultEndpointToHostAction: 'Return' });
  await t.run(800);
  assert.equal(t.built.length, 2);
  assert.equal(t.built[1]!.settings.defaultEndpointToHostAction, 'Return');
  assert.deepEqual(dataplaneConfigFrom(t.built[1]!.settings).workloadInterfacePrefixes, ['cali', 'tap'], 'interfacePrefix re-derived');
  assert.ok(t.ports.nft.log.at(-1)!.includes('"tap*"'), 'the new prefix reached the ruleset');
  await t.node.stop();
});

test('backend switch (nftablesMode Disabled): iptables is programmed first, then our nft table goes', async () => {
  const t = await setup();
  t.kernelIsCurrent();
  await t.update('default', { nftablesMode: 'Disabled' });
  await t.run(800);
  assert.equal(t.built.length, 2);
  const j = t.ports.journal;
  const restore = j.findIndex((l) => l.startsWith('iptables restore 4'));
  const del = j.indexOf('nft apply delete table inet calico\n');
  assert.ok(restore >= 0 && del > restore, 'new backend in place before the old one is removed');
  assert.match(t.node.renderMetrics(), /^calico_node_backend_objects_removed_total 1$/m);
  await t.node.stop();
});

test('FELIX_* still wins: a stored value it overrides changes nothing', async () => {
  const t = await setup({ env: { FELIX_DEFAULTENDPOINTTOHOSTACTION: 'Drop' } });
  // Start-up's own write of Calico's defaults may already count as one unchanged version.
  const unchanged = () => Number(/^calico_node_felix_configuration_updates_total\{result="unchanged"\} (\d+)$/m.exec(t.node.renderMetrics())?.[1] ?? 0);
  const before = unchanged();
  await t.update('default', { defaultEndpointToHostAction: 'Accept' });
  await t.run(800);
  assert.equal(t.built.length, 1);
  assert.deepEqual(t.onSettings, [[]], 'only the start-up call');
  assert.equal(unchanged(), before + 1);
  await t.node.stop();
});

test('an invalid FelixConfiguration never replaces the working settings; the log names resource and field', async () => {
  const t = await setup({ felix: { defaultEndpointToHostAction: 'Accept' } });
  // Written around validation (like etcdctl would): the in-memory store does not validate.
  await t.update('default', { defaultEndpointToHostAction: 'Drop', healthPort: 99999 });
  await t.run(800);
  assert.equal(t.built.length, 1, 'no rebuild');
  assert.equal(t.node.settings!.defaultEndpointToHostAction, 'Accept', 'the previous version stays in force');
  const err = t.lines.find((l) => l.includes('FelixConfiguration default is invalid'))!;
  assert.ok(err, t.lines.join('\n'));
  assert.match(err, /"level":"error"/);
  assert.match(err, /spec\.healthPort: 99999 is out of range/);
  assert.match(err, /previous settings stay in force/);
  assert.match(t.node.renderMetrics(), /^calico_node_felix_configuration_updates_total\{result="rejected"\} 1$/m);
  // Deleting it is valid: the built-in value applies again.
  await t.ds.delete({ kind: 'FelixConfiguration', name: 'default' });
  await t.run(800);
  assert.equal(t.node.settings!.defaultEndpointToHostAction, 'Drop');
  assert.equal(t.built.length, 2);
  await t.node.stop();
});

test('at start-up an invalid field is dropped (the rest applies) and logged', async () => {
  const t = await setup({ felix: { defaultEndpointToHostAction: 'Accept', healthPort: 99999 } });
  assert.equal(t.built[0]!.settings.defaultEndpointToHostAction, 'Accept');
  assert.equal(t.built[0]!.settings.healthPort, 9099);
  assert.ok(t.lines.some((l) => /FelixConfiguration default has invalid fields; they are ignored/.test(l) && /spec\.healthPort/.test(l)));
  await t.node.stop();
});

test('log level changes apply at once and rebuild nothing; BGP is not disturbed by a rebuild', async () => {
  const t = await setup({ bgp: true });
  const bgpBefore = t.bgpUpdates.length;
  assert.ok(bgpBefore >= 1);
  await t.update('node.node-a', { logSeverityScreen: 'Debug' });
  await t.run(0);
  assert.deepEqual(t.onSettings.at(-1), ['logSeverityScreen'], 'reported without waiting for the settle delay');
  await t.run(800);
  assert.equal(t.built.length, 1, 'the dataplane does not depend on the log level');
  await t.update('default', { defaultEndpointToHostAction: 'Accept' });
  await t.run(800);
  assert.equal(t.built.length, 2);
  assert.equal(t.bgpUpdates.length, bgpBefore, 'no BGP update for a FelixConfiguration change');
  await t.node.stop();
});
