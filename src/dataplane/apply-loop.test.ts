import { test } from 'node:test';
import assert from 'node:assert/strict';
import { APPLY_BURST, ApplyLoop } from './apply-loop.js';
import { DataplaneManagers } from './managers.js';
import { FakeClock, fakePorts } from './fakes.js';
import { IptablesBackend, NftBackend } from './policy-backend.js';
import { defaultDataplaneConfig } from '../rules/model.js';
import { hostEndpoint, policy, rule, side, workload } from './testing-fixtures.js';
import { renderNftFull } from '../render/nft/render.js';
import { compileRuleset } from '../rules/compile-endpoints.js';
import { modelFromCalc } from './model-from-calc.js';
import type { DataplaneFatalError } from './errors.js';

function setup(opts: { backend?: 'nft' | 'iptables'; maxPolicyAttempts?: number } = {}) {
  const ports = fakePorts();
  for (const d of ['cali0000000001', 'cali0000000002']) ports.routes.devices.add(d);
  ports.links.links = [...ports.routes.devices].map((name, i) => ({ name, index: i + 10, up: true }));
  const clock = new FakeClock();
  const managers = new DataplaneManagers();
  const backend = opts.backend === 'iptables' ? new IptablesBackend(ports) : new NftBackend(ports.nft);
  const fatal: DataplaneFatalError[] = [];
  const loop = new ApplyLoop({
    managers,
    backend,
    ports,
    clock,
    config: defaultDataplaneConfig(),
    minIntervalMs: 100,
    backoff: { initialMs: 200, maxMs: 1600, maxPolicyAttempts: opts.maxPolicyAttempts ?? 5 },
    onFatal: (e) => fatal.push(e),
  });
  const record = (...u: Parameters<DataplaneManagers['record']>[0][]) => {
    for (const x of u) managers.record(x);
    loop.kick();
  };
  const step = async (ms: number) => {
    clock.advance(ms);
    await loop.roundFinished();
  };
  return { ports, clock, managers, loop, record, step, fatal };
}

const wlA = workload({ name: 'a', iface: 'cali0000000001', ipv4: ['198.18.1.1/32'], ipv6: ['2001:db8::1/128'], mac: 'ee:ee:ee:ee:ee:01', ingress: ['np/default/allow'] });
const wlB = workload({ name: 'b', iface: 'cali0000000002', ipv4: ['198.18.1.2/32'], mac: 'ee:ee:ee:ee:ee:02', profiles: ['kns.default'] });
const allow = policy('np/default/allow', { inbound: [rule({ action: 'Allow', protocol: 6, destination: side({ ports: [{ first: 80, last: 80 }] }) })] });

test('nothing touches the kernel before the datastore is in sync', async () => {
  const t = setup();
  t.record({ type: 'policyUpserted', policy: allow }, { type: 'workloadEndpointUpserted', endpoint: wlA });
  await t.step(1000);
  assert.equal(t.loop.state, 'waiting-for-sync');
  assert.equal(t.ports.nft.log.length, 0);
  assert.equal(t.ports.routes.log.length, 0);
  t.record({ type: 'inSync' });
  await t.step(0);
  assert.equal(t.loop.state, 'idle');
  assert.deepEqual(t.ports.nft.log.map((l) => l.split(' ')[0]), ['list', 'apply']);
  assert.ok(t.ports.routes.routes.has('198.18.1.1'));
  assert.ok(t.ports.routes.routes.has('2001:db8::1'));
  assert.equal(t.ports.sysctl.values.get('net.ipv4.conf.cali0000000001.proxy_arp'), '1');
  assert.equal(t.ports.sysctl.values.get('net.ipv4.ip_forward'), '1');
});

