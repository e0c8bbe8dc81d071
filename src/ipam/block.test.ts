import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocateFromBlock, allocatedCount, assignInBlock, checkBlockInvariants, ipsOfHandle, listAllocations, newBlock, releaseFromBlock } from './block.js';
import { decodeBlock, encodeBlock, blockKey, affinityKey, parseAffinityKey } from './model.js';

const attrs = { node: 'n1' };

test('a new /26 has 64 free ordinals in order and Calico-shaped JSON', () => {
  const b = newBlock('192.0.2.0/26', { host: 'n1' });
  assert.equal(b.allocations.length, 64);
  assert.deepEqual(b.unallocated.slice(0, 3), [0, 1, 2]);
  assert.equal(b.affinity, 'host:n1');
  const json = JSON.parse(encodeBlock(b));
  for (const f of ['cidr', 'affinity', 'strictAffinity', 'allocations', 'unallocated', 'attributes', 'deleted', 'sequenceNumber', 'sequenceNumberForAllocation']) assert.ok(f in json, f);
  assert.deepEqual(decodeBlock('k', encodeBlock(b)), b);
});

test('keys follow the Calico v2 layout', () => {
  assert.equal(blockKey('10.0.0.0/26'), '/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26');
  assert.equal(blockKey('2001:db8::/122'), '/calico/ipam/v2/assignment/ipv6/block/2001:db8::-122');
  assert.equal(affinityKey('node-1', '10.0.0.64/26'), '/calico/ipam/v2/host/node-1/ipv4/block/10.0.0.64-26');
  assert.deepEqual(parseAffinityKey('/calico/ipam/v2/host/node-1/ipv6/block/2001:db8::-122'), { host: 'node-1', cidr: '2001:db8::/122' });
});

test('allocation takes lowest free ordinals, skips reserved, and records handle and sequence', () => {
  const b = newBlock('192.0.2.0/26', { host: 'n1' });
  const { block, ips } = allocateFromBlock(b, { count: 3, handleId: 'h1', attrs, isReserved: (ip) => ip === '192.0.2.1' });
  assert.deepEqual(ips, ['192.0.2.0', '192.0.2.2', '192.0.2.3']);
  assert.ok(block.unallocated.includes(1), 'reserved address stays free');
  assert.equal(block.attributes.length, 1);
  assert.equal(block.sequenceNumber, 3);
  assert.deepEqual(checkBlockInvariants(block), []);
  assert.equal(allocatedCount(b), 0, 'input not mutated');
});

test('released addresses are reused oldest-freed first', () => {
  let b = allocateFromBlock(newBlock('10.0.0.0/29'), { count: 8, handleId: 'h', attrs }).block;
  b = releaseFromBlock(b, [{ ip: '10.0.0.5' }]).block;
  b = releaseFromBlock(b, [{ ip: '10.0.0.2' }]).block;
  b = releaseFromBlock(b, [{ ip: '10.0.0.7' }]).block;
  const { ips } = allocateFromBlock(b, { count: 3, handleId: 'h2', attrs });
  assert.deepEqual(ips, ['10.0.0.5', '10.0.0.2', '10.0.0.7']);
});

test('release refusals are all-or-nothing and typed', () => {
  let b = allocateFromBlock(newBlock('10.0.0.0/29'), { count: 2, handleId: 'h', attrs }).block;
  const seq = listAllocations(b)[0]!.sequenceNumber;
  const cases = [
    { req: [{ ip: '10.0.0.0' }, { ip: '10.0.0.4' }], reason: 'not-allocated' },
    { req: [{ ip: '10.0.0.0', handleId: 'other' }], reason: 'handle-mismatch' },
    { req: [{ ip: '10.0.0.0', sequenceNumber: seq + 99 }], reason: 'sequence-mismatch' },
    { req: [{ ip: '10.9.0.0' }], reason: 'not-in-block' },
  ];
  for (const c of cases) {
    const r = releaseFromBlock(b, c.req);
    assert.equal(r.refused[0]?.reason, c.reason);
    assert.equal(r.block, b, 'unchanged');
  }
  b = releaseFromBlock(b, [{ ip: '10.0.0.0', handleId: 'h', sequenceNumber: seq }]).block;
  assert.equal(allocatedCount(b), 1);
});

test('sequence number protects against releasing a re-allocated address', () => {
  let b = allocateFromBlock(newBlock('10.0.0.0/30'), { count: 4, handleId: 'old', attrs }).block;
  const seen = listAllocations(b).find((a) => a.ip === '10.0.0.2')!;
  b = releaseFromBlock(b, [{ ip: '10.0.0.2' }]).block;
  b = allocateFromBlock(b, { count: 1, handleId: 'old', attrs }).block; // same handle, same address, new allocation
  assert.equal(releaseFromBlock(b, [{ ip: '10.0.0.2', sequenceNumber: seen.sequenceNumber }]).refused[0]?.reason, 'sequence-mismatch');
});

test('assignInBlock refuses a taken address; attributes are shared and compacted', () => {
  let b = newBlock('2001:db8::/122', { host: 'n1' });
  b = assignInBlock(b, { ip: '2001:db8::10', handleId: 'h', attrs })!;
  assert.equal(assignInBlock(b, { ip: '2001:db8::10', handleId: 'x', attrs }), undefined);
  b = allocateFromBlock(b, { count: 2, handleId: 'h', attrs }).block;
  b = allocateFromBlock(b, { count: 1, handleId: 'g', attrs }).block;
  assert.equal(b.attributes.length, 2);
  assert.equal(ipsOfHandle(b, 'h').length, 3);
  b = releaseFromBlock(b, ipsOfHandle(b, 'h').map((a) => ({ ip: a.ip }))).block;
  assert.equal(b.attributes.length, 1);
  assert.deepEqual(checkBlockInvariants(b), []);
  assert.equal(ipsOfHandle(b, 'g')[0]!.handleId, 'g');
});

test('property: random allocate/release sequences keep the block invariants', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let run = 0; run < 30; run++) {
    let b = newBlock(run % 2 ? '10.0.0.0/27' : '2001:db8::/123');
    const owned = new Map<string, string>();
    for (let step = 0; step < 200; step++) {
      if (rnd() < 0.6) {
        const h = `h${Math.floor(rnd() * 5)}`;
        const r = allocateFromBlock(b, { count: 1 + Math.floor(rnd() * 3), handleId: h, attrs: { node: 'n' }, isReserved: (ip) => ip.endsWith('.3') || ip.endsWith('::3') });
        for (const ip of r.ips) {
          assert.ok(!owned.has(ip), `double allocation of ${ip}`);
          assert.ok(!ip.endsWith('.3') && !ip.endsWith('::3'), 'reserved handed out');
          owned.set(ip, h);
        }
        b = r.block;
      } else if (owned.size > 0) {
        const ip = [...owned.keys()][Math.floor(rnd() * owned.size)]!;
        const r = releaseFromBlock(b, [{ ip, handleId: owned.get(ip)! }]);
        assert.equal(r.refused.length, 0);
        owned.delete(ip);
        b = r.block;
      }
      assert.deepEqual(checkBlockInvariants(b), []);
      assert.equal(allocatedCount(b), owned.size);
      assert.equal(allocatedCount(b) + b.unallocated.length, b.allocations.length);
    }
  }
});
