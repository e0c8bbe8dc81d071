// Incremental policy rounds (desired-objects.ts, apply-loop.ts): after any
// sequence of updates, what the incremental rounds leave in the kernel is
// exactly what one full render of the final state gives; a round after one
// policy changed writes only that policy's objects; the full reconcile
// (timer, on demand) repairs what incremental rounds do not look at.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplyLoop } from './apply-loop.js';
import { DataplaneManagers } from './managers.js';
import { FakeClock, fakePorts } from './fakes.js';
import { IptablesBackend, NftBackend } from './policy-backend.js';
import { SimIpset, SimIptables, SimNft } from './kernel-sim.test-support.js';
import { allowAll, hostEndpoint, policy, rule, side, workload } from './testing-fixtures.js';
import { modelFromCalc } from './model-from-calc.js';
import { compileRuleset } from '../rules/compile-endpoints.js';
import { chainNames } from '../rules/names.js';
import { defaultDataplaneConfig, type DataplaneConfig } from '../rules/model.js';
import { renderNftFull } from '../render/nft/render.js';
import { renderIpsetDelta, renderIptablesFull } from '../render/iptables/render.js';
import { seededRandom, type Random } from '../base/prng.js';
import type { CalcUpdate, NormalizedRule } from '../calc/output.js';

type Backend = 'nftables' | 'iptables';
const IFACES = Array.from({ length: 6 }, (_, i) => `cali${String(i).padStart(11, '0')}`);

function setup(backend: Backend, opts: { fullReconcileIntervalMs?: number; config?: DataplaneConfig } = {}) {
  const ports = fakePorts();
  for (const d of IFACES) ports.routes.devices.add(d);
  const kernel = { nft: new SimNft(), iptables: new SimIptables(), ipset: new SimIpset() };
  const clock = new FakeClock();
  const managers = new DataplaneManagers();
  const loop = new ApplyLoop({
    managers,
    backend: backend === 'nftables' ? new NftBackend(kernel.nft) : new IptablesBackend({ iptables: kernel.iptables, ipset: kernel.ipset }),
    ports,
    clock,
    config: opts.config ?? defaultDataplaneConfig(),
    minIntervalMs: 100,
    fullReconcileIntervalMs: opts.fullReconcileIntervalMs ?? 0,
    onFatal: (e) => {
      throw e;
    },
    ...(process.env.DEBUG_INCR ? { log: (level: string, msg: string, fields?: Record<string, unknown>) => console.log(level, msg, JSON.stringify(fields)) } : {}),
  });
  const apply = async (...u: CalcUpdate[]) => {
    for (const x of u) managers.record(x);
    loop.kick();
    clock.advance(100);
    await loop.roundFinished();
  };
  return { kernel, clock, managers, loop, apply };
}

/** The kernel one full render of the managers' current state gives, from nothing. */
async function fullRender(backend: Backend, managers: DataplaneManagers, config = defaultDataplaneConfig()): Promise<unknown> {
  const desired = compileRuleset(modelFromCalc(managers.snapshot(), config), { backend });
  if (backend === 'nftables') {
    const nft = new SimNft();
    await nft.apply(renderNftFull(desired));
    return nft.content();
  }
  const iptables = new SimIptables();
  const ipset = new SimIpset();
  await ipset.restore(renderIpsetDelta(new Map(), desired).before);
  for (const f of [4, 6] as const) await iptables.restore(f, renderIptablesFull(desired, f));
  return [iptables.content(), ipset.content()];
}

const kernelContent = (backend: Backend, k: ReturnType<typeof setup>['kernel']) => (backend === 'nftables' ? k.nft.content() : [k.iptables.content(), k.ipset.content()]);

const POLICIES = ['gnp/p0', 'gnp/p1', 'gnp/p2', 'gnp/p3', 'gnp/p4'];
const SETS = ['s0', 's1', 's2'];

