// Two nodes whose mesh passwords differ: TCP MD5 makes the kernel drop every
// segment, the session never establishes, and the log says why. The same
// pair with matching passwords does establish (so the test can fail).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { NetnsLab, skipReason, sleep, waitFor, type LabHost } from './netns-lab.js';
import { blockV4, inputsFor, labNode } from './inputs.js';
import { parseBirdProtocols } from '../../../src/bgp/status.js';
import { parseTcpMd5Counters } from '../../../src/bgp/md5-diagnosis.js';

const skip = skipReason;
let lab: NetnsLab;
let a: LabHost;
let b: LabHost;

const start = async (h: LabHost, password: string) => {
  const nodes = [a, b].map((x) => labNode(x));
  await lab.runBgp(h.name, inputsFor(h, { nodes, blocks: [blockV4(h)], globalConfig: { nodeMeshPassword: password } }));
};
const sessionOf = async (h: LabHost) =>
  parseBirdProtocols(await lab.birdc(h.name, ['show', 'protocols', 'all'])).find((s) => s.family === 4)!;

before(async () => {
  if (skip) return;
  lab = new NetnsLab();
  a = lab.addHost('a');
  b = lab.addHost('b');
  await start(a, 'right-password');
  await start(b, 'wrong-password');
});

after(async () => {
  await lab?.destroy();
});

test('a peer with the wrong MD5 password never establishes, and the log says why', { skip }, async () => {
  const counters = () => parseTcpMd5Counters(lab.exec(a.ns, ['cat', '/proc/net/netstat']));
  // Several connect retries (2 s) pass; nothing may come up.
  for (let i = 0; i < 5; i++) {
    await sleep(2000);
    assert.notEqual((await sessionOf(a)).bgpState, 'Established');
    assert.notEqual((await sessionOf(b)).bgpState, 'Established');
  }
  assert.equal(lab.birdRoutes(a.name).get(blockV4(b)), undefined, 'no route learned');
  // BIRD on the passive side never even sees a connection: the kernel drops b's
  // SYNs (signed with another key) and counts them in a's namespace; the agent
  // reads those counters and logs why.
  const after = counters();
  assert.ok(after.failure > 0, `TCPMD5Failure in ${a.ns}: ${JSON.stringify(after)}`);
  const probe = {
    showProtocolsAll: async () => lab.birdc(a.name, ['show', 'protocols', 'all']),
    netstat: async () => lab.exec(a.ns, ['cat', '/proc/net/netstat']),
  };
  const lines = await a.agent!.diagnoseSessions(probe);
  assert.equal(lines.length, 2, lines.join('\n')); // the IPv4 and the IPv6 session
  assert.match(a.logs.join('\n'), /Mesh_192_0_2_2 to 192\.0\.2\.2 is \w+: the kernel dropped \d+ segment\(s\) signed with a different TCP MD5 key: the BGP password differs/);
});

test('with matching passwords the same pair establishes', { skip }, async () => {
  await start(b, 'right-password');
  const up = await waitFor(async () => (await sessionOf(a)).bgpState === 'Established', 30_000);
  assert.ok(up, JSON.stringify(await sessionOf(a)));
  assert.ok(await waitFor(() => lab.birdRoutes(a.name).get(blockV4(b)) === b.v4, 10_000));
});
