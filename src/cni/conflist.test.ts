import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkConflist, executionOrder, parseConflist, pluginEnv, requestConfig, selectVersion, type NetworkConfigList } from './conflist.js';
import { ConflistError, ConflistRunner, type ProgramExec } from './conflist-exec.js';
import { CniError } from './protocol.js';

const LIST: NetworkConfigList = {
  cniVersion: '1.0.0',
  cniVersions: ['0.4.0', '1.0.0', '1.1.0'],
  name: 'k8s-pod-network',
  plugins: [
    { type: 'calico', etcd_endpoints: 'http://127.0.0.1:2379', ipam: { type: 'calico-ipam' } },
    { type: 'tuning', capabilities: { mac: true }, sysctl: { 'net.core.somaxconn': '500' } },
    { type: 'portmap', capabilities: { portMappings: true }, snat: true },
  ],
};
const ATT = { containerID: 'c1', netns: '/var/run/netns/c1', ifName: 'eth0', args: { K8S_POD_NAMESPACE: 'web', K8S_POD_NAME: 'a' }, capabilityArgs: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] } };

test('conflist: the highest offered version we support is chosen; none is error 1', () => {
  assert.equal(selectVersion(LIST), '1.1.0');
  assert.equal(selectVersion(LIST, ['0.4.0', '1.0.0']), '1.0.0');
  assert.throws(() => selectVersion({ ...LIST, cniVersion: '0.2.0', cniVersions: [] }), (e: unknown) => e instanceof CniError && e.code === 1);
});

test('conflist: DEL runs the plugins backwards, the rest forwards', () => {
  assert.deepEqual(executionOrder(LIST, 'ADD').map((p) => p.type), ['calico', 'tuning', 'portmap']);
  assert.deepEqual(executionOrder(LIST, 'DEL').map((p) => p.type), ['portmap', 'tuning', 'calico']);
  assert.deepEqual(executionOrder(LIST, 'GC').map((p) => p.type), ['calico', 'tuning', 'portmap']);
});

test('conflist: request configuration = plugin fields + cniVersion + name, runtimeConfig from declared capabilities only, no capabilities', () => {
  const portmap = requestConfig(LIST.plugins[2]!, { list: LIST, version: '1.0.0', op: 'ADD', capabilityArgs: { ...ATT.capabilityArgs, mac: 'c2:11:22:33:44:55' }, prevResult: { ips: [] } });
  assert.deepEqual(portmap, { type: 'portmap', snat: true, cniVersion: '1.0.0', name: 'k8s-pod-network', runtimeConfig: { portMappings: ATT.capabilityArgs.portMappings }, prevResult: { ips: [] } });
  const first = requestConfig(LIST.plugins[0]!, { list: LIST, version: '1.0.0', op: 'ADD', capabilityArgs: ATT.capabilityArgs });
  assert.equal('prevResult' in first, false, 'the first ADD gets no prevResult');
  assert.equal('runtimeConfig' in first, false, 'calico declared no capability');
  const gc = requestConfig(LIST.plugins[1]!, { list: LIST, version: '1.1.0', op: 'GC', validAttachments: [{ containerID: 'c1', ifname: 'eth0' }] });
  assert.deepEqual(gc['cni.dev/valid-attachments'], [{ containerID: 'c1', ifname: 'eth0' }]);
  assert.equal('runtimeConfig' in gc, false);
  assert.deepEqual(pluginEnv('ADD', { attachment: ATT, path: ['/a', '/b'] }), { CNI_COMMAND: 'ADD', CNI_PATH: '/a:/b', CNI_CONTAINERID: 'c1', CNI_NETNS: '/var/run/netns/c1', CNI_IFNAME: 'eth0', CNI_ARGS: 'K8S_POD_NAMESPACE=web;K8S_POD_NAME=a' });
  assert.deepEqual(pluginEnv('GC', { attachment: ATT, path: ['/a'] }), { CNI_COMMAND: 'GC', CNI_PATH: '/a' });
});

test('conflist: malformed lists are refused with the field named', () => {
  assert.throws(() => parseConflist('{'), (e: unknown) => e instanceof CniError && e.code === 6);
  for (const [bad, re] of [[{ ...LIST, plugins: [] }, /plugins/], [{ ...LIST, name: '' }, /name/], [{ ...LIST, plugins: [{ type: '../x' }] }, /plugins\[0\].type/], [{ ...LIST, cniVersion: 1 }, /cniVersion/]] as const) {
    assert.throws(() => checkConflist(bad), (e: unknown) => e instanceof CniError && e.code === 7 && re.test(e.message));
  }
});

