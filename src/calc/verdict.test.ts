import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IpSetState, NormalizedRule, PolicyState, ProfileState, RuleSide, TierPolicies } from './output.js';
import { evaluatePolicy, ruleMatches, type PolicyInputs, type PolicyPacket } from './verdict.js';

const side = (p: Partial<RuleSide> = {}): RuleSide => ({ nets: [], notNets: [], ipSetIds: [], notIpSetIds: [], ports: [], notPorts: [], namedPortIpSetIds: [], notNamedPortIpSetIds: [], ...p });
const rule = (p: Partial<NormalizedRule> & { action: NormalizedRule['action'] }): NormalizedRule => ({ source: side(), destination: side(), ...p });
const pol = (id: string, inbound: NormalizedRule[]): PolicyState => ({ id, tier: 't', inboundRules: inbound, outboundRules: [], doNotTrack: false, preDnat: false, applyOnForward: false });
const prof = (id: string, inbound: NormalizedRule[]): ProfileState => ({ id, inboundRules: inbound, outboundRules: [] });
const tcp80: PolicyPacket = { family: 4, src: '10.0.0.1', dst: '10.0.0.2', protocol: 6, srcPort: 40000, dstPort: 80 };

function inputs(policies: PolicyState[], profiles: ProfileState[] = [], sets: IpSetState[] = []): PolicyInputs {
  return { policies: new Map(policies.map((p) => [p.id, p])), profiles: new Map(profiles.map((p) => [p.id, p])), ipSets: new Map(sets.map((s) => [s.id, s])) };
}
const tier = (name: string, policies: string[], defaultAction: 'Deny' | 'Pass' = 'Deny'): TierPolicies => ({ tier: name, policies, defaultAction });

test('first match across policies of a tier; Log goes on; Pass leaves the tier; end of tier denies', () => {
  const ins = inputs([
    pol('a', [rule({ action: 'Log', protocol: 6 }), rule({ action: 'Allow', protocol: 17 })]),
    pol('b', [rule({ action: 'Deny', protocol: 6, destination: side({ ports: [{ first: 80, last: 80 }] }) }), rule({ action: 'Allow' })]),
    pol('p', [rule({ action: 'Pass', protocol: 6 })]),
    pol('allow', [rule({ action: 'Allow' })]),
  ]);
  const v = evaluatePolicy(ins, { tiers: [tier('t1', ['a', 'b'])], profileIds: [] }, 'inbound', tcp80);
  assert.equal(v.action, 'deny');
  assert.deepEqual(v.decidedBy, { kind: 'rule', rule: { tier: 't1', policy: 'b', index: 0 }, action: 'Deny' });
  assert.deepEqual(v.logged, [{ tier: 't1', policy: 'a', index: 0 }]);
  assert.equal(evaluatePolicy(ins, { tiers: [tier('t1', ['p', 'b']), tier('t2', ['allow'])], profileIds: [] }, 'inbound', tcp80).action, 'allow');
  assert.deepEqual(evaluatePolicy(ins, { tiers: [tier('t1', ['a'])], profileIds: ['x'] }, 'inbound', tcp80).decidedBy, { kind: 'end-of-tier', tier: 't1' });
});

test('tier default Pass, then profiles; Pass in a profile ends that profile; missing objects deny', () => {
  const ins = inputs([pol('a', [])], [prof('k1', [rule({ action: 'Pass', protocol: 6 }), rule({ action: 'Deny' })]), prof('k2', [rule({ action: 'Allow' })])]);
  assert.equal(evaluatePolicy(ins, { tiers: [tier('t1', ['a'], 'Pass')], profileIds: ['k1', 'k2'] }, 'inbound', tcp80).action, 'allow');
  assert.equal(evaluatePolicy(ins, { tiers: [tier('t1', ['a'], 'Pass')], profileIds: ['k1', 'k2'] }, 'inbound', { ...tcp80, protocol: 17 }).action, 'deny');
  assert.deepEqual(evaluatePolicy(ins, { tiers: [tier('t1', ['gone'])], profileIds: ['k2'] }, 'inbound', tcp80).decidedBy, { kind: 'missing-policy', tier: 't1', policy: 'gone' });
  assert.deepEqual(evaluatePolicy(ins, { tiers: [], profileIds: ['nope', 'k2'] }, 'inbound', tcp80).decidedBy, { kind: 'missing-profile', profile: 'nope' });
  assert.deepEqual(evaluatePolicy(ins, { tiers: [], profileIds: [] }, 'inbound', tcp80).decidedBy, { kind: 'nothing-allowed' });
});

