import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryKV } from '../datastore/memory-kv.js';
import { ResourceStore } from '../datastore/resource-store.js';
import { res, wep } from '../calc/fixtures.test-support.js';
import type { BgpInputs } from '../bgp/model.js';
import { CalicoNode } from './agent.js';
import { nodeConfigFromEnv } from './config.js';
import { FakeDataplane } from './dataplane.js';
import { createLogger } from './log.js';
import { blockFromAffinity, BgpUpdater } from './bgp-wiring.js';
import { BgpAgent } from '../bgp/agent.js';
import { FakeBirdProcess, FakeClock, FakeConfigFiles } from '../bgp/fakes.js';
import { silentLogger } from '../bgp/ports.js';

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !cond(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(cond(), 'condition not reached');
}

const quiet = createLogger({ level: 'none', sink: () => undefined, now: () => new Date(0) });

/** calico-node "node-a" on `ds` with a fake dataplane and the given BGP port. */
function nodeWithBgp(ds: ResourceStore, bgp: ConstructorParameters<typeof CalicoNode>[0]['bgp']): CalicoNode {
  const env = { NODENAME: 'node-a', IP: '192.0.2.10/24' };
  return new CalicoNode({ config: nodeConfigFromEnv(env, 'x'), env, datastore: ds, log: quiet, hostAddresses: () => [], makeDataplane: () => new FakeDataplane(), ...(bgp ? { bgp } : {}) });
}

test('blockFromAffinity: confirmed affinities only', () => {
  assert.equal(blockFromAffinity('/calico/ipam/v2/host/h/ipv4/block/10.0.0.0-26', '{"state":"confirmed"}'), '10.0.0.0/26');
  assert.equal(blockFromAffinity('/calico/ipam/v2/host/h/ipv6/block/2001:db8::-122', '{}'), '2001:db8::/122');
  assert.equal(blockFromAffinity('/calico/ipam/v2/host/h/ipv4/block/10.0.0.0-26', '{"state":"pending"}'), undefined);
});

test('BgpUpdater runs one update at a time with the newest inputs, and survives failures', async () => {
  let n = 0;
  const seen: number[] = [];
  let release: () => void = () => undefined;
  const port = {
    update: async () => {
      seen.push(n);
      if (seen.length === 1) await new Promise<void>((r) => (release = r));
      if (seen.length === 2) throw new Error('bird said no');
    },
    stop: async () => undefined,
  };
  const u = new BgpUpdater({ port, inputs: () => ({ n: ++n }) as unknown as BgpInputs, log: quiet });
  u.kick();
  u.kick();
  u.kick();
  release();
  await until(() => seen.length === 2);
  await u.stop();
  assert.deepEqual(seen, [1, 2], 'three kicks while busy coalesce into one more update');
  assert.equal(u.failures, 1);
});

test('agent with BGP: inputs come from the shared watch and the host block affinities, after sync', async () => {
  const ds = new ResourceStore(new MemoryKV());
  await ds.create(res('IPPool', 'p', { cidr: '10.0.0.0/16' }));
  await ds.create(res('BGPConfiguration', 'default', { asNumber: 64512 }));
  await ds.create(res('Node', 'node-b', { bgp: { ipv4Address: '192.0.2.11/24' } }));
  await ds.create(wep({ name: 'w', ips: ['10.0.0.5'] }));
  await ds.kv.create('/calico/ipam/v2/host/node-a/ipv4/block/10.0.0.0-26', '{"state":"confirmed"}');
  const updates: BgpInputs[] = [];
  const node = nodeWithBgp(ds, { update: async (i) => void updates.push(i), stop: async () => undefined });
  await node.start();
  await until(() => updates.some((u) => u.nodes.length === 2 && u.blocks.length === 1));
  const last = updates[updates.length - 1]!;
  assert.equal(last.nodeName, 'node-a');
  assert.deepEqual(last.blocks, ['10.0.0.0/26']);
  assert.deepEqual(last.localEndpointAddresses, ['10.0.0.5']);
  assert.deepEqual(
    last.nodes.map((n) => n.name).sort(),
    ['node-a', 'node-b'],
  );
  await node.stop();
  await ds.close();
});

