// In-process tests of get / patch / label / version and the dispatcher itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import type { Resource } from '../api/resource.js';
import { main } from './calicoctl.js';
import type { Command } from './command.js';
import { CommandRegistry } from './command.js';
import { BUILTIN_COMMANDS } from './commands/index.js';
import { FakeIO } from './fake-io.js';

const pool = (name: string, cidr: string, labels: Record<string, string> = {}): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'IPPool',
  metadata: { name, labels },
  spec: { cidr, natOutgoing: true },
});
const policy = (name: string, namespace: string, order: number): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'NetworkPolicy',
  metadata: { name, namespace },
  spec: { order, selector: 'app == "web"' },
});

async function seeded(): Promise<FakeIO> {
  const io = new FakeIO();
  await io.datastore.create(pool('pool-b', '198.18.1.0/24', { zone: 'b' }));
  await io.datastore.create(pool('pool-a', '198.18.0.0/24', { zone: 'a', env: 'prod' }));
  await io.datastore.create(policy('web', 'prod', 10));
  await io.datastore.create(policy('db', 'staging', 20));
  await io.datastore.create(policy('dflt', 'default', 30));
  return io;
}

test('get: ps table sorted by name; aliases and plurals resolve', async () => {
  const io = await seeded();
  for (const kind of ['ippools', 'IPPool', 'pool', 'ipp']) {
    const r = await io.run(`get ${kind}`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'NAME     CIDR            SELECTOR\npool-a   198.18.0.0/24   \npool-b   198.18.1.0/24   \n', kind);
  }
});

test('get: -o wide, custom-columns, named, missing name', async () => {
  const io = await seeded();
  let r = await io.run('get ippool pool-a -o wide');
  assert.match(r.stdout, /^NAME +CIDR +NAT +IPIPMODE +VXLANMODE +DISABLED +DISABLEBGPEXPORT +SELECTOR\npool-a +198\.18\.0\.0\/24 +true +Never/);
  r = await io.run('get ippools -o custom-columns=NAME,NAT');
  assert.equal(r.stdout, 'NAME     NAT\npool-a   true\npool-b   true\n');
  r = await io.run('get ippool pool-a nope');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /pool-a/);
  assert.equal(r.stderr, 'Failed to get resources: resource does not exist: IPPool(nope)\n');
  r = await io.run('get ippools -o xml');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unrecognized output format 'xml'/);
});

test('get: namespaces: default, -n, -A adds NAMESPACE, -A with -n is an error', async () => {
  const io = await seeded();
  let r = await io.run('get networkpolicy');
  assert.equal(r.stdout, 'NAME   TIER\ndflt   default\n');
  r = await io.run('get policies -n prod -o wide');
  assert.match(r.stdout, /^NAME +TIER +ORDER +SELECTOR\nweb +default +10 +app == "web"\n$/);
  r = await io.run('get np -A');
  assert.equal(r.stdout.split('\n')[0]?.replace(/ +/g, ' '), 'NAMESPACE NAME TIER');
  assert.deepEqual(r.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/ +/)[0]), ['default', 'prod', 'staging']);
  r = await io.run('get np -A -n prod');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot use both --namespace and --all-namespaces/);
  r = await io.run('get ippools -n prod');
  assert.match(r.stderr, /IPPool is not namespaced/);
});

test('get: -l filters by label selector; a bad selector is a one-line error', async () => {
  const io = await seeded();
  let r = await io.run(['get', 'ippools', '-l', 'zone == "a"']);
  assert.equal(r.stdout, 'NAME     CIDR            SELECTOR\npool-a   198.18.0.0/24   \n');
  r = await io.run(['get', 'ippools', '-l', 'has(zone) && !has(env)', '-o', 'custom-columns=NAME']);
  assert.equal(r.stdout, 'NAME\npool-b\n');
  r = await io.run(['get', 'ippools', '-l', 'zone ==']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^Invalid option: .*-l\/--selector: invalid selector/);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1);
});

test('get: -o yaml prints one named resource alone and lists as <Kind>List', async () => {
  const io = await seeded();
  const one = parse((await io.run('get ippool pool-a -o yaml')).stdout);
  assert.equal(one.kind, 'IPPool');
  assert.equal(one.spec.cidr, '198.18.0.0/24');
  assert.ok(one.metadata.resourceVersion);
  assert.equal(one.metadata.uid, 'uid-2');
  const list = parse((await io.run('get ippools -o yaml')).stdout);
  assert.equal(list.kind, 'IPPoolList');
  assert.deepEqual(list.items.map((i: Resource) => i.metadata.name), ['pool-a', 'pool-b']);
  assert.ok(list.metadata.resourceVersion);
  const json = JSON.parse((await io.run('get ippool pool-a pool-b -o json')).stdout);
  assert.equal(json.kind, 'IPPoolList');
  const empty = parse((await io.run('get bgppeers -o yaml')).stdout);
  assert.deepEqual(empty.items, []);
  const exported = parse((await io.run('get ippool pool-a -o yaml --export')).stdout);
  assert.equal(exported.metadata.resourceVersion, undefined);
  assert.equal(exported.metadata.uid, undefined);
});

