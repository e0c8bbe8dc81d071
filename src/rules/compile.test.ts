import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalCidr } from './cidr.js';
import { compilePlainRule, normalizePorts } from './compile-policy.js';
import { compileProgram, type CompileTarget } from './compile-tier.js';
import { compileRuleset } from './compile-endpoints.js';
import { defaultDataplaneConfig, type DataplaneModel } from './model.js';
import type { NormalizedRule, SetMember } from '../calc/output.js';
import { MAX_CHAIN_NAME, MAX_SET_NAME, MARK_ACCEPT, MARK_PASS, chainNames, setNames } from './names.js';
import { SetRegistry, withoutCovered } from './sets.js';
import { ValidationError } from '../base/errors.js';
import type { IpSet, Rule } from './ir.js';
import { memberValues } from './set-members.js';
import { rule, side } from '../dataplane/testing-fixtures.js';

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

test('withoutCovered drops members inside a shorter member (of the same protocol and port)', () => {
  const nets = (...n: string[]) => n.map((net) => ({ net }));
  assert.deepEqual(withoutCovered(nets('10.0.0.5', '10.0.0.0/24', '10.1.0.1', '10.0.0.0/24')), nets('10.0.0.0/24', '10.1.0.1'));
  const tcp = (net: string, port: number) => ({ net, protocol: 6, port });
  assert.deepEqual(withoutCovered([tcp('10.0.0.5', 80), tcp('10.0.0.0/24', 80), tcp('10.0.0.5', 81), { net: '10.0.0.5', protocol: 17, port: 80 }]), [tcp('10.0.0.0/24', 80), tcp('10.0.0.5', 81), { net: '10.0.0.5', protocol: 17, port: 80 }]);
});

test('normalizePorts sorts and joins overlapping and adjacent ranges', () => {
  assert.deepEqual(normalizePorts([p(90), p(80, 85), p(86), p(84, 88), p(100)]), [p(80, 88), p(90), p(100)]);
});

const ACTIONS = { allow: { kind: 'goto', chain: 'cali-allow' }, deny: { kind: 'drop' }, pass: { kind: 'goto', chain: 'cali-pass' } } as const;
function program(rules: NormalizedRule[], opts: { backend?: CompileTarget; sets?: SetRegistry; netSets?: Map<string, SetMember[]> } = {}): Rule[] {
  return compileProgram(
    rules.map((rule) => ({ rule })),
    { backend: opts.backend ?? 'nftables', sets: opts.sets ?? new SetRegistry(), netSets: opts.netSets ?? new Map<string, SetMember[]>(), setKey: 'test', actions: ACTIONS },
  );
}
/** A set's members as text (the renderers' field spelling, space separated): easy to read in assertions. */
const texts = (s: IpSet) => memberValues(s).map((v) => v.join(' '));
const lookups = (ir: Rule[]) => ir.map((r) => r.matches.find((m) => m.kind === 'tupleSet')).filter((m) => m !== undefined);

test('a run of same-action rules of one shape is one lookup; another action ends the run', () => {
  const allow = (net: string, port: number): NormalizedRule => (rule({ action: 'Allow', protocol: 6, source: side({ nets: [net] }), destination: side({ ports: [p(port)] }) }));
  const sets = new SetRegistry();
  const ir = program([allow('10.0.0.1', 80), allow('10.0.0.2', 81), rule({ action: 'Deny', source: side({ nets: ['10.9.0.0/16'] }) }), allow('10.0.0.3', 82)], { sets });
  // run 1: one lookup of saddr . proto . dport; run 2: a plain deny; run 3: a single rule stays plain
  assert.equal(ir.length, 3);
  assert.deepEqual(lookups(ir).map((m) => m.kind === 'tupleSet' && m.fields), [['saddr', 'proto', 'dport']]);
  const set = sets.all().find((s) => s.kind === 'tuple')!;
  assert.deepEqual(texts(set), ['10.0.0.1 tcp 80', '10.0.0.2 tcp 81']);
  assert.deepEqual(set.members, [{ saddr: '10.0.0.1', proto: 6, dport: p(80) }, { saddr: '10.0.0.2', proto: 6, dport: p(81) }]);
  assert.deepEqual(ir.map((r) => r.action.kind), ['goto', 'drop', 'goto']);
});

