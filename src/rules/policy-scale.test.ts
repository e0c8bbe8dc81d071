// Issue 11 at the IR level: 1,000 policies x 10 rules in front of the one that
// allows a flow. The packet's walk through the compiled IR (both backends)
// must stay short, the verdicts must equal the policy model's, and the
// same holds for flows the 10,000 rules do decide.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyCalcUpdate, emptyDesiredState, type DesiredPolicyState } from '../calc/output.js';
import { evaluatePolicy, type PolicyPacket } from '../calc/verdict.js';
import { modelFromCalc } from '../dataplane/model-from-calc.js';
import { ALLOW_POLICY, SCALE_TIER, policyScaleWorld } from '../dataplane/policy-scale-fixtures.js';
import { workload } from '../dataplane/testing-fixtures.js';
import { CompileCache, compileRuleset } from './compile-endpoints.js';
import { parseNftTable } from '../render/nft/parse.js';
import { renderNftFull } from '../render/nft/render.js';
import { renderNftDelta } from '../render/nft/delta.js';
import { parseIpsetSave, parseIptablesSave } from '../render/iptables/parse.js';
import { renderIpsetDelta, renderIptablesDelta, renderIptablesFull } from '../render/iptables/render.js';
import { IrInterpreter, type IrFlavour } from './ir-eval.js';
import { defaultDataplaneConfig } from './model.js';
import { Dice, prng } from './policy-gen.test-support.js';

const CLIENT = '198.18.1.2';
const SERVER = '198.18.1.1';

function world(policies: number): DesiredPolicyState {
  const { updates, ingress } = policyScaleWorld({ policies, rulesPerPolicy: 10, client: CLIENT, port: 8080 });
  const state = emptyDesiredState();
  for (const u of updates) applyCalcUpdate(state, u);
  const ep = workload({ name: 'server', iface: 'caliserver00001', ipv4: [`${SERVER}/32`], mac: '02:00:00:00:01:01' });
  ep.policies.ingress = [{ tier: SCALE_TIER, policies: ingress, defaultAction: 'Deny' }];
  ep.hasIngressPolicy = true;
  state.workloadEndpoints.set(ep.id, ep);
  return state;
}

const syn = (src: string, protocol: number, port: number): PolicyPacket => ({ family: 4, src, dst: SERVER, protocol, srcPort: 40000, dstPort: port });
const run = (ir: IrInterpreter, p: PolicyPacket) => ir.run('forward', { ...p, iif: 'eth0', oif: 'caliserver00001', ct: 'new' });

for (const backend of ['nftables', 'iptables'] as IrFlavour[]) {
  test(`${backend}: with 1,000 policies x 10 rules in front, the allowed flow walks a few dozen rules, not thousands`, () => {
    const state = world(1000);
    const ir = new IrInterpreter(compileRuleset(modelFromCalc(state, defaultDataplaneConfig()), { backend }), backend);
    const allowed = run(ir, syn(CLIENT, 6, 8080));
    assert.equal(allowed.verdict, 'accept');
    // forward chain, dispatch, endpoint chain, one tier chain of a few lookups, cali-allow
    assert.ok(allowed.rulesEvaluated <= (backend === 'nftables' ? 30 : 60), `walked ${allowed.rulesEvaluated} rules through ${allowed.chains.join(' > ')}`);
    const denied = run(ir, syn(CLIENT, 6, 8081));
    assert.equal(denied.verdict, 'drop');
    assert.ok(denied.rulesEvaluated <= (backend === 'nftables' ? 30 : 60), `walked ${denied.rulesEvaluated}`);
  });

  test(`${backend}: the 1,000-policy world's verdicts equal the policy model's (flows the 10,000 rules decide)`, () => {
    const state = world(1000);
    const ir = new IrInterpreter(compileRuleset(modelFromCalc(state, defaultDataplaneConfig()), { backend }), backend);
    const ep = [...state.workloadEndpoints.values()][0]!;
    const d = new Dice(prng(11));
    // Packets aimed at the world's rules (each shape of allowRule/denyRule), half of them nudged off.
    const aimed = (k: number): PolicyPacket => {
      const nudge = d.chance(0.5) ? 1 : 0;
      switch (k % 4) {
        case 0:
          return syn(`10.${100 + (k % 50)}.${k & 255}.7`, 6, 10000 + (k % 5000) + nudge);
        case 1:
          return syn(d.pick(['10.1.1.1', CLIENT]), k % 8 === 1 ? 17 : 6, 20000 + (k % 10000) + nudge * 3);
        case 2:
          return syn(`10.${200 + (k % 50)}.${k % 50}.${1 + nudge * 4}`, 6, 30000 + (k % 1000));
        default:
          return syn(d.pick([CLIENT, `10.66.${(k >> 8) & 255}.${k & 255}`]), 6, d.pick([6000 + (k % 1000), 8080, 8080 + nudge]));
      }
    };
    let allowedCount = 0;
    for (let i = 0; i < 400; i++) {
      const p = aimed(d.int(0, 9999));
      const want = evaluatePolicy(state, { tiers: ep.policies.ingress, profileIds: [] }, 'inbound', p).action === 'allow' ? 'accept' : 'drop';
      if (want === 'accept') allowedCount++;
      assert.equal(run(ir, p).verdict, want, JSON.stringify(p));
    }
    assert.ok(allowedCount > 20 && allowedCount < 380, `a mix of verdicts (${allowedCount} allowed)`);
  });
}

