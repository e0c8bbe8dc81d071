// Rule normalization where getting it wrong fails open: unresolvable notPorts
// names, the IP family implied by notNets, and empty selector strings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSelector } from '../selector/index.js';
import { rule, side } from '../dataplane/testing-fixtures.js';
import { compilePlainRule } from '../rules/compile-policy.js';
import { MARK_ACCEPT } from '../rules/names.js';
import { SetRegistry } from '../rules/sets.js';
import type { SelectorCompiler } from './match-spec.js';
import type { RawRule } from './model.js';
import type { NormalizedRule } from './output.js';
import { normalizeRules, setIdOf } from './rules.js';

const compile: SelectorCompiler = (text) => {
  const sel = parseSelector(text);
  return { ast: sel.ast, evaluate: (labels) => sel.evaluate(labels), canonical: sel.toString() };
};

function one(raw: RawRule, namespace?: string): NormalizedRule {
  const ctx = namespace !== undefined ? { namespace, compile } : { compile };
  return normalizeRules([raw], [], ctx).inbound[0]!;
}

const ALLOW = { kind: 'setMark', mask: MARK_ACCEPT, value: MARK_ACCEPT } as const;

/** The calc -> compiler pipeline for one rule: the kernel-level rules per family. */
function compiled(raw: RawRule): { v4: string[]; v6: string[] } {
  const ir = compilePlainRule(one(raw), ALLOW, new SetRegistry());
  const allows = (fam: 4 | 6) =>
    ir
      .filter((x) => x.action.kind === 'setMark' && x.action.value === MARK_ACCEPT)
      .filter((x) => {
        const f = x.matches.find((m) => m.kind === 'family') as { family: 4 | 6 } | undefined;
        return f === undefined || f.family === fam;
      })
      .map((x) => JSON.stringify(x.matches));
  return { v4: allows(4), v6: allows(6) };
}

test('notPorts: a name under a protocol without ports never widens an Allow/Pass/Log rule', () => {
  for (const action of ['Allow', 'Pass', 'Log']) {
    assert.equal(one({ action, protocol: 'ICMP', source: { notPorts: ['dns'] } }).neverMatches, true, `${action} with ICMP`);
    assert.equal(one({ action, protocol: 1, destination: { notPorts: ['http'] } }).neverMatches, true, `${action} with protocol 1`);
  }
  // A Deny keeps matching without the exclusion: it denies more, never less.
  const deny = one({ action: 'Deny', protocol: 'ICMP', destination: { notPorts: ['http'], nets: ['192.0.2.0/24'] } });
  assert.equal(deny.neverMatches, undefined);
  assert.deepEqual(deny.destination.nets, ['192.0.2.0/24']);
  // With TCP the name resolves to a named-port set, as before.
  const ok = one({ action: 'Allow', protocol: 'TCP', destination: { notPorts: ['http'] } });
  assert.equal(ok.neverMatches, undefined);
  assert.equal(ok.destination.notNamedPortIpSetIds.length, 1);
  // And an Allow on a port list of only unresolvable names matches nothing (unchanged).
  assert.equal(one({ action: 'Allow', protocol: 'ICMP', destination: { ports: ['http'] } }).neverMatches, true);
});

test('a named port without a protocol resolves to an any-protocol named-port set (Calico: the port\'s own protocol)', () => {
  const set = (r: NormalizedRule, side: 'source' | 'destination', f: 'namedPortIpSetIds' | 'notNamedPortIpSetIds') => r[side][f];
  const { inbound, sets } = normalizeRules([{ action: 'Allow', destination: { ports: ['http'] }, source: { notPorts: ['dns'] } }], [], { compile });
  const r = inbound[0]!;
  assert.equal(r.neverMatches, undefined);
  assert.equal(r.protocol, undefined, 'no protocol match is added: the set members carry each port\'s protocol');
  assert.equal(set(r, 'destination', 'namedPortIpSetIds').length, 1);
  assert.equal(set(r, 'source', 'notNamedPortIpSetIds').length, 1);
  assert.deepEqual(sets.map((s) => s.namedPort).filter(Boolean).sort((a, b) => a!.name.localeCompare(b!.name)), [{ protocol: 'any', name: 'dns' }, { protocol: 'any', name: 'http' }]);
  // A protocol narrows the set to that protocol, and the set ids differ.
  const tcp = normalizeRules([{ action: 'Allow', protocol: 'TCP', destination: { ports: ['http'] } }], [], { compile });
  assert.deepEqual(tcp.sets.map((s) => s.namedPort), [{ protocol: 6, name: 'http' }]);
  assert.notEqual(tcp.inbound[0]!.destination.namedPortIpSetIds[0], r.destination.namedPortIpSetIds[0]);
});

