import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTopology } from './topology.js';
import { planLab } from './plan.js';
import { renderGraph, sessionsFromBird } from './graph.js';

const plan = planLab(parseTopology({ name: 'g', racks: [{ name: 'rack1', hosts: ['host1', 'host2'] }] }));
const tor = plan.routers.find((r) => r.role === 'tor')!;

test('sessions are read from birdc output by protocol name', () => {
  const out = ['Name       Proto      Table      State  Since         Info', 'border     BGP        ---        up     07:31:02.123  Established', 'host_host1 BGP        ---        start  07:31:02.123  Active        Socket: Connection refused', ''].join('\n');
  const s = sessionsFromBird(tor.ns, tor.neighbors, out);
  assert.deepEqual(
    s.map((x) => [x.neighbor, x.established]),
    [
      ['198.18.250.0', true],
      ['198.18.1.10', false],
      ['198.18.1.11', false],
    ],
  );
});

test('the page shows every node and colours sessions by state', () => {
  const sessions = sessionsFromBird(tor.ns, tor.neighbors, 'border BGP --- up 07:31 Established\nhost_host1 BGP --- up 07:31 Established\n');
  const html = renderGraph(plan, [{ name: 'web-1', namespace: 'prod', host: 'host1', ns: 'x', addresses: ['198.19.0.1'], interfaceName: 'cali0123456789a', wepName: 'w' }], sessions);
  for (const text of ['ToR rack1', 'host1', 'host2', 'prod/web-1', '198.19.0.1', 'internet', 'border']) assert.ok(html.includes(text), text);
  assert.equal((html.match(/stroke="#2a9d3c"/g) ?? []).length, 2, 'two sessions up');
  assert.equal((html.match(/stroke="#d2302c"/g) ?? []).length, 2, 'host2 and internet sessions down');
  assert.match(html, /<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
});