test('updates recorded together are one transaction; a lone change is applied at once; after a burst of APPLY_BURST rounds, one round per minIntervalMs (throttled)', async () => {
  const t = setup();
  t.record({ type: 'inSync' });
  await t.step(0);
  const applies = () => t.ports.nft.log.filter((l) => l.startsWith('apply')).length;
  const before = applies();
  t.record({ type: 'policyUpserted', policy: allow });
  t.record({ type: 'workloadEndpointUpserted', endpoint: wlA });
  t.record({ type: 'workloadEndpointUpserted', endpoint: wlB });
  await t.step(0);
  assert.equal(applies(), before + 1, 'one transaction, at once (tokens left)');
  // Back-to-back changes: the first rounds go at once, then the bucket is empty.
  const port = (p: number) => policy('np/default/allow', { inbound: [rule({ action: 'Allow', protocol: 6, destination: side({ ports: [{ first: p, last: p }] }) })] });
  let immediate = 0;
  for (let i = 0; i < APPLY_BURST + 2; i++) {
    const n = applies();
    t.record({ type: 'policyUpserted', policy: port(1000 + i) });
    await t.step(0);
    if (applies() > n) immediate++;
    else break;
  }
  assert.equal(immediate, APPLY_BURST - 2, 'the burst: the first round and the one above took two tokens');
  // Throttled now: a change waits for the next token, and several waiting changes go in one round.
  const n = applies();
  t.record({ type: 'policyUpserted', policy: port(2000) });
  t.record({ type: 'policyUpserted', policy: port(2001) });
  await t.step(10);
  assert.equal(applies(), n, 'throttled: nothing before the next token');
  await t.step(100);
  assert.equal(applies(), n + 1, 'one round for both changes');
  assert.equal(t.loop.state, 'idle');
  // After a quiet spell the bucket is full again: a change goes in at once.
  await t.step(10 * 100);
  t.record({ type: 'policyUpserted', policy: port(3000) });
  await t.step(0);
  assert.equal(applies(), n + 2);
});

test('restart with correct kernel state reads back and writes nothing', async () => {
  const first = setup();
  first.record({ type: 'policyUpserted', policy: allow }, { type: 'workloadEndpointUpserted', endpoint: wlA }, { type: 'inSync' });
  await first.step(0);
  const second = setup();
  second.ports.nft.listing = renderNftFull(compileRuleset(modelFromCalc(first.managers.snapshot(), defaultDataplaneConfig())));
  for (const r of first.ports.routes.routes.values()) second.ports.routes.routes.set(r.dst, r);
  for (const n of first.ports.neighbors.entries.values()) second.ports.neighbors.entries.set(n.ip, n);
  second.record({ type: 'policyUpserted', policy: allow }, { type: 'workloadEndpointUpserted', endpoint: wlA }, { type: 'inSync' });
  await second.step(0);
  assert.deepEqual(second.ports.nft.log, ['list']);
  assert.deepEqual(second.ports.routes.log, ['list 4', 'list 6']);
  assert.deepEqual(second.ports.neighbors.log, ['list 4', 'list 6']);
});

test('a refused batch is retried object by object; the bad object backs off, the rest are applied', async () => {
  const t = setup();
  t.record({ type: 'policyUpserted', policy: allow }, { type: 'workloadEndpointUpserted', endpoint: wlA }, { type: 'inSync' });
  await t.step(0);
  t.ports.nft.listing = renderNftFull(compileRuleset(modelFromCalc(t.managers.snapshot(), defaultDataplaneConfig())));
  // Next: change the policy AND add workload b; the batch fails, and so does the policy chain alone.
  t.ports.nft.failNext('apply');
  t.ports.nft.failNext('cali-ti-');
  t.record({ type: 'policyUpserted', policy: policy('np/default/allow', { inbound: [rule({ action: 'Allow', protocol: 17 })] }) });
  t.record({ type: 'workloadEndpointUpserted', endpoint: wlB });
  await t.step(100);
  const failing = t.loop.failing();
  assert.equal(failing.size, 1);
  const [name, f] = [...failing][0]!;
  assert.match(name, /^cali-ti-/);
  assert.equal(f.attempts, 1);
  const applied = t.ports.nft.log.filter((l) => l.startsWith('apply'));
  assert.ok(applied.some((l) => l.includes('cali-fw-cali0000000002')), 'the new workload chain went in despite the failure');
  assert.ok(t.ports.routes.routes.has('198.18.1.2'));
  // Backoff: the retry happens after 200 ms and succeeds.
  await t.step(250);
  assert.equal(t.loop.failing().size, 0);
  assert.equal(t.loop.metrics.failures.policy, 1);
});

