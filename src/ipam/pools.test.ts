import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCalicoError, ValidationError } from '../base/errors.js';
import { isIpamError } from './errors.js';
import { eligiblePools, nextBlockToClaim, blockInPools } from './planner.js';
import { checkPoolWrite, poolFromResource, poolView, reservedMatcher, trivialSelectorMatcher } from './pools.js';

const p4 = poolView({ name: 'p4', cidr: '192.0.2.0/24' });
const p6 = poolView({ name: 'p6', cidr: '2001:db8::/64' });

test('pool defaults follow Calico: /26 and /122 blocks, all() selector, Workload+Tunnel', () => {
  assert.equal(p4.blockSize, 26);
  assert.equal(p6.blockSize, 122);
  assert.deepEqual(p4.allowedUses, ['Workload', 'Tunnel']);
  const fromRes = poolFromResource({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'x' }, spec: { cidr: '198.51.100.0/24', blockSize: 28, disabled: true, natOutgoing: true } });
  assert.deepEqual([fromRes.blockSize, fromRes.disabled, fromRes.natOutgoing, fromRes.nodeSelector], [28, true, true, 'all()']);
});

test('checkPoolWrite: overlap, block size, cidr change while in use', () => {
  const cases: { name: string; proposed: ReturnType<typeof poolView>; inUse?: string[]; path?: string }[] = [
    { name: 'overlap', proposed: poolView({ name: 'other', cidr: '192.0.2.128/25' }), path: 'spec.cidr' },
    { name: 'block larger than pool', proposed: poolView({ name: 'small', cidr: '198.51.100.0/28', blockSize: 26 }), path: 'spec.blockSize' },
    { name: 'block size out of range', proposed: poolView({ name: 'r', cidr: '198.51.100.0/24', blockSize: 19 }), path: 'spec.blockSize' },
    { name: 'v6 block size out of range', proposed: poolView({ name: 'r6', cidr: '2001:db8:1::/64', blockSize: 100 }), path: 'spec.blockSize' },
    { name: 'cidr change in use', proposed: poolView({ name: 'p4', cidr: '198.51.100.0/24' }), inUse: ['192.0.2.64/26'], path: 'spec.cidr' },
    { name: 'blockSize change in use', proposed: poolView({ name: 'p4', cidr: '192.0.2.0/24', blockSize: 28 }), inUse: ['192.0.2.64/26'], path: 'spec.blockSize' },
    { name: 'cidr change when unused is fine', proposed: poolView({ name: 'p4', cidr: '198.51.100.0/24' }) },
    { name: 'disjoint pool is fine', proposed: poolView({ name: 'n', cidr: '203.0.113.0/24' }) },
    { name: 'v4 vs v6 never overlap', proposed: poolView({ name: 'n6', cidr: '2001:db8:1::/64' }) },
  ];
  for (const c of cases) {
    const run = () => checkPoolWrite({ proposed: c.proposed, existing: [p4, p6], blocksInUse: c.inUse ?? [] });
    if (!c.path) run();
    else assert.throws(run, (e) => e instanceof ValidationError && e.issues.some((i) => i.path === c.path), c.name);
  }
});

test('eligiblePools: typed errors for missing, disabled, disallowed pools', () => {
  const disabled = poolView({ name: 'off', cidr: '198.51.100.0/24', disabled: true });
  const tunnelOnly = poolView({ name: 't', cidr: '203.0.113.0/24', allowedUses: ['Tunnel'] });
  const pools = [p4, disabled, tunnelOnly, p6];
  const base = { family: 4 as const, host: 'n1', use: 'Workload' as const, matcher: trivialSelectorMatcher };
  assert.deepEqual(eligiblePools(pools, base).map((p) => p.name), ['p4']);
  assert.deepEqual(eligiblePools(pools, { ...base, use: 'Tunnel' }).map((p) => p.name), ['p4', 't']);
  assert.throws(() => eligiblePools(pools, { ...base, requested: ['10.9.0.0/16'] }), (e) => isIpamError(e, 'pool-not-found') && isCalicoError(e, 'not-found'));
  assert.throws(() => eligiblePools(pools, { ...base, requested: ['198.51.100.0/24'] }), (e) => isIpamError(e, 'pool-disabled'));
  assert.throws(() => eligiblePools(pools, { ...base, requested: ['t'] }), (e) => isIpamError(e, 'pool-not-allowed'));
  const selective = poolView({ name: 's', cidr: '10.0.0.0/16', nodeSelector: "rack == 'a'" });
  assert.deepEqual(eligiblePools([selective], base), [], 'non-trivial selector fails closed without a matcher');
});

test('nextBlockToClaim finds a free block from a host-dependent start, and none when full', () => {
  const pool = poolView({ name: 'x', cidr: '10.0.0.0/24' });
  const taken = new Set<string>();
  for (let i = 0; i < 4; i++) {
    const c = nextBlockToClaim([pool], { host: 'n1', taken })!;
    assert.ok(!taken.has(c));
    taken.add(c);
  }
  assert.equal(nextBlockToClaim([pool], { host: 'n1', taken }), undefined);
  const starts = new Set(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((h) => nextBlockToClaim([p6], { host: h, taken: new Set() })));
  assert.ok(starts.size > 1, 'hosts spread out');
  assert.ok(blockInPools('192.0.2.64/26', [p4]));
  assert.ok(!blockInPools('198.51.100.0/26', [p4]));
});

test('reservations match single addresses and CIDRs of both families', () => {
  const r = reservedMatcher(['192.0.2.10', '192.0.2.64/30', '2001:db8::/126']);
  assert.ok(r('192.0.2.10') && r('192.0.2.66') && r('2001:db8::2'));
  assert.ok(!r('192.0.2.11') && !r('192.0.2.68') && !r('2001:db8::4'));
  assert.throws(() => reservedMatcher(['nope']), ValidationError);
});
