import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRuleset } from '../../rules/compile-endpoints.js';
import { chainSetRefs, type Chain, type KeyField, type Ruleset } from '../../rules/ir.js';
import { SimNft } from '../../dataplane/kernel-sim.test-support.js';
import { goldenCases } from '../golden-cases.js';
import { parseNftTable } from './parse.js';
import { nftBaseChains, renderNftChainRules, renderNftFull } from './render.js';
import { ALTERNATE_SUFFIX, REPLACE_MAX_USER_RULES, REWRITE_AFTER_DELETIONS, emptyNftView, renderNftDelta } from './delta.js';

const [basic] = goldenCases().filter((c) => c.name === 'basic');
const LB = "sel:role == 'lb'";

/** The basic model with the lb selector's members changed. */
function withLb(change: (members: { net: string }[]) => { net: string }[]): Ruleset {
  const model = structuredClone(basic!.model);
  const lb = model.ipSets.find((s) => s.id === LB)!;
  lb.members = change(lb.members as { net: string }[]);
  return compileRuleset(model);
}

/** The IR name of the v4 set compiled from the lb selector (its source says which calc set it is). */
const lbSet = (r: Ruleset) => r.sets.find((s) => s.source === LB && s.family === 4)!.name;

/** Applies a delta to the simulated kernel and returns the view read back, as a restarted agent would. */
async function applyAndRead(nft: SimNft, desired: Ruleset): Promise<ReturnType<typeof parseNftTable>> {
  const script = renderNftDelta(parseNftTable(await nft.listTable()), desired).script;
  if (script) await nft.apply(script);
  return parseNftTable(await nft.listTable());
}

test('nft delta: a new member is added by re-declaring the set with it (no element cache in nft), nothing deleted', () => {
  const before = compileRuleset(basic!.model);
  const after = withLb((m) => [...m, { net: '198.18.1.11/32' }]);
  const lines = renderNftDelta(parseNftTable(renderNftFull(before)), after).script.trim().split('\n');
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, new RegExp(`^add set inet calico ${lbSet(after)} \\{ type ipv4_addr; flags interval; comment "[^"]*"; elements = \\{ 198\\.18\\.1\\.11 \\} \\}$`));
});

test('nft delta: a set losing a member is replaced under its other name, its users rewritten to it, the old one deleted last; no element deletion', () => {
  const before = compileRuleset(basic!.model);
  const after = withLb((m) => m.filter((x) => x.net !== '198.18.1.10/32').concat({ net: '198.18.1.11/32' }));
  const name = lbSet(after);
  const users = after.chains.filter((c) => chainSetRefs(c).includes(name)).map((c) => c.name);
  assert.ok(users.length > 0, 'the lb set is looked up by some chain');
  const delta = renderNftDelta(parseNftTable(renderNftFull(before)), after);
  const lines = delta.script.trim().split('\n');
  assert.doesNotMatch(delta.script, /delete element|flush set/);
  assert.match(lines[0]!, new RegExp(`^add set inet calico ${name}\\.b \\{ .* elements = \\{ .*198\\.18\\.1\\.11.* \\} \\}$`));
  assert.doesNotMatch(lines[0]!, /198\.18\.1\.10\b/);
  assert.deepEqual(delta.changedChains.sort(), [...users].sort(), 'exactly the chains looking the set up are rewritten');
  for (const u of users) assert.ok(lines.includes(`flush chain inet calico ${u}`));
  assert.ok(lines.some((l) => l.includes(`@${name}.b`)) && !lines.some((l) => new RegExp(`@${name}(\\s|$)`).test(l)), 'rules name the new set');
  assert.equal(lines.at(-1), `delete set inet calico ${name}`);
  assert.deepEqual([...delta.renamedSets], [[name, `${name}${ALTERNATE_SUFFIX}`]]);
});

test('nft delta: after a replace the kernel read back needs no change (restart), the next replace goes back to the plain name, and a chain changed meanwhile names the set as the kernel has it', async () => {
  const nft = new SimNft();
  const before = compileRuleset(basic!.model);
  await applyAndRead(nft, before);
  const after = withLb((m) => m.slice(1));
  const name = lbSet(after);
  const view = await applyAndRead(nft, after);
  assert.equal(view.setNames.get(name), `${name}.b`);
  assert.deepEqual(view.sets.get(name), after.sets.find((s) => s.name === name)!.members.map((m) => (m as { net: string }).net.replace(/\/32$/, '')));
  assert.equal(renderNftDelta(view, after).script, '', 'a restarted agent finds everything right');
  // A chain using the set changes for another reason: its rules name the set's kernel name.
  const user = after.chains.find((c) => chainSetRefs(c).includes(name))!;
  const changed: Ruleset = { ...after, chains: after.chains.map((c) => (c === user ? { ...c, rules: [...c.rules, { matches: [], action: { kind: 'drop' } }] } : c)) };
  const script = renderNftDelta(view, changed).script;
  assert.match(script, new RegExp(`@${name}\\.b`));
  assert.doesNotMatch(script, new RegExp(`@${name}(\\s|$)`, 'm'));
  // Losing another member: back to the plain name.
  const again = withLb((m) => m.slice(2));
  const view2 = await applyAndRead(nft, again);
  assert.equal(view2.setNames.get(name), undefined);
  assert.ok(view2.sets.has(name));
  assert.doesNotMatch(await nft.listTable(), new RegExp(`${name}\\.b`));
  assert.equal(renderNftDelta(view2, again).script, '');
});

