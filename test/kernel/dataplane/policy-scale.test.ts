// Issue 11 in the kernel (a cost check, not a timing test): 1,000
// GlobalNetworkPolicies x 10 rules of mixed shapes stand in front of the
// policy that allows w2 -> w1 tcp/8080. The new connection's SYN is traced
// (nftrace, set from a throwaway table of the test's own); the chains of
// ours it went through must hold a few dozen rules in all, not the
// thousands a policy-by-policy walk costs. Both backends (iptables here is
// iptables-nft, so nft's tracer sees its chains too).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CalcUpdate } from '../../../src/calc/output.js';
import { SCALE_TIER, policyScaleWorld } from '../../../src/dataplane/policy-scale-fixtures.js';
import { allowAll, workload } from '../../../src/dataplane/testing-fixtures.js';
import { modelFromCalc } from '../../../src/dataplane/model-from-calc.js';
import { IptablesBackend, NftBackend } from '../../../src/dataplane/policy-backend.js';
import { LinuxExec } from '../../../src/dataplane/linux/exec.js';
import { linuxPorts } from '../../../src/dataplane/linux/drivers.js';
import { compileRuleset } from '../../../src/rules/compile-endpoints.js';
import { defaultDataplaneConfig } from '../../../src/rules/model.js';
import { TestAgent } from './agent.js';
import { Topology, canRunKernelTests, sh, type Workload } from './topology.js';

const skip = canRunKernelTests();
const POLICIES = 1000;

