import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRuleset } from '../../rules/compile-endpoints.js';
import { golden, goldenCases } from '../golden-cases.js';
import { parseNftTable } from './parse.js';
import { renderNftFull, renderNftRule } from './render.js';
import { emptyNftView, renderNftDelta } from './delta.js';
import type { Ruleset } from '../../rules/ir.js';

for (const { name, model } of goldenCases()) {
  test(`nft golden: ${name}`, () => {
    const text = renderNftFull(compileRuleset(model));
    assert.equal(text, golden(`nft/${name}/table.nft`, text));
  });

  test(`nft: reading back the full render of ${name} needs no change`, () => {
    const desired = compileRuleset(model);
    const view = parseNftTable(renderNftFull(desired));
    assert.equal(renderNftDelta(view, desired).script, '');
  });
}

const [basic] = goldenCases().filter((c) => c.name === 'basic');

test('nft delta: one changed policy rewrites only its chain', () => {
  const before = compileRuleset(basic!.model);
  const model = structuredClone(basic!.model);
  model.policies.find((p) => p.id === 'default/default.allow-dns')!.outboundRules[0]!.destination.ports = [{ first: 5353, last: 5353 }];
  const delta = renderNftDelta(parseNftTable(renderNftFull(before)), compileRuleset(model));
  assert.equal(delta.changedChains.length, 1);
  assert.match(delta.changedChains[0]!, /^cali-to-/);
  assert.match(delta.script, /^flush chain inet calico cali-to-/m);
  assert.doesNotMatch(delta.script, /add set|delete/);
});

test('nft delta: removed endpoint leaves the dispatch map first, then its chains are deleted', () => {
  const before = compileRuleset(basic!.model);
  const model = structuredClone(basic!.model);
  model.endpoints = model.endpoints.filter((e) => e.interfaceName !== 'cali9f8e7d6c5b4');
  const delta = renderNftDelta(parseNftTable(renderNftFull(before)), compileRuleset(model));
  assert.deepEqual(delta.deletedChains, ['cali-fw-cali9f8e7d6c5b4', 'cali-tw-cali9f8e7d6c5b4']);
  assert.deepEqual(delta.changedChains, [], 'the dispatch chains themselves are not rewritten');
  const lines = delta.script.split('\n');
  const unmap = lines.findIndex((l) => l === 'delete element inet calico cali-from-wl-dispatch-map { "cali9f8e7d6c5b4" : goto cali-fw-cali9f8e7d6c5b4 }');
  const del = lines.findIndex((l) => l.startsWith('delete chain inet calico cali-fw-cali9f8e7d6c5b4'));
  assert.ok(unmap >= 0 && del > unmap);
});

test('nft delta: a new endpoint is its chains plus one map element each way, added after the chains', () => {
  const before = compileRuleset(basic!.model);
  const model = structuredClone(basic!.model);
  model.endpoints.push({ ...structuredClone(model.endpoints[1]!), id: 'workload:new', interfaceName: 'cali00000000new', ipv4Nets: ['198.18.1.9/32'] });
  const delta = renderNftDelta(parseNftTable(renderNftFull(before)), compileRuleset(model));
  assert.deepEqual(delta.changedChains, ['cali-fw-cali00000000new', 'cali-tw-cali00000000new']);
  assert.deepEqual(delta.changedMaps, ['cali-from-wl-dispatch-map', 'cali-to-wl-dispatch-map']);
  const lines = delta.script.trim().split('\n');
  assert.match(lines.at(-1)!, /^add map inet calico cali-to-wl-dispatch-map \{ type ifname : verdict; elements = \{ "cali00000000new" : goto cali-tw-cali00000000new \} \}$/);
});

test('nft delta: an empty kernel gets the full table', () => {
  const desired: Ruleset = compileRuleset(basic!.model);
  const delta = renderNftDelta(emptyNftView(), desired);
  assert.equal(delta.script, renderNftFull(desired));
});

test('nft delta: a chain whose marker is missing is rewritten', () => {
  const desired = compileRuleset(basic!.model);
  const view = parseNftTable(renderNftFull(desired));
  view.chains.set('cali-FORWARD', '');
  const delta = renderNftDelta(view, desired);
  assert.deepEqual(delta.changedChains, ['cali-FORWARD']);
});

test('nft delta: sweeping dispatch maps comes after flushing and before deleting the chains they point at', () => {
  const hep = goldenCases().find((c) => c.name === 'host-endpoints-nat')!.model;
  const before = compileRuleset(hep);
  const model = structuredClone(hep);
  model.endpoints = model.endpoints.filter((e) => e.kind !== 'host');
  const lines = renderNftDelta(parseNftTable(renderNftFull(before)), compileRuleset(model)).script.split('\n');
  const flush = lines.indexOf('flush chain inet calico cali-to-hep-dispatch');
  const delMap = lines.indexOf('delete map inet calico cali-to-hep-dispatch-map');
  const delTarget = lines.indexOf('delete chain inet calico cali-th-eth0');
  assert.ok(flush >= 0 && delMap > flush && delTarget > delMap, lines.join('\n'));
});

test('nft: a negated ICMP match with a code negates the (type, code) pair, not the type alone', () => {
  const line = (family: 4 | 6, type: number, code: number | undefined, negate: boolean) =>
    renderNftRule({ matches: [{ kind: 'icmp', family, type, ...(code !== undefined ? { code } : {}), ...(negate ? { negate } : {}) }], action: { kind: 'drop' } });
  assert.equal(line(4, 8, 0, true), 'icmp type . icmp code != { 8 . 0 } drop');
  assert.equal(line(6, 128, 0, true), 'icmpv6 type . icmpv6 code != { 128 . 0 } drop');
  assert.equal(line(4, 8, undefined, true), 'icmp type != 8 drop');
  assert.equal(line(6, 128, undefined, true), 'icmpv6 type != 128 drop');
  assert.equal(line(4, 8, 0, false), 'icmp type 8 icmp code 0 drop');
  assert.equal(line(6, 128, 1, false), 'icmpv6 type 128 icmpv6 code 1 drop');
});