function randomUpdate(r: Random): CalcUpdate {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const some = <T>(xs: readonly T[]): T[] => xs.filter(() => r() < 0.35);
  const addr = () => ({ net: r() < 0.8 ? `198.18.${Math.floor(r() * 4)}.${1 + Math.floor(r() * 40)}/32` : `2001:db8::${(1 + Math.floor(r() * 40)).toString(16)}/128` });
  const randomRule = (): NormalizedRule =>
    pick<() => NormalizedRule>([
      () => rule({ action: pick(['Allow', 'Deny']), protocol: 6, destination: side({ ports: [{ first: 80 + Math.floor(r() * 3), last: 80 + Math.floor(r() * 3) + 2 }] }) }),
      () => rule({ action: pick(['Allow', 'Deny', 'Pass']), source: side({ ipSetIds: [pick(SETS)] }) }),
      () => rule({ action: 'Allow', source: side({ nets: some(['198.18.8.0/24', '198.18.9.0/24', '203.0.113.0/24']) }) }),
      () => rule({ action: 'Allow', protocol: 17, destination: side({ namedPortIpSetIds: ['np0'] }) }),
      () => rule({ action: 'Deny', protocol: 6, source: side({ notIpSetIds: [pick(SETS)] }) }),
    ])();
  const kind = Math.floor(r() * 10);
  switch (kind) {
    case 0:
    case 1: {
      const id = pick(POLICIES);
      const rules = () => Array.from({ length: Math.floor(r() * 3) }, randomRule);
      return { type: 'policyUpserted', policy: policy(id, { inbound: rules(), outbound: rules() }) };
    }
    case 2:
      return { type: 'policyRemoved', id: pick(POLICIES) };
    case 3:
    case 4: {
      const i = Math.floor(r() * IFACES.length);
      return {
        type: 'workloadEndpointUpserted',
        endpoint: workload({ name: `w${i}`, iface: IFACES[i]!, ipv4: [`198.18.0.${i + 1}/32`], ...(r() < 0.5 ? { ipv6: [`2001:db8::${i + 1}/128`] } : {}), ...(r() < 0.5 ? { mac: `ee:ee:ee:ee:ee:0${i}` } : {}), ingress: some(POLICIES), egress: some(POLICIES), profiles: some(['kns.a', 'kns.b']) }),
      };
    }
    case 5:
      return { type: 'workloadEndpointRemoved', id: `default/w${Math.floor(r() * IFACES.length)}` };
    case 6: {
      const id = pick(SETS);
      if (r() < 0.2) return { type: 'ipSetRemoved', id };
      // Up to 14 members: a later upsert may drop more than nft's rewrite threshold at once (flush + re-add).
      if (r() < 0.5) return { type: 'ipSetUpserted', ipSet: { id, kind: 'net', description: id, members: Array.from({ length: Math.floor(r() * 15) }, addr) } };
      return { type: 'ipSetDelta', id, added: Array.from({ length: Math.floor(r() * 3) }, addr), removed: [addr()] };
    }
    case 7:
      return r() < 0.7
        ? { type: 'ipSetUpserted', ipSet: { id: 'np0', kind: 'named-port', description: 'np0', members: some([{ net: '198.18.0.1/32', protocol: 17, port: 53 }, { net: '198.18.0.2/32', protocol: 17, port: 53 }, { net: '198.18.0.3/32', protocol: 17, port: 5353 }]) } }
        : { type: 'profileUpserted', profile: r() < 0.5 ? allowAll(pick(['kns.a', 'kns.b'])) : { id: pick(['kns.a', 'kns.b']), inboundRules: [randomRule()], outboundRules: [] } };
    case 8:
      return r() < 0.5
        ? { type: 'ipPoolUpserted', pool: { name: pick(['p4', 'p6']), cidr: r() < 0.5 ? '198.18.0.0/16' : '2001:db8::/64', ipVersion: 4, natOutgoing: r() < 0.5, disabled: false } }
        : { type: 'ipPoolRemoved', name: pick(['p4', 'p6']) };
    default:
      return r() < 0.6
        ? { type: 'hostEndpointUpserted', endpoint: hostEndpoint({ id: 'h', iface: 'eth0', normal: { ingress: some(POLICIES) }, untracked: { ingress: some(POLICIES) }, forward: { egress: some(POLICIES) } }) }
        : { type: 'hostEndpointRemoved', id: 'h' };
  }
}

