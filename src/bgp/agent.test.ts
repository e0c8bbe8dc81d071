import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BgpAgent } from './agent.js';
import { FakeBirdProcess, FakeClock, FakeConfigFiles } from './fakes.js';
import { silentLogger } from './ports.js';
import type { BgpInputs } from './model.js';

test('BgpAgent renders, starts BIRD, and reloads only when the config changes', async () => {
  const files = new FakeConfigFiles();
  const process = new FakeBirdProcess(files);
  const agent = new BgpAgent({ runDir: '/run/n1', process, files, clock: new FakeClock(), logger: silentLogger });
  const inputs: BgpInputs = {
    nodeName: 'a',
    nodes: [{ name: 'a', ipv4Address: '192.0.2.1/24' }, { name: 'b', ipv4Address: '192.0.2.2/24' }],
    peers: [],
    pools: [{ name: 'p', cidr: '198.18.0.0/16' }],
    blocks: ['198.18.0.0/26'],
  };
  const first = await agent.update(inputs);
  assert.equal(first.applied, true);
  assert.match(files.files.get('/run/n1/bird/bird.conf')!, /protocol bgp Mesh_192_0_2_2 /);
  assert.equal((await agent.update({ ...inputs, nodes: [...inputs.nodes].reverse() })).unchanged, true);
  await agent.update({ ...inputs, blocks: ['198.18.0.0/26', '198.18.0.64/26'] });
  assert.deepEqual(process.log.filter((l) => !l.startsWith('check')), [
    'adopt /run/n1/bird/bird.ctl',
    'start /run/n1/bird/bird.conf /run/n1/bird/bird.ctl /run/n1/bird/bird.pid',
    'configure /run/n1/bird/bird.ctl',
  ]);
  await agent.stop();
});

test('diagnoseSessions logs why a passworded session is stuck, from kernel MD5 counters', async () => {
  const files = new FakeConfigFiles();
  const warnings: string[] = [];
  const agent = new BgpAgent({
    runDir: '/run/n1', process: new FakeBirdProcess(files), files, clock: new FakeClock(),
    logger: { ...silentLogger, warn: (m) => warnings.push(m) },
  });
  await agent.update({
    nodeName: 'a',
    nodes: [{ name: 'a', ipv4Address: '192.0.2.1/24' }, { name: 'b', ipv4Address: '192.0.2.2/24' }],
    globalConfig: { nodeMeshPassword: 'pw' },
    peers: [], pools: [], blocks: [],
  });
  const protocols = 'Mesh_192_0_2_2 BGP        ---        start  2026-11-23 06:18:19  Passive\n  BGP state:          Passive\n    Neighbor address: 192.0.2.2\n';
  let failures = 0;
  const probe = {
    showProtocolsAll: async (socket: string) => (socket === '/run/n1/bird/bird.ctl' ? protocols : undefined),
    netstat: async () => `TcpExt: TCPMD5Failure\nTcpExt: ${failures}\n`,
  };
  assert.deepEqual(await agent.diagnoseSessions(probe), []);
  failures = 3;
  const lines = await agent.diagnoseSessions(probe);
  assert.equal(lines.length, 1);
  assert.match(warnings.join('\n'), /Mesh_192_0_2_2 to 192\.0\.2\.2 is Passive: the kernel dropped 3 segment\(s\) signed with a different TCP MD5 key/);
  assert.deepEqual(await agent.diagnoseSessions(probe), [], 'only new drops count');
});
