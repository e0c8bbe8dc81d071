import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeCniWorld } from './fakes.js';
import { runPlugin, type Plugin } from './run.js';
import type { NetConf } from './config.js';

const ENV = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/var/run/netns/c1', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' };
const CONF = { cniVersion: '1.1.0', name: 'net1', type: 'calico', nodename: 'host1', ipam: { type: 'calico-ipam' } };

async function run(opts: { env?: Record<string, string | undefined>; stdin?: unknown; world?: FakeCniWorld; plugin?: Plugin }) {
  const w = opts.world ?? new FakeCniWorld();
  let opened: NetConf | undefined;
  const out = await runPlugin({
    plugin: opts.plugin ?? 'calico',
    env: { ...ENV, ...(opts.env ?? {}) },
    stdin: typeof opts.stdin === 'string' ? opts.stdin : JSON.stringify(opts.stdin ?? CONF),
    openPorts: (c) => {
      opened = c;
      return w.ports();
    },
  });
  return { ...out, json: out.stdout ? (JSON.parse(out.stdout) as Record<string, unknown>) : undefined, opened, w };
}

test('runPlugin: ADD prints the result; VERSION needs no config and echoes cniVersion', async () => {
  const add = await run({});
  assert.equal(add.exitCode, 0, add.stdout);
  assert.equal(add.json!.cniVersion, '1.1.0');
  const v = await run({ env: { CNI_COMMAND: 'VERSION' }, stdin: '{"cniVersion":"0.4.0"}' });
  assert.deepEqual(v.json, { cniVersion: '0.4.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  assert.equal(v.opened, undefined);
});

test('runPlugin: errors are the spec\'s JSON on stdout with exit 1, and a bad config never opens the datastore', async () => {
  const bad = await run({ stdin: { ...CONF, datastore_type: 'kubernetes' } });
  assert.equal(bad.exitCode, 1);
  assert.deepEqual(Object.keys(bad.json!).sort(), ['cniVersion', 'code', 'msg']);
  assert.equal(bad.json!.code, 2);
  assert.equal(bad.json!.cniVersion, '1.1.0');
  assert.equal(bad.opened, undefined);
  const env = await run({ env: { CNI_CONTAINERID: undefined } });
  assert.equal(env.json!.code, 4);
  assert.equal(env.opened, undefined);
  const notJson = await run({ stdin: 'nope' });
  assert.equal(notJson.json!.code, 6);
  assert.equal(notJson.json!.cniVersion, '1.0.0', 'a config we cannot read has no version to echo: the default');
});

test('runPlugin: a command older configs do not know is error 1 (CHECK before 0.4.0, GC and STATUS before 1.1.0), nothing opened', async () => {
  for (const [command, version] of [['CHECK', '0.3.1'], ['GC', '1.0.0'], ['STATUS', '1.0.0']] as const) {
    const r = await run({ env: { CNI_COMMAND: command }, stdin: { ...CONF, cniVersion: version } });
    assert.equal(r.json!.code, 1, `${command} ${version}: ${r.stdout}`);
    assert.match(r.json!.msg as string, new RegExp(`${command} needs cniVersion`));
    assert.equal(r.opened, undefined);
  }
});

test('runPlugin: the node name file must exist (11); for STATUS that is "not available" (50); ignored fields are logged', async () => {
  const w = new FakeCniWorld();
  w.files.clear();
  const add = await run({ world: w });
  assert.equal(add.json!.code, 11);
  assert.match(add.json!.msg as string, /nodename\) does not exist/);
  assert.equal(w.ops.length, 0);
  const status = await run({ world: w, env: { CNI_COMMAND: 'STATUS' } });
  assert.equal(status.json!.code, 50);
  const ok = await run({ world: new FakeCniWorld(), stdin: { ...CONF, qps: 5 } });
  assert.equal(ok.exitCode, 0);
  assert.ok(ok.w.logs.some((l) => /^info: qps is ignored/.test(l)), ok.w.logs.join('\n'));
});

test('runPlugin: DEL, CHECK, GC and STATUS print nothing on success', async () => {
  const w = new FakeCniWorld();
  const add = await run({ world: w });
  const check = await run({ world: w, env: { CNI_COMMAND: 'CHECK' }, stdin: { ...CONF, prevResult: add.json } });
  assert.deepEqual([check.exitCode, check.stdout], [0, ''], check.stdout);
  const status = await run({ world: w, env: { CNI_COMMAND: 'STATUS' } });
  assert.deepEqual([status.exitCode, status.stdout], [0, '']);
  const gc = await run({ world: w, env: { CNI_COMMAND: 'GC' }, stdin: { ...CONF, 'cni.dev/valid-attachments': [{ containerID: 'c1', ifname: 'eth0' }] } });
  assert.deepEqual([gc.exitCode, gc.stdout], [0, '']);
  assert.equal(w.handles.size, 1, 'the valid attachment kept its addresses');
  const del = await run({ world: w, env: { CNI_COMMAND: 'DEL' } });
  assert.deepEqual([del.exitCode, del.stdout], [0, '']);
  assert.equal(w.handles.size + w.weps.size + w.hostLinks.size, 0);
});

test('calico-ipam: ADD returns addresses only (no interfaces), a repeated ADD the same ones; CHECK, GC, DEL by handle', async () => {
  const w = new FakeCniWorld();
  const stdin = { cniVersion: '1.0.0', name: 'net1', type: 'bridge', bridge: 'cni0', nodename: 'host1', ipam: { type: 'calico-ipam', assign_ipv6: 'true' } };
  const a = await run({ world: w, plugin: 'calico-ipam', stdin });
  assert.deepEqual(a.json, { cniVersion: '1.0.0', ips: [{ address: '198.18.0.1/32' }, { address: '2001:db8::1/128' }], routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }], dns: {} });
  const again = await run({ world: w, plugin: 'calico-ipam', stdin });
  assert.deepEqual(again.json, a.json);
  assert.equal(w.handles.get('net1.c1')!.length, 2);
  const check = await run({ world: w, plugin: 'calico-ipam', env: { CNI_COMMAND: 'CHECK' }, stdin: { ...stdin, prevResult: { ...(a.json as object), interfaces: [{ name: 'eth0' }] } } });
  assert.equal(check.exitCode, 0, check.stdout);
  const wrong = await run({ world: w, plugin: 'calico-ipam', env: { CNI_COMMAND: 'CHECK' }, stdin: { ...stdin, prevResult: { cniVersion: '1.0.0', ips: [{ address: '198.18.0.1/32' }] } } });
  assert.equal(wrong.json!.code, 101);
  assert.match(wrong.json!.msg as string, /2001:db8::1\/128.*prevResult does not list/);
  const gcKeep = await run({ world: w, plugin: 'calico-ipam', env: { CNI_COMMAND: 'GC' }, stdin: { ...stdin, cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ containerID: 'c1', ifname: 'eth0' }] } });
  assert.equal(gcKeep.exitCode, 0);
  assert.equal(w.handles.size, 1);
  const del = await run({ world: w, plugin: 'calico-ipam', env: { CNI_COMMAND: 'DEL' }, stdin });
  assert.equal(del.exitCode, 0);
  assert.equal(w.handles.size, 0);
  assert.equal((await run({ world: w, plugin: 'calico-ipam', env: { CNI_COMMAND: 'DEL' }, stdin })).exitCode, 0, 'DEL again');
  // An exhausted pool: error, nothing kept.
  const tiny = new FakeCniWorld({ pool: [] });
  const full = await run({ world: tiny, plugin: 'calico-ipam', stdin });
  assert.equal(full.exitCode, 1);
  assert.equal(tiny.handles.size, 0);
});