test('get: an empty list prints the headings; -f reads the names from a file', async () => {
  const io = await seeded();
  assert.equal((await io.run('get bgppeers')).stdout, 'NAME   PEERIP   NODE   ASN\n');
  io.files.set('p.yaml', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: pool-b\n');
  let r = await io.run('get -f p.yaml -o json');
  assert.equal(JSON.parse(r.stdout).metadata.name, 'pool-b');
  io.files.set('bad.yaml', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {}\n');
  r = await io.run('get -f bad.yaml');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'Failed to execute command: [IPPool(<unnamed>)] metadata.name: is required (bad.yaml document 1, line 1)\n');
});

test('patch: merge, strategic and json; failures change nothing', async () => {
  const io = await seeded();
  let r = await io.run(['patch', 'ippool', 'pool-a', '-p', '{"spec":{"natOutgoing":false,"disabled":true}}']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "Successfully patched 1 'IPPool' resource\n");
  let stored = await io.datastore.get({ kind: 'IPPool', name: 'pool-a' });
  assert.deepEqual([stored.spec?.cidr, stored.spec?.natOutgoing, stored.spec?.disabled], ['198.18.0.0/24', false, true]);
  assert.equal(stored.spec?.blockSize, 26, 'the patched resource is validated and defaulted like any write');
  r = await io.run(['patch', 'ippool', 'pool-a', '--type=json', '-p', '[{"op":"remove","path":"/spec/disabled"},{"op":"add","path":"/metadata/labels/x","value":"y"}]']);
  assert.equal(r.code, 0, r.stderr);
  stored = await io.datastore.get({ kind: 'IPPool', name: 'pool-a' });
  assert.equal(stored.spec?.disabled, undefined);
  assert.equal(stored.spec?.natOutgoing, false);
  assert.equal(stored.metadata.labels?.x, 'y');
  const rv = stored.metadata.resourceVersion;
  r = await io.run(['patch', 'ippool', 'pool-a', '-t', 'json', '-p', '[{"op":"test","path":"/spec/natOutgoing","value":true},{"op":"remove","path":"/spec/cidr"}]']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^Failed to patch 'IPPool' resource: IPPool\(pool-a\): patch operation 0 .*test failed/);
  r = await io.run(['patch', 'ippool', 'pool-a', '-p', '{"metadata":{"name":"other"}}']);
  assert.match(r.stderr, /may not change kind, name or namespace/);
  r = await io.run(['patch', 'ippool', 'nope', '-p', '{}']);
  assert.equal(r.stderr, "Failed to patch 'IPPool' resource: resource does not exist: IPPool(nope)\n");
  r = await io.run(['patch', 'ippool', 'pool-a', '-p', '{}', '--type', 'yolo']);
  assert.match(r.stderr, /unknown patch type 'yolo'/);
  r = await io.run(['patch', 'ippool', 'pool-a']);
  assert.match(r.stderr, /missing -p\/--patch/);
  assert.equal((await io.datastore.get({ kind: 'IPPool', name: 'pool-a' })).metadata.resourceVersion, rv);
  r = await io.run(['patch', 'networkpolicy', 'web', '-n', 'prod', '-p', '{"spec":{"order":5}}']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(((await io.datastore.get({ kind: 'NetworkPolicy', name: 'web', namespace: 'prod' })).spec as { order: number }).order, 5);
});

test('label: set, same value, --overwrite, --remove and their errors', async () => {
  const io = await seeded();
  let r = await io.run('label ippools pool-b team=net');
  assert.equal(r.stdout, 'Successfully set label team on ippools pool-b\n');
  r = await io.run('label ippools pool-b team=ops');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "failed to update label of ippools pool-b, key team is already present. please use '--overwrite' to set a new value.\n");
  r = await io.run('label ippools pool-b team=ops --overwrite');
  assert.equal(r.stdout, 'Successfully updated label team on ippools pool-b\n');
  assert.equal((await io.datastore.get({ kind: 'IPPool', name: 'pool-b' })).metadata.labels?.team, 'ops');
  r = await io.run('label ippools pool-b team --remove');
  assert.equal(r.stdout, 'Successfully removed label team from ippools pool-b\n');
  r = await io.run('label ippools pool-b team --remove');
  assert.equal(r.stderr, 'cannot remove label of ippools pool-b, key team does not exist\n');
  r = await io.run('label ippools nope a=b');
  assert.equal(r.stderr, 'ippools nope not found\n');
  r = await io.run('label ippools pool-b a=b --overwrite --remove');
  assert.match(r.stderr, /cannot be used together/);
  r = await io.run('label ippools pool-b a=b=c');
  assert.match(r.stderr, /invalid label a=b=c/);
  r = await io.run('label networkpolicy web -n prod tier=frontend');
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await io.datastore.get({ kind: 'NetworkPolicy', name: 'web', namespace: 'prod' })).metadata.labels?.tier, 'frontend');
});

