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
    'start /run/n1/bird/bird.conf /run/n1/bird/bird.ctl /run/n1/bird/bird.pid',
    'configure /run/n1/bird/bird.ctl',
  ]);
  await agent.stop();
});
