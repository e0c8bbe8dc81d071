// Differential test of the rule compiler: for many random policy worlds and
// packets, the compiled IR (run by ir-eval.ts, for each backend's IR) must
// reach the same verdict as the reference interpreter of the policy model
// (calc/verdict.ts). Seeded and reproducible: a failure prints its seed and a
// shrunk counterexample (the smallest world and the packet that still
// disagree). More cases: EQUIV_CASES=5000; one seed: EQUIV_SEED=1234.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DesiredPolicyState, NormalizedRule, WorkloadEndpointState } from '../calc/output.js';
import { evaluatePolicy, type PolicyInputs } from '../calc/verdict.js';
import { modelFromCalc } from '../dataplane/model-from-calc.js';
import { compileRuleset } from './compile-endpoints.js';
import { IrEvalError, IrInterpreter, type IrFlavour } from './ir-eval.js';
import { defaultDataplaneConfig } from './model.js';
import type { Ruleset } from './ir.js';
import { Dice, emptySide, prng, randomPacket, randomState, type FlowPacket, type GenOptions } from './policy-gen.test-support.js';

const BACKENDS: IrFlavour[] = ['nftables', 'iptables'];
const CASES = Number(process.env.EQUIV_CASES ?? 1000);
const PACKETS = 120;
const BASE_SEED = Number(process.env.EQUIV_SEED ?? 20240611);

/** The reference verdict for the forward path: the sender's egress, then the receiver's ingress. */
export function expectedVerdict(state: DesiredPolicyState, flow: FlowPacket): 'accept' | 'drop' {
  const inputs: PolicyInputs = state;
  if (flow.from && evaluatePolicy(inputs, { tiers: flow.from.policies.egress, profileIds: flow.from.profileIds }, 'outbound', flow.packet).action === 'deny') return 'drop';
  if (flow.to && evaluatePolicy(inputs, { tiers: flow.to.policies.ingress, profileIds: flow.to.profileIds }, 'inbound', flow.packet).action === 'deny') return 'drop';
  return 'accept';
}

type Compile = (state: DesiredPolicyState, backend: IrFlavour) => Ruleset;
const realCompile: Compile = (state, backend) => compileRuleset(modelFromCalc(state, defaultDataplaneConfig()), { backend });

function runCompiled(ir: IrInterpreter, flow: FlowPacket): 'accept' | 'drop' {
  const p = flow.packet;
  return ir.run('forward', {
    ...p,
    iif: flow.from?.interfaceName ?? 'eth0',
    oif: flow.to?.interfaceName ?? 'eth0',
    srcMac: flow.from?.mac ?? '02:aa:aa:aa:aa:aa',
    ct: 'new',
  }).verdict;
}

// ---- shrinking a counterexample ----

function clone(state: DesiredPolicyState): DesiredPolicyState {
  return structuredClone(state);
}

/** Smaller variants of a world, most drastic first. */
function* smaller(state: DesiredPolicyState, flow: FlowPacket): Generator<DesiredPolicyState> {
  const keep = new Set([flow.from?.id, flow.to?.id]);
  for (const id of state.workloadEndpoints.keys()) {
    if (keep.has(id)) continue;
    const s = clone(state);
    s.workloadEndpoints.delete(id);
    yield s;
  }
  for (const id of [...state.policies.keys(), 'gnp/missing']) {
    const s = clone(state);
    s.policies.delete(id);
    for (const ep of s.workloadEndpoints.values()) {
      for (const dir of ['ingress', 'egress'] as const) {
        ep.policies[dir] = ep.policies[dir].map((t) => ({ ...t, policies: t.policies.filter((p) => p !== id) })).filter((t) => t.policies.length > 0);
      }
    }
    if (JSON.stringify(toJson(s)) !== JSON.stringify(toJson(state))) yield s;
  }
  const ruleLists = (s: DesiredPolicyState): NormalizedRule[][] => [...s.policies.values(), ...s.profiles.values()].flatMap((p) => [p.inboundRules, p.outboundRules]);
  const lists = ruleLists(state);
  for (let l = 0; l < lists.length; l++) {
    for (let r = 0; r < lists[l]!.length; r++) {
      const s = clone(state);
      ruleLists(s)[l]!.splice(r, 1);
      yield s;
    }
  }
  for (let l = 0; l < lists.length; l++) {
    for (let r = 0; r < lists[l]!.length; r++) {
      for (const field of ['source', 'destination', 'notProtocol', 'icmp', 'notIcmp', 'ipVersion'] as const) {
        const rule = lists[l]![r]!;
        if (rule[field] === undefined || ((field === 'source' || field === 'destination') && JSON.stringify(rule[field]) === JSON.stringify(emptySide()))) continue;
        const s = clone(state);
        const target = ruleLists(s)[l]![r]!;
        if (field === 'source' || field === 'destination') target[field] = emptySide();
        else delete target[field];
        yield s;
      }
    }
  }
  for (const id of state.ipSets.keys()) {
    const set = state.ipSets.get(id)!;
    for (let i = 0; i < set.members.length; i++) {
      const s = clone(state);
      s.ipSets.get(id)!.members.splice(i, 1);
      yield s;
    }
  }
}

function shrink(state: DesiredPolicyState, flow: FlowPacket, fails: (s: DesiredPolicyState, f: FlowPacket) => boolean): DesiredPolicyState {
  let current = state;
  for (let round = 0; round < 200; round++) {
    let progressed = false;
    for (const candidate of smaller(current, flow)) {
      const f = rebind(candidate, flow);
      if (fails(candidate, f)) {
        current = candidate;
        progressed = true;
        break;
      }
    }
    if (!progressed) break;
  }
  return current;
}

