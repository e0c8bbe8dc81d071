// calico-node's flow-log wiring: off by default (nothing built, nothing
// rendered), on and off again live with FelixConfiguration, the reporter
// sees the calc state the dataplane was given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryKV } from '../datastore/memory-kv.js';
import { ResourceStore } from '../datastore/resource-store.js';
import { wep } from '../calc/fixtures.test-support.js';
import { CalicoNode, type FlowLogsContext } from './agent.js';
import { dataplaneConfigFrom, dataplaneKeyFrom, effectiveFelixSettings, flowLogSettingsFrom, nodeConfigFromEnv } from './config.js';
import { FakeDataplane } from './dataplane.js';
import { FakeClock } from '../dataplane/fakes.js';
import { createLogger } from './log.js';
import { flowLogsKeyFrom } from './flow-logs.js';

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !cond(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(cond(), 'condition not reached');
}

test('flow-log settings: off by default and then nothing is rendered; flowLogsFile* and flowLogsFlushInterval are read', () => {
  const off = effectiveFelixSettings({});
  assert.equal(flowLogSettingsFrom(off).enabled, false);
  assert.equal(dataplaneConfigFrom(off).flowLogs, undefined);
  assert.equal(flowLogsKeyFrom(off), 'off');
  const on = effectiveFelixSettings({ global: { flowLogsFileEnabled: true, flowLogsFileDirectory: '/var/log/fl', flowLogsFileMaxFiles: 3, flowLogsFileMaxFileSizeMB: 2, flowLogsFlushInterval: '5s' } });
  assert.deepEqual(flowLogSettingsFrom(on), { enabled: true, directory: '/var/log/fl', maxFiles: 3, maxFileSizeBytes: 2 * 1024 * 1024, flushIntervalMs: 5000, nflogGroup: 20 });
  assert.deepEqual(dataplaneConfigFrom(on).flowLogs, { nflogGroup: 20 });
  assert.notEqual(dataplaneKeyFrom(on), dataplaneKeyFrom(off), 'turning flow logs on rebuilds the dataplane (NFLOG rules)');
  // Defaults as Calico documents them; a flush interval of 0 would spin: at least 1 s.
  assert.deepEqual(flowLogSettingsFrom(effectiveFelixSettings({ global: { flowLogsFileEnabled: true, flowLogsFlushInterval: '0s' } })), { enabled: true, directory: '/var/log/calico/flowlogs', maxFiles: 5, maxFileSizeBytes: 100 * 1024 * 1024, flushIntervalMs: 1000, nflogGroup: 20 });
});

test('agent: flow logs start when enabled, see the calc state, and stop when disabled or with the node', async () => {
  const ds = new ResourceStore(new MemoryKV());
  const log = createLogger({ level: 'debug', sink: () => undefined, now: () => new Date(0) });
  const clock = new FakeClock();
  const ops: string[] = [];
  let ctx: FlowLogsContext | undefined;
  const node = new CalicoNode({
    config: nodeConfigFromEnv({ NODENAME: 'host-a' }, 'host-a'),
    env: {},
    datastore: ds,
    log,
    hostAddresses: () => [{ iface: 'eth0', address: '192.0.2.10', prefixLength: 24, family: 4, internal: false }],
    makeDataplane: () => new FakeDataplane(),
    clock,
    flowLogsKey: flowLogsKeyFrom,
    makeFlowLogs: (s, c) => {
      const f = flowLogSettingsFrom(s);
      ops.push(`make ${f.enabled ? f.directory : 'off'}`);
      if (!f.enabled) return undefined;
      ctx = c;
      const dir = f.directory;
      return { start: () => void ops.push(`start ${dir}`), stop: async () => void ops.push(`stop ${dir}`) };
    },
  });
  await ds.create(wep({ name: 'w', node: 'host-a', ips: ['198.18.0.5'], labels: { app: 'w' } }));
  await node.start();
  await until(() => node.health().detail.inSync === true);
  assert.deepEqual(ops, ['make off'], 'off: nothing built');
  const setFelix = async (spec: Record<string, unknown>) => {
    const cur = await ds.get({ kind: 'FelixConfiguration', name: 'default' });
    await ds.update({ ...cur, spec: { ...(cur.spec as object), ...spec } });
  };
  await setFelix({ flowLogsFileEnabled: true, flowLogsFileDirectory: '/a' });
  await until(() => ops.includes('start /a'));
  const s1 = ctx!.policyState();
  assert.deepEqual([...s1.state.workloadEndpoints.keys()], ['default/w']);
  assert.equal(ctx!.policyState(), s1, 'same state object until the calc state changes');
  await ds.create(wep({ name: 'w2', node: 'host-a', ips: ['198.18.0.6'], labels: { app: 'w' } }));
  await until(() => ctx!.policyState().state.workloadEndpoints.size === 2);
  assert.notEqual(ctx!.policyState().version, s1.version);
  await setFelix({ flowLogsFileDirectory: '/b' });
  await until(() => ops.includes('start /b'));
  assert.deepEqual(ops.slice(-3), ['make /b', 'stop /a', 'start /b'], 'the old reporter stops before the new one starts');
  await setFelix({ flowLogsFileEnabled: false });
  await until(() => ops.includes('stop /b'));
  await setFelix({ flowLogsFileEnabled: true, flowLogsFileDirectory: '/c' });
  await until(() => ops.includes('start /c'));
  await node.stop();
  assert.equal(ops.at(-1), 'stop /c');
  await ds.close();
});
