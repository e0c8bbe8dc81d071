// AS per rack with eBGP to ToR routers run by another BGP implementation
// (GoBGP): rack 1 (AS 65101) behind ToR 1 (gobgpd, AS 65001), rack 2
// (AS 65102) behind ToR 2 (gobgpd, AS 65002), the ToRs peer with each other
// and ToR 1 originates a default route, as a border router would. Checks the
// routes Calico nodes install and the AS paths they carry, and what the ToR
// learns from us (aggregates only). The ToRs' own FIB is not programmed (GoBGP
// without zebra), so this is a control-plane test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NetnsLab, skipReason, waitFor, type LabHost } from './netns-lab.js';
import { blockV4, inputsFor, labNode } from './inputs.js';
import { parseBirdProtocols } from '../../../src/bgp/status.js';
import type { BgpPeerResource } from '../../../src/bgp/model.js';

const haveGobgp = (() => {
  try {
    execFileSync('gobgpd', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const skip = skipReason || (!haveGobgp ? 'gobgpd not installed' : false);

let lab: NetnsLab;
let hosts: LabHost[] = [];
const tors = { tor1: { ns: '', as: 65001, rack: '198.51.100.1', spine: '192.0.2.1' }, tor2: { ns: '', as: 65002, rack: '203.0.113.1', spine: '192.0.2.2' } };

function gobgpConfig(t: typeof tors.tor1, neighbors: { address: string; as: number; asOverride?: boolean }[]): string {
  return [
    '[global.config]',
    `  as = ${t.as}`,
    `  router-id = "${t.spine}"`,
    ...neighbors.flatMap((n) => [
      '[[neighbors]]',
      '  [neighbors.config]',
      `    neighbor-address = "${n.address}"`,
      `    peer-as = ${n.as}`,
      '  [neighbors.timers.config]',
      '    connect-retry = 2',
      '    hold-time = 9',
      '    keepalive-interval = 3',
      // A rack's nodes share one AS: the ToR overrides it (AS override), or they would drop each other's routes as loops.
      ...(n.asOverride ? ['  [neighbors.as-path-options.config]', '    replace-peer-as = true'] : []),
    ]),
    '',
  ].join('\n');
}

function gobgp(ns: string, args: string[]): string {
  return lab.exec(ns, ['gobgp', '-u', '127.0.0.1', ...args]);
}

before(async () => {
  if (skip) return;
  lab = new NetnsLab();
  for (const seg of ['rack1', 'rack2', 'spine']) lab.addSegment(seg);
  // ToRs: a host namespace each, one leg in the rack, one on the spine segment.
  const tor1 = lab.addHost('tor1', { index: 101, segment: 'rack1', v4: '198.51.100.1/24', v6: '2001:db8:1::1/64' });
  const tor2 = lab.addHost('tor2', { index: 102, segment: 'rack2', v4: '203.0.113.1/24', v6: '2001:db8:2::1/64' });
  lab.plug(tor1.ns, 'eth1', { segment: 'spine', addresses: ['192.0.2.1/24'], tag: 101 });
  lab.plug(tor2.ns, 'eth1', { segment: 'spine', addresses: ['192.0.2.2/24'], tag: 102 });
  tors.tor1.ns = tor1.ns;
  tors.tor2.ns = tor2.ns;
  const r1h1 = lab.addHost('r1h1', { index: 11, segment: 'rack1', v4: '198.51.100.10/24', v6: '2001:db8:1::10/64' });
  const r1h2 = lab.addHost('r1h2', { index: 12, segment: 'rack1', v4: '198.51.100.11/24', v6: '2001:db8:1::11/64' });
  const r2h1 = lab.addHost('r2h1', { index: 21, segment: 'rack2', v4: '203.0.113.10/24', v6: '2001:db8:2::10/64' });
  hosts = [r1h1, r1h2, r2h1];
  const conf1 = join(lab.dir, 'tor1.toml');
  const conf2 = join(lab.dir, 'tor2.toml');
  writeFileSync(conf1, gobgpConfig(tors.tor1, [{ address: r1h1.v4, as: 65101, asOverride: true }, { address: r1h2.v4, as: 65101, asOverride: true }, { address: tors.tor2.spine, as: 65002 }]));
  writeFileSync(conf2, gobgpConfig(tors.tor2, [{ address: r2h1.v4, as: 65102, asOverride: true }, { address: tors.tor1.spine, as: 65001 }]));
  for (const [t, conf] of [[tor1, conf1], [tor2, conf2]] as const) {
    lab.spawnIn(t.ns, ['gobgpd', '-f', conf, '-t', 'toml', '--api-hosts', '127.0.0.1:50051', '--pprof-disable', '-p', '-l', 'info']);
  }
  // ToR 1 doubles as the border router: it originates a default route.
  const added = await waitFor(() => {
    try {
      gobgp(tor1.ns, ['global', 'rib', 'add', '-a', 'ipv4', '0.0.0.0/0']);
      return true;
    } catch {
      return false;
    }
  }, 10_000);
  assert.ok(added, 'gobgpd on tor1 did not come up');

  const rack = (h: LabHost) => (h.name.startsWith('r1') ? 'rack1' : 'rack2');
  const nodes = hosts.map((h) => labNode(h, { asNumber: rack(h) === 'rack1' ? 65101 : 65102, labels: { rack: rack(h) } }));
  const peers: BgpPeerResource[] = [
    // Our rack's other nodes share our AS: their routes come back through the ToR with it in the path.
    { name: 'rack1-tor', spec: { nodeSelector: "rack == 'rack1'", peerIP: tors.tor1.rack, asNumber: 65001, numAllowedLocalASNumbers: 1 } },
    { name: 'rack2-tor', spec: { nodeSelector: "rack == 'rack2'", peerIP: tors.tor2.rack, asNumber: 65002, numAllowedLocalASNumbers: 1 } },
  ];
  for (const h of hosts) {
    await lab.runBgp(h.name, inputsFor(h, { nodes, peers, blocks: [blockV4(h)], globalConfig: { nodeToNodeMeshEnabled: false } }));
  }
});

after(async () => {
  await lab?.destroy();
});

test('each node has one eBGP session, to its rack\'s ToR, Established', { skip }, async () => {
  for (const h of hosts) {
    const ok = await waitFor(async () => {
      const s = parseBirdProtocols(await lab.birdc(h.name, ['show', 'protocols', 'all']));
      return s.length === 1 && s[0]!.bgpState === 'Established' && s[0]!.type === 'node';
    }, 30_000);
    assert.ok(ok, `${h.name}: ${await lab.birdc(h.name, ['show', 'protocols'])}`);
  }
});

test('nodes install every other rack\'s and their own rack\'s blocks, and the border\'s default route', { skip }, async () => {
  const [r1h1, r1h2, r2h1] = hosts as [LabHost, LabHost, LabHost];
  const ok = await waitFor(() => {
    const a = lab.birdRoutes('r1h1');
    const c = lab.birdRoutes('r2h1');
    return (
      a.get(blockV4(r2h1)) === tors.tor1.rack &&
      a.has(blockV4(r1h2)) &&
      a.get('default') === tors.tor1.rack &&
      c.get(blockV4(r1h1)) === tors.tor2.rack &&
      c.get('default') === tors.tor2.rack
    );
  }, 30_000);
  assert.ok(ok, `r1h1 ${JSON.stringify([...lab.birdRoutes('r1h1')])}\nr2h1 ${JSON.stringify([...lab.birdRoutes('r2h1')])}`);
  // Same-rack route: through the ToR (or straight to the owner, if the ToR passes the next hop on).
  assert.ok([tors.tor1.rack, r1h2.v4].includes(lab.birdRoutes('r1h1').get(blockV4(r1h2))!));
});

test('AS paths are what AS-per-rack says', { skip }, async () => {
  const path = async (host: string, prefix: string) => {
    const text = await lab.birdc(host, ['show', 'route', 'for', prefix, 'all']);
    return /BGP\.as_path: (.*)/.exec(text)?.[1]?.trim();
  };
  const [, r1h2, r2h1] = hosts as [LabHost, LabHost, LabHost];
  assert.equal(await path('r1h1', blockV4(r2h1)), '65001 65002 65102');
  assert.equal(await path('r1h1', blockV4(r1h2)), '65001 65001', 'same rack: the ToR replaced our rack AS');
  assert.equal(await path('r2h1', '0.0.0.0/0'), '65002 65001');
});

test('the ToR learns each node\'s block as one aggregate, nothing more specific', { skip }, async () => {
  const rib = () => {
    const out = gobgp(tors.tor1.ns, ['global', 'rib', '-a', 'ipv4', '-j']);
    return Object.keys(JSON.parse(out || '{}') as Record<string, unknown>).sort();
  };
  const [r1h1, r1h2, r2h1] = hosts as [LabHost, LabHost, LabHost];
  const want = ['0.0.0.0/0', blockV4(r1h1), blockV4(r1h2), blockV4(r2h1)].sort();
  const ok = await waitFor(() => JSON.stringify(rib()) === JSON.stringify(want), 20_000);
  assert.ok(ok, `tor1 RIB: ${JSON.stringify(rib())}`);
});