test('nft delta: a set no longer wanted is deleted under the name the kernel has it by', async () => {
  const nft = new SimNft();
  await applyAndRead(nft, compileRuleset(basic!.model));
  const after = withLb((m) => m.slice(1));
  const name = lbSet(after);
  await applyAndRead(nft, after);
  const without: Ruleset = { chains: after.chains.filter((c) => !chainSetRefs(c).includes(name)), sets: after.sets.filter((s) => s.name !== name) };
  // (Chains that used it are gone too; the dispatch chains still reach them in this cut-down ruleset, so compare only the set lines.)
  const delta = renderNftDelta(parseNftTable(await nft.listTable()), without);
  assert.ok(delta.script.split('\n').includes(`delete set inet calico ${name}.b`));
  assert.deepEqual(delta.deletedSets.includes(name), true);
});

const kernelWith = (setName: string, members: string[]) => ({
  ...emptyNftView(),
  tableExists: true,
  chains: new Map(nftBaseChains().map((c) => [c.name, renderNftChainRules(c)[0]!.slice(renderNftChainRules(c)[0]!.indexOf('cali:h=') + 7, -1)])),
  sets: new Map([[setName, members]]),
});
/** A user so big that replacing the set would cost more than deleting elements. */
const bigUser = (set: string): Chain => ({ name: 'cali-big', table: 'filter', rules: Array.from({ length: REPLACE_MAX_USER_RULES + 1 }, () => ({ matches: [{ kind: 'set' as const, dir: 'src' as const, family: 4 as const, set }], action: { kind: 'accept' as const } })) });

test('nft delta: with many rules looking it up, a merged (tuple) set removes elements before adding, since nft refuses an element overlapping one still there', () => {
  const set = { name: 'cali40m-x', family: 4 as const, kind: 'tuple' as const, fields: ['saddr', 'proto', 'dport'] as KeyField[], members: [{ saddr: '10.0.0.1', proto: 6, dport: { first: 80, last: 90 } }], source: 'merged' };
  const lines = renderNftDelta(kernelWith('cali40m-x', ['10.0.0.0/8 . tcp . 80']), { chains: [], sets: [set] }, { users: () => [bigUser('cali40m-x')] }).script.trim().split('\n');
  assert.deepEqual(lines, ['delete element inet calico cali40m-x { 10.0.0.0/8 . tcp . 80 }', 'add set inet calico cali40m-x { type ipv4_addr . inet_proto . inet_service; flags interval; comment "merged"; elements = { 10.0.0.1 . tcp . 80-90 } }']);
});

test('nft delta: with many rules looking it up, more than REWRITE_AFTER_DELETIONS removals rewrite the set whole (flush + add) in one transaction; up to it, element deltas', () => {
  const have = Array.from({ length: 100 }, (_, i) => `198.18.0.${i}`);
  const want = (drop: number) => have.slice(drop).concat('198.18.1.1');
  const set = (members: string[]) => ({ name: 'cali40s-x', family: 4 as const, kind: 'net' as const, members: members.map((net) => ({ net })), source: 'sel' });
  const users = { users: () => [bigUser('cali40s-x')] };
  const many = renderNftDelta(kernelWith('cali40s-x', have), { chains: [], sets: [set(want(REWRITE_AFTER_DELETIONS + 1))] }, users);
  const lines = many.script.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.equal(lines[0], 'flush set inet calico cali40s-x');
  assert.equal(lines[1], `add set inet calico cali40s-x { type ipv4_addr; flags interval; comment "sel"; elements = { ${want(REWRITE_AFTER_DELETIONS + 1).join(', ')} } }`);
  assert.deepEqual(many.changedSets, ['cali40s-x']);
  // Emptied entirely: the flush alone.
  assert.equal(renderNftDelta(kernelWith('cali40s-x', have), { chains: [], sets: [set([])] }, users).script, 'flush set inet calico cali40s-x\n');
  const few = renderNftDelta(kernelWith('cali40s-x', have), { chains: [], sets: [set(want(REWRITE_AFTER_DELETIONS))] }, users).script.trim().split('\n');
  assert.deepEqual(few.map((l) => l.split(' {')[0]), ['add set inet calico cali40s-x', 'delete element inet calico cali40s-x']);
});