test('merging spans rules of different protocols and lists (nets x ports)', () => {
  const sets = new SetRegistry();
  const ir = program([
    rule({ action: 'Allow', protocol: 17, destination: side({ ports: [p(53)] }) }),
    rule({ action: 'Allow', protocol: 6, destination: side({ ports: [p(53), p(80, 90)] }) }),
    rule({ action: 'Allow', protocol: 6, destination: side({ nets: ['10.0.0.0/24', '10.1.0.1'], ports: [p(443)] }) }),
    rule({ action: 'Allow', protocol: 6, destination: side({ nets: ['10.2.0.0/16'], ports: [p(22)] }) }),
  ], { sets });
  // proto . dport (both families, same members) and daddr . proto . dport (IPv4 only)
  assert.equal(ir.length, 3);
  const byFields = new Map(sets.all().map((s) => [`${s.family}:${s.kind === 'tuple' ? s.fields.join('.') : ''}`, texts(s)]));
  assert.deepEqual(byFields.get('4:proto.dport'), ['tcp 53', 'tcp 80-90', 'udp 53']);
  assert.deepEqual(byFields.get('4:daddr.proto.dport'), ['10.0.0.0/24 tcp 443', '10.1.0.1 tcp 443', '10.2.0.0/16 tcp 22']);
});

test('Log is a barrier; Pass merges like Allow and Deny', () => {
  const ir = program([
    rule({ action: 'Pass', source: side({ nets: ['10.0.0.1'] }) }),
    rule({ action: 'Pass', source: side({ nets: ['10.0.0.2'] }) }),
    rule({ action: 'Log', source: side({ nets: ['10.0.0.3'] }) }),
    rule({ action: 'Pass', source: side({ nets: ['10.0.0.4'] }) }),
  ]);
  assert.deepEqual(ir.map((r) => `${r.action.kind}:${r.matches.map((m) => m.kind).join(',')}`), ['goto:family,tupleSet', 'log:family,addr', 'goto:family,addr']);
});

test('a rule matching everything ends the program: nothing after it is reachable', () => {
  const ir = program([rule({ action: 'Deny', source: side({ nets: ['10.0.0.1'] }) }), rule({ action: 'Deny' }), rule({ action: 'Allow', protocol: 6 })]);
  assert.deepEqual(ir, [{ matches: [], action: { kind: 'drop' } }]);
});

test('a selector becomes key values (members of the set) unless it is too big; extra conditions stay residual', () => {
  const sets = new SetRegistry();
  const netSets = new Map<string, SetMember[]>([['web', [{ net: '10.0.0.1/32' }, { net: '10.0.0.2/32' }, { net: '2001:db8::1/128' }]], ['empty', []]]);
  const ir = program([
    rule({ action: 'Allow', protocol: 6, source: side({ ipSetIds: ['web'] }), destination: side({ ports: [p(80)] }) }),
    rule({ action: 'Allow', protocol: 6, source: side({ nets: ['10.9.0.0/16'] }), destination: side({ ports: [p(8080)] }) }),
    rule({ action: 'Allow', protocol: 6, source: side({ ipSetIds: ['empty'] }), destination: side({ ports: [p(81)] }) }),
  ], { sets, netSets });
  const v4 = sets.all().find((s) => s.family === 4 && s.kind === 'tuple')!;
  assert.deepEqual(texts(v4), ['10.0.0.1 tcp 80', '10.0.0.2 tcp 80', '10.9.0.0/16 tcp 8080']);
  // IPv6: only the selector rule has an IPv6 part, a plain rule with the set
  assert.ok(ir.some((r) => r.matches.some((m) => m.kind === 'set' && m.family === 6)));
  assert.ok(!ir.some((r) => JSON.stringify(r).includes('empty')), 'an empty selector contributes nothing');
});

