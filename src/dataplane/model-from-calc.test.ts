import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyDesiredState } from '../calc/output.js';
import { compileRuleset } from '../rules/compile-endpoints.js';
import { defaultDataplaneConfig } from '../rules/model.js';
import { modelFromCalc } from './model-from-calc.js';
import { policy, rule, side, workload } from './testing-fixtures.js';

test('modelFromCalc: policies and profiles reach the compiler as the calc graph made them (no reshaping, same objects)', () => {
  const state = emptyDesiredState();
  const p = policy('gnp/web', {
    inbound: [rule({ action: 'Allow', protocol: 6, source: side({ notNamedPortIpSetIds: ['nsrc'] }), destination: side({ namedPortIpSetIds: ['npos'], notPorts: [{ first: 22, last: 22 }] }) })],
  });
  const prof = { id: 'kns.default', inboundRules: [rule({ action: 'Allow' })], outboundRules: [] };
  state.policies.set(p.id, p);
  state.profiles.set(prof.id, prof);
  const model = modelFromCalc(state, defaultDataplaneConfig());
  assert.equal(model.policies[0], p);
  assert.equal(model.profiles[0], prof);
});

test('modelFromCalc: a rule the calc graph marked neverMatches compiles to nothing and does not split a run of merged rules', () => {
  const state = emptyDesiredState();
  const allow = (port: number, nets: string[]) => rule({ action: 'Allow', protocol: 6, source: side({ nets }), destination: side({ ports: [{ first: port, last: port }] }) });
  const never = rule({ action: 'Deny', ipVersion: 4, neverMatches: true, source: side({ nets: ['2001:db8::/64'] }) });
  const withNever = policy('gnp/p', { inbound: [allow(80, ['198.18.0.1/32']), never, allow(81, ['198.18.0.2/32'])] });
  const without = policy('gnp/p', { inbound: [allow(80, ['198.18.0.1/32']), allow(81, ['198.18.0.2/32'])] });
  const compiled = (p: typeof withNever) => {
    state.policies.set(p.id, p);
    state.workloadEndpoints.set('default/w', workload({ name: 'w', iface: 'cali0', ipv4: ['198.18.0.9/32'], ingress: [p.id] }));
    return JSON.stringify(compileRuleset(modelFromCalc(state, defaultDataplaneConfig())));
  };
  const a = compiled(withNever);
  assert.ok(!a.includes('2001:db8::/64'), 'the never-matching rule left no trace');
  assert.ok(a.includes('"kind":"tupleSet"'), 'the two allows are one merged lookup');
  // The lookup's comment names the user's rule numbers (the never-matching rule keeps its place); nothing else differs.
  assert.ok(a.includes('"comment":"run 0: gnp/p[0,2]"'), 'the merged lookup names rules 0 and 2');
  assert.equal(a.replace('gnp/p[0,2]', 'gnp/p[0,1]'), compiled(without));
});