test('version: client lines, then cluster info from ClusterInformation(default)', async () => {
  const io = new FakeIO();
  let r = await io.run('version');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^Client Version: +v0\.1\.0-test\nGit commit: +abc1234\n$/);
  assert.match(r.stderr, /Unable to retrieve Cluster Version or Type/);
  await io.datastore.create({ apiVersion: 'projectcalico.org/v3', kind: 'ClusterInformation', metadata: { name: 'default' }, spec: { calicoVersion: 'v3.28.0', clusterType: 'calico-ts,bgp' } });
  r = await io.run('version');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Cluster Version: +v3\.28\.0\nCluster Type: +calico-ts,bgp\n$/);
});

test('unreachable datastore: one line naming the endpoint and the fix, exit 1', async () => {
  const io = new FakeIO({ unreachable: true, files: { 'a.yaml': 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: a\nspec:\n  cidr: 198.18.0.0/24\n' } });
  for (const cmd of ['get ippools', 'apply -f a.yaml', 'delete ippool a', 'version']) {
    const r = await io.run(cmd);
    assert.equal(r.code, 1, cmd);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `${cmd}: ${r.stderr}`);
    assert.match(lines[0] as string, /^Failed to connect to the datastore: etcdv3 at http:\/\/127\.0\.0\.1:1: .*Check ETCD_ENDPOINTS/);
  }
});

test('--config is passed to connect; env reaches it', async () => {
  const io = new FakeIO({ env: { ETCD_ENDPOINTS: 'http://127.0.0.1:2379' } });
  await io.run('get ippools -c /tmp/calicoctl.cfg');
  assert.deepEqual(io.connects[0], { env: { ETCD_ENDPOINTS: 'http://127.0.0.1:2379' }, configFile: '/tmp/calicoctl.cfg' });
  await io.run('get ippools');
  assert.equal(io.connects[1]?.configFile, undefined);
});

test('dispatcher: help everywhere, unknown command and flag', async () => {
  const io = new FakeIO();
  let r = await io.run('--help');
  assert.equal(r.code, 0);
  for (const c of BUILTIN_COMMANDS) assert.match(r.stdout, new RegExp(`^  ${c.name} `, 'm'));
  r = await io.run('');
  assert.equal(r.code, 1);
  for (const c of BUILTIN_COMMANDS) {
    r = await io.run(`${c.name} --help`);
    assert.equal(r.code, 0, c.name);
    assert.match(r.stdout, new RegExp(`^Usage:\\n  calicoctl ${c.name}`), c.name);
    assert.match(r.stdout, /Examples:\n {2}# .+\n {2}(cat .*\| )?calicoctl /, c.name);
    assert.match(r.stdout, /Options:\n {2}-h --help/, c.name);
    assert.equal((await io.run(`help ${c.name}`)).stdout, r.stdout);
  }
  assert.equal(io.connects.length, 0, 'help never connects');
  r = await io.run('frobnicate');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Unknown command 'frobnicate'/);
  r = await io.run('get ippools --bogus');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "Invalid option: 'calicoctl get ippools --bogus': unknown flag --bogus. Use flag '--help' to read about a specific subcommand.\n");
  r = await io.run('--allow-version-mismatch get ippools');
  assert.equal(r.code, 0);
});

test('registry: plugged-in command with subcommands dispatches and gets help', async () => {
  const seen: string[] = [];
  const show: Command = {
    name: 'show',
    summary: 'Show IPAM usage.',
    usage: ['demo show [--ip=<IP>]'],
    examples: [{ comment: 'Show usage.', command: 'calicoctl demo show' }],
    flags: [{ name: 'ip', type: 'string', description: 'one address' }],
    run: async (ctx) => {
      seen.push(`${ctx.commandPath} ip=${String(ctx.args.flags.ip)}`);
      const ds = await ctx.datastore();
      ctx.out(`pools: ${(await ds.list({ kind: 'IPPool' })).items.length}`);
      return 0;
    },
  };
  const ipam: Command = { name: 'demo', summary: 'A plugged-in command tree.', usage: ['demo <command> [<args>...]'], examples: [], flags: [], subcommands: [show] };
  const registry = new CommandRegistry();
  for (const c of BUILTIN_COMMANDS) registry.register(c);
  registry.register(ipam);
  assert.throws(() => registry.register(ipam), /registered twice/);
  const io = new FakeIO();
  await io.datastore.create(pool('p', '198.18.0.0/24'));
  const run = async (argv: string[]): Promise<number> => {
    io.out = '';
    io.errOut = '';
    return main(argv, io, { registry });
  };
  assert.equal(await run(['demo', 'show', '--ip', '198.18.0.1']), 0);
  assert.deepEqual(seen, ['calicoctl demo show ip=198.18.0.1']);
  assert.equal(io.out, 'pools: 1\n');
  assert.equal(await run(['demo', '--help']), 0);
  assert.match(io.out, /Commands:\n {2}show +Show IPAM usage\./);
  assert.equal(await run(['demo', 'show', '--help']), 0);
  assert.match(io.out, /^Usage:\n {2}calicoctl demo show \[--ip=<IP>\]/);
  assert.equal(await run(['demo']), 1);
  assert.equal(await run(['demo', 'nope']), 1);
  assert.match(io.errOut, /Unknown command 'nope' for 'calicoctl demo'/);
});