test('overlapping tuples go to separate buckets (nft refuses overlapping interval elements); covered ones are dropped', () => {
  const sets = new SetRegistry();
  program([
    rule({ action: 'Allow', protocol: 6, source: side({ nets: ['10.0.0.0/8'] }), destination: side({ ports: [p(80)] }) }),
    rule({ action: 'Allow', protocol: 6, source: side({ nets: ['10.0.0.1'] }), destination: side({ ports: [p(80, 90)] }) }),
    rule({ action: 'Allow', protocol: 6, source: side({ nets: ['10.0.0.2'] }), destination: side({ ports: [p(80)] }) }),
  ], { sets });
  const all = sets.all().flatMap(texts).sort();
  assert.deepEqual(all, ['10.0.0.0/8 tcp 80', '10.0.0.1 tcp 80-90']);
  assert.equal(sets.all().length, 2);
});

test('iptables keys only what ipset can hold: one address, optionally with protocol and one port', () => {
  const sets = new SetRegistry();
  const ir = program([
    rule({ action: 'Allow', protocol: 6, source: side({ nets: ['10.0.0.1'] }), destination: side({ nets: ['10.1.0.1'], ports: [p(80)] }) }),
    rule({ action: 'Allow', protocol: 6, source: side({ nets: ['10.0.0.2'] }), destination: side({ nets: ['10.1.0.1'], ports: [p(81)] }) }),
    rule({ action: 'Allow', protocol: 17, destination: side({ ports: [p(53)] }) }),
    rule({ action: 'Allow', protocol: 17, destination: side({ ports: [p(54)] }) }),
  ], { sets, backend: 'iptables' });
  for (const s of sets.all()) assert.ok(s.kind === 'tuple' && (s.fields.length === 1 || s.fields.join('.') === 'saddr.proto.dport'), JSON.stringify(s));
  assert.ok(ir.some((r) => r.matches.some((m) => m.kind === 'addr' && m.dir === 'dst')), 'the destination stays a residual match');
  // No address: "any address" (two halves, ipset takes no /0) stands in, so protocol x port rules merge too.
  assert.ok(sets.all().some((s) => s.family === 4 && JSON.stringify(texts(s)) === JSON.stringify(['0.0.0.0/1 udp 53-54', '128.0.0.0/1 udp 53-54'])));
});

test('10,000 address/port rules compile to ONE set lookup per family that has them', () => {
  const rules: NormalizedRule[] = Array.from({ length: 10_000 }, (_, i) => (rule({ action: 'Allow', protocol: 6, source: side({ nets: [`198.19.${i >> 8}.${i & 255}/32`] }), destination: side({ ports: [p(10000 + (i % 5000))] }) })));
  const sets = new SetRegistry();
  const ir = program(rules, { sets });
  assert.equal(ir.length, 1);
  const set = sets.all().find((s) => s.kind === 'tuple')!;
  assert.equal(set.members.length, 10_000);
});

function compileOne(rule: NormalizedRule): Rule[] {
  const action: Rule['action'] = rule.action === 'Allow' ? { kind: 'setMark', mask: MARK_ACCEPT, value: MARK_ACCEPT } : rule.action === 'Pass' ? { kind: 'setMark', mask: MARK_PASS, value: MARK_PASS } : rule.action === 'Deny' ? { kind: 'drop' } : { kind: 'log', prefix: 'x: ' };
  return compilePlainRule(rule, action, new SetRegistry());
}