/** The flow's endpoints as objects of `state` (shrinking clones the world). */
function rebind(state: DesiredPolicyState, flow: FlowPacket): FlowPacket {
  const get = (ep: WorkloadEndpointState | undefined) => (ep ? state.workloadEndpoints.get(ep.id) : undefined);
  const from = get(flow.from);
  const to = get(flow.to);
  return { packet: flow.packet, ...(from ? { from } : {}), ...(to ? { to } : {}) };
}

export function toJson(state: DesiredPolicyState): unknown {
  return {
    ipSets: [...state.ipSets.values()],
    policies: [...state.policies.values()],
    profiles: [...state.profiles.values()],
    workloadEndpoints: [...state.workloadEndpoints.values()].map((w) => ({ id: w.id, interfaceName: w.interfaceName, ipv4Nets: w.ipv4Nets, ipv6Nets: w.ipv6Nets, policies: w.policies, profileIds: w.profileIds })),
  };
}

/** Runs `cases` random worlds through both backends; returns the first disagreement, shrunk. */
export function differential(opts: { cases: number; packets: number; seed: number; gen?: GenOptions; backends?: IrFlavour[]; compile?: Compile }): string | undefined {
  const compile = opts.compile ?? realCompile;
  const compiledVerdict = (s: DesiredPolicyState, f: FlowPacket, backend: IrFlavour) => runCompiled(new IrInterpreter(compile(s, backend), backend), f);
  for (let c = 0; c < opts.cases; c++) {
    const seed = opts.seed + c;
    const state = randomState(seed, opts.gen);
    const d = new Dice(prng(seed ^ 0x5bd1e995));
    const flows = Array.from({ length: opts.packets }, () => randomPacket(d, state));
    for (const backend of opts.backends ?? BACKENDS) {
      const ir = new IrInterpreter(compile(state, backend), backend);
      for (const flow of flows) {
        const want = expectedVerdict(state, flow);
        let got: string;
        try {
          got = runCompiled(ir, flow);
        } catch (err) {
          if (!(err instanceof IrEvalError)) throw err;
          got = `error: ${err.message}`;
        }
        if (got === want) continue;
        const fails = (s: DesiredPolicyState, f: FlowPacket) => {
          try {
            return compiledVerdict(s, f, backend) !== expectedVerdict(s, f);
          } catch (err) {
            if (err instanceof IrEvalError) return true;
            throw err;
          }
        };
        const small = shrink(state, flow, fails);
        const f = rebind(small, flow);
        let gotSmall: string;
        try {
          gotSmall = compiledVerdict(small, f, backend);
        } catch (err) {
          gotSmall = `error: ${(err as Error).message}`;
        }
        return [
          `compiled ${backend} IR disagrees with the policy model: seed ${seed} (rerun: EQUIV_SEED=${seed} EQUIV_CASES=1)`,
          `packet: ${JSON.stringify(flow.packet)} from ${flow.from?.id ?? 'outside'} to ${flow.to?.id ?? 'outside'}`,
          `model says ${expectedVerdict(small, f)}, compiled IR says ${gotSmall}`,
          `minimal world: ${JSON.stringify(toJson(small))}`,
        ].join('\n');
      }
    }
  }
  return undefined;
}

test(`compiled IR == policy model on ${CASES} random worlds x ${PACKETS} packets, nftables and iptables (seed ${BASE_SEED})`, () => {
  const failure = differential({ cases: CASES, packets: PACKETS, seed: BASE_SEED });
  if (failure) assert.fail(failure);
});

test('bigger worlds: many policies in a tier, long rule lists (merging across policies)', () => {
  const failure = differential({ cases: Math.max(10, Math.floor(CASES / 10)), packets: 300, seed: BASE_SEED + 1_000_000, gen: { policies: 30, rulesPerPolicy: 10, endpoints: 4 } });
  if (failure) assert.fail(failure);
});

test('mergeable worlds: long same-action runs of simple shapes across many policies (most rules end up in set lookups)', () => {
  const failure = differential({ cases: Math.max(10, Math.floor(CASES / 5)), packets: 300, seed: BASE_SEED + 2_000_000, gen: { policies: 40, rulesPerPolicy: 10, endpoints: 4, mergeable: true } });
  if (failure) assert.fail(failure);
});

test('the differential test can fail: a compiler that loses Deny rules is caught, with a seed and a shrunk counterexample', () => {
  const dropDenies: Compile = (state, backend) => {
    const broken = clone(state);
    for (const p of broken.policies.values()) {
      p.inboundRules = p.inboundRules.filter((r) => r.action !== 'Deny');
      p.outboundRules = p.outboundRules.filter((r) => r.action !== 'Deny');
    }
    return realCompile(broken, backend);
  };
  const failure = differential({ cases: 50, packets: PACKETS, seed: BASE_SEED, compile: dropDenies });
  assert.ok(failure, 'a broken compiler was not caught');
  assert.match(failure, /seed \d+ \(rerun: EQUIV_SEED=\d+/);
  // Shrunk: a Deny and something allowing after it is all it takes.
  const world = JSON.parse(/minimal world: (.*)$/m.exec(failure)![1]!) as { policies: { inboundRules: unknown[]; outboundRules: unknown[] }[]; profiles: { inboundRules: unknown[]; outboundRules: unknown[] }[] };
  const rules = [...world.policies, ...world.profiles].reduce((n, p) => n + p.inboundRules.length + p.outboundRules.length, 0);
  assert.ok(world.policies.length <= 2 && rules <= 2, failure);
});
