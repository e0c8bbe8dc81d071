// BGPFilter on real BIRDs: two hosts peer through a global BGPPeer (mesh off)
// that names an export filter rejecting one of host a's two blocks. Host b
// learns the other block but never the rejected one; without the filter it
// learns both (so the test can fail); a filter name that does not exist
// closes the session, and b loses a's routes. Then the newer rule fields: a
// tags its second block with a community on export (an Accept with an
// addCommunity operation) and b's import filter rejects routes carrying it;
// without b's filter b learns the block, tag and all.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { NetnsLab, skipReason, waitFor, type LabHost } from './netns-lab.js';
import { blockV4, blockV6, inputsFor, labNode } from './inputs.js';
import type { BgpFilterResource } from '../../../src/bgp/model.js';

const skip = skipReason;
let lab: NetnsLab;
let a: LabHost;
let b: LabHost;

const kept = () => `198.18.${a.index}.64/26`;
const FILTER: BgpFilterResource = { name: 'keep-second-block-home', spec: {} };

/** a tags its second block on export; b drops what carries the tag on import. */
const TAG = '65000:666';
const tagFilters = (): BgpFilterResource[] => [
  { name: 'tag-second-block', spec: { exportV4: [{ action: 'Accept', matchOperator: 'Equal', cidr: kept(), operations: [{ addCommunity: { value: TAG } }] }] } },
  { name: 'drop-tagged', spec: { importV4: [{ action: 'Reject', communities: { values: [TAG] } }] } },
];

const start = async (h: LabHost, filters: string[] | undefined) => {
  const filter: BgpFilterResource = { ...FILTER, spec: { exportV4: [{ action: 'Reject', matchOperator: 'In', cidr: kept() }] } };
  const inputs = inputsFor(h, {
    nodes: [a, b].map((x) => labNode(x)),
    peers: [{ name: 'everyone', spec: { peerSelector: 'all()', ...(filters ? { filters } : {}) } }],
    globalConfig: { nodeToNodeMeshEnabled: false },
    blocks: h === a ? [blockV4(a), kept(), blockV6(a)] : [blockV4(b), blockV6(b)],
  });
  await lab.runBgp(h.name, { ...inputs, filters: [filter, ...tagFilters()] });
};

/** `birdc show route <prefix> all` on b (empty when b has no such route). */
const routeOnB = (prefix: string) => lab.birdc(b.name, ['show', 'route', prefix, 'all']);

/** Prefixes a's BIRD sends to b on the IPv4 session (`show route export`). */
const exportedToB = (): Promise<string[]> => lab.exportedV4(a.name, `Global_${b.v4.replace(/\./g, '_')}`);

before(async () => {
  if (skip) return;
  lab = new NetnsLab();
  a = lab.addHost('a');
  b = lab.addHost('b');
  await start(a, [FILTER.name]);
  await start(b, [FILTER.name]);
});

after(async () => {
  await lab?.destroy();
});

test('an export filter Reject keeps one block from the peer while the other is still learnt', { skip }, async () => {
  const learnt = await waitFor(() => lab.birdRoutes(b.name).get(blockV4(a)) === a.v4, 30_000);
  assert.ok(learnt, `b never learnt ${blockV4(a)}: ${JSON.stringify([...lab.birdRoutes(b.name)])}\n${a.logs.slice(-5).join('\n')}`);
  // a's BIRD decides what it sends: the rejected block is not among its exports to b.
  assert.deepEqual(await exportedToB(), [blockV4(a)]);
  assert.equal(lab.birdRoutes(b.name).get(kept()), undefined, `${kept()} reached b`);
  // b's own exports are not touched by the rule (it matches only a's second block).
  assert.ok(await waitFor(() => lab.birdRoutes(a.name).get(blockV4(b)) === b.v4, 10_000));
  // The filter has no IPv6 rules: IPv6 is exchanged as usual.
  assert.ok(await waitFor(() => lab.birdRoutes(b.name, 6).get(blockV6(a)) === a.v6, 10_000));
});

test('without the filter the same block is learnt (the filter is what kept it out)', { skip }, async () => {
  await start(a, undefined);
  const learnt = await waitFor(() => lab.birdRoutes(b.name).get(kept()) === a.v4, 30_000);
  assert.ok(learnt, `b did not learn ${kept()} once the filter was gone: ${JSON.stringify([...lab.birdRoutes(b.name)])}`);
  assert.deepEqual(await exportedToB(), [blockV4(a), kept()]);
});

test('a filter name that does not exist closes the session: b loses every route of a', { skip }, async () => {
  await start(a, ['no-such-filter']);
  const gone = await waitFor(() => !lab.birdRoutes(b.name).has(blockV4(a)) && !lab.birdRoutes(b.name).has(kept()), 30_000);
  assert.ok(gone, `b still has a's routes: ${JSON.stringify([...lab.birdRoutes(b.name)])}`);
  assert.deepEqual(await exportedToB(), []);
});

test('an import filter rejects the routes a peer tagged with a community (addCommunity on its export) and accepts the rest', { skip }, async () => {
  // b's filter first: a still exports nothing to b (the previous test left it a missing filter name).
  await start(b, ['drop-tagged']);
  assert.deepEqual(await exportedToB(), []);
  await start(a, ['tag-second-block']);
  // a sends both blocks (the Accept keeps the tagged one going out) ...
  assert.ok(await waitFor(async () => (await exportedToB()).length === 2, 30_000), `a's exports to b: ${(await exportedToB()).join(', ')}`);
  assert.deepEqual(await exportedToB(), [blockV4(a), kept()]);
  // ... b accepts the untagged one and rejects the tagged one on import.
  assert.ok(await waitFor(() => lab.birdRoutes(b.name).get(blockV4(a)) === a.v4, 30_000), `b never learnt ${blockV4(a)}`);
  assert.equal(lab.birdRoutes(b.name).get(kept()), undefined, `${kept()} reached b's kernel`);
  assert.match(await routeOnB(kept()), /Network not found/, 'b keeps no route for the tagged block (rejected on import)');
});

test('without the import filter b learns the tagged block, community included (the filter is what rejected it)', { skip }, async () => {
  await start(b, undefined);
  assert.ok(await waitFor(() => lab.birdRoutes(b.name).get(kept()) === a.v4, 30_000), `b did not learn ${kept()} without its filter`);
  assert.match(await routeOnB(kept()), /BGP\.community: \(65000,666\)/);
  // The untagged block carries no community.
  assert.doesNotMatch(await routeOnB(blockV4(a)), /BGP\.community/);
});
