// bin/calicoctl, the real binary, against a private etcd (test/support/etcd.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { startEtcd, type EtcdHandle } from '../support/etcd.js';

const ROOT = new URL('../../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/calicoctl');
const EXAMPLES = join(ROOT, 'examples/resources');

let etcd: EtcdHandle;
let scratch: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs bin/calicoctl with only the datastore env we give it (nothing inherited that could point elsewhere). */
function calicoctl(args: string[], opts: { env?: Record<string, string>; stdin?: string } = {}): Promise<Run> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...(opts.env ?? etcd.env) };
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.stdin ?? '');
  });
}

const write = (name: string, text: string): string => {
  const path = join(scratch, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
};

const pool = (name: string, cidr: string): string => `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: ${name}\nspec:\n  cidr: ${cidr}\n`;

before(async () => {
  assert.ok(existsSync(join(ROOT, 'dist/src/cli/main.js')), 'build first (npm run build)');
  assert.ok(!existsSync('/etc/calico/calicoctl.cfg'), '/etc/calico/calicoctl.cfg would override the test environment');
  etcd = await startEtcd();
  scratch = mkdtempSync(join(tmpdir(), 'calicoctl-test-'));
});

after(async () => {
  await etcd?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('apply examples/resources/, get -o yaml shows them with defaults, delete -f removes them', async (t) => {
  if (!existsSync(EXAMPLES) || readdirSync(EXAMPLES).length === 0) {
    t.skip('examples/resources/ is not there yet');
    return;
  }
  const apply = await calicoctl(['apply', '-f', EXAMPLES]);
  assert.equal(apply.code, 0, apply.stderr);
  assert.match(apply.stdout, /^Successfully applied \d+ (('\w+' )?)resource\(s\)\n$/);

  // Every document in the directory is stored and reads back.
  const expected: { kind: string; name: string; namespace?: string }[] = [];
  for (const file of readdirSync(EXAMPLES).filter((f) => /\.(ya?ml|json)$/.test(f))) {
    const text = await import('node:fs').then((fs) => fs.readFileSync(join(EXAMPLES, file), 'utf8'));
    for (const d of parseAllDocuments(text)) {
      const v = d.toJS() as { kind?: string; metadata?: { name: string; namespace?: string }; items?: unknown[] } | null;
      if (!v?.kind || !v.metadata) continue;
      expected.push({ kind: v.kind, name: v.metadata.name, ...(v.metadata.namespace ? { namespace: v.metadata.namespace } : {}) });
    }
  }
  assert.match(apply.stdout, new RegExp(`Successfully applied ${expected.length} `));

  // get -f reads back every resource the directory names, in one call.
  const got = await calicoctl(['get', '-f', EXAMPLES, '-o', 'yaml']);
  assert.equal(got.code, 0, got.stderr);
  const list = parse(got.stdout) as { kind: string; items: { kind: string; metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string }; spec: Record<string, unknown> }[] };
  assert.equal(list.kind, 'List');
  assert.deepEqual(
    list.items.map((i) => `${i.kind}/${i.metadata.namespace ?? ''}/${i.metadata.name}`),
    expected.map((e) => `${e.kind}/${e.namespace ?? ''}/${e.name}`),
  );
  for (const item of list.items) {
    assert.ok(item.metadata.resourceVersion, 'stored resources carry a resourceVersion');
    // IPAMConfiguration lives in IPAM's own key, which keeps no metadata.
    if (item.kind !== 'IPAMConfiguration') assert.ok(item.metadata.uid, 'and a uid');
  }
  const pool = list.items.find((i) => i.kind === 'IPPool');
  if (pool) assert.equal(pool.spec.blockSize, 26, 'defaults are filled in (IPPool blockSize)');

  const del = await calicoctl(['delete', '-f', EXAMPLES]);
  assert.equal(del.code, 0, del.stderr);
  assert.match(del.stdout, new RegExp(`^Successfully deleted ${expected.length} `));
  const gone = await calicoctl(['get', '-f', EXAMPLES]);
  assert.equal(gone.code, 1);
  assert.equal(gone.stderr.trimEnd().split('\n').filter((l) => /resource does not exist/.test(l)).length, expected.length);
});

test('multi-document apply, table and yaml output, patch and label round trip', async () => {
  const file = write('pools.yaml', [pool('pool-a', '198.18.0.0/24'), pool('pool-b', '198.18.1.0/24')].join('---\n'));
  let r = await calicoctl(['apply', '-f', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "Successfully applied 2 'IPPool' resource(s)\n");
  r = await calicoctl(['get', 'ippools', '-o', 'custom-columns=NAME,CIDR']);
  assert.equal(r.stdout, 'NAME     CIDR\npool-a   198.18.0.0/24\npool-b   198.18.1.0/24\n');
  r = await calicoctl(['patch', 'ippool', 'pool-a', '-p', '{"spec":{"disabled":true}}']);
  assert.equal(r.code, 0, r.stderr);
  r = await calicoctl(['label', 'ippool', 'pool-a', 'zone=a']);
  assert.equal(r.stdout, 'Successfully set label zone on ippool pool-a\n');
  r = await calicoctl(['get', 'ippools', '-l', 'zone == "a"', '-o', 'yaml']);
  const list = parse(r.stdout);
  assert.equal(list.kind, 'IPPoolList');
  assert.deepEqual(list.items.map((i: { metadata: { name: string } }) => i.metadata.name), ['pool-a']);
  assert.equal(list.items[0].spec.disabled, true);
  r = await calicoctl(['delete', '-f', file]);
  assert.equal(r.code, 0, r.stderr);
});

test('invalid input changes nothing', async () => {
  const file = write('bad.yaml', [pool('good-pool', '198.18.2.0/24'), pool('bad-pool', '10.0.0.0/33')].join('---\n'));
  const r = await calicoctl(['apply', '-f', file]);
  assert.equal(r.code, 1);
  const lines = r.stderr.trimEnd().split('\n');
  assert.match(lines[0] as string, /^Failed to apply 'IPPool' resource: \[IPPool\(bad-pool\)\] spec\.cidr: "10\.0\.0\.0\/33" is not a valid CIDR.*\(.*bad\.yaml document 2, line 8\)$/);
  assert.match(lines[lines.length - 1] as string, /^Nothing was applied/);
  const get = await calicoctl(['get', 'ippool', 'good-pool']);
  assert.equal(get.code, 1, 'the valid document was not written either');
});

test('an IPPool overlapping another is refused and the stored one is unchanged', async () => {
  let r = await calicoctl(['create', '-f', '-'], { stdin: pool('wide-pool', '198.18.64.0/18') });
  assert.equal(r.code, 0, r.stderr);
  r = await calicoctl(['create', '-f', '-'], { stdin: pool('inner-pool', '198.18.96.0/20') });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /inner-pool/);
  assert.match(r.stderr, /overlap/i);
  const get = await calicoctl(['get', 'ippool', 'inner-pool']);
  assert.equal(get.code, 1, 'the overlapping pool was not written');
  r = await calicoctl(['delete', 'ippool', 'wide-pool']);
  assert.equal(r.code, 0, r.stderr);
});

test('stdin with -f -', async () => {
  let r = await calicoctl(['create', '-f', '-'], { stdin: pool('stdin-pool', '198.18.3.0/24') });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "Successfully created 1 'IPPool' resource(s)\n");
  r = await calicoctl(['delete', '-f', '-'], { stdin: pool('stdin-pool', '198.18.3.0/24') });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "Successfully deleted 1 'IPPool' resource(s)\n");
});

