import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRuleset } from '../../rules/compile-endpoints.js';
import { chainNames } from '../../rules/names.js';
import { golden, goldenCases } from '../golden-cases.js';
import { parseIpsetSave, parseIptablesSave } from './parse.js';
import { ipsetCreate, ipsetMembers, renderIpsetDelta, renderIptablesDelta, renderIptablesFull, renderIptablesRule } from './render.js';
import type { KeyField, Ruleset } from '../../rules/ir.js';
import { CalicoError } from '../../base/errors.js';
import { rule, side } from '../../dataplane/testing-fixtures.js';

/** What iptables-save would print after loading `full` (our chains only, same order). */
function fakeSave(full: string, hooks: string[]): string {
  return full.replace(/^-I (\S+) 1 /gm, '-A $1 ') + hooks.join('\n');
}

function ipsetSave(rs: Ruleset): string {
  return rs.sets.flatMap((s) => [ipsetCreate(s), ...ipsetMembers(s).map((m) => `add ${s.name} ${m}`)]).join('\n');
}

for (const { name, model } of goldenCases()) {
  for (const family of [4, 6] as const) {
    test(`iptables golden: ${name} IPv${family}`, () => {
      const text = renderIptablesFull(compileRuleset(model, { backend: 'iptables' }), family);
      assert.equal(text, golden(`iptables/${name}/rules-v${family}.txt`, text));
    });
  }
  test(`ipset golden: ${name}`, () => {
    const text = renderIpsetDelta(new Map(), compileRuleset(model, { backend: 'iptables' })).before;
    assert.equal(text, golden(`iptables/${name}/ipsets.txt`, text));
  });
  test(`iptables: reading back ${name} needs no change`, () => {
    const rs = compileRuleset(model, { backend: 'iptables' });
    for (const family of [4, 6] as const) {
      const view = parseIptablesSave(fakeSave(renderIptablesFull(rs, family), []));
      assert.equal(renderIptablesDelta(view, rs, family), '');
    }
    const sets = renderIpsetDelta(parseIpsetSave(ipsetSave(rs)), rs);
    assert.deepEqual(sets, { before: '', after: '' });
  });
}

const basic = goldenCases().find((c) => c.name === 'basic')!.model;

test('iptables delta: one changed policy redeclares only its chain', () => {
  const rs = compileRuleset(basic, { backend: 'iptables' });
  const view = parseIptablesSave(fakeSave(renderIptablesFull(rs, 4), []));
  const model = structuredClone(basic);
  model.policies.find((p) => p.id === 'default/default.allow-dns')!.outboundRules[0]!.destination.ports = [{ first: 5353, last: 5353 }];
  const text = renderIptablesDelta(view, compileRuleset(model, { backend: 'iptables' }), 4);
  const declared = text.split('\n').filter((l) => l.startsWith(':'));
  assert.equal(declared.length, 1);
  assert.match(declared[0]!, /^:cali-to-/);
});

test('iptables delta: removed endpoint chains are flushed then deleted; sets destroyed after', () => {
  const rs = compileRuleset(basic, { backend: 'iptables' });
  const view = parseIptablesSave(fakeSave(renderIptablesFull(rs, 4), []));
  const model = structuredClone(basic);
  model.endpoints = model.endpoints.filter((e) => e.interfaceName !== 'cali1a2b3c4d5e6');
  const next = compileRuleset(model, { backend: 'iptables' });
  const text = renderIptablesDelta(view, next, 4);
  assert.match(text, /^-X cali-fw-cali1a2b3c4d5e6$/m);
  assert.match(text, /^:cali-fw-cali1a2b3c4d5e6 - \[0:0\]$/m);
  const sets = renderIpsetDelta(parseIpsetSave(ipsetSave(rs)), next);
  assert.match(sets.after, /^destroy cali40/m);
  assert.doesNotMatch(sets.before, /destroy/);
});

test('iptables: hook rules are inserted only when missing', () => {
  const rs = compileRuleset(basic, { backend: 'iptables' });
  const full = renderIptablesFull(rs, 4);
  assert.match(full, /^-I FORWARD 1 -m comment --comment "cali:hook" -j cali-FORWARD$/m);
  const withHooks = parseIptablesSave(fakeSave(full, []));
  assert.ok(withHooks.hooks.has('filter/FORWARD'));
  withHooks.hooks.delete('filter/FORWARD');
  assert.equal(renderIptablesDelta(withHooks, rs, 4).trim().split('\n').filter((l) => l.startsWith('-I')).length, 1);
});

test('iptables: long port lists are split into multiport chunks of 15', () => {
  const ports = Array.from({ length: 20 }, (_, i) => ({ first: 1000 + i * 2, last: 1000 + i * 2 }));
  const lines = renderIptablesRule('c', { matches: [{ kind: 'protocol', protocol: 'tcp' }, { kind: 'ports', dir: 'dst', ports }], action: { kind: 'accept' } }, 4);
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /--dports 1000,1002,.*,1028 -j ACCEPT$/);
});

test('iptables: two source CIDR matches in one rule is a typed error', () => {
  assert.throws(
    () => renderIptablesRule('c', { matches: [{ kind: 'addr', dir: 'src', family: 4, cidr: '10.0.0.0/8' }, { kind: 'addr', dir: 'src', family: 4, cidr: '10.1.0.0/16', negate: true }], action: { kind: 'drop' } }, 4),
    (e: unknown) => e instanceof CalicoError && e.kind === 'invalid-argument',
  );
});

