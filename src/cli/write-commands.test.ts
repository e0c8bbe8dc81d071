// In-process tests of create / apply / replace / delete / validate against the in-memory datastore.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeIO } from './fake-io.js';

const poolYaml = (name: string, cidr: string, extra = ''): string =>
  `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: ${name}\nspec:\n  cidr: ${cidr}\n${extra}`;
const policyYaml = (name: string, ns?: string): string =>
  `apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n  name: ${name}\n${ns ? `  namespace: ${ns}\n` : ''}spec:\n  selector: all()\n`;
const threePools = [poolYaml('pool-a', '198.18.0.0/24'), poolYaml('pool-b', '198.18.1.0/24'), poolYaml('pool-c', '198.18.2.0/24')].join('---\n');

test('apply: multi-document file creates, then updates; calicoctl summary line', async () => {
  const io = new FakeIO({ files: { 'pools.yaml': threePools } });
  let r = await io.run('apply -f pools.yaml');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "Successfully applied 3 'IPPool' resource(s)\n");
  const before = await io.datastore.get({ kind: 'IPPool', name: 'pool-b' });
  io.files.set('pools.yaml', threePools.replace('198.18.1.0/24', '198.18.9.0/24'));
  r = await io.run('apply -f pools.yaml');
  assert.equal(r.code, 0, r.stderr);
  const after = await io.datastore.get({ kind: 'IPPool', name: 'pool-b' });
  assert.equal((after.spec as { cidr: string }).cidr, '198.18.9.0/24');
  assert.equal(after.metadata.uid, before.metadata.uid, 'apply keeps the identity of what it replaces');
  assert.notEqual(after.metadata.resourceVersion, before.metadata.resourceVersion);
});

test('apply: several kinds -> "N resource(s)"; kind: List and JSON arrays expand', async () => {
  const list = JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'List', items: [JSON.parse(JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p1' }, spec: { cidr: '198.18.0.0/24' } }))] });
  const io = new FakeIO({ files: { 'x.json': list, 'y.yaml': policyYaml('allow') } });
  assert.equal((await io.run('apply -f x.json')).stdout, "Successfully applied 1 'IPPool' resource(s)\n");
  const both = new FakeIO({ files: { 'dir/a.yaml': poolYaml('p', '198.18.0.0/24'), 'dir/b.yml': policyYaml('allow'), 'dir/notes.txt': 'ignored' } });
  const r = await both.run('apply -f dir');
  assert.equal(r.stdout, 'Successfully applied 2 resource(s)\n');
  await both.datastore.get({ kind: 'NetworkPolicy', name: 'allow', namespace: 'default' });
});

test('apply -f -: reads stdin', async () => {
  const io = new FakeIO({ stdin: poolYaml('from-stdin', '198.18.0.0/24') });
  const r = await io.run('apply -f -');
  assert.equal(r.code, 0, r.stderr);
  await io.datastore.get({ kind: 'IPPool', name: 'from-stdin' });
});

test('directories: only resource files, sorted; -R descends', async () => {
  const files = { 'd/b.yaml': poolYaml('b', '198.18.1.0/24'), 'd/a.yaml': poolYaml('a', '198.18.0.0/24'), 'd/sub/c.yaml': poolYaml('c', '198.18.2.0/24') };
  const flat = new FakeIO({ files });
  assert.equal((await flat.run('create -f d')).stdout, "Successfully created 2 'IPPool' resource(s)\n");
  const deep = new FakeIO({ files });
  assert.equal((await deep.run('create -R -f d/')).stdout, "Successfully created 3 'IPPool' resource(s)\n");
});

test('invalid document: nothing is written, each problem on one line with file and document index', async () => {
  const bad = [poolYaml('good', '198.18.0.0/24'), 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {}\nspec: {}\n', 'apiVersion: v1\nkind: Frob\nmetadata:\n  name: x\n'].join('---\n');
  const io = new FakeIO({ files: { 'examples/x.yaml': bad } });
  const r = await io.run('apply -f examples/x.yaml');
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 3, r.stderr);
  assert.equal(lines[0], "Failed to apply 'IPPool' resource: [IPPool(<unnamed>)] metadata.name: is required; spec.cidr: is required (examples/x.yaml document 2, line 8)");
  assert.match(lines[1] as string, /^Failed to apply 'Frob' resource: \[Frob\(x\)\] apiVersion: .*; kind: "Frob" is not a known kind.* \(examples\/x\.yaml document 3, line 13\)$/);
  assert.match(lines[2] as string, /^Nothing was applied: 2 of 3 resource\(s\) are invalid/);
  assert.equal(io.connects.length, 0, 'validation fails before the datastore is opened');
  assert.equal((await io.datastore.list({ kind: 'IPPool' })).items.length, 0);
});

test('YAML syntax error names the file and document', async () => {
  const io = new FakeIO({ files: { 'p.yaml': poolYaml('a', '198.18.0.0/24') + '---\nkind: [unclosed\n' } });
  const r = await io.run('apply -f p.yaml');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^Failed to execute command: p\.yaml:9 \(document 2\): malformed YAML/);
});

test('empty file and missing file', async () => {
  const io = new FakeIO({ files: { 'empty.yaml': '# nothing\n' } });
  let r = await io.run('apply -f empty.yaml');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /No resources specified in file empty\.yaml/);
  r = await io.run('apply -f empty.yaml --skip-empty');
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'No resources specified\n');
  r = await io.run('apply -f nope.yaml');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "Failed to execute command: file or directory 'nope.yaml' does not exist\n");
  r = await io.run('apply');
  assert.match(r.stderr, /missing -f\/--filename/);
});