test('config file (calicoctl.cfg) instead of the environment', async () => {
  const cfg = write(
    'calicoctl.cfg',
    `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  datastoreType: etcdv3\n  etcdEndpoints: ${etcd.endpoint}\n`,
  );
  const env = { ETCD_ENDPOINTS: 'http://127.0.0.1:1' }; // wrong on purpose: the file must win
  let r = await calicoctl(['create', '-f', '-', '--config', cfg], { env, stdin: pool('cfg-pool', '198.18.4.0/24') });
  assert.equal(r.code, 0, r.stderr);
  r = await calicoctl(['get', 'ippool', 'cfg-pool', '-c', cfg, '-o', 'json'], { env });
  assert.equal(JSON.parse(r.stdout).spec.cidr, '198.18.4.0/24');
  r = await calicoctl(['get', 'ippools', '--config', join(scratch, 'missing.cfg')], { env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /missing\.cfg/);
  r = await calicoctl(['delete', 'ippool', 'cfg-pool', '-c', cfg], { env });
  assert.equal(r.code, 0, r.stderr);
});

test('version prints client and cluster lines', async () => {
  const r = await calicoctl(['version']);
  assert.match(r.stdout, /^Client Version: +v\d/);
  if (r.code === 0) assert.match(r.stdout, /Cluster Version: /);
  else assert.match(r.stderr, /Unable to retrieve Cluster Version or Type/);
});

test('an endpoint that accepts but never answers fails with the timeout, not a hang', async () => {
  const { createServer } = await import('node:net');
  const sockets: import('node:net').Socket[] = [];
  const server = createServer((s) => void sockets.push(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const r = await calicoctl(['get', 'ippools'], { env: { ETCD_ENDPOINTS: `http://127.0.0.1:${port}`, CALICOCTL_TIMEOUT_MS: '500' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^Failed to connect to the datastore: etcdv3 at http://127\\.0\\.0\\.1:${port} .*timed out.*Check ETCD_ENDPOINTS.*\\n$`));
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
  }
});

test('dead etcd: one line naming the endpoint and the fix, exit 1', async () => {
  await etcd.kill();
  try {
    for (const args of [['get', 'ippools'], ['delete', 'ippool', 'x']]) {
      const r = await calicoctl(args);
      assert.equal(r.code, 1);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.ok((lines[0] as string).includes(etcd.endpoint), lines[0]);
      assert.match(lines[0] as string, /^Failed to connect to the datastore: .*Check ETCD_ENDPOINTS/);
    }
  } finally {
    await etcd.start();
  }
});

test('a tier is deleted only when empty; delete -f of a tier and its policies deletes the policies first', async () => {
  const file = write('tiered.yaml', [
    'apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: { name: ops }\nspec: { order: 50 }\n',
    'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: { name: ops.allow-ssh }\nspec: { tier: ops, selector: all(), ingress: [{ action: Allow, protocol: TCP, destination: { ports: [22] } }] }\n',
  ].join('---\n'));
  let r = await calicoctl(['apply', '-f', file]);
  assert.equal(r.code, 0, r.stderr);
  r = await calicoctl(['delete', 'tier', 'ops']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /tier "ops" is not empty \(GlobalNetworkPolicy\(ops\.allow-ssh\)\): delete those policies or move them to another tier first/);
  r = await calicoctl(['get', 'tier', 'ops']);
  assert.equal(r.code, 0, 'the refused delete changed nothing');
  r = await calicoctl(['delete', 'tier', 'default']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /the default tier cannot be deleted/);
  r = await calicoctl(['delete', '-f', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Successfully deleted 2 resource\(s\)/);
});
