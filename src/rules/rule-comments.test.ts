// Kernel rule comments map every verdict-carrying rule of a tier or profile
// chain back to policy and rule number, also when one set lookup stands for
// rules of several policies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRuleset } from './compile-endpoints.js';
import { programSegments, type ProgramEntry } from './compile-tier.js';
import { defaultDataplaneConfig, type DataplaneModel } from './model.js';
import { chainNames } from './names.js';
import { MAX_RULE_COMMENT, parseSourceComment, sourceComment } from './rule-comments.js';
import type { NormalizedRule } from '../calc/output.js';
import { rule, side } from '../dataplane/testing-fixtures.js';

const allow = (port: number, nets?: string[]): NormalizedRule =>
  rule({ action: 'Allow', protocol: 6, source: side(nets ? { nets } : {}), destination: side({ ports: [{ first: port, last: port }] }) });

function world(policies: { id: string; inbound: NormalizedRule[] }[]): DataplaneModel {
  return {
    config: defaultDataplaneConfig(),
    endpoints: [{ id: 'workload:a', kind: 'workload', interfaceName: 'calia', ipv4Nets: ['198.18.0.1/32'], ipv6Nets: [], policies: { ingress: [{ tier: 'default', defaultAction: 'Deny', policies: policies.map((p) => p.id) }], egress: [] }, profileIds: [] }],
    policies: policies.map((p) => ({ id: p.id, inboundRules: p.inbound, outboundRules: [] })),
    profiles: [],
    ipSets: [],
    pools: [],
  };
}

const tierRules = (model: DataplaneModel, backend: 'nftables' | 'iptables') => {
  const name = chainNames.tier('default', model.endpoints[0]!.policies.ingress[0]!.policies, 'inbound');
  return compileRuleset(model, { backend }).chains.find((c) => c.name === name)!.rules;
};

test('a set lookup spanning two policies names both (policy, rule numbers) and its run; plain rules name their one rule', () => {
  const model = world([
    { id: 'gnp/a', inbound: [rule({ action: 'Deny', protocol: 17 }), allow(80), allow(81)] },
    { id: 'gnp/b', inbound: [allow(82), rule({ action: 'Deny', source: side({ nets: ['203.0.113.0/24'] }) })] },
  ]);
  for (const backend of ['nftables', 'iptables'] as const) {
    // One lookup per family: the distinct (verdict, comment) pairs, in order.
    const comments = [...new Set(tierRules(model, backend).map((r) => `${r.action.kind === 'goto' ? r.action.chain : r.action.kind} ${r.comment}`))];
    assert.deepEqual(comments, ['drop gnp/a[0]', 'cali-allow run 1: gnp/a[1,2] gnp/b[0]', 'drop gnp/b[1]'], backend);
  }
});

test('a long run is named by its number; the number is the one programSegments gives, so the trace can resolve it', () => {
  const many = Array.from({ length: 30 }, (_, k) => ({ id: `gnp/policy-with-a-long-name-${k}`, inbound: [allow(1000 + k, [`198.51.100.${k}/32`])] }));
  const model = world([{ id: 'gnp/first', inbound: [rule({ action: 'Log' }), rule({ action: 'Deny', protocol: 17 })] }, ...many]);
  const rules = tierRules(model, 'nftables');
  const merged = rules.find((r) => r.matches.some((m) => m.kind === 'tupleSet'))!;
  assert.equal(merged.comment, 'run 1 (30 rules)');
  assert.equal(rules[0]!.comment, 'gnp/first[0]', 'a Log rule names its rule');
  const entries: ProgramEntry[] = model.policies.flatMap((p) => p.inboundRules.map((rule, index) => ({ rule, source: { owner: p.id, index } })));
  const segs = programSegments(entries);
  assert.deepEqual(segs.map((s) => (s.kind === 'log' ? 'log' : `${s.run}:${s.action}:${s.entries.length}`)), ['log', '0:Deny:1', '1:Allow:30']);
  for (const r of rules) assert.ok(!r.comment || Buffer.byteLength(r.comment) <= MAX_RULE_COMMENT, r.comment);
});

test('sourceComment / parseSourceComment round-trip; other comments are not rule sources', () => {
  const cases = [
    [{ owner: 'gnp/web', index: 0 }],
    [{ owner: 'np/prod/db', index: 2 }, { owner: 'np/prod/db', index: 3 }, { owner: 'np/prod/db', index: 4 }, { owner: 'np/prod/db', index: 7 }, { owner: 'kns.x', index: 1 }],
  ];
  for (const sources of cases) {
    const text = sourceComment(4, sources);
    assert.deepEqual(parseSourceComment(text), sources.length === 1 ? { sources } : { run: 4, sources }, text);
  }
  assert.equal(sourceComment(4, cases[1]!), 'run 4: np/prod/db[2-4,7] kns.x[1]');
  const long = Array.from({ length: 40 }, (_, k) => ({ owner: `gnp/p${k * 7}`, index: k }));
  assert.deepEqual(parseSourceComment(sourceComment(9, long)), { run: 9 });
  for (const other of ['tier default', 'end of tier default', 'anti-spoof IP', 'cali:h=abc', 'missing policy gnp/x']) assert.equal(parseSourceComment(other), undefined, other);
});

test('a never-matching rule keeps its place: the rules after it keep their numbers, and it does not split a run', () => {
  // The calc graph keeps a rule that can never match (e.g. an empty selector) in the list, so positions are rule numbers.
  const list = [rule({ action: 'Deny', protocol: 6 }), rule({ action: 'Deny', neverMatches: true }), rule({ action: 'Deny', protocol: 17 })];
  const rules = tierRules(world([{ id: 'gnp/p', inbound: list }]), 'nftables');
  assert.deepEqual([...new Set(rules.map((r) => r.comment))], ['run 0: gnp/p[0,2]']);
  const segs = programSegments(list.map((rule, index) => ({ rule, source: { owner: 'gnp/p', index } })));
  assert.deepEqual(segs.map((s) => (s.kind === 'run' ? s.entries.map((e) => e.source!.index) : 'log')), [[0, 2]]);
});