test('compilePlainRule: families, protocols and actions (table)', () => {
  const cases: { name: string; rule: NormalizedRule; families: (4 | 6 | 'both')[]; action: string }[] = [
    { name: 'no family-specific match: one rule for both', rule: rule({ action: 'Deny' }), families: ['both'], action: 'drop' },
    { name: 'v4 nets only', rule: rule({ action: 'Deny', source: side({ nets: ['10.0.0.0/8'] }) }), families: [4], action: 'drop' },
    { name: 'mixed nets', rule: rule({ action: 'Deny', destination: side({ nets: ['10.0.0.0/8', '2001:db8::/32'] }) }), families: [4, 6], action: 'drop' },
    { name: 'icmp is IPv4 only', rule: rule({ action: 'Deny', protocol: 1 }), families: [4], action: 'drop' },
    { name: 'icmpv6 is IPv6 only', rule: rule({ action: 'Deny', protocol: 58 }), families: [6], action: 'drop' },
    { name: 'ipVersion 6', rule: rule({ action: 'Deny', ipVersion: 6, protocol: 6 }), families: [6], action: 'drop' },
    { name: 'ipVersion 4 with only v6 nets never matches', rule: rule({ action: 'Deny', ipVersion: 4, source: side({ nets: ['2001:db8::/32'] }) }), families: [], action: '' },
    { name: 'log', rule: rule({ action: 'Log', protocol: 17 }), families: ['both'], action: 'log' },
  ];
  for (const c of cases) {
    const ir = compileOne(c.rule).filter((r) => r.action.kind !== 'return');
    const fams = ir.map((r) => (r.matches.find((m) => m.kind === 'family') as { family: 4 | 6 } | undefined)?.family ?? 'both');
    assert.deepEqual(fams, c.families, c.name);
    for (const r of ir) assert.equal(r.action.kind, c.action, c.name);
  }
});

test('in a program, Allow and Pass go to the verdict chains, Deny drops', () => {
  const ir = program([rule({ action: 'Allow', protocol: 6 }), rule({ action: 'Pass', protocol: 17 }), rule({ action: 'Deny', protocol: 132 })]);
  assert.deepEqual(ir.map((r) => r.action), [ACTIONS.allow, ACTIONS.pass, ACTIONS.deny]);
});

test('a /0 net matches anything; a negated /0 never matches', () => {
  const any = compileOne(rule({ action: 'Deny', source: side({ nets: ['0.0.0.0/0'] }) }));
  assert.equal(any.length, 1);
  assert.ok(!any[0]!.matches.some((m) => m.kind === 'addr' || m.kind === 'set'));
  assert.deepEqual(compileOne(rule({ action: 'Deny', ipVersion: 4, source: side({ notNets: ['0.0.0.0/0'] }) })), []);
});

test('notNets with several CIDRs become one negated set', () => {
  const sets = new SetRegistry();
  const [r] = program([rule({ action: 'Deny', ipVersion: 4, destination: side({ notNets: ['10.0.0.0/8', '192.168.0.0/16'] }) })], { sets });
  const m = r!.matches.find((x) => x.kind === 'set')!;
  assert.equal(m.kind === 'set' && m.negate, true);
  assert.deepEqual(sets.all().find((s) => s.name === (m as { set: string }).set)!.members, [{ net: '10.0.0.0/8' }, { net: '192.168.0.0/16' }]);
});

test('numeric ports OR named ports: one rule per alternative', () => {
  const ir = compileOne(rule({ action: 'Deny', protocol: 6, ipVersion: 4, destination: side({ ports: [p(80)], namedPortIpSetIds: ['n1', 'n2'] }) }));
  assert.equal(ir.length, 3);
  assert.deepEqual(ir.map((r) => r.matches.at(-1)!.kind), ['ports', 'namedPortSet', 'namedPortSet']);
});

test('named ports in notPorts: a negated named-port match in every alternative, never merged away', () => {
  const sets = new SetRegistry();
  const rules: NormalizedRule[] = [
    rule({ action: 'Allow', protocol: 6, source: side({ notNamedPortIpSetIds: ['not-s'] }), destination: side({ ports: [p(80)], namedPortIpSetIds: ['pos'], notNamedPortIpSetIds: ['not-d'] }) }),
    rule({ action: 'Allow', protocol: 6, destination: side({ ports: [p(81)] }) }),
  ];
  const ir = program(rules, { sets });
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
  policies: { ingress: [], egress: [] },
  profileIds: [],
  ...over,
});
const model = (over: Partial<DataplaneModel> = {}): DataplaneModel => ({ config: defaultDataplaneConfig(), endpoints: [ep()], policies: [], profiles: [], ipSets: [], pools: [], ...over });