test('agent with BGP: a BGPFilter written later re-renders (the BGP watch includes BGPFilter)', async () => {
  const ds = new ResourceStore(new MemoryKV());
  await ds.create(res('BGPPeer', 'tor', { peerIP: '203.0.113.1', asNumber: 65000, filters: ['edge'] }));
  const updates: BgpInputs[] = [];
  const node = nodeWithBgp(ds, { update: async (i) => void updates.push(i), stop: async () => undefined });
  await node.start();
  await until(() => updates.some((u) => u.peers.some((p) => p.spec.filters?.[0] === 'edge')));
  assert.equal(updates[updates.length - 1]!.filters, undefined, 'no BGPFilter yet');
  await ds.create(res('BGPFilter', 'edge', { exportV4: [{ action: 'Reject', matchOperator: 'In', cidr: '198.18.0.0/16' }] }));
  await until(() => updates[updates.length - 1]!.filters?.[0]?.name === 'edge');
  assert.deepEqual(updates[updates.length - 1]!.filters![0]!.spec.exportV4, [{ action: 'Reject', matchOperator: 'In', cidr: '198.18.0.0/16' }]);
  await node.stop();
  await ds.close();
});

test('agent with BGP: BGPFilter, BGPPeer and BGPConfiguration changes re-render bird.conf and reload the running BIRD (never a restart)', async () => {
  const ds = new ResourceStore(new MemoryKV());
  await ds.create(res('BGPPeer', 'tor', { peerIP: '203.0.113.1', asNumber: 65000, filters: ['edge'] }));
  await ds.create(res('BGPFilter', 'edge', { exportV4: [{ action: 'Reject', matchOperator: 'In', cidr: '198.18.0.0/16' }] }));
  const files = new FakeConfigFiles();
  const bird = new FakeBirdProcess(files);
  const agent = new BgpAgent({ runDir: '/run/node-a', process: bird, files, clock: new FakeClock(), logger: silentLogger });
  const node = nodeWithBgp(ds, { update: (i) => agent.update(i), stop: () => agent.stop() });
  const conf = () => files.files.get('/run/node-a/bird/bird.conf') ?? '';
  const reloads = () => bird.log.filter((l) => l.startsWith('configure')).length;
  await node.start();
  await until(() => conf().includes("function 'bgp_edge_exportFilterV4'()"));
  assert.match(conf(), /if \(net ~ 198\.18\.0\.0\/16\) then reject;/);
  const before = reloads();

  // The filter's rule changes: new text, BIRD reloaded.
  const edge = (await ds.get({ kind: 'BGPFilter', name: 'edge' }))!;
  await ds.update({ ...edge, spec: { exportV4: [{ action: 'Accept', matchOperator: 'In', cidr: '198.18.0.0/16' }] } });
  await until(() => conf().includes('if (net ~ 198.18.0.0/16) then accept;'));
  assert.ok(reloads() > before, 'birdc configure after the filter changed');

  // The filter goes away: the session that names it closes.
  await ds.delete({ kind: 'BGPFilter', name: 'edge' });
  await until(() => conf().includes('import none; export none;'));

  // The peer stops naming it: the session opens again without filters.
  const tor = (await ds.get({ kind: 'BGPPeer', name: 'tor' }))!;
  await ds.update({ ...tor, spec: { peerIP: '203.0.113.1', asNumber: 65000 } });
  await until(() => /ipv4 \{ import all; export filter calico_export_v4; \};/.test(conf()));

  // Cluster-wide configuration: service ranges appear.
  // calico-node's start-up made the default BGPConfiguration; it is patched, as Calico's docs do.
  const bgpDefault = await ds.get({ kind: 'BGPConfiguration', name: 'default' });
  await ds.update({ ...bgpDefault, spec: { serviceClusterIPs: [{ cidr: '198.51.100.0/24' }] } });
  await until(() => conf().includes('route 198.51.100.0/24 blackhole;'));

  assert.equal(bird.log.filter((l) => l.startsWith('start')).length, 1, 'BIRD was started once and only reloaded after that');
  await node.stop();
  await ds.close();
});
