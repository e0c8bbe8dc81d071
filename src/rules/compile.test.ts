import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalCidr } from './cidr.js';
import { compilePolicyRules, mergeRules, normalizePorts } from './compile-policy.js';
import { compileRuleset } from './compile-endpoints.js';
import { defaultDataplaneConfig, type DataplaneModel, type NormalizedRule } from './model.js';
import { MAX_CHAIN_NAME, MAX_SET_NAME, MARK_ACCEPT, MARK_PASS, chainNames, setNames } from './names.js';
import { SetRegistry, withoutCovered } from './sets.js';
import { ValidationError } from '../base/errors.js';
import type { Rule } from './ir.js';

const p = (first: number, last = first) => ({ first, last });

test('canonicalCidr: table', () => {
  const cases: [string, string][] = [
    ['10.0.0.5/24', '10.0.0.0/24'],
    ['10.0.0.1/32', '10.0.0.1'],
    ['10.0.0.1', '10.0.0.1'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['2001:DB8:0:0::1/128', '2001:db8::1'],
    ['2001:db8::1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['fe80::1/64', 'fe80::/64'],
    ['::/0', '::/0'],
    ['::ffff:10.0.0.1', '::ffff:a00:1'],
  ];
  for (const [input, want] of cases) assert.equal(canonicalCidr(input), want, input);
});

test('canonicalCidr: malformed input is a ValidationError', () => {
  for (const bad of ['', '10.0.0', '10.0.0.256', '10.0.0.1/33', '10.0.0.1/x', '1::2::3', '2001:db8::/129', '10.0.0.1/24/1', 'abc', '1:2:3:4:5:6:7:8:9']) {
    assert.throws(() => canonicalCidr(bad), ValidationError, bad);
  }
});

test('withoutCovered drops members inside a shorter member', () => {
  assert.deepEqual(withoutCovered(['10.0.0.5', '10.0.0.0/24', '10.1.0.1', '10.0.0.0/24']), ['10.0.0.0/24', '10.1.0.1']);
  assert.deepEqual(withoutCovered(['10.0.0.5 tcp 80', '10.0.0.0/24 tcp 80', '10.0.0.5 tcp 81']), ['10.0.0.0/24 tcp 80', '10.0.0.5 tcp 81']);
});

test('normalizePorts sorts and joins overlapping and adjacent ranges', () => {
  assert.deepEqual(normalizePorts([p(90), p(80, 85), p(86), p(84, 88), p(100)]), [p(80, 88), p(90), p(100)]);
});

test('mergeRules: consecutive rules differing only in nets and ports merge; another action breaks the run', () => {
  const allow = (net: string, port: number): NormalizedRule => ({ action: 'allow', protocol: 'tcp', srcNets: [net], dstPorts: [p(port)] });
  const merged = mergeRules([allow('10.0.0.1', 80), allow('10.0.0.2', 81), { action: 'deny', srcNets: ['10.9.0.0/16'] }, allow('10.0.0.3', 82)]);
  assert.equal(merged.length, 3);
  assert.equal(merged[0]!.pairs?.entries.length, 2);
  assert.equal(merged[2]!.pairs, undefined);
  const netsOnly = mergeRules([{ action: 'deny', srcNets: ['10.0.0.1'] }, { action: 'deny', srcNets: ['10.0.0.2', '10.0.0.3'] }]);
  assert.deepEqual(netsOnly.map((m) => m.rule.srcNets), [['10.0.0.1', '10.0.0.2', '10.0.0.3']]);
  const portsOnly = mergeRules([{ action: 'allow', protocol: 'udp', dstPorts: [p(53)] }, { action: 'allow', protocol: 'udp', dstPorts: [p(67)] }]);
  assert.deepEqual(portsOnly.map((m) => m.rule.dstPorts), [[p(53), p(67)]]);
  const differentProto = mergeRules([{ action: 'allow', protocol: 'udp', dstPorts: [p(53)] }, { action: 'allow', protocol: 'tcp', dstPorts: [p(53)] }]);
  assert.equal(differentProto.length, 2);
});

test('10,000 address/port rules compile to ONE set lookup', () => {
  const rules: NormalizedRule[] = Array.from({ length: 10_000 }, (_, i) => ({ action: 'allow', protocol: 'tcp', srcNets: [`198.19.${i >> 8}.${i & 255}/32`], dstPorts: [p(10000 + (i % 5000))] }));
  const sets = new SetRegistry();
  const ir = compilePolicyRules(rules, sets);
  assert.equal(ir.length, 2); // set-mark + return
  const set = sets.all().find((s) => s.kind === 'net-proto-port')!;
  assert.equal(set.members.length, 10_000);
  assert.ok(ir[0]!.matches.some((m) => m.kind === 'addrPortSet'));
});

function compileOne(rule: NormalizedRule): Rule[] {
  return compilePolicyRules([rule], new SetRegistry());
}

test('compilePolicyRules: families, protocols and actions (table)', () => {
  const cases: { name: string; rule: NormalizedRule; families: (4 | 6 | 'both')[]; action: string }[] = [
    { name: 'no family-specific match: one rule for both', rule: { action: 'deny' }, families: ['both'], action: 'drop' },
    { name: 'v4 nets only', rule: { action: 'deny', srcNets: ['10.0.0.0/8'] }, families: [4], action: 'drop' },
    { name: 'mixed nets', rule: { action: 'deny', dstNets: ['10.0.0.0/8', '2001:db8::/32'] }, families: [4, 6], action: 'drop' },
    { name: 'icmp is IPv4 only', rule: { action: 'deny', protocol: 'icmp' }, families: [4], action: 'drop' },
    { name: 'icmpv6 is IPv6 only', rule: { action: 'deny', protocol: 'icmpv6' }, families: [6], action: 'drop' },
    { name: 'ipVersion 6', rule: { action: 'deny', ipVersion: 6, protocol: 'tcp' }, families: [6], action: 'drop' },
    { name: 'ipVersion 4 with only v6 nets never matches', rule: { action: 'deny', ipVersion: 4, srcNets: ['2001:db8::/32'] }, families: [], action: '' },
    { name: 'log', rule: { action: 'log', protocol: 'udp', logPrefix: 'x: ' }, families: ['both'], action: 'log' },
  ];
  for (const c of cases) {
    const ir = compileOne(c.rule).filter((r) => r.action.kind !== 'return');
    const fams = ir.map((r) => (r.matches.find((m) => m.kind === 'family') as { family: 4 | 6 } | undefined)?.family ?? 'both');
    assert.deepEqual(fams, c.families, c.name);
    for (const r of ir) assert.equal(r.action.kind, c.action, c.name);
  }
});

test('allow and pass set their mark bit and return', () => {
  const [allowSet, allowRet] = compileOne({ action: 'allow' });
  assert.deepEqual(allowSet!.action, { kind: 'setMark', mask: MARK_ACCEPT, value: MARK_ACCEPT });
  assert.deepEqual(allowRet!.action, { kind: 'return' });
  const [passSet] = compileOne({ action: 'pass' });
  assert.deepEqual(passSet!.action, { kind: 'setMark', mask: MARK_PASS, value: MARK_PASS });
});

test('a /0 net matches anything; a negated /0 never matches', () => {
  const any = compileOne({ action: 'deny', srcNets: ['0.0.0.0/0'] });
  assert.equal(any.length, 1);
  assert.ok(!any[0]!.matches.some((m) => m.kind === 'addr' || m.kind === 'set'));
  assert.deepEqual(compileOne({ action: 'deny', notSrcNets: ['0.0.0.0/0'], ipVersion: 4 }), []);
});

test('notNets with several CIDRs become one negated set', () => {
  const sets = new SetRegistry();
  const [r] = compilePolicyRules([{ action: 'deny', notDstNets: ['10.0.0.0/8', '192.168.0.0/16'], ipVersion: 4 }], sets);
  const m = r!.matches.find((x) => x.kind === 'set')!;
  assert.equal(m.kind === 'set' && m.negate, true);
  assert.deepEqual(sets.all().find((s) => s.name === (m as { set: string }).set)!.members, ['10.0.0.0/8', '192.168.0.0/16']);
});

test('numeric ports OR named ports: one rule per alternative', () => {
  const ir = compileOne({ action: 'deny', protocol: 'tcp', ipVersion: 4, dstPorts: [p(80)], dstNamedPortIpSetIds: ['n1', 'n2'] });
  assert.equal(ir.length, 3);
  assert.deepEqual(ir.map((r) => r.matches.at(-1)!.kind), ['ports', 'namedPortSet', 'namedPortSet']);
});

test('named ports in notPorts: a negated named-port match in every alternative, never merged away', () => {
  const sets = new SetRegistry();
  const rules: NormalizedRule[] = [
    { action: 'allow', protocol: 'tcp', dstPorts: [p(80)], dstNamedPortIpSetIds: ['pos'], notDstNamedPortIpSetIds: ['not-d'], notSrcNamedPortIpSetIds: ['not-s'] },
    { action: 'allow', protocol: 'tcp', dstPorts: [p(81)] },
  ];
  const ir = compilePolicyRules(rules, sets).filter((r) => r.action.kind === 'setMark');
  // per family: (port 80 | named 'pos') for the first rule, then the second rule on its own
  assert.equal(ir.length, 5);
  const negated = (r: Rule) => r.matches.filter((m) => m.kind === 'namedPortSet' && m.negate).map((m) => (m.kind === 'namedPortSet' ? `${m.dir}:${m.set}` : ''));
  for (const family of [4, 6] as const) {
    const want = [`src:${setNames.namedPort('not-s', family)}`, `dst:${setNames.namedPort('not-d', family)}`];
    const mine = ir.filter((r) => r.matches.some((m) => m.kind === 'family' && m.family === family));
    assert.equal(mine.length, 2);
    for (const r of mine) assert.deepEqual(negated(r), want);
  }
  const second = ir.at(-1)!;
  assert.equal(negated(second).length, 0);
  assert.ok(!second.matches.some((m) => m.kind === 'family'));
  // a set the calc graph did not send exists (empty) so the rule still loads
  assert.ok(sets.has(setNames.namedPort('not-d', 4)) && sets.has(setNames.namedPort('not-s', 6)));
});

const ep = (over: Partial<DataplaneModel['endpoints'][number]> = {}): DataplaneModel['endpoints'][number] => ({
  id: 'workload:a',
  kind: 'workload',
  interfaceName: 'cali12345678901',
  mac: 'ee:00:00:00:00:01',
  ipv4Nets: ['198.18.0.1/32'],
  ipv6Nets: [],
  tiers: [],
  profileIds: [],
  ...over,
});
const model = (over: Partial<DataplaneModel> = {}): DataplaneModel => ({ config: defaultDataplaneConfig(), endpoints: [ep()], policies: [], profiles: [], ipSets: [], pools: [], ...over });

test('fail closed: a missing policy or profile compiles to a drop, not a skip', () => {
  const rs = compileRuleset(model({ endpoints: [ep({ tiers: [{ name: 'default', defaultAction: 'pass', ingressPolicies: ['gone'], egressPolicies: [] }], profileIds: ['missing'] })] }));
  const tw = rs.chains.find((c) => c.name === chainNames.toWorkload('cali12345678901'))!;
  assert.ok(tw.rules.some((r) => r.action.kind === 'drop' && r.comment === 'missing policy gone'));
  assert.ok(tw.rules.some((r) => r.action.kind === 'drop' && r.comment === 'missing profile missing'));
  assert.ok(!rs.chains.some((c) => c.name.startsWith('cali-pi-')));
});

test('an endpoint without IPv6 addresses gets no IPv6 traffic out; dispatch ends in drop', () => {
  const rs = compileRuleset(model());
  const fw = rs.chains.find((c) => c.name === chainNames.fromWorkload('cali12345678901'))!;
  assert.ok(fw.rules.some((r) => r.action.kind === 'drop' && r.matches.length === 1 && r.matches[0]!.kind === 'family' && r.matches[0]!.family === 6));
  const dispatch = rs.chains.find((c) => c.name === chainNames.fromWorkloadDispatch)!;
  assert.deepEqual(dispatch.rules.at(-1)!.action, { kind: 'drop' });
});

test('an IP-set id the calc graph did not send is an empty set (positive matches fail)', () => {
  const rs = compileRuleset(model({ endpoints: [ep({ profileIds: ['p'] })], profiles: [{ id: 'p', inbound: [{ action: 'allow', srcIpSetIds: ['nope'] }], outbound: [] }] }));
  const s = rs.sets.find((x) => x.name === setNames.selector('nope', 4))!;
  assert.deepEqual(s.members, []);
});

test('compilation is deterministic and independent of input order', () => {
  const a = model({ endpoints: [ep(), ep({ id: 'workload:b', interfaceName: 'cali22222222222', ipv4Nets: ['198.18.0.2/32'] })] });
  const b = { ...a, endpoints: [...a.endpoints].reverse() };
  assert.deepEqual(compileRuleset(a), compileRuleset(b));
});

test('kernel names fit their limits, even for long ids', () => {
  const long = 'x'.repeat(300);
  for (const n of [chainNames.policy(long, 'inbound'), chainNames.profile(long, 'outbound'), chainNames.fromWorkload('cali0123456789a'), chainNames.toHost('averyveryverylongname')]) {
    assert.ok(n.length <= MAX_CHAIN_NAME, n);
  }
  for (const n of [setNames.selector(long, 6), setNames.namedPort(long, 4), setNames.merged(long, 6), setNames.allPools(6)]) assert.ok(n.length <= MAX_SET_NAME, n);
  assert.notEqual(chainNames.toHost('averyveryverylongname1'), chainNames.toHost('averyveryverylongname2'));
  assert.equal(chainNames.policy('a', 'inbound'), chainNames.policy('a', 'inbound'));
});

test('notICMP keeps its code and implies the ICMP protocol of the family', () => {
  const [v4] = compileOne({ action: 'deny', protocol: 'icmp', notIcmpType: 8, notIcmpCode: 0 });
  assert.deepEqual(v4!.matches.find((m) => m.kind === 'icmp'), { kind: 'icmp', family: 4, type: 8, code: 0, negate: true });
  const [v6] = compileOne({ action: 'deny', ipVersion: 6, notIcmpType: 128 });
  assert.ok(v6!.matches.some((m) => m.kind === 'protocol' && m.protocol === 'ipv6-icmp'), 'the iptables icmp6 match needs -p ipv6-icmp');
  assert.deepEqual(v6!.matches.find((m) => m.kind === 'icmp'), { kind: 'icmp', family: 6, type: 128, negate: true });
});
