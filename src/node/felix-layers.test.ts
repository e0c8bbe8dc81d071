import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../api/resource.js';
import { FelixLayers } from './felix-layers.js';

const felix = (name: string, spec: Record<string, unknown>): Resource => ({ apiVersion: 'projectcalico.org/v3', kind: 'FelixConfiguration', metadata: { name }, spec });

test('fields calico-ts does not act on are reported at start-up and on each accepted change; refused versions warn nothing', () => {
  const layers = new FelixLayers({ nodeName: 'n1', env: {} });
  const start = layers.load({ global: felix('default', { bpfEnabled: true, logSeverityScreen: 'Debug' }) });
  assert.deepEqual(start.warned.map((w) => [w.name, w.warnings.map((x) => x.path)]), [['default', ['spec.bpfEnabled']]]);
  const changed = layers.onEvents([{ type: 'modified', resource: felix('node.n1', { xdpEnabled: false, iptablesLockTimeout: '5s' }) }]);
  assert.equal(changed.touched, true);
  assert.deepEqual(changed.warned.map((w) => [w.name, w.warnings.map((x) => x.path)]), [['node.n1', ['spec.iptablesLockTimeout', 'spec.xdpEnabled']]]);
  const refused = layers.onEvents([{ type: 'modified', resource: felix('default', { bpfEnabled: true, wireguardEnabled: true }) }]);
  assert.equal(refused.rejected.length, 1);
  assert.deepEqual(refused.warned, []);
});
