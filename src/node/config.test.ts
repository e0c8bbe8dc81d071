import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCalicoError, ValidationError } from '../base/errors.js';
import { dataplaneConfigFrom, dataplaneKeyFrom, effectiveFelixSettings, felixOverridesFromEnv, nodeConfigFromEnv, policyBackendFrom, refreshIntervalsFrom } from './config.js';

test('node config: NODENAME, IP/IP6 modes, AS, backend, run dir', () => {
  const c = nodeConfigFromEnv({ NODENAME: 'Host-1', IP: '192.0.2.10/24', IP6: 'autodetect', AS: '64513', CALICO_NETWORKING_BACKEND: 'none', CALICO_RUN_DIR: '/tmp/r1' }, 'ignored');
  assert.equal(c.nodeName, 'host-1');
  assert.deepEqual(c.ipv4, { mode: 'static', address: '192.0.2.10', prefixLength: 24 });
  assert.deepEqual(c.ipv6, { mode: 'autodetect', method: { kind: 'first-found' } });
  assert.equal(c.asNumber, 64513);
  assert.equal(c.networkingBackend, 'none');
  assert.equal(c.runDir, '/tmp/r1');
  const d = nodeConfigFromEnv({ IP: '192.0.2.1' }, 'myhost');
  assert.equal(d.nodeName, 'myhost');
  assert.equal(d.nodeNameSource, 'hostname');
  assert.deepEqual(d.ipv4, { mode: 'static', address: '192.0.2.1' }, 'the prefix comes from the interface at start-up');
  assert.deepEqual(d.ipv6, { mode: 'unset', method: { kind: 'first-found' } }, 'IPv6 is detected only when asked for (node-address.ts)');
  assert.equal(d.runDir, '/var/run/calico');
  assert.equal(nodeConfigFromEnv({ AS: '1.10' }, 'h').asNumber, 65546);
});

test('node config: each bad variable is named', () => {
  try {
    nodeConfigFromEnv({ IP: '300.1', IP6: '10.0.0.1', AS: 'x', CALICO_NETWORKING_BACKEND: 'gobgp' }, 'h');
    assert.fail('expected a ValidationError');
  } catch (err) {
    assert.ok(err instanceof ValidationError);
    assert.deepEqual(
      err.issues.map((i) => i.path),
      ['IP', 'IP6', 'AS', 'CALICO_NETWORKING_BACKEND'],
    );
  }
});

test('FELIX_* overrides: case-insensitive names, typed values, unknown names reported', () => {
  const { overrides, unknown } = felixOverridesFromEnv({
    FELIX_LOGSEVERITYSCREEN: 'Debug',
    FELIX_PROMETHEUSMETRICSENABLED: 'true',
    FELIX_PROMETHEUSMETRICSPORT: '9092',
    FELIX_FAILSAFEINBOUNDHOSTPORTS: 'tcp:22,udp:68',
    FELIX_NOSUCHSETTING: '1',
    OTHER: 'x',
  });
  assert.deepEqual(overrides, {
    logSeverityScreen: 'Debug',
    prometheusMetricsEnabled: true,
    prometheusMetricsPort: 9092,
    failsafeInboundHostPorts: [
      { protocol: 'TCP', port: 22 },
      { protocol: 'UDP', port: 68 },
    ],
  });
  assert.deepEqual(unknown, ['FELIX_NOSUCHSETTING']);
  assert.throws(() => felixOverridesFromEnv({ FELIX_HEALTHPORT: 'abc' }), (e) => isCalicoError(e, 'validation'));
  assert.throws(() => felixOverridesFromEnv({ FELIX_FAILSAFEINBOUNDHOSTPORTS: 'icmp:1' }), (e) => isCalicoError(e, 'validation'));
});

test('effective settings: env > node.<name> > default > built-in; dataplane config derived', () => {
  const s = effectiveFelixSettings({
    global: { defaultEndpointToHostAction: 'Accept', logSeverityScreen: 'Warning', healthPort: 1 },
    node: { logSeverityScreen: 'Error' },
    env: { logSeverityScreen: 'Debug' },
  });
  assert.equal(s.logSeverityScreen, 'Debug');
  assert.equal(s.healthPort, 1);
  assert.equal(s.prometheusMetricsPort, 9091, 'built-in default');
  const dp = dataplaneConfigFrom(s);
  assert.equal(dp.endpointToHostAction, 'accept');
  assert.ok(dp.failsafeInbound.some((p) => p.protocol === 'tcp' && p.port === 22));
  assert.equal(dataplaneConfigFrom(effectiveFelixSettings({})).endpointToHostAction, 'drop');
  assert.equal(policyBackendFrom(effectiveFelixSettings({})), 'nftables');
  assert.equal(policyBackendFrom(effectiveFelixSettings({ global: { nftablesMode: 'Disabled' } })), 'iptables');
});

