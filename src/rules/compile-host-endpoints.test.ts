import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRuleset } from './compile-endpoints.js';
import { defaultDataplaneConfig, type DataplaneModel, type LocalEndpoint } from './model.js';
import type { DirectionalPolicies } from '../calc/output.js';
import { MARK_ACCEPT, chainNames } from './names.js';
import type { Chain, Ruleset } from './ir.js';
import { renderIptablesFull } from '../render/iptables/render.js';
import { renderNftRule } from '../render/nft/render.js';
import { rule, side } from '../dataplane/testing-fixtures.js';

const tier = (ingress: string[], egress: string[] = []): DirectionalPolicies => {
  const one = (policies: string[]) => (policies.length ? [{ tier: 'default', policies, defaultAction: 'Deny' as const }] : []);
  return { ingress: one(ingress), egress: one(egress) };
};

function hep(iface: string, extra: Partial<LocalEndpoint> = {}): LocalEndpoint {
  return { id: `host:${iface}`, kind: 'host', interfaceName: iface, ipv4Nets: [], ipv6Nets: [], policies: tier([]), profileIds: [], ...extra };
}

function model(endpoints: LocalEndpoint[]): DataplaneModel {
  const pol = (id: string) => ({ id, inboundRules: [rule({ action: 'Allow', protocol: 6, destination: side({ ports: [{ first: 80, last: 80 }] }) })], outboundRules: [rule({ action: 'Allow' })] });
  return {
    config: { ...defaultDataplaneConfig(), failsafeInbound: [{ protocol: 'tcp', port: 22 }], failsafeOutbound: [{ protocol: 'udp', port: 53 }] },
    endpoints,
    policies: ['n', 'u', 'd', 'f'].map(pol),
    profiles: [{ id: 'p', inboundRules: [rule({ action: 'Allow' })], outboundRules: [rule({ action: 'Allow' })] }],
    ipSets: [],
    pools: [],
  };
}

const byName = (r: Ruleset, name: string): Chain => {
  const c = r.chains.find((x) => x.name === name);
  assert.ok(c, `chain ${name} exists`);
  return c;
};
const text = (c: Chain) => c.rules.map((r) => renderNftRule(r));
/** The merged chain of tier 'default' holding just this (inbound) policy. */
const tierChain = (id: string) => chainNames.tier('default', [id], 'inbound');

test('no untracked or preDNAT policy: no raw or mangle host endpoint chains, the raw stage only clears our marks', () => {
  const r = compileRuleset(model([hep('eth0', { policies: tier(['n']) })]));
  assert.equal(r.chains.some((c) => c.name === chainNames.toHostUntracked('eth0') || c.name === chainNames.toHostPreDnat('eth0')), false);
  assert.deepEqual(text(byName(r, chainNames.top['raw-output'])), ['meta mark set meta mark & 0xfffcffff']);
  assert.deepEqual(text(byName(r, chainNames.top['mangle-prerouting'])), []);
});

test('untracked: an allow is notrack + return, no end-of-tier drop, no profiles; replies of failsafe connections pass', () => {
  const r = compileRuleset(model([hep('eth0', { untrackedPolicies: tier(['u'], ['u']), profileIds: ['p'] })]));
  const inb = text(byName(r, chainNames.toHostUntracked('eth0')));
  const at = inb.findIndex((l) => l.startsWith(`jump ${tierChain('u')}`));
  assert.ok(at > 0);
  assert.equal(inb[at + 1], 'meta mark & 0x00010000 == 0x00010000 notrack');
  assert.equal(inb[at + 2], 'meta mark & 0x00010000 == 0x00010000 return');
  assert.equal(inb.length, at + 3, 'nothing after the policy: no tier drop, no profile, no final drop');
  assert.ok(inb.includes('meta l4proto udp th sport 53 accept comment "failsafe reply"'));
  const out = text(byName(r, chainNames.fromHostUntracked('eth0')));
  assert.ok(out.includes('meta l4proto tcp th sport 22 accept comment "failsafe reply"'));
  assert.equal(byName(r, chainNames.toHostUntracked('eth0')).table, 'raw');
  // The raw stage dispatches non-workload traffic and accepts what untracked policy allowed.
  assert.deepEqual(text(byName(r, chainNames.top.prerouting)).slice(-3), ['iifname "cali*" return', `jump ${chainNames.toHostUntrackedDispatch}`, 'meta mark & 0x00010000 == 0x00010000 accept comment "allowed by untracked policy"']);
  assert.deepEqual(byName(r, tierChain('u')).alsoIn, ['raw']);
  assert.deepEqual(byName(r, chainNames.allow).alsoIn, ['raw'], 'the verdict chains too');
});

test('preDNAT: ingress only, mangle stage, no end-of-tier drop; an allow skips normal policy in INPUT', () => {
  const r = compileRuleset(model([hep('eth0', { preDnatPolicies: tier(['d']), policies: tier(['n']) })]));
  const c = byName(r, chainNames.toHostPreDnat('eth0'));
  assert.equal(c.table, 'mangle');
  assert.equal(text(c).some((l) => l.includes('drop')), false);
  assert.deepEqual(byName(r, tierChain('d')).alsoIn, ['mangle']);
  const input = text(byName(r, chainNames.top.input));
  assert.ok(input.indexOf('meta mark & 0x00010000 == 0x00010000 accept comment "accepted by host endpoint policy"') < input.indexOf(`jump ${chainNames.toHostDispatch}`));
});