test('create: existing resource fails unless --skip-exists; partial success lists each outcome', async () => {
  const io = new FakeIO({ files: { 'a.yaml': poolYaml('pool-a', '198.18.0.0/24'), 'all.yaml': threePools } });
  assert.equal((await io.run('create -f a.yaml')).code, 0);
  let r = await io.run('create -f a.yaml');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "Failed to create 'IPPool' resource: resource already exists: IPPool(pool-a) (a.yaml document 1, line 1)\n");
  r = await io.run('create -f all.yaml');
  assert.equal(r.code, 1);
  assert.equal(r.stdout, 'Partial success: created 2 out of 3 resources:\n  IPPool(pool-a): failed\n  IPPool(pool-b): created\n  IPPool(pool-c): created\n');
  assert.match(r.stderr, /^Failed to create 'IPPool' resource: resource already exists: IPPool\(pool-a\) \(all\.yaml document 1, line 1\)\n$/);
  r = await io.run('create -f all.yaml --skip-exists');
  assert.equal(r.code, 0);
  assert.equal(r.stdout, "Successfully created 3 'IPPool' resource(s)\n");
});

test('create ignores server-owned metadata saved by get -o yaml', async () => {
  const io = new FakeIO({ files: { 'a.yaml': poolYaml('a', '198.18.0.0/24').replace('  name: a\n', '  name: a\n  resourceVersion: "99"\n  uid: old\n') } });
  const r = await io.run('create -f a.yaml');
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await io.datastore.get({ kind: 'IPPool', name: 'a' })).metadata.uid, 'uid-1');
});

test('replace: missing is an error; stale resourceVersion is a conflict', async () => {
  const io = new FakeIO({ files: { 'a.yaml': poolYaml('a', '198.18.0.0/24') } });
  let r = await io.run('replace -f a.yaml');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "Failed to replace 'IPPool' resource: resource does not exist: IPPool(a) (a.yaml document 1, line 1)\n");
  await io.run('create -f a.yaml');
  const stored = await io.datastore.get({ kind: 'IPPool', name: 'a' });
  io.files.set('b.yaml', poolYaml('a', '198.18.5.0/24'));
  r = await io.run('replace -f b.yaml');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "Successfully replaced 1 'IPPool' resource(s)\n");
  io.files.set('stale.yaml', poolYaml('a', '198.18.6.0/24').replace('  name: a\n', `  name: a\n  resourceVersion: "${stored.metadata.resourceVersion}"\n`));
  r = await io.run('replace -f stale.yaml');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^Failed to replace 'IPPool' resource: update conflict: IPPool\(a\) was modified by someone else/);
  assert.equal(((await io.datastore.get({ kind: 'IPPool', name: 'a' })).spec as { cidr: string }).cidr, '198.18.5.0/24');
});