test('dataplane config: failsafe net is carried through; an unreadable net drops the entry', () => {
  const dp = dataplaneConfigFrom(
    effectiveFelixSettings({
      global: {
        failsafeInboundHostPorts: [{ protocol: 'TCP', port: 22, net: '10.0.0.0/8' }, { protocol: 'UDP', port: 68 }, { protocol: 'TCP', port: 23, net: 'bogus' }],
        failsafeOutboundHostPorts: [{ protocol: 'UDP', port: 53, net: '2001:db8::/32' }],
      },
    }),
  );
  assert.deepEqual(dp.failsafeInbound, [{ protocol: 'tcp', port: 22, net: '10.0.0.0/8' }, { protocol: 'udp', port: 68 }]);
  assert.deepEqual(dp.failsafeOutbound, [{ protocol: 'udp', port: 53, net: '2001:db8::/32' }]);
});

test('dataplane config: interfacePrefix is split on ","', () => {
  assert.deepEqual(dataplaneConfigFrom(effectiveFelixSettings({})).workloadInterfacePrefixes, ['cali']);
  assert.deepEqual(dataplaneConfigFrom(effectiveFelixSettings({ global: { interfacePrefix: 'cali, tap' } })).workloadInterfacePrefixes, ['cali', 'tap']);
});

test('refresh intervals: FelixConfiguration durations, FELIX_* in seconds (Felix env form) or as a duration; 0 disables; bad env is refused', () => {
  assert.deepEqual(refreshIntervalsFrom(effectiveFelixSettings({})), { routeRefreshIntervalMs: 90_000, interfaceRefreshIntervalMs: 90_000, fullReconcileIntervalMs: 90_000 });
  assert.deepEqual(refreshIntervalsFrom(effectiveFelixSettings({ global: { routeRefreshInterval: '1m30s', interfaceRefreshInterval: '0' } })), { routeRefreshIntervalMs: 90_000, interfaceRefreshIntervalMs: 0, fullReconcileIntervalMs: 90_000 });
  const { overrides } = felixOverridesFromEnv({ FELIX_ROUTEREFRESHINTERVAL: '10', FELIX_INTERFACEREFRESHINTERVAL: '250ms' });
  assert.deepEqual(overrides, { routeRefreshInterval: '10s', interfaceRefreshInterval: '250ms' });
  assert.deepEqual(refreshIntervalsFrom(effectiveFelixSettings({ env: overrides })), { routeRefreshIntervalMs: 10_000, interfaceRefreshIntervalMs: 250, fullReconcileIntervalMs: 90_000 });
  assert.throws(() => felixOverridesFromEnv({ FELIX_ROUTEREFRESHINTERVAL: 'soon' }), /FELIX_ROUTEREFRESHINTERVAL.*"soon" is not a duration/s);
});

test('full policy reconcile interval: nftablesRefreshInterval with nftables, iptablesRefreshInterval (default 180 s) with iptables; a change rebuilds the dataplane', () => {
  const full = (global: Record<string, unknown>) => refreshIntervalsFrom(effectiveFelixSettings({ global })).fullReconcileIntervalMs;
  assert.equal(full({ nftablesRefreshInterval: '30s', iptablesRefreshInterval: '5m' }), 30_000);
  assert.equal(full({ nftablesMode: 'Disabled', nftablesRefreshInterval: '30s', iptablesRefreshInterval: '5m' }), 300_000);
  assert.equal(full({ nftablesMode: 'Disabled' }), 180_000);
  assert.equal(full({ nftablesRefreshInterval: '0' }), 0);
  assert.notEqual(dataplaneKeyFrom(effectiveFelixSettings({ global: { nftablesRefreshInterval: '30s' } })), dataplaneKeyFrom(effectiveFelixSettings({})));
});

test('dataplaneKeyFrom: changes with what the dataplane is built from, not with the log level', () => {
  const base = effectiveFelixSettings({});
  const key = dataplaneKeyFrom(base);
  assert.equal(dataplaneKeyFrom(effectiveFelixSettings({ global: { logSeverityScreen: 'Debug', healthPort: 1 } })), key);
  for (const change of [{ defaultEndpointToHostAction: 'Accept' }, { nftablesMode: 'Disabled' }, { interfacePrefix: 'tap' }, { failsafeInboundHostPorts: [{ protocol: 'TCP', port: 2222 }] }, { routeRefreshInterval: '10s' }]) {
    assert.notEqual(dataplaneKeyFrom(effectiveFelixSettings({ global: change })), key, JSON.stringify(change));
  }
});