test('a policy object that keeps failing stops the loop loudly', async () => {
  const t = setup({ maxPolicyAttempts: 3 });
  t.ports.nft.failAlways('apply');
  t.record({ type: 'policyUpserted', policy: allow }, { type: 'workloadEndpointUpserted', endpoint: wlA }, { type: 'inSync' });
  for (let i = 0; i < 10 && t.loop.state !== 'failed'; i++) await t.step(2000);
  assert.equal(t.loop.state, 'failed');
  assert.equal(t.fatal.length, 1);
  assert.equal(t.fatal[0]!.kind, 'internal');
  t.record({ type: 'workloadEndpointUpserted', endpoint: wlB });
  await t.step(5000);
  assert.equal(t.loop.state, 'failed', 'a failed loop never writes again');
});

test('a policy rule the iptables backend cannot render stops the loop loudly (never keeps the old rules silently)', async () => {
  const t = setup({ backend: 'iptables' });
  // More than 15 negated ports: iptables multiport cannot express it in one rule.
  const notPorts = Array.from({ length: 20 }, (_, i) => ({ first: 1000 + i * 2, last: 1000 + i * 2 }));
  const bad = policy('np/default/allow', { inbound: [rule({ action: 'Deny', protocol: 6, destination: side({ notPorts }) })] });
  t.record({ type: 'policyUpserted', policy: bad }, { type: 'workloadEndpointUpserted', endpoint: wlA }, { type: 'inSync' });
  await t.step(0);
  assert.equal(t.loop.state, 'failed');
  assert.equal(t.fatal.length, 1);
  assert.match(t.fatal[0]!.message, /cannot express a negated port list/);
});

test('a route whose interface does not exist yet is retried without blocking others', async () => {
  const t = setup();
  const wlC = workload({ name: 'c', iface: 'cali0000000003', ipv4: ['198.18.1.3/32'], profiles: ['kns.default'] });
  t.record({ type: 'workloadEndpointUpserted', endpoint: wlB }, { type: 'workloadEndpointUpserted', endpoint: wlC }, { type: 'inSync' });
  await t.step(0);
  assert.ok(t.ports.routes.routes.has('198.18.1.2'));
  assert.ok(!t.ports.routes.routes.has('198.18.1.3'));
  assert.equal(t.loop.failing().get('route:198.18.1.3')?.kind, 'route');
  t.ports.routes.devices.add('cali0000000003');
  t.ports.links.links.push({ name: 'cali0000000003', index: 30, up: true });
  await t.step(250);
  assert.ok(t.ports.routes.routes.has('198.18.1.3'));
  assert.equal(t.ports.sysctl.values.get('net.ipv4.conf.cali0000000003.rp_filter'), '1');
  assert.equal(t.loop.failing().size, 0);
});

test('removing an endpoint removes its routes and flushes its conntrack entries', async () => {
  const t = setup();
  t.record({ type: 'policyUpserted', policy: allow }, { type: 'workloadEndpointUpserted', endpoint: wlA }, { type: 'inSync' });
  await t.step(0);
  t.record({ type: 'workloadEndpointRemoved', id: wlA.id });
  await t.step(100);
  assert.equal(t.ports.routes.routes.size, 0);
  assert.deepEqual(t.ports.conntrack.log.sort(), ['flush 198.18.1.1', 'flush 2001:db8::1']);
  const last = t.ports.nft.log.at(-1)!;
  assert.match(last, /delete chain inet calico cali-fw-cali0000000001/);
});

