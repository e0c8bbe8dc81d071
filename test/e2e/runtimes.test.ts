// The lab with workloads started by real runtimes (examples/lab/runtimes.yaml):
// a plain namespace, a podman, a containerd and a Docker container on three
// hosts. Open matrix, a label policy applied with calicoctl (labels reached
// podman's and containerd's endpoints through the CNI configuration), and a
// `down` that leaves no namespace, process or mount behind.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, assertLabGone, eventually } from './lab-support.js';

const STATE = mkdtempSync(join(tmpdir(), 'calico-lab-rt-'));
const NAME = 'rt';
const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : 'needs root (network namespaces)';

function lab(args: string[], timeoutMs = 240_000) {
  const r = spawnSync(join(ROOT, 'bin/calico-lab'), args, { encoding: 'utf8', env: { ...process.env, CALICO_LAB_DIR: STATE, CALICO_LAB_NAME: NAME }, timeout: timeoutMs });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
const probe = (expect: string) => lab(['probe', '--expect', join(ROOT, expect)], 60_000);

before(() => {
  if (skip) return;
  const r = lab(['up', join(ROOT, 'examples/lab/runtimes.yaml')], 300_000);
  assert.equal(r.code, 0, `calico-lab up failed:\n${r.stdout}\n${r.stderr}`);
});

after(() => {
  if (skip) return;
  const r = lab(['down', NAME]);
  assert.equal(r.code, 0, r.stderr);
  assertLabGone(STATE, 'cts-rt-');
  rmSync(STATE, { recursive: true, force: true });
});

test('podman, containerd and Docker workloads: addresses from the pool, endpoints of their orchestrators', { skip }, () => {
  const wl = JSON.parse(readFileSync(join(STATE, NAME, 'workloads.json'), 'utf8')) as { name: string; runtime?: string; addresses: string[]; wepName: string }[];
  assert.deepEqual(wl.map((w) => [w.name, w.runtime ?? 'plain']), [['plain-1', 'plain'], ['podman-1', 'podman'], ['ctr-1', 'containerd'], ['docker-1', 'docker']]);
  for (const w of wl) assert.match(w.addresses[0] ?? '', /^198\.19\./, w.name);
  const weps = spawnSync('ip', ['netns', 'exec', 'cts-rt-mgmt', join(ROOT, 'bin/calicoctl'), 'get', 'workloadendpoints', '-A', '-o', 'json'], {
    encoding: 'utf8',
    env: { ...process.env, ETCD_ENDPOINTS: 'http://198.18.255.1:2379', DATASTORE_TYPE: 'etcdv3' },
  });
  const items = (JSON.parse(weps.stdout) as { items: { metadata: { name: string; labels?: Record<string, string> }; spec: { orchestrator: string } }[] }).items;
  const byName = new Map(items.map((i) => [i.metadata.name, i]));
  const orch = (n: string) => byName.get(wl.find((w) => w.name === n)!.wepName)?.spec.orchestrator;
  assert.deepEqual(['plain-1', 'podman-1', 'ctr-1', 'docker-1'].map(orch), ['k8s', 'cni', 'cni', 'libnetwork']);
  assert.equal(byName.get(wl.find((w) => w.name === 'podman-1')!.wepName)!.metadata.labels?.app, 'web', 'labels from the CNI configuration');
});

test('with no policy every workload reaches every other and the internet, whatever started it', { skip }, async () => {
  let last = '';
  const ok = await eventually(() => {
    const r = probe('examples/lab/open-expect.yaml');
    last = r.stdout;
    return r.code === 0;
  }, 60_000, 2000);
  assert.ok(ok, `matrix differs:\n${last}`);
});

test('a label policy applied with calicoctl gives exactly the expected matrix', { skip }, async () => {
  const applied = lab(['calicoctl', 'apply', '-f', join(ROOT, 'examples/lab/runtimes-policy.yaml')]);
  assert.equal(applied.code, 0, applied.stderr);
  let last = '';
  const ok = await eventually(() => {
    const r = probe('examples/lab/runtimes-policy-expect.yaml');
    last = r.stdout;
    return r.code === 0;
  }, 60_000, 2000);
  assert.ok(ok, `matrix differs:\n${last}`);
});
