// Every golden script must be accepted by the real tools: nft scripts load
// into a throwaway namespace (`nft -c` first, then for real), and the
// iptables-restore + ipset texts load with iptables-restore --noflush.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GOLDEN_ROOT, goldenCases } from '../../../src/render/golden-cases.js';
import { Topology, canRunKernelTests, sh } from './topology.js';

const skip = canRunKernelTests();

describe('golden scripts are accepted by the kernel tools', { skip }, () => {
  const topo = new Topology();
  after(() => topo.teardown());
  for (const { name } of goldenCases()) {
    test(`nft: ${name}`, () => {
      const ns = topo.ns(`g-nft-${name.slice(0, 8)}`);
      const script = readFileSync(join(GOLDEN_ROOT, 'nft', name, 'table.nft'), 'utf8');
      sh(['ip', 'netns', 'exec', ns, 'nft', '-c', '-f', '-'], { input: script });
      sh(['ip', 'netns', 'exec', ns, 'nft', '-f', '-'], { input: script });
      assert.match(sh(['ip', 'netns', 'exec', ns, 'nft', 'list', 'table', 'inet', 'calico']), /chain cali-FORWARD/);
    });
    test(`iptables + ipset: ${name}`, () => {
      const ns = topo.ns(`g-ipt-${name.slice(0, 8)}`);
      const read = (f: string) => readFileSync(join(GOLDEN_ROOT, 'iptables', name, f), 'utf8');
      sh(['ip', 'netns', 'exec', ns, 'ipset', 'restore'], { input: read('ipsets.txt') });
      sh(['ip', 'netns', 'exec', ns, 'iptables-restore', '--noflush'], { input: read('rules-v4.txt') });
      sh(['ip', 'netns', 'exec', ns, 'ip6tables-restore', '--noflush'], { input: read('rules-v6.txt') });
      assert.match(sh(['ip', 'netns', 'exec', ns, 'iptables-save']), /-A FORWARD -m comment --comment "?cali:hook"? -j cali-FORWARD/);
    });
  }
});