test('rule matching: nets, sets, named ports, negations, ICMP, families (table)', () => {
  const sets = new Map<string, IpSetState>([
    ['s', { id: 's', kind: 'net', description: '', members: [{ net: '10.0.0.0/30' }, { net: '2001:db8::1/128' }] }],
    ['n', { id: 'n', kind: 'named-port', description: '', members: [{ net: '10.0.0.2/32', protocol: 6, port: 80 }] }],
  ]);
  const cases: [string, NormalizedRule, PolicyPacket, boolean][] = [
    ['src net', rule({ action: 'Allow', source: side({ nets: ['10.0.0.0/24'] }) }), tcp80, true],
    ['src net, other family', rule({ action: 'Allow', source: side({ nets: ['10.0.0.0/24'] }) }), { ...tcp80, family: 6, src: '2001:db8::1', dst: '2001:db8::2' }, false],
    ['notNets of only IPv4 rule out IPv6', rule({ action: 'Allow', source: side({ notNets: ['10.9.0.0/16'] }) }), { ...tcp80, family: 6, src: '2001:db8::1', dst: '2001:db8::2' }, false],
    ['in every set', rule({ action: 'Allow', source: side({ ipSetIds: ['s'] }) }), tcp80, true],
    ['an absent set is empty', rule({ action: 'Allow', source: side({ ipSetIds: ['s', 'absent'] }) }), tcp80, false],
    ['notSelector', rule({ action: 'Allow', destination: side({ notIpSetIds: ['s'] }) }), tcp80, false],
    ['named port', rule({ action: 'Allow', protocol: 6, destination: side({ namedPortIpSetIds: ['n'] }) }), tcp80, true],
    ['named port OR numeric port', rule({ action: 'Allow', protocol: 6, destination: side({ ports: [{ first: 81, last: 90 }], namedPortIpSetIds: ['n'] }) }), { ...tcp80, dstPort: 85 }, true],
    ['notPorts', rule({ action: 'Allow', protocol: 6, destination: side({ notPorts: [{ first: 70, last: 90 }] }) }), tcp80, false],
    ['port criteria never meet a packet without ports', rule({ action: 'Allow', destination: side({ namedPortIpSetIds: ['n'] }) }), { family: 4, src: '10.0.0.1', dst: '10.0.0.2', protocol: 1, icmpType: 8, icmpCode: 0 }, false],
    ['icmp type+code', rule({ action: 'Allow', protocol: 1, icmp: { type: 8, code: 0 } }), { family: 4, src: '10.0.0.1', dst: '10.0.0.2', protocol: 1, icmpType: 8, icmpCode: 0 }, true],
    ['notICMP type+code excludes only the pair', rule({ action: 'Allow', protocol: 1, notIcmp: { type: 8, code: 0 } }), { family: 4, src: '10.0.0.1', dst: '10.0.0.2', protocol: 1, icmpType: 8, icmpCode: 1 }, true],
    ['protocol 1 is not ICMPv6', rule({ action: 'Allow', protocol: 1 }), { family: 6, src: '2001:db8::1', dst: '2001:db8::2', protocol: 1 }, false],
    ['notProtocol', rule({ action: 'Allow', notProtocol: 6 }), tcp80, false],
    ['ipVersion', rule({ action: 'Allow', ipVersion: 6 }), tcp80, false],
    ['neverMatches', rule({ action: 'Allow', neverMatches: true }), tcp80, false],
  ];
  for (const [name, r, p, want] of cases) assert.equal(ruleMatches(r, p, sets), want, name);
});