/** A fake runtime world: each plugin appends its name to prevResult's interfaces; `fail` makes one fail. */
function fakeExec(fail?: { type: string; op: string }): ProgramExec & { calls: { type: string; op: string; stdin: Record<string, unknown>; env: Record<string, string> }[] } {
  const calls: { type: string; op: string; stdin: Record<string, unknown>; env: Record<string, string> }[] = [];
  return {
    calls,
    run: async (type, opts) => {
      const stdin = JSON.parse(opts.stdin) as Record<string, unknown>;
      const op = opts.env.CNI_COMMAND!;
      calls.push({ type, op, stdin, env: opts.env });
      if (fail && fail.type === type && fail.op === op) return { exitCode: 1, stdout: JSON.stringify({ cniVersion: '1.0.0', code: 11, msg: `${type} is busy`, details: 'later' }), stderr: 'oops' };
      if (op !== 'ADD') return { exitCode: 0, stdout: '', stderr: '' };
      const prev = (stdin.prevResult ?? { cniVersion: stdin.cniVersion, interfaces: [], ips: [] }) as { interfaces: { name: string }[] };
      return { exitCode: 0, stdout: JSON.stringify({ ...prev, interfaces: [...prev.interfaces, { name: type }] }), stderr: '' };
    },
  };
}

test('conflist runner: ADD threads each result into the next prevResult; DEL goes backwards with the ADD result; CHECK forwards', async () => {
  const exec = fakeExec();
  const runner = new ConflistRunner({ exec, path: ['/opt/cni/bin'] });
  const result = (await runner.add(LIST, ATT)) as { interfaces: { name: string }[] };
  assert.deepEqual(result.interfaces.map((i) => i.name), ['calico', 'tuning', 'portmap']);
  assert.equal(exec.calls[0]!.stdin.prevResult, undefined);
  assert.deepEqual((exec.calls[1]!.stdin.prevResult as { interfaces: unknown[] }).interfaces, [{ name: 'calico' }]);
  assert.ok(exec.calls.every((c) => c.stdin.cniVersion === '1.1.0' && c.stdin.name === 'k8s-pod-network'));
  exec.calls.length = 0;
  await runner.del(LIST, ATT, result);
  assert.deepEqual(exec.calls.map((c) => `${c.op} ${c.type}`), ['DEL portmap', 'DEL tuning', 'DEL calico']);
  assert.ok(exec.calls.every((c) => c.stdin.prevResult === undefined || (c.stdin.prevResult as { interfaces: unknown[] }).interfaces.length === 3));
  exec.calls.length = 0;
  await runner.check(LIST, ATT, result);
  assert.deepEqual(exec.calls.map((c) => `${c.op} ${c.type}`), ['CHECK calico', 'CHECK tuning', 'CHECK portmap']);
  exec.calls.length = 0;
  await runner.check({ ...LIST, disableCheck: true }, ATT, result);
  assert.equal(exec.calls.length, 0, 'disableCheck: no CHECK at all');
});

test('conflist runner: ADD halts at the first error and says which plugin; GC goes on and reports every error', async () => {
  const exec = fakeExec({ type: 'tuning', op: 'ADD' });
  const runner = new ConflistRunner({ exec, path: ['/opt/cni/bin'] });
  await assert.rejects(runner.add(LIST, ATT), (e: unknown) => e instanceof ConflistError && e.plugin === 'tuning' && e.code === 11 && e.details === 'later' && /ADD tuning: tuning is busy/.test(e.message));
  assert.deepEqual(exec.calls.map((c) => c.type), ['calico', 'tuning']);
  const gcExec = fakeExec({ type: 'calico', op: 'GC' });
  await assert.rejects(new ConflistRunner({ exec: gcExec, path: [] }).gc(LIST, [{ containerID: 'c1', ifname: 'eth0' }]), (e: unknown) => e instanceof ConflistError && e.plugin === 'calico');
  assert.deepEqual(gcExec.calls.map((c) => c.type), ['calico', 'tuning', 'portmap'], 'GC reached every plugin');
  const noGc = fakeExec();
  await new ConflistRunner({ exec: noGc, path: [] }).gc({ ...LIST, disableGC: true }, []);
  assert.equal(noGc.calls.length, 0);
});