test('routes we do not own are never touched; stale routes of ours are swept', async () => {
  const t = setup();
  t.ports.routes.routes.set('198.18.9.9', { dst: '198.18.9.9', dev: 'cali0000000002', family: 4 });
  t.record({ type: 'workloadEndpointUpserted', endpoint: wlB }, { type: 'inSync' });
  await t.step(0);
  assert.ok(!t.ports.routes.routes.has('198.18.9.9'));
  assert.ok(t.ports.routes.log.includes('remove 198.18.9.9 dev cali0000000002'));
});

test('iptables backend: ipsets are written before the rules and destroyed after', async () => {
  const t = setup({ backend: 'iptables' });
  t.record(
    { type: 'ipSetUpserted', ipSet: { id: 'sabc', kind: 'net', description: 'role == web', members: [{ net: '198.18.1.1/32' }] } },
    { type: 'policyUpserted', policy: policy('np/default/allow', { inbound: [rule({ action: 'Allow', source: side({ ipSetIds: ['sabc'] }) })] }) },
    { type: 'workloadEndpointUpserted', endpoint: wlA },
    { type: 'inSync' },
  );
  await t.step(0);
  const firstIpset = t.ports.journal.findIndex((l) => l.startsWith('ipset restore'));
  const firstRules = t.ports.journal.findIndex((l) => l.startsWith('iptables restore'));
  assert.ok(firstIpset >= 0 && firstRules > firstIpset, 'sets before rules');
  assert.match(t.ports.ipset.log.find((l) => l.startsWith('restore'))!, /create cali40s-/);
  assert.match(t.ports.iptables.log.find((l) => l.startsWith('restore 4'))!, /--match-set cali40s-/);
  t.record({ type: 'policyRemoved', id: 'np/default/allow' }, { type: 'ipSetRemoved', id: 'sabc' }, { type: 'workloadEndpointRemoved', id: wlA.id });
  await t.step(100);
  assert.match(t.ports.ipset.log.at(-1)!, /^restore destroy cali40s-/);
  const destroy = t.ports.journal.findIndex((l) => l.startsWith('ipset restore destroy'));
  const lastRules = t.ports.journal.map((l) => l.startsWith('iptables restore')).lastIndexOf(true);
  assert.ok(destroy > lastRules, 'sets destroyed after the rules stop using them');
});

test('stop during a round: the round finishes, no further round starts, the kernel is left as is', async () => {
  const t = setup();
  t.record({ type: 'policyUpserted', policy: allow }, { type: 'workloadEndpointUpserted', endpoint: wlA }, { type: 'inSync' });
  t.clock.advance(0);
  assert.equal(t.loop.state, 'applying');
  t.record({ type: 'workloadEndpointUpserted', endpoint: wlB }); // dirty while applying
  const stopped = t.loop.stop();
  await stopped;
  assert.equal(t.loop.state, 'stopped');
  const writes = t.ports.nft.log.length;
  await t.step(10_000);
  assert.equal(t.ports.nft.log.length, writes);
  assert.equal(t.clock.pendingTimers(), 0);
  assert.ok(!t.ports.nft.log.some((l) => l.includes('delete table') || l.includes('flush table')));
});

test('illegal transitions throw', async () => {
  const t = setup();
  await t.loop.stop();
  assert.throws(() => (t.loop as unknown as { to(s: string): void }).to('applying'), /illegal transition stopped -> applying/);
});

