// The apply loop putting back what the kernel dropped: interfaces that were
// re-created or came back up, the periodic route/neighbour refresh, and the
// removal of the other backend's objects after a backend switch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplyLoop } from './apply-loop.js';
import { DataplaneManagers } from './managers.js';
import { FakeClock, fakePorts } from './fakes.js';
import { IptablesBackend, NftBackend } from './policy-backend.js';
import { IptablesCleanup, NftCleanup, type BackendCleanup } from './backend-cleanup.js';
import { defaultDataplaneConfig } from '../rules/model.js';
import { allowAll, workload } from './testing-fixtures.js';

const A = 'cali0000000001';
const B = 'cali0000000002';

function setup(opts: { backend?: 'nft' | 'iptables'; retire?: (ports: ReturnType<typeof fakePorts>) => BackendCleanup } = {}) {
  const ports = fakePorts();
  for (const d of [A, B]) ports.routes.devices.add(d);
  ports.links.links = [...ports.routes.devices].map((name, i) => ({ name, index: i + 10, up: true }));
  const clock = new FakeClock();
  const managers = new DataplaneManagers();
  const logs: string[] = [];
  const loop = new ApplyLoop({
    managers,
    backend: opts.backend === 'iptables' ? new IptablesBackend(ports) : new NftBackend(ports.nft),
    ports,
    clock,
    config: defaultDataplaneConfig(),
    minIntervalMs: 100,
    backoff: { initialMs: 200, maxMs: 1600, maxPolicyAttempts: 3 },
    log: (level, msg, fields) => logs.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`),
    ...(opts.retire ? { retire: opts.retire(ports) } : {}),
  });
  const step = async (ms: number) => {
    clock.advance(ms);
    await loop.roundFinished();
  };
  const wlA = workload({ name: 'a', iface: A, ipv4: ['198.18.1.1/32'], ipv6: ['2001:db8::1/128'], mac: 'ee:ee:ee:ee:ee:01', profiles: ['kns.default'] });
  const wlB = workload({ name: 'b', iface: B, ipv4: ['198.18.1.2/32'], mac: 'ee:ee:ee:ee:ee:02', profiles: ['kns.default'] });
  for (const u of [{ type: 'profileUpserted' as const, profile: allowAll('kns.default') }, { type: 'workloadEndpointUpserted' as const, endpoint: wlA }, { type: 'workloadEndpointUpserted' as const, endpoint: wlB }, { type: 'inSync' as const }]) managers.record(u);
  return { ports, clock, managers, loop, step, logs };
}

/** What the kernel does when an interface is deleted: its routes, neighbours and per-interface sysctls go. */
function deleteInterface(t: ReturnType<typeof setup>, dev: string): void {
  for (const [k, r] of t.ports.routes.routes) if (r.dev === dev) t.ports.routes.routes.delete(k);
  for (const [k, n] of t.ports.neighbors.entries) if (n.dev === dev) t.ports.neighbors.entries.delete(k);
  for (const k of [...t.ports.sysctl.values.keys()]) if (k.includes(`.${dev}.`)) t.ports.sysctl.values.delete(k);
}

test('an interface re-created with the same name gets its route, neighbour and sysctls back (only that interface is rewritten)', async () => {
  const t = setup();
  t.loop.kick();
  await t.step(0);
  assert.ok(t.ports.routes.routes.has('198.18.1.2'));
  deleteInterface(t, B);
  // Without being told, the loop believes its views: nothing is written.
  t.loop.kick();
  await t.step(100);
  assert.ok(!t.ports.routes.routes.has('198.18.1.2'), 'control: the loop alone does not notice');
  const routeLog = t.ports.routes.log.length;
  const sysctlLog = t.ports.sysctl.log.length;
  t.loop.interfacesChanged([B]);
  await t.step(100);
  assert.deepEqual(t.ports.routes.log.slice(routeLog), [`replace 198.18.1.2 dev ${B}`]);
  assert.equal(t.ports.neighbors.entries.get('198.18.1.2')?.mac, 'ee:ee:ee:ee:ee:02');
  assert.equal(t.ports.sysctl.values.get(`net.ipv4.conf.${B}.proxy_arp`), '1');
  assert.ok(t.ports.sysctl.log.slice(sysctlLog).every((l) => l.includes(`.${B}.`)), 'only the re-created interface is written');
  assert.equal(t.loop.metrics.interfaceRefreshes, 1);
  assert.ok(t.logs.some((l) => l.includes('re-applying their routes') && l.includes(B)));
});

test('interfaces that are not ours do not cause a round', async () => {
  const t = setup();
  t.loop.kick();
  await t.step(0);
  const rounds = t.loop.metrics.rounds;
  t.loop.interfacesChanged(['eth0', 'lo']);
  await t.step(1000);
  assert.equal(t.loop.metrics.rounds, rounds);
  assert.equal(t.loop.state, 'idle');
});

test('a change reported while a round is writing is applied by the next round, not lost', async () => {
  const t = setup();
  t.loop.kick();
  t.clock.advance(0); // the first round is now running
  assert.equal(t.loop.state, 'applying');
  deleteInterface(t, B); // ... and the interface is re-created under it
  t.loop.interfacesChanged([B]);
  await t.loop.roundFinished();
  // The first round may have written on the old interface and recorded it; the next round writes again.
  deleteInterface(t, B);
  await t.step(100);
  assert.ok(t.ports.routes.routes.has('198.18.1.2'));
  assert.equal(t.ports.sysctl.values.get(`net.ipv4.conf.${B}.rp_filter`), '1');
});

test('an interface that appears late is tried at once, not after its backoff', async () => {
  const t = setup();
  const C = 'cali0000000003';
  t.managers.record({ type: 'workloadEndpointUpserted', endpoint: workload({ name: 'c', iface: C, ipv4: ['198.18.1.3/32'], profiles: ['kns.default'] }) });
  t.loop.kick();
  await t.step(0);
  for (let i = 0; i < 4; i++) await t.step(400); // backoff grows: 200, 400, 800, 1600
  assert.ok(t.loop.failing().has('route:198.18.1.3'));
  t.ports.routes.devices.add(C);
  t.loop.interfacesChanged([C]);
  await t.step(100);
  assert.ok(t.ports.routes.routes.has('198.18.1.3'));
  assert.equal(t.ports.sysctl.values.get(`net.ipv4.conf.${C}.proxy_arp`), '1');
  assert.equal(t.loop.failing().size, 0);
});

test('refreshKernelViews: routes and neighbours are read back; one deleted by hand is written again, others are not', async () => {
  const t = setup();
  t.loop.kick();
  await t.step(0);
  t.ports.routes.routes.delete('198.18.1.1');
  t.ports.neighbors.entries.delete('2001:db8::1');
  const routeLog = t.ports.routes.log.length;
  const neighLog = t.ports.neighbors.log.length;
  t.loop.refreshKernelViews();
  await t.step(100);
  assert.deepEqual(t.ports.routes.log.slice(routeLog), ['list 4', 'list 6', `replace 198.18.1.1 dev ${A}`]);
  assert.deepEqual(t.ports.neighbors.log.slice(neighLog), ['list 4', 'list 6', `replace 2001:db8::1 lladdr ee:ee:ee:ee:ee:01 dev ${A}`]);
  assert.equal(t.loop.metrics.routeRefreshes, 1);
});

test('retire: the other backend goes only after this backend\'s policy is in place, once', async () => {
  const u = setup({ backend: 'nft', retire: (ports) => new IptablesCleanup(ports) });
  u.ports.iptables.listing[4] = ['*filter', ':INPUT ACCEPT [0:0]', ':cali-INPUT - [0:0]', '-A INPUT -m comment --comment cali:hook -j cali-INPUT', '-A cali-INPUT -m comment --comment "cali:h=x"', 'COMMIT', ''].join('\n');
  u.ports.ipset.listing = 'create cali40s-abc hash:net family inet hashsize 1024 maxelem 1048576\nadd cali40s-abc 198.18.1.1\ncreate other hash:ip family inet\n';
  u.ports.nft.failNext('apply');
  u.ports.nft.failNext('apply');
  u.loop.kick();
  await u.step(0);
  // The batch and the object-by-object retry of the first chain failed: policy is not in place, nothing is removed.
  assert.ok([...u.loop.failing().values()].some((f) => f.kind === 'policy'));
  assert.ok(!u.ports.iptables.log.some((l) => l.startsWith('restore')));
  await u.step(1000);
  assert.deepEqual([...u.loop.failing()], []);
  const restore = u.ports.iptables.log.find((l) => l.startsWith('restore 4'))!;
  assert.match(restore, /-D INPUT -m comment --comment cali:hook -j cali-INPUT/);
  assert.match(restore, /-X cali-INPUT/);
  assert.ok(!u.ports.iptables.log.some((l) => l.startsWith('restore 6')), 'nothing of ours in ip6tables: nothing written');
  assert.equal(u.ports.ipset.log.at(-1), 'restore destroy cali40s-abc\n', 'our sets only, after the rules');
  const nftApplies = u.ports.journal.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith('nft apply'));
  const firstRestore = u.ports.journal.findIndex((l) => l.startsWith('iptables restore'));
  assert.ok(nftApplies.at(-1)![1] < firstRestore, 'new backend first, old one removed after');
  assert.equal(u.loop.metrics.retiredObjects, 2);
  assert.ok(u.logs.some((l) => /removed the iptables backend's objects \(this agent runs nftables\)/.test(l)));
  const saves = u.ports.iptables.log.filter((l) => l.startsWith('save')).length;
  u.loop.refreshKernelViews();
  await u.step(100);
  assert.equal(u.ports.iptables.log.filter((l) => l.startsWith('save')).length, saves, 'once per loop');
});

test('retire: nftables table removed by an iptables agent; a cleanup that keeps failing is given up loudly, not fatal', async () => {
  const u = setup({ backend: 'iptables', retire: (ports) => new NftCleanup(ports.nft) });
  u.ports.nft.listing = 'table inet calico {\n}\n';
  u.loop.kick();
  await u.step(0);
  assert.deepEqual(u.ports.nft.log, ['list', 'apply delete table inet calico\n']);
  const firstRestore = u.ports.journal.findIndex((l) => l.startsWith('iptables restore'));
  assert.ok(firstRestore >= 0 && firstRestore < u.ports.journal.indexOf('nft apply delete table inet calico\n'), 'iptables policy first');

  const v = setup({ backend: 'iptables', retire: (ports) => new NftCleanup(ports.nft) });
  v.ports.nft.listing = 'table inet calico {\n}\n';
  v.ports.nft.failAlways('apply');
  v.loop.kick();
  for (let i = 0; i < 10; i++) await v.step(2000);
  assert.equal(v.ports.nft.log.filter((l) => l.startsWith('apply')).length, 3, 'maxPolicyAttempts tries');
  assert.equal(v.loop.state, 'idle');
  assert.ok(v.logs.some((l) => /^error could not remove the nftables backend's objects; giving up/.test(l)));
  assert.equal(v.loop.metrics.failures.cleanup, 3);
});