test('namespaces: -n fills in, "default" otherwise, mismatch and cluster-scoped namespace are errors', async () => {
  const io = new FakeIO({ files: { 'np.yaml': policyYaml('p1'), 'np-prod.yaml': policyYaml('p2', 'prod'), 'pool-ns.yaml': poolYaml('x', '198.18.0.0/24').replace('  name: x\n', '  name: x\n  namespace: prod\n') } });
  assert.equal((await io.run('apply -f np.yaml')).code, 0);
  await io.datastore.get({ kind: 'NetworkPolicy', name: 'p1', namespace: 'default' });
  assert.equal((await io.run('apply -f np.yaml -n staging')).code, 0);
  await io.datastore.get({ kind: 'NetworkPolicy', name: 'p1', namespace: 'staging' });
  const r = await io.run('apply -f np-prod.yaml -n staging');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /resource namespace does not match client namespace\. prod != staging/);
  const r2 = await io.run('apply -f pool-ns.yaml');
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /namespace should not be specified for a non-namespaced resource\. IPPool is not a namespaced resource/);
});

test('delete by kind and names, by file; missing resources and --skip-not-exists', async () => {
  const io = new FakeIO({ files: { 'all.yaml': threePools } });
  await io.run('apply -f all.yaml');
  let r = await io.run('delete ippool pool-a pool-b');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "Successfully deleted 2 'IPPool' resource(s)\n");
  r = await io.run('delete pools pool-a');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "Failed to delete 'IPPool' resource: resource does not exist: IPPool(pool-a)\n");
  r = await io.run('delete ippool pool-a --skip-not-exists');
  assert.equal(r.code, 0);
  assert.equal(r.stdout, "Successfully deleted 1 'IPPool' resource(s)\n");
  r = await io.run('delete -f all.yaml');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /Partial success: deleted 1 out of 3 resources:/);
  assert.equal(r.stderr.trimEnd().split('\n').length, 2);
  assert.equal((await io.datastore.list({ kind: 'IPPool' })).items.length, 0);
  r = await io.run('delete -s -f all.yaml');
  assert.equal(r.code, 0);
  r = await io.run('delete frobs x');
  assert.match(r.stderr, /resource type 'frobs' is not supported/);
  r = await io.run('delete ippool');
  assert.match(r.stderr, /give the name of the ippool to delete/);
});

test('delete in a namespace', async () => {
  const io = new FakeIO({ files: { 'np.yaml': policyYaml('p1', 'prod') } });
  await io.run('apply -f np.yaml');
  assert.equal((await io.run('delete policy p1')).code, 1, 'default namespace has no p1');
  const r = await io.run('delete policy p1 -n prod');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "Successfully deleted 1 'NetworkPolicy' resource(s)\n");
});

test('validate: offline, counts, per-resource failures', async () => {
  const io = new FakeIO({ files: { 'ok.yaml': threePools, 'bad.yaml': poolYaml('a', '198.18.0.0/24') + '---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {}\n' } });
  let r = await io.run('validate -f ok.yaml');
  assert.equal(r.code, 0);
  assert.equal(r.stdout, "Successfully validated 3 'IPPool' resource(s)\n");
  r = await io.run('validate -f bad.yaml');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /Partial success: validated 1 out of 2 resources:/);
  assert.equal(r.stderr, "Failed to validate 'IPPool' resource: [IPPool(<unnamed>)] metadata.name: is required; spec.cidr: is required (bad.yaml document 2, line 8)\n");
  assert.equal(io.connects.length, 0, 'validate never opens the datastore');
});

test('fields calico-ts does not act on are named in warnings; refused ones write nothing', async () => {
  const felix = `apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata:\n  name: default\nspec:\n  bpfEnabled: true\n  ipv6Support: true\n`;
  const io = new FakeIO({ files: { 'felix.yaml': felix, 'wg.yaml': felix.replace('bpfEnabled: true', 'wireguardEnabled: true') } });
  let r = await io.run('apply -f felix.yaml');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^Warning: FelixConfiguration\(default\): spec\.bpfEnabled is accepted but not acted on by calico-ts: .*eBPF/m);
  assert.doesNotMatch(r.stderr, /ipv6Support/, 'set to what calico-ts does anyway: quiet');
  r = await io.run('validate -f felix.yaml');
  assert.match(r.stderr, /Warning: FelixConfiguration\(default\): spec\.bpfEnabled/);
  r = await io.run('apply -f wg.yaml');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /spec\.wireguardEnabled.*WireGuard is not available/);
  const stored = await io.datastore.get({ kind: 'FelixConfiguration', name: 'default' });
  assert.deepEqual(stored.spec, { bpfEnabled: true, ipv6Support: true }, 'the refused apply changed nothing');
});