test('notNets constrain the IP family: v4-only notNets allow no IPv6 traffic', () => {
  const r = one({ action: 'Allow', source: { notNets: ['10.0.0.0/8'] } });
  assert.equal(r.ipVersion, 4);
  const out = compiled({ action: 'Allow', source: { notNets: ['10.0.0.0/8'] } });
  assert.equal(out.v6.length, 0, `IPv6 allow rendered: ${out.v6.join('\n')}`);
  assert.equal(out.v4.length, 1);
  assert.ok(out.v4[0]!.includes('"negate":true'), out.v4[0]);

  assert.equal(one({ action: 'Allow', destination: { notNets: ['2001:db8::/32'] } }).ipVersion, 6);
  assert.equal(compiled({ action: 'Allow', destination: { notNets: ['2001:db8::/32'] } }).v4.length, 0);
  // Mixed notNets keep both families; a v4 nets list with v6 notNets can match nothing.
  assert.equal(one({ action: 'Allow', source: { notNets: ['10.0.0.0/8', '2001:db8::/32'] } }).ipVersion, undefined);
  assert.equal(one({ action: 'Allow', source: { nets: ['198.51.100.0/24'] }, destination: { notNets: ['2001:db8::/32'] } }).neverMatches, true);
  assert.equal(one({ action: 'Allow', ipVersion: 6, source: { notNets: ['10.0.0.0/8'] } }).neverMatches, true);
});

test('the compiler alone: a negated list without a CIDR of the family rules that family out', () => {
  const ir = compilePlainRule(rule({ action: 'Allow', source: side({ notNets: ['10.0.0.0/8'] }) }), ALLOW, new SetRegistry());
  const fams = ir.map((x) => (x.matches.find((m) => m.kind === 'family') as { family: number } | undefined)?.family);
  assert.ok(!fams.includes(6) && !fams.includes(undefined), JSON.stringify(fams));
});

test('an empty selector string is no selector (Calico): Deny with selector "" denies everything', () => {
  const plain = one({ action: 'Deny' }, 'ns');
  for (const source of [{ selector: '' }, { notSelector: '' }, { namespaceSelector: '' }, { selector: '', namespaceSelector: '' }]) {
    const r = one({ action: 'Deny', source }, 'ns');
    assert.deepEqual(r, plain, JSON.stringify(source));
    assert.deepEqual(r.source.ipSetIds, []);
  }
  const gnpPlain = one({ action: 'Deny' });
  assert.deepEqual(one({ action: 'Deny', destination: { selector: '' } }), gnpPlain);
});

test('namespaceSelector "" does not restrict: the side is scoped like one without it', () => {
  const sel = { selector: "role == 'db'" };
  const withEmpty = normalizeRules([{ action: 'Allow', source: { ...sel, namespaceSelector: '' } }], [], { namespace: 'ns', compile });
  const without = normalizeRules([{ action: 'Allow', source: sel }], [], { namespace: 'ns', compile });
  assert.deepEqual(withEmpty.inbound, without.inbound);
  assert.deepEqual(withEmpty.sets.map((d) => d.description), without.sets.map((d) => d.description));
  // In a global policy: no namespace restriction at all, and no set for the empty selector.
  const g = normalizeRules([{ action: 'Allow', source: { namespaceSelector: '' } }], [], { compile });
  assert.deepEqual(g.inbound[0]!.source.ipSetIds, []);
  assert.deepEqual(g.sets, []);
});

test('setIdOf: ids are stable (prefix + 20 base-32 characters of SHA-256; the values rendered names and kernel sets depend on)', () => {
  assert.equal(setIdOf('s', 'ep sel=app == "app1"'), 'sg42mk6hxz2skms2iqegj');
  assert.equal(setIdOf('n', 'any port=6:http'), 'nfgju6rhx3lwvnwikfduq');
  assert.equal(setIdOf('s', ''), 's4oymiquy7qobjgx36tej');
});