test('endpoints with the same policy list share one tier chain; another list gets its own', () => {
  const state = world(50);
  const first = [...state.workloadEndpoints.values()][0]!;
  const twin = { ...structuredClone(first), id: 'default/twin', name: 'twin', interfaceName: 'calitwin0000001', ipv4Nets: ['198.18.1.3/32'] };
  const other = { ...structuredClone(first), id: 'default/other', name: 'other', interfaceName: 'caliother000001', ipv4Nets: ['198.18.1.4/32'] };
  other.policies.ingress = [{ tier: SCALE_TIER, policies: [ALLOW_POLICY], defaultAction: 'Deny' }];
  state.workloadEndpoints.set(twin.id, twin);
  state.workloadEndpoints.set(other.id, other);
  const rs = compileRuleset(modelFromCalc(state, defaultDataplaneConfig()));
  const tierChains = rs.chains.filter((c) => c.name.startsWith('cali-ti-'));
  assert.equal(tierChains.length, 2);
  const jumpsOf = (iface: string) => rs.chains.find((c) => c.name === `cali-tw-${iface}`)!.rules.flatMap((r) => (r.action.kind === 'jump' ? [r.action.chain] : []));
  assert.deepEqual(jumpsOf('caliserver00001'), jumpsOf('calitwin0000001'));
  assert.notDeepEqual(jumpsOf('caliserver00001'), jumpsOf('caliother000001'));
});

test('churn: a pod joining a selector the merged rules inline is element additions only, no chain rewritten (nft and iptables)', () => {
  const state = world(50);
  const cache = { nftables: new CompileCache(), iptables: new CompileCache() };
  const compile = (backend: IrFlavour) => compileRuleset(modelFromCalc(state, defaultDataplaneConfig()), { cache: cache[backend], backend });
  const nft1 = compile('nftables');
  const ipt1 = compile('iptables');
  applyCalcUpdate(state, { type: 'ipSetDelta', id: 'sscale2', added: [{ net: '10.202.2.9/32' }], removed: [] });
  const nft2 = compile('nftables');
  const delta = renderNftDelta(parseNftTable(renderNftFull(nft1)), nft2);
  assert.deepEqual(delta.changedChains, []);
  const lines = delta.script.trim().split('\n');
  assert.ok(lines.length >= 2 && lines.every((l) => /^add set .* elements = \{ .* \} \}$/.test(l)), delta.script);
  assert.ok(lines.some((l) => l.includes('cali40m-') && /10\.202\.2\.9 \. tcp \. 30\d{3}/.test(l)), 'the merged set gains the member x its port');
  const ipt2 = compile('iptables');
  const view = parseIptablesSave(renderIptablesFull(ipt1, 4).replace(/^-I .*$/gm, ''));
  assert.equal(renderIptablesDelta({ ...view, hooks: new Set(['raw/PREROUTING', 'raw/OUTPUT', 'mangle/PREROUTING', 'filter/INPUT', 'filter/FORWARD', 'filter/OUTPUT', 'nat/POSTROUTING']) }, ipt2, 4), '');
  const ipsets = parseIpsetSave(renderIpsetDelta(new Map(), ipt1).before.replace(/^create (\S+) .*$/gm, 'create $1'));
  const before = renderIpsetDelta(ipsets, ipt2).before.trim().split('\n');
  assert.ok(before.every((l) => l.startsWith('add ')), before.join('\n'));
  assert.ok(before.some((l) => /^add cali40m-\S+ 10\.202\.2\.9,tcp:30\d{3}$/.test(l)), before.join('\n'));
  // The cache changes nothing but the time: the same state compiles to the same ruleset without it.
  for (const backend of ['nftables', 'iptables'] as const) assert.deepEqual(compile(backend), compileRuleset(modelFromCalc(state, defaultDataplaneConfig()), { backend }));
});
