// IPAMConfiguration and BlockAffinity are views of IPAM's own keys: one copy of
// the data, shared by calicoctl get/apply, `calicoctl ipam configure` and the
// allocator. BlockAffinity is read-only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../api/resource.js';
import { validateResource } from '../api/index.js';
import { FakeIO } from '../cli/fake-io.js';
import { isIpamError } from '../ipam/errors.js';
import { IpamClient } from '../ipam/ipam-client.js';
import { CONFIG_KEY, affinityKey } from '../ipam/model.js';
import { poolView, staticPoolSource } from '../ipam/pools.js';

const noWait = { sleep: async () => {}, random: () => 0.5 };

function setup() {
  const io = new FakeIO({ validate: (r) => validateResource(r) });
  const kv = io.datastoreImpl.kv;
  const pools = staticPoolSource([poolView({ name: 'v4', cidr: '192.0.2.0/26', blockSize: 28 }), poolView({ name: 'v6', cidr: '2001:db8::/120', blockSize: 124 })], []);
  const ipam = new IpamClient({ kv, pools, retry: noWait, now: () => new Date('2026-01-01T00:00:00Z') });
  return { io, kv, ipam };
}

const ipamConfigYaml = (spec: string): string => `apiVersion: projectcalico.org/v3\nkind: IPAMConfiguration\nmetadata:\n  name: default\nspec:\n${spec}`;

test('ipam configure and the IPAMConfiguration resource are one piece of data', async () => {
  const { io, kv, ipam } = setup();
  // Nothing stored yet: no resource (IPAM uses its defaults).
  assert.equal((await io.run('get ipamconfigurations')).stdout, 'NAME   STRICTAFFINITY   AUTOALLOCATEBLOCKS\n');
  let r = await io.run('ipam configure --strictaffinity=true');
  assert.equal(r.code, 0, r.stderr);
  r = await io.run('get ipamconfig default -o yaml');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /strictAffinity: true/);
  assert.match(r.stdout, /autoAllocateBlocks: true/);
  assert.match(r.stdout, /maxBlocksPerHost: 0/);
  r = await io.run('get ipamconfig -o wide');
  assert.match(r.stdout, /^NAME +STRICTAFFINITY +AUTOALLOCATEBLOCKS +MAXBLOCKSPERHOST *\ndefault +true +true +0 *\n$/);

  // The other way round: apply the resource, the allocator sees it.
  io.files.set('ipam.yaml', ipamConfigYaml('  strictAffinity: true\n  maxBlocksPerHost: 1\n'));
  r = await io.run('apply -f ipam.yaml');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await ipam.getConfig(), { strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 1 });
  assert.deepEqual(JSON.parse((await kv.get(CONFIG_KEY))!.value), { strict_affinity: true, auto_allocate_blocks: true, maxBlocksPerHost: 1 });
  // ... and allocates by it: one block of 16 for host a, no borrowing.
  await ipam.autoAssign({ handleId: 'a1', host: 'a', num4: 16 });
  await assert.rejects(ipam.autoAssign({ handleId: 'a2', host: 'a', num4: 1 }), (e) => isIpamError(e, 'pool-exhausted'));
  assert.equal((await kv.list('/calico/resources/')).pairs.length, 0, 'no second copy under /calico/resources');

  // Deleting the resource deletes IPAM's configuration: the allocator is back to its defaults.
  r = await io.run('delete ipamconfiguration default');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await ipam.getConfig(), { strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 0 });
});

test('a configuration written by Calico (omitempty JSON) reads the same through both paths', async () => {
  const { io, kv, ipam } = setup();
  await kv.create(CONFIG_KEY, JSON.stringify({ strict_affinity: true }));
  assert.deepEqual(await ipam.getConfig(), { strictAffinity: true, autoAllocateBlocks: false, maxBlocksPerHost: 0 });
  const stored = await io.datastore.get({ kind: 'IPAMConfiguration', name: 'default' });
  assert.deepEqual(stored.spec, { strictAffinity: true, autoAllocateBlocks: false, maxBlocksPerHost: 0 });
});