test('a host endpoint given by expectedIPs follows the host\'s addresses: re-read periodically, applied when they change', async () => {
  const t = setup();
  t.ports.hostInterfaces.interfaces = [{ name: 'eth0', addresses: ['192.0.2.1'] }, { name: 'eth1', addresses: [] }];
  const hep = hostEndpoint({ id: 'by-ip', expectedIPs: ['198.51.100.1'], normal: { ingress: ['np/default/allow'] } });
  t.record({ type: 'policyUpserted', policy: allow }, { type: 'hostEndpointUpserted', endpoint: hep }, { type: 'inSync' });
  await t.step(0);
  const applied = () => t.ports.nft.log.filter((l) => l.startsWith('apply')).join('\n');
  assert.doesNotMatch(applied(), /cali-th-eth1/, 'no interface carries the address yet');
  const writes = t.ports.nft.log.length;
  // Nothing changed: a refresh reads the addresses again and writes nothing.
  await t.step(10_000);
  await t.step(100);
  assert.equal(t.ports.hostInterfaces.log.length, 2);
  assert.equal(t.ports.nft.log.length, writes);
  // The address appears on eth1: within one refresh the endpoint governs eth1.
  t.ports.hostInterfaces.interfaces[1]!.addresses.push('198.51.100.1');
  await t.step(10_000);
  await t.step(100);
  assert.match(applied(), /add chain inet calico cali-th-eth1/);
  assert.match(applied(), /add map inet calico cali-to-hep-dispatch-map \{ type ifname : verdict; elements = \{ "eth1" : goto cali-th-eth1 \} \}/);
  await t.loop.stop();
  assert.equal(t.clock.pendingTimers(), 0, 'stop clears the refresh timer');
});

test('a failed address read keeps the previous listing and is retried at the next refresh', async () => {
  const t = setup();
  t.ports.hostInterfaces.interfaces = [{ name: 'eth1', addresses: ['198.51.100.1'] }];
  t.record({ type: 'hostEndpointUpserted', endpoint: hostEndpoint({ id: 'by-ip', expectedIPs: ['198.51.100.1'] }) }, { type: 'inSync' });
  await t.step(0);
  assert.match(t.ports.nft.log.join('\n'), /cali-th-eth1/);
  t.ports.hostInterfaces.failNext('list');
  await t.step(10_000);
  await t.step(100);
  assert.equal(t.loop.state, 'idle');
  assert.doesNotMatch(t.ports.nft.log.filter((l) => l.startsWith('apply')).slice(1).join('\n'), /delete chain inet calico cali-th-eth1/, 'the endpoint was not dropped');
  await t.step(10_000);
  await t.step(100);
  assert.equal(t.ports.hostInterfaces.log.filter((l) => l === 'list').length, 3);
});

test('object by object, host endpoint stage chains go in before the dispatch that names them', async () => {
  const t = setup();
  t.ports.nft.listing = 'table inet calico {\n}\n';
  const u = policy('gnp/u', { inbound: [rule({ action: 'Allow' })] }, { doNotTrack: true, applyOnForward: true });
  t.ports.nft.failNext('apply');
  t.record({ type: 'policyUpserted', policy: u }, { type: 'hostEndpointUpserted', endpoint: hostEndpoint({ id: 'h', iface: 'eth0', untracked: { ingress: ['gnp/u'] }, forward: { ingress: ['gnp/u'] } }) }, { type: 'inSync' });
  await t.step(0);
  // The first apply is the refused batch; then one object per apply.
  const applies = t.ports.nft.log.filter((l) => l.startsWith('apply')).slice(1);
  const first = (re: RegExp) => applies.findIndex((l) => re.test(l));
  for (const [chain, map] of [
    ['cali-thu-eth0', 'cali-to-hep-nt-dispatch-map'],
    ['cali-thf-eth0', 'cali-to-hep-fw-dispatch-map'],
  ] as const) {
    const c = first(new RegExp(`add chain inet calico ${chain}\\b`));
    const m = first(new RegExp(`add map inet calico ${map} \\{ [^}]* elements = `));
    assert.ok(c >= 0 && m > c, `${chain} (${c}) before ${map} (${m})`);
  }
  assert.equal(t.loop.failing().size, 0);
});
