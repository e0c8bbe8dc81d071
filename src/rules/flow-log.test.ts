// Flow-log rules (flow-log.ts): off renders nothing; on, every verdict the
// compiled IR reaches for a workload is logged to the NFLOG group with the
// verdict and direction the reference interpreter (calc/verdict.ts) gives,
// and the verdicts themselves do not change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DesiredPolicyState } from '../calc/output.js';
import { evaluatePolicy } from '../calc/verdict.js';
import { modelFromCalc } from '../dataplane/model-from-calc.js';
import { renderNftFull } from '../render/nft/render.js';
import { compileRuleset } from './compile-endpoints.js';
import { flowLogPrefix, parseFlowLogPrefix } from './flow-log.js';
import { IrInterpreter, type IrFlavour } from './ir-eval.js';
import { defaultDataplaneConfig, type DataplaneConfig } from './model.js';
import { Dice, prng, randomPacket, randomState, type FlowPacket } from './policy-gen.test-support.js';

const ON: DataplaneConfig = { ...defaultDataplaneConfig(), flowLogs: { nflogGroup: 20 } };

const interpreter = (state: DesiredPolicyState, backend: IrFlavour, config = ON) => new IrInterpreter(compileRuleset(modelFromCalc(state, config), { backend }), backend);

function run(ir: IrInterpreter, flow: FlowPacket) {
  return ir.run('forward', { ...flow.packet, iif: flow.from?.interfaceName ?? 'eth0', oif: flow.to?.interfaceName ?? 'eth0', srcMac: flow.from?.mac ?? '02:aa:aa:aa:aa:aa', ct: 'new' });
}

/** What flow logs should say for a forwarded packet: the sender's egress verdict, then (if allowed) the receiver's ingress verdict. */
function expectedLogs(state: DesiredPolicyState, flow: FlowPacket): string[] {
  const out: string[] = [];
  if (flow.from) {
    const v = evaluatePolicy(state, { tiers: flow.from.policies.egress, profileIds: flow.from.profileIds }, 'outbound', flow.packet).action;
    out.push(flowLogPrefix(v, 'outbound'));
    if (v === 'deny') return out;
  }
  if (flow.to) out.push(flowLogPrefix(evaluatePolicy(state, { tiers: flow.to.policies.ingress, profileIds: flow.to.profileIds }, 'inbound', flow.packet).action, 'inbound'));
  return out;
}

test('flow-log prefix: round trip; other prefixes are not ours', () => {
  for (const v of ['allow', 'deny'] as const) for (const d of ['inbound', 'outbound'] as const) assert.deepEqual(parseFlowLogPrefix(flowLogPrefix(v, d)), { verdict: v, direction: d });
  assert.equal(flowLogPrefix('deny', 'inbound'), 'cali-fl|D|I');
  for (const other of ['calico-packet: ', 'cali-fl|X|I', 'cali-fl|A|I|', 'DPI|default.policy|0']) assert.equal(parseFlowLogPrefix(other), undefined, other);
});

test('flow logs off: no NFLOG rule and no flow-log chain is rendered', () => {
  const state = randomState(7, { policies: 10, rulesPerPolicy: 5, endpoints: 3 });
  const off = renderNftFull(compileRuleset(modelFromCalc(state, defaultDataplaneConfig())));
  assert.doesNotMatch(off, /group|cali-fl/);
  const on = renderNftFull(compileRuleset(modelFromCalc(state, ON)));
  assert.match(on, /log prefix "cali-fl\|A\|[IO]" group 20/);
  assert.match(on, /chain cali-fl-deny-i \{/);
});

test('flow logs on, random worlds (merged runs too): verdicts unchanged, and each verdict logged with the reference interpreter\'s verdict and direction', () => {
  let logged = 0;
  for (let c = 0; c < 30; c++) {
    const seed = 4242 + c;
    const state = randomState(seed, c % 2 ? { policies: 30, rulesPerPolicy: 8, endpoints: 4, mergeable: true } : {});
    const d = new Dice(prng(seed ^ 0x1234567));
    const flows = Array.from({ length: 60 }, () => randomPacket(d, state));
    for (const backend of ['nftables', 'iptables'] as const) {
      const irOn = interpreter(state, backend);
      const irOff = interpreter(state, backend, defaultDataplaneConfig());
      for (const flow of flows) {
        const on = run(irOn, flow);
        const off = run(irOff, flow);
        const at = `seed ${seed} ${backend} packet ${JSON.stringify(flow.packet)} from ${flow.from?.id ?? 'outside'} to ${flow.to?.id ?? 'outside'}`;
        assert.equal(on.verdict, off.verdict, `flow logs changed the verdict: ${at}`);
        const ours = on.logs.filter((p) => parseFlowLogPrefix(p));
        assert.deepEqual(ours, expectedLogs(state, flow), at);
        logged += ours.length;
      }
    }
  }
  assert.ok(logged > 500, `only ${logged} flow-log copies: the generator did not exercise the rules`);
});