test('ipset: port ranges are expanded the way ipset save prints them', () => {
  const merged = { name: 'x', family: 4 as const, kind: 'tuple' as const, fields: ['daddr', 'proto', 'dport'] as KeyField[], source: '' };
  assert.deepEqual(ipsetMembers({ ...merged, members: [{ daddr: '10.0.0.0/24', proto: 6, dport: { first: 80, last: 82 } }] }), ['10.0.0.0/24,tcp:80', '10.0.0.0/24,tcp:81', '10.0.0.0/24,tcp:82']);
  // Overlapping merged members spell some entries twice: ipset takes each once.
  assert.deepEqual(ipsetMembers({ ...merged, members: [{ daddr: '10.0.0.1', proto: 17, dport: { first: 53, last: 54 } }, { daddr: '10.0.0.1', proto: 17, dport: { first: 54, last: 54 } }] }), ['10.0.0.1,udp:53', '10.0.0.1,udp:54']);
  assert.deepEqual(ipsetMembers({ name: 'n', family: 6, kind: 'net-proto-port', members: [{ net: '2001:db8::1', protocol: 132, port: 5353 }], source: '' }), ['2001:db8::1,sctp:5353']);
  assert.deepEqual(ipsetMembers({ name: 's', family: 4, kind: 'net', members: [{ net: '10.0.0.0/24' }, { net: '10.1.0.1' }], source: '' }), ['10.0.0.0/24', '10.1.0.1']);
});

test('iptables: a negated ICMP match with a code negates type/code together', () => {
  const line = (family: 4 | 6, code: number | undefined) =>
    renderIptablesRule('c', { matches: [{ kind: 'icmp', family, type: family === 4 ? 8 : 128, ...(code !== undefined ? { code } : {}), negate: true }], action: { kind: 'drop' } }, family);
  assert.deepEqual(line(4, 0), ['-A c -m icmp ! --icmp-type 8/0 -j DROP']);
  assert.deepEqual(line(6, 0), ['-A c -m icmp6 ! --icmpv6-type 128/0 -j DROP']);
  assert.deepEqual(line(4, undefined), ['-A c -m icmp ! --icmp-type 8 -j DROP']);
});

test('iptables: protocol X with notProtocol X never matches (renders nothing), by number or name', () => {
  const rule = (protocol: string, not: string) =>
    renderIptablesRule('c', { matches: [{ kind: 'protocol', protocol }, { kind: 'protocol', protocol: not, negate: true }, { kind: 'ports', dir: 'dst', ports: [{ first: 22, last: 22 }] }], action: { kind: 'accept' } }, 4);
  assert.deepEqual(rule('tcp', 'tcp'), []);
  assert.deepEqual(rule('tcp', '6'), []);
  assert.deepEqual(rule('ipv6-icmp', '58'), []);
  // Order does not matter either.
  assert.deepEqual(renderIptablesRule('c', { matches: [{ kind: 'protocol', protocol: 'udp', negate: true }, { kind: 'protocol', protocol: 'udp' }], action: { kind: 'accept' } }, 4), []);
  // A different notProtocol is redundant next to a positive protocol.
  assert.deepEqual(rule('tcp', 'udp'), ['-A c -p tcp -m multiport --dports 22 -j ACCEPT']);
});

test('iptables: an allow rule with protocol == notProtocol from a policy opens nothing', () => {
  const model = structuredClone(basic);
  model.policies.find((p) => p.id === 'default/default.allow-dns')!.outboundRules = [rule({ action: 'Allow', protocol: 6, notProtocol: 6 })];
  const text = renderIptablesFull(compileRuleset(model, { backend: 'iptables' }), 4);
  const chain = text.split('\n').filter((l) => /^-A cali-to-\S+ /.test(l) && / -p tcp/.test(l));
  assert.deepEqual(chain, []);
});

test('iptables: nets and notNets on the same side render (the negated CIDR becomes a set), not a throw', () => {
  const model = structuredClone(basic);
  model.policies.find((p) => p.id === 'default/default.allow-dns')!.outboundRules = [
    rule({ action: 'Deny', source: side({ nets: ['198.51.100.0/24'], notNets: ['198.51.100.128/25'] }) }),
    rule({ action: 'Deny', destination: side({ nets: ['2001:db8:5::/48'], notNets: ['2001:db8:5:1::/64'] }) }),
  ];
  const rs = compileRuleset(model, { backend: 'iptables' });
  const tier = chainNames.tier('default', ['default/default.allow-dns'], 'outbound');
  const v4 = renderIptablesFull(rs, 4).split('\n').filter((l) => l.startsWith(`-A ${tier} `) && l.endsWith('-j DROP'));
  const v6 = renderIptablesFull(rs, 6).split('\n').filter((l) => l.startsWith(`-A ${tier} `) && l.endsWith('-j DROP'));
  const set4 = rs.sets.find((s) => s.family === 4 && s.kind === 'net' && s.members.length === 1 && s.members[0]!.net === '198.51.100.128/25');
  const set6 = rs.sets.find((s) => s.family === 6 && s.kind === 'net' && s.members.length === 1 && s.members[0]!.net === '2001:db8:5:1::/64');
  assert.ok(set4 && set6);
  assert.equal(v4.length, 1);
  assert.match(v4[0]!, new RegExp(`-s 198\\.51\\.100\\.0/24 -m set ! --match-set ${set4.name} src -m comment --comment "default/default\\.allow-dns\\[0\\]" -j DROP$`));
  assert.equal(v6.length, 1);
  assert.match(v6[0]!, new RegExp(`-d 2001:db8:5::/48 -m set ! --match-set ${set6.name} dst -m comment --comment "default/default\\.allow-dns\\[1\\]" -j DROP$`));
});
