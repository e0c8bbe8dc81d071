import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cmdAdd } from './add.js';
import { cmdCheck } from './check.js';
import { FakeCniWorld } from './fakes.js';
import { CniError, type CniResult } from './protocol.js';
import { HOST_IF, NETNS, WEP, args, conf } from './fixtures.test-support.js';

async function added(): Promise<{ w: FakeCniWorld; result: CniResult }> {
  const w = new FakeCniWorld();
  const result = await cmdAdd(w.ports(), args());
  return { w, result };
}
const check = (w: FakeCniWorld, prev: unknown) => cmdCheck(w.ports(), args('CHECK', conf({ prevResult: prev })));
const failsWith = (re: RegExp) => (err: unknown) => err instanceof CniError && err.code === 101 && re.test(err.message);

test('CHECK: passes right after ADD against its result', async () => {
  const { w, result } = await added();
  await check(w, result);
});

test('CHECK: needs prevResult (7); a namespace that is gone is error 3', async () => {
  const { w, result } = await added();
  await assert.rejects(cmdCheck(w.ports(), args('CHECK')), (err: unknown) => err instanceof CniError && err.code === 7 && /prevResult/.test(err.message));
  w.netnses.clear();
  await assert.rejects(check(w, result), (err: unknown) => err instanceof CniError && err.code === 3);
});

test('CHECK: each thing we made that went missing or wrong is reported (101)', async () => {
  const cases: [string, (w: FakeCniWorld) => void, RegExp][] = [
    ['container interface gone', (w) => w.containerLinks.delete(`${NETNS}/eth0`), /eth0 is missing/],
    ['address removed', (w) => (w.containerLinks.get(`${NETNS}/eth0`)!.addresses = ['198.18.0.1/32']), /eth0 lacks 2001:db8::1\/128/],
    ['interface down', (w) => (w.containerLinks.get(`${NETNS}/eth0`)!.up = false), /eth0 in .* is down/],
    ['default route gone', (w) => (w.containerLinks.get(`${NETNS}/eth0`)!.routes = [{ dst: '::/0', gw: 'fe80::ecee:eeff:feee:eeee' }]), /route 0.0.0.0\/0 via 169.254.1.1 is missing/],
    ['host side gone', (w) => w.hostLinks.delete(HOST_IF), new RegExp(`host interface ${HOST_IF} is missing`)],
    ['host MAC changed', (w) => (w.hostLinks.get(HOST_IF)!.mac = '02:11:11:11:11:11'), /has MAC 02:11:11:11:11:11, not ee:ee/],
    ['addresses released', (w) => w.handles.delete('net1.c0ffee'), /IPAM holds \[\] for net1.c0ffee/],
    ['endpoint deleted', (w) => w.weps.clear(), new RegExp(`WorkloadEndpoint web/${WEP} is missing`)],
    ['endpoint addresses changed', (w) => ((w.weps.get(`web/${WEP}`)!.spec as { ipNetworks: string[] }).ipNetworks = ['198.18.0.9/32']), /ipNetworks \[198.18.0.9\/32\]/],
  ];
  for (const [name, spoil, re] of cases) {
    const { w, result } = await added();
    spoil(w);
    await assert.rejects(check(w, result), failsWith(re), name);
  }
});

test('CHECK: changes a later plugin made and recorded in prevResult are fine; a MAC changed behind calico\'s back is caught', async () => {
  const { w, result } = await added();
  // A later plugin (e.g. one adding routes) added a route of its own: not ours to judge.
  w.containerLinks.get(`${NETNS}/eth0`)!.routes.push({ dst: '203.0.113.0/24' });
  const later = { ...result, routes: [...result.routes!, { dst: '203.0.113.0/24' }] };
  await check(w, later);
  // tuning set a new MAC and recorded it: the interface matches prevResult, but the endpoint still has the old one,
  // so calico-node's anti-spoofing would drop the workload's traffic. CHECK says so.
  w.containerLinks.get(`${NETNS}/eth0`)!.mac = '02:00:00:00:00:42';
  const tuned = { ...result, interfaces: result.interfaces!.map((i) => (i.name === 'eth0' ? { ...i, mac: '02:00:00:00:00:42' } : i)) };
  await assert.rejects(check(w, tuned), failsWith(/has MAC 02:00:00:00:00:01, the interface has 02:00:00:00:00:42/));
});

test('CHECK: a prevResult without our interface is reported', async () => {
  const { w, result } = await added();
  await assert.rejects(check(w, { ...result, interfaces: [] }), failsWith(/prevResult lists no interface eth0/));
});