/** Rule count of each chain of one nft table, as the kernel lists it. */
function chainSizes(ns: string, family: string, table: string): Map<string, number> {
  const sizes = new Map<string, number>();
  let chain: string | undefined;
  for (const raw of sh(['ip', 'netns', 'exec', ns, 'nft', 'list', 'table', family, table]).split('\n')) {
    const line = raw.trim();
    const m = /^chain (\S+) \{$/.exec(line);
    if (m) [chain] = [m[1]!];
    else if (line === '}') chain = undefined;
    else if (chain && line && !/^(type |policy |comment )/.test(line)) sizes.set(chain, (sizes.get(chain) ?? 0) + 1);
  }
  return sizes;
}

/** Our chains one traced packet entered: those it matched a rule in, and every jump / goto target. */
function chainsWalked(trace: string, family: string, table: string): Set<string> {
  const lines = trace.split('\n').filter((l) => l.startsWith('trace id '));
  const id = lines.find((l) => l.includes(` ${family} ${table} `))?.split(' ')[2];
  const walked = new Set<string>();
  for (const l of lines.filter((x) => x.split(' ')[2] === id)) {
    const m = new RegExp(`^trace id \\S+ ${family} ${table} (\\S+) `).exec(l);
    if (m && m[1]!.startsWith('cali-')) walked.add(m[1]!);
    const v = /\(verdict (?:jump|goto) (\S+)\)/.exec(l);
    if (v && v[1]!.startsWith('cali-')) walked.add(v[1]!);
  }
  return walked;
}

for (const backend of ['nftables', 'iptables'] as const) {
  describe(`${POLICIES} policies x 10 rules in front of the allowing one, ${backend}`, { skip }, () => {
    const topo = new Topology();
    let h1 = '';
    let w1: Workload, w2: Workload;
    let agent: TestAgent;
    let sourceRules = 0;

    before(async () => {
      h1 = topo.hosts().h1;
      w1 = topo.workload(h1, { name: 'srv', iface: 'calisrv00000001', ip: '198.18.1.1', ip6: '2001:db8:1::1', mac: '02:00:00:00:01:01' });
      w2 = topo.workload(h1, { name: 'cli', iface: 'calicli00000002', ip: '198.18.1.2', ip6: '2001:db8:1::2', mac: '02:00:00:00:01:02' });
      // Proxy ARP for the workloads' gateway 169.254.1.1 answers only with a route out of another interface.
      sh(['ip', '-n', h1, 'route', 'add', 'default', 'via', '192.0.2.2']);
      await topo.background(w1.ns, ['serve', '8080,8081', '']);
      const world = policyScaleWorld({ policies: POLICIES, rulesPerPolicy: 10, client: w2.ip, port: 8080 });
      sourceRules = world.sourceRules;
      const server = workload({ name: 'srv', iface: w1.iface, ipv4: [`${w1.ip}/32`], ipv6: [`${w1.ip6}/128`], mac: w1.mac, profiles: ['kns.default'] });
      server.policies.ingress = [{ tier: SCALE_TIER, policies: world.ingress, defaultAction: 'Deny' }];
      server.hasIngressPolicy = true;
      const client = workload({ name: 'cli', iface: w2.iface, ipv4: [`${w2.ip}/32`], ipv6: [`${w2.ip6}/128`], mac: w2.mac, profiles: ['kns.default'] });
      agent = new TestAgent(h1, backend);
      const updates: CalcUpdate[] = [
        ...world.updates,
        { type: 'profileUpserted', profile: allowAll('kns.default') },
        { type: 'workloadEndpointUpserted', endpoint: server },
        { type: 'workloadEndpointUpserted', endpoint: client },
        { type: 'inSync' },
      ];
      await agent.apply(updates);
      // Not ours: a table of the test's own that marks the SYNs to trace.
      sh(['ip', 'netns', 'exec', h1, 'nft', '-f', '-'], {
        input: `table inet cts-trace {\n chain pre { type filter hook prerouting priority -400; policy accept; ip saddr ${w2.ip} tcp dport 8080 tcp flags syn meta nftrace set 1; }\n}\n`,
      });
    });

    after(async () => {
      await agent?.loop.stop();
      topo.teardown();
    });

    test('a restarted agent reads the merged chains and sets back as they should be: nothing to rewrite', async () => {
      const ports = linuxPorts(new LinuxExec({ netns: h1 }));
      const fresh = backend === 'nftables' ? new NftBackend(ports.nft) : new IptablesBackend({ iptables: ports.iptables, ipset: ports.ipset });
      await fresh.read();
      const desired = compileRuleset(modelFromCalc(agent.managers.snapshot(), defaultDataplaneConfig()), { backend });
      assert.ok(desired.sets.some((s) => s.kind === 'tuple' && s.members.length > 1000), 'big merged sets are part of it');
      assert.deepEqual(fresh.diff(desired), []);
    });

    test('the allowed flow connects; the next port, allowed by no policy, does not', () => {
      assert.equal(topo.probe(w2.ns, ['tcp', w1.ip, '8080', '500']).ok, true);
      assert.equal(topo.probe(w2.ns, ['tcp', w1.ip, '8081', '500']).ok, false);
    });

    test(`a new connection's SYN walks a few dozen of our rules, not the ${POLICIES * 10} the policies hold`, async (t) => {
      const monitor = topo.run(h1, ['timeout', '4', 'nft', 'monitor', 'trace']);
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(topo.probe(w2.ns, ['tcp', w1.ip, '8080', '500']).ok, true);
      const { out } = await monitor;
      const [family, table] = backend === 'nftables' ? ['inet', 'calico'] : ['ip', 'filter'];
      const walked = chainsWalked(out, family, table);
      const sizes = chainSizes(h1, family, table);
      const rules = [...walked].reduce((n, c) => n + (sizes.get(c) ?? 0), 0);
      const detail = [...walked].map((c) => `${c}:${sizes.get(c)}`).join(' ');
      t.diagnostic(`walked chains hold ${rules} rules: ${detail}`);
      assert.ok(walked.size >= 3, `the trace shows our chains (${detail || out.slice(0, 400)})`);
      // The walk's upper bound: every rule of every chain entered (forward, dispatch, endpoint, tier, verdict chains).
      assert.ok(rules <= 60, `walked chains hold ${rules} rules: ${detail}`);
      assert.ok(sourceRules > 10_000);
    });
  });
}