for (const backend of ['nftables', 'iptables'] as const) {
  // Flow logs on (rules/flow-log.ts): NFLOG rules in the endpoint chains, merged Deny via cali-fl-deny-<dir>; the same differential holds.
  const flowLogsOn: DataplaneConfig = { ...defaultDataplaneConfig(), flowLogs: { nflogGroup: 20 } };
  const variants = [
    { label: '', config: defaultDataplaneConfig(), seeds: [1, 2, 3, 4, 5, 6] },
    { label: ', flow logs on', config: flowLogsOn, seeds: [7, 8, 9] },
  ];
  for (const { label, config, seeds } of variants) test(`${backend}${label}: after random update sequences the incremental kernel equals a full render of the final state (differential, seeded)`, async () => {
    for (const seed of seeds) {
      const r = seededRandom(seed);
      const t = setup(backend, { config });
      await t.apply({ type: 'ipSetUpserted', ipSet: { id: 's0', kind: 'net', description: 's0', members: [{ net: '198.18.0.1/32' }] } }, { type: 'inSync' });
      for (let step = 0; step < 60; step++) {
        const batch = Array.from({ length: 1 + Math.floor(r() * 3) }, () => randomUpdate(r));
        // Now and then a full reconcile on demand in between (it must change nothing the incremental rounds did right).
        if (r() < 0.1) t.loop.reconcileNow();
        await t.apply(...batch);
        assert.equal(t.loop.failing().size, 0, `seed ${seed} step ${step}: ${JSON.stringify([...t.loop.failing()])}`);
        assert.deepEqual(kernelContent(backend, t.kernel), await fullRender(backend, t.managers, config), `seed ${seed} step ${step} after ${JSON.stringify(batch).slice(0, 400)}`);
      }
      // Incremental rounds did the work: only the first round and the ones asked for were full.
      assert.ok(t.loop.metrics.fullReconciles < t.loop.metrics.rounds / 3, `seed ${seed}: ${t.loop.metrics.fullReconciles} full of ${t.loop.metrics.rounds}`);
      // The flow-log variant compared flow-log rules, not a ruleset without them.
      if (config.flowLogs) assert.match(JSON.stringify(kernelContent(backend, t.kernel)), /cali-fl\|[AD]\|[IO]/, `seed ${seed}: no flow-log rule in the kernel`);
    }
  });

  test(`${backend}: a round after one policy changed compares and writes only that policy's chain`, async () => {
    const t = setup(backend);
    const pol = (i: number, port: number) => policy(`gnp/p${i}`, { inbound: [rule({ action: 'Allow', protocol: 6, destination: side({ ports: [{ first: port, last: port }] }) })] });
    const initial: CalcUpdate[] = [];
    for (let i = 0; i < 5; i++) {
      initial.push({ type: 'policyUpserted', policy: pol(i, 80) });
      initial.push({ type: 'workloadEndpointUpserted', endpoint: workload({ name: `w${i}`, iface: IFACES[i]!, ipv4: [`198.18.0.${i + 1}/32`], ingress: [`gnp/p${i}`] }) });
    }
    await t.apply(...initial, { type: 'inSync' });
    const before = backend === 'nftables' ? t.kernel.nft.scripts.length : 0;
    const writes: string[] = [];
    if (backend === 'iptables') {
      const restore = t.kernel.iptables.restore.bind(t.kernel.iptables);
      t.kernel.iptables.restore = async (f, text) => (writes.push(text), restore(f, text));
      const ipset = t.kernel.ipset.restore.bind(t.kernel.ipset);
      t.kernel.ipset.restore = async (text) => (writes.push(text), ipset(text));
    }
    await t.apply({ type: 'policyUpserted', policy: pol(2, 443) });
    const tier = chainNames.tier('default', ['gnp/p2'], 'inbound');
    if (backend === 'nftables') {
      const scripts = t.kernel.nft.scripts.slice(before);
      assert.equal(scripts.length, 1);
      const touched = new Set([...scripts[0]!.matchAll(/(?:chain|rule) inet calico (\S+)/g)].map((m) => m[1]));
      assert.deepEqual([...touched], [tier]);
      assert.doesNotMatch(scripts[0]!, /\bset\b|element/);
    } else {
      const declared = new Set(writes.flatMap((w) => [...w.matchAll(/^:(\S+)/gm)].map((m) => m[1])));
      assert.deepEqual([...declared], [tier]);
      assert.ok(writes.every((w) => !/^(create|add|del|destroy) /m.test(w)), 'no ipset change');
    }
    // Only the dirty objects were compared, not the whole ruleset.
    assert.equal(t.loop.metrics.lastRoundObjects, 1);
    assert.equal(t.loop.metrics.fullReconciles, 1);
  });

  test(`${backend}: the periodic full reconcile (and reconcileNow) repairs a chain changed behind our back; incremental rounds do not look`, async () => {
    const t = setup(backend, { fullReconcileIntervalMs: 60_000 });
    const allowWeb = policy('gnp/web', { inbound: [rule({ action: 'Allow', protocol: 6, destination: side({ ports: [{ first: 80, last: 80 }] }) })] });
    const ep = workload({ name: 'a', iface: IFACES[0]!, ipv4: ['198.18.0.1/32'], ingress: ['gnp/web'] });
    await t.apply({ type: 'policyUpserted', policy: allowWeb }, { type: 'workloadEndpointUpserted', endpoint: ep }, { type: 'inSync' });
    const good = kernelContent(backend, t.kernel);
    const tier = chainNames.tier('default', ['gnp/web'], 'inbound');
    // Someone empties our tier chain (keeping it, so only a read-back can tell).
    const tamper = async () => {
      if (backend === 'nftables') await t.kernel.nft.apply(`flush chain inet calico ${tier}\n`);
      else await t.kernel.iptables.restore(4, `*filter\n:${tier} - [0:0]\nCOMMIT\n`);
      assert.notDeepEqual(kernelContent(backend, t.kernel), good);
    };
    await tamper();
    // An unrelated change: an incremental round, which does not read back.
    await t.apply({ type: 'ipPoolUpserted', pool: { name: 'p', cidr: '198.18.0.0/16', ipVersion: 4, natOutgoing: true, disabled: false } });
    assert.equal(t.loop.metrics.fullReconciles, 1);
    const withPool = await fullRender(backend, t.managers);
    assert.notDeepEqual(kernelContent(backend, t.kernel), withPool);
    // The timer: a full reconcile, which puts the chain back.
    t.clock.advance(60_000);
    await t.loop.roundFinished();
    assert.equal(t.loop.metrics.fullReconciles, 2);
    assert.deepEqual(kernelContent(backend, t.kernel), withPool);
    // On demand, without waiting for the timer.
    await tamper();
    t.loop.reconcileNow();
    t.clock.advance(100);
    await t.loop.roundFinished();
    assert.equal(t.loop.metrics.fullReconciles, 3);
    assert.deepEqual(kernelContent(backend, t.kernel), withPool);
    await t.loop.stop();
    assert.equal(t.clock.pendingTimers(), 0, 'stop cancels the reconcile timer');
  });
}

