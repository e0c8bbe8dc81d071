import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatNodeStatus, parseBirdProtocols } from './status.js';

// Captured from BIRD 2.0.12 in the kernel-test lab: two mesh sessions up, a
// global peer with no route, a node-specific IPv6 peer still connecting.
const captured = readFileSync(fileURLToPath(new URL('../../../src/bgp/testdata/show-protocols-all.txt', import.meta.url)), 'utf8');

test('parses BGP protocols from show protocols all, ignoring the others', () => {
  const s = parseBirdProtocols(captured);
  assert.deepEqual(
    s.map((x) => [x.protocolName, x.type, x.family, x.peerAddress, x.state, x.bgpState, x.peerAs]),
    [
      ['Mesh_192_0_2_2', 'mesh', 4, '192.0.2.2', 'up', 'Established', 64512],
      ['Global_192_0_2_99', 'global', 4, '192.0.2.99', 'start', 'Active', 65000],
      ['Mesh_2001_db8__2', 'mesh', 6, '2001:db8::2', 'up', 'Established', 64512],
      ['Node_2001_db8__63', 'node', 6, '2001:db8::63', 'start', 'Connect', 65001],
    ],
  );
  const border = s[1]!;
  assert.equal(border.lastError, 'Socket: No route to host');
  assert.match(border.since, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  assert.equal(s[0]!.routesImported, 1);
  assert.equal(s[0]!.routesExported, 1);
});

test('formats like calicoctl node status, time for today and date otherwise', () => {
  const s = parseBirdProtocols(captured);
  const today = s[0]!.since.slice(0, 10);
  const text = formatNodeStatus(s, { today });
  const lines = text.split('\n');
  assert.equal(lines[0], 'Calico process is running.');
  assert.ok(lines.includes('IPv4 BGP status') && lines.includes('IPv6 BGP status'));
  assert.match(text, /\| PEER ADDRESS \|\s+PEER TYPE\s+\| STATE \|\s+SINCE\s+\|\s+INFO\s+\|/);
  assert.match(text, /\| 192\.0\.2\.2 +\| node-to-node mesh \| up +\| \d\d:\d\d:\d\d \| Established +\|/);
  assert.match(text, /\| 192\.0\.2\.99 +\| global +\| start \| \d\d:\d\d:\d\d \| Active Socket: No route to host \|/);
  assert.match(text, /\| 2001:db8::63 +\| node specific +\| start \| .* \| Connect +\|/);
  assert.match(formatNodeStatus(s, { today: '1999-01-01' }), new RegExp(`\\| ${today} \\|`));
  // table rows line up
  const widths = new Set(lines.filter((l) => l.startsWith('|') || l.startsWith('+')).slice(0, 5).map((l) => l.length));
  assert.equal(widths.size, 1);
});

test('no sessions: says so per family; garbage in, nothing out', () => {
  assert.match(formatNodeStatus([], { today: '2026-01-01' }), /No IPv4 peers found\.\n\nIPv6 BGP status\nNo IPv6 peers found\./);
  assert.deepEqual(parseBirdProtocols('not bird at all\n  Neighbor address: 1.2.3.4\n'), []);
  assert.deepEqual(parseBirdProtocols(''), []);
});