test('applyOnForward: no policy in a direction allows; with policy, end-of-tier drop and no profiles', () => {
  const r = compileRuleset(model([hep('eth0', { forwardPolicies: tier(['f']), profileIds: ['p'] })]));
  assert.deepEqual(text(byName(r, chainNames.fromHostForward('eth0'))), [
    'meta mark set meta mark & 0xfffcffff',
    'meta mark set meta mark & 0xfffeffff | 0x00010000 comment "no forward policy: allow"',
    'return',
  ]);
  const inb = text(byName(r, chainNames.toHostForward('eth0')));
  assert.equal(inb.at(-1), 'meta mark & 0x00020000 != 0x00020000 drop comment "end of tier default"');
  assert.equal(inb.some((l) => l.includes('profile')), false);
});

test('FORWARD: ingress host endpoint (unless accepted earlier), then workloads, then egress host endpoint', () => {
  const wl: LocalEndpoint = { id: 'workload:w', kind: 'workload', interfaceName: 'cali1', ipv4Nets: ['198.18.1.1/32'], ipv6Nets: [], policies: tier([]), profileIds: ['p'] };
  const f = text(byName(compileRuleset(model([hep('eth0'), wl])), chainNames.top.forward));
  const pos = (s: string) => f.findIndex((l) => l.includes(s));
  assert.ok(f[pos(chainNames.toHostForwardDispatch)]!.startsWith(`meta mark & 0x${MARK_ACCEPT.toString(16).padStart(8, '0')} != `));
  assert.ok(pos(chainNames.toHostForwardDispatch) < pos(chainNames.fromWorkloadDispatch));
  assert.ok(pos(chainNames.toWorkloadDispatch) < pos(chainNames.fromHostForwardDispatch));
  assert.equal(f.at(-1), 'meta mark & 0x00010000 == 0x00010000 accept comment "allowed by host endpoint forward policy"');
});

test('"*" is the default of every dispatch; a named endpoint wins for its interface, even at a stage where only "*" has policy', () => {
  const r = compileRuleset(model([hep('*', { untrackedPolicies: tier(['u'], ['u']), preDnatPolicies: tier(['d']) }), hep('eth0', { policies: tier(['n']) })]));
  for (const [dispatch, chainOf] of [
    [chainNames.toHostDispatch, chainNames.toHost],
    [chainNames.fromHostDispatch, chainNames.fromHost],
    [chainNames.toHostForwardDispatch, chainNames.toHostForward],
    [chainNames.fromHostForwardDispatch, chainNames.fromHostForward],
    [chainNames.toHostUntrackedDispatch, chainNames.toHostUntracked],
    [chainNames.fromHostUntrackedDispatch, chainNames.fromHostUntracked],
    [chainNames.toHostPreDnatDispatch, chainNames.toHostPreDnat],
  ] as const) {
    const c = byName(r, dispatch);
    const d = c.rules[0]!.action;
    assert.equal(d.kind, 'dispatch', dispatch);
    assert.deepEqual(d.kind === 'dispatch' && d.targets, [{ iface: 'eth0', chain: chainOf('eth0') }], dispatch);
    assert.deepEqual(c.rules.at(-1)!.action, { kind: 'goto', chain: chainOf('*') }, dispatch);
  }
  // eth0 has no untracked policy of its own: its chain is empty, so "*" cannot reach it.
  assert.equal(text(byName(r, chainNames.toHostUntracked('eth0'))).some((l) => l.includes('jump cali-pi')), false);
  // Untracked egress to a workload is not host endpoint traffic.
  assert.ok(text(byName(r, chainNames.fromHostUntrackedDispatch)).includes('oifname "cali*" return'));
  assert.equal(chainNames.toHost('*'), 'cali-th-all-host-interfaces');
});

test('iptables: a policy used by untracked and preDNAT policy is written into raw and mangle too; notrack is CT --notrack', () => {
  const r = compileRuleset(model([hep('eth0', { untrackedPolicies: tier(['u']), preDnatPolicies: tier(['u']), policies: tier(['u']) })]));
  const restore = renderIptablesFull(r, 4);
  const pi = tierChain('u');
  for (const table of ['raw', 'mangle', 'filter']) {
    const section = restore.split(`*${table}\n`)[1]!.split('COMMIT')[0]!;
    assert.ok(section.includes(`:${pi} - [0:0]`), `${pi} declared in ${table}`);
  }
  assert.match(restore, /-A cali-thu-eth0 -m mark --mark 0x10000\/0x10000 -j CT --notrack/);
  assert.match(restore, /-I OUTPUT 1 -m comment --comment "cali:hook" -j cali-raw-OUTPUT/);
  assert.match(restore, /\*mangle\n[^*]*-I PREROUTING 1 -m comment --comment "cali:hook" -j cali-mangle-PREROUTING/);
});

test('a missing untracked or preDNAT policy drops (fail closed), like any missing policy', () => {
  const r = compileRuleset(model([hep('eth0', { untrackedPolicies: tier(['gone']), preDnatPolicies: tier(['gone']) })]));
  for (const name of [chainNames.toHostUntracked('eth0'), chainNames.toHostPreDnat('eth0')]) {
    assert.ok(text(byName(r, name)).includes(`jump ${tierChain('gone')} comment "tier default: 1 policy"`), name);
  }
  assert.deepEqual(text(byName(r, tierChain('gone'))), ['drop comment "missing policy gone"']);
});