test('per-object status: a chain the kernel refuses is reported by its typed reference, error and retry time and stays pending; the others go in; the retry clears it', async () => {
  const t = setup('nftables');
  const pol = (i: number, port: number) => policy(`gnp/p${i}`, { inbound: [rule({ action: 'Allow', protocol: 6, destination: side({ ports: [{ first: port, last: port }] }) })] });
  await t.apply(
    { type: 'policyUpserted', policy: pol(0, 80) },
    { type: 'policyUpserted', policy: pol(1, 80) },
    { type: 'workloadEndpointUpserted', endpoint: workload({ name: 'w0', iface: IFACES[0]!, ipv4: ['198.18.0.1/32'], ingress: ['gnp/p0'] }) },
    { type: 'workloadEndpointUpserted', endpoint: workload({ name: 'w1', iface: IFACES[1]!, ipv4: ['198.18.0.2/32'], ingress: ['gnp/p1'] }) },
    { type: 'inSync' },
  );
  const bad = chainNames.tier('default', ['gnp/p1'], 'inbound');
  t.kernel.nft.refuse = (script) => script.includes(bad);
  const at = t.clock.now();
  await t.apply({ type: 'policyUpserted', policy: pol(0, 443) }, { type: 'policyUpserted', policy: pol(1, 443) });
  const status = t.loop.objectStatus();
  assert.deepEqual(status.failing.map((f) => ({ ref: f.ref, kind: f.kind, attempts: f.attempts })), [{ ref: { kind: 'chain', name: bad }, kind: 'policy', attempts: 1 }]);
  assert.match(status.failing[0]!.error, /refused/);
  assert.ok(status.failing[0]!.retryAt > status.failing[0]!.since && status.failing[0]!.since >= at);
  assert.deepEqual(status.pending, [{ kind: 'chain', name: bad }]);
  // p0's chain went in despite p1's failing.
  const chains = new Map((t.kernel.nft.content() as { chains: [string, string, string[]][] }).chains.map(([n, , rules]) => [n, rules.join('\n')]));
  assert.match(chains.get(chainNames.tier('default', ['gnp/p0'], 'inbound'))!, /443/);
  assert.doesNotMatch(chains.get(bad)!, /443/);
  // The kernel takes it again: the retry (after the backoff, with no new update) writes it, and nothing is left failing or pending.
  t.kernel.nft.refuse = () => false;
  t.clock.advance(250);
  await t.loop.roundFinished();
  assert.deepEqual(t.loop.objectStatus(), { failing: [], pending: [] });
  assert.deepEqual(t.kernel.nft.content(), await fullRender('nftables', t.managers));
});