test('ipam configure and the resource refuse the same combinations, and change nothing', async () => {
  const { io, kv } = setup();
  let r = await io.run('ipam configure --max-blocks-per-host=3');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /maxBlocksPerHost: a limit needs strictAffinity: true/);
  io.files.set('bad.yaml', ipamConfigYaml('  maxBlocksPerHost: 3\n'));
  r = await io.run('apply -f bad.yaml');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /spec\.maxBlocksPerHost: a limit needs strictAffinity: true/);
  io.files.set('bad.yaml', ipamConfigYaml('  strictAffinity: false\n  autoAllocateBlocks: false\n'));
  r = await io.run('apply -f bad.yaml');
  assert.match(r.stderr, /spec\.autoAllocateBlocks: strictAffinity and autoAllocateBlocks cannot both be false/);
  assert.equal(await kv.get(CONFIG_KEY), undefined);
});

test('get blockaffinities shows the affinities IPAM holds; writes are refused and change nothing', async () => {
  const { io, kv, ipam } = setup();
  await ipam.autoAssign({ handleId: 'w1', host: 'node-a', num4: 1, num6: 1 });
  await ipam.autoAssign({ handleId: 'w2', host: 'node-b', num4: 1 });
  // Which blocks IPAM picked, from its own keys.
  const held = (await ipam.store.listAffinities()).map((a) => [a.host, a.cidr] as const);
  const b4 = held.find(([h]) => h === 'node-b')![1];
  const a6 = held.find(([h, c]) => h === 'node-a' && c.includes(':'))![1];
  assert.match(b4, /^192\.0\.2\.\d+\/28$/);
  let r = await io.run('get blockaffinities');
  assert.equal(r.code, 0, r.stderr);
  // Calico's names: <node>-<cidr with '.', ':' and '/' as '-'>.
  const name = (host: string, c: string) => `${host}-${c.split(/[.:/]/).join('-')}`;
  const rows = r.stdout.trimEnd().split('\n').map((l) => l.trim().split(/ +/));
  assert.deepEqual(rows[0], ['NAME', 'CIDR', 'NODE']);
  assert.deepEqual(rows.slice(1).sort(), held.map(([h, c]) => [name(h, c), c, h]).sort());
  assert.equal(rows.length, 4);
  assert.ok(rows.some((x) => x[0] === name('node-a', a6) && /^node-a-2001-db8--/.test(x[0]!)), JSON.stringify(rows));
  const bName = name('node-b', b4);
  r = await io.run(`get affinity ${bName} -o yaml`);
  assert.equal(r.code, 0, r.stderr);
  const printed = r.stdout;
  assert.match(printed, /kind: BlockAffinity/);
  assert.match(printed, /state: confirmed/);
  assert.match(printed, /node: node-b/);
  assert.match(printed, /type: host/);
  // The printed form is a valid document ...
  io.files.set('aff.yaml', printed);
  assert.equal((await io.run('validate -f aff.yaml')).code, 0);
  // ... but IPAM's affinities are not written through the resource API.
  const before = JSON.stringify((await kv.list('')).pairs);
  for (const cmd of ['apply -f aff.yaml', 'create -f aff.yaml', 'replace -f aff.yaml', `delete blockaffinity ${bName}`, `label blockaffinity ${bName} a=b`]) {
    r = await io.run(cmd);
    assert.equal(r.code, 1, `${cmd} succeeded: ${r.stdout}`);
    assert.match(r.stderr, /BlockAffinity is a read-only view of IPAM's block affinities/, cmd);
  }
  assert.equal(JSON.stringify((await kv.list('')).pairs), before, 'a refused write changed the store');
  assert.ok(await kv.get(affinityKey('node-b', b4)));
  // Given up through IPAM, the affinity leaves the view.
  await ipam.releaseByHandle('w2');
  await ipam.releaseHostAffinities('node-b');
  r = await io.run('get blockaffinities -o custom-columns=NAME');
  assert.deepEqual(r.stdout.trimEnd().split('\n').map((l) => l.trim()).sort(), ['NAME', ...held.filter(([h]) => h === 'node-a').map(([h, c]) => name(h, c))].sort());
});

test('the IPAM kinds cannot be watched (they are not resources in etcd)', () => {
  const { io } = setup();
  assert.throws(() => io.datastore.watch({ kinds: ['BlockAffinity'] }, { onEvents: () => {}, onInSync: () => {} }), /cannot be watched/);
});

test('IPAMConfiguration keeps no labels: refused by validation', () => {
  const doc: Resource = { apiVersion: 'projectcalico.org/v3', kind: 'IPAMConfiguration', metadata: { name: 'default', labels: { a: 'b' } }, spec: {} };
  assert.throws(() => validateResource(doc), /metadata\.labels: IPAMConfiguration is stored in IPAM's configuration key/);
});