test('fail closed: a missing policy or profile compiles to a drop, not a skip', () => {
  const rs = compileRuleset(model({ endpoints: [ep({ policies: { ingress: [{ tier: 'default', defaultAction: 'Pass', policies: ['gone'] }], egress: [] }, profileIds: ['missing'] })] }));
  const tw = rs.chains.find((c) => c.name === chainNames.toWorkload('cali12345678901'))!;
  const tier = rs.chains.find((c) => c.name === chainNames.tier('default', ['gone'], 'inbound'))!;
  assert.deepEqual(tier.rules, [{ matches: [], action: { kind: 'drop' }, comment: 'missing policy gone' }]);
  assert.ok(tw.rules.some((r) => r.action.kind === 'drop' && r.comment === 'missing profile missing'));
});

test('an endpoint without IPv6 addresses gets no IPv6 traffic out; dispatch ends in drop', () => {
  const rs = compileRuleset(model());
  const fw = rs.chains.find((c) => c.name === chainNames.fromWorkload('cali12345678901'))!;
  assert.ok(fw.rules.some((r) => r.action.kind === 'drop' && r.matches.length === 1 && r.matches[0]!.kind === 'family' && r.matches[0]!.family === 6));
  const dispatch = rs.chains.find((c) => c.name === chainNames.fromWorkloadDispatch)!;
  assert.deepEqual(dispatch.rules.at(-1)!.action, { kind: 'drop' });
});

test('an IP-set id the calc graph did not send is an empty set (positive matches fail)', () => {
  const rs = compileRuleset(model({ endpoints: [ep({ profileIds: ['p'] })], profiles: [{ id: 'p', inboundRules: [rule({ action: 'Allow', source: side({ ipSetIds: ['nope'] }) })], outboundRules: [] }] }));
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
  for (const n of [chainNames.tier(long, [long, long], 'inbound'), chainNames.profile(long, 'outbound'), chainNames.fromWorkload('cali0123456789a'), chainNames.toHost('averyveryverylongname')]) {
    assert.ok(n.length <= MAX_CHAIN_NAME, n);
  }
  for (const n of [setNames.selector(long, 6), setNames.namedPort(long, 4), setNames.merged(long, 6), setNames.allPools(6)]) assert.ok(n.length <= MAX_SET_NAME, n);
  assert.notEqual(chainNames.toHost('averyveryverylongname1'), chainNames.toHost('averyveryverylongname2'));
  assert.equal(chainNames.tier('t', ['a'], 'inbound'), chainNames.tier('t', ['a'], 'inbound'));
  assert.notEqual(chainNames.tier('t', ['a', 'b'], 'inbound'), chainNames.tier('t', ['ab'], 'inbound'));
});

test('notICMP keeps its code and implies the ICMP protocol of the family', () => {
  const [v4] = compileOne(rule({ action: 'Deny', protocol: 1, notIcmp: { type: 8, code: 0 } }));
  assert.deepEqual(v4!.matches.find((m) => m.kind === 'icmp'), { kind: 'icmp', family: 4, type: 8, code: 0, negate: true });
  const [v6] = compileOne(rule({ action: 'Deny', ipVersion: 6, notIcmp: { type: 128 } }));
  assert.ok(v6!.matches.some((m) => m.kind === 'protocol' && m.protocol === 'ipv6-icmp'), 'the iptables icmp6 match needs -p ipv6-icmp');
  assert.deepEqual(v6!.matches.find((m) => m.kind === 'icmp'), { kind: 'icmp', family: 6, type: 128, negate: true });
});
