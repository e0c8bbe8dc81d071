// The nft driver's commit watcher against the real kernel: a transaction is
// reported done when the kernel announces its generation (before the nft
// process exits), a refused one still fails, and the monitor process goes
// when the driver is closed.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LinuxExec } from '../../../src/dataplane/linux/exec.js';
import { LinuxNft } from '../../../src/dataplane/linux/drivers.js';
import { NftCommits } from '../../../src/dataplane/linux/nft-commits.js';
import { Topology, canRunKernelTests, sh } from './topology.js';

const skip = canRunKernelTests();
const pids = (ns: string) => sh(['ip', 'netns', 'pids', ns]).trim().split('\n').filter(Boolean);

describe('nft transactions resolve at the kernel announcement', { skip }, () => {
  const topo = new Topology();
  after(() => topo.teardown());

  test('removals and additions are in the kernel when apply resolves; a refused script fails; close leaves no process', async () => {
    const ns = topo.ns('commits');
    const exec = new LinuxExec({ netns: ns });
    const commits = new NftCommits(exec);
    const nft = new LinuxNft(exec, commits);
    await nft.apply('add table inet calico\nadd set inet calico s { type ipv4_addr; }\n');
    // Let the monitor subscribe (it starts with the first transaction), then check it resolves the next ones.
    for (let i = 0; i < 50 && !pids(ns).length; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 5; i++) {
      await nft.apply(`add set inet calico s { type ipv4_addr; elements = { 198.18.0.${i} } }\n`);
      assert.match(sh(['ip', 'netns', 'exec', ns, 'nft', 'list', 'set', 'inet', 'calico', 's']), new RegExp(`198\\.18\\.0\\.${i}\\b`));
      await nft.apply(`delete element inet calico s { 198.18.0.${i} }\n`);
      // The element is gone as soon as apply resolved, whether or not the nft process has exited yet.
      assert.doesNotMatch(sh(['ip', 'netns', 'exec', ns, 'nft', 'list', 'set', 'inet', 'calico', 's']), new RegExp(`198\\.18\\.0\\.${i}\\b`));
    }
    await assert.rejects(nft.apply('delete element inet calico s { 198.18.9.9 }\n'), /nft transaction/);
    nft.close();
    for (let i = 0; i < 100 && pids(ns).length; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(pids(ns), [], 'no monitor (or nft) left in the namespace');
  });
});
