// The end-to-end suite: a whole data center on this machine (bin/calico-lab
// up test/e2e/topology.yaml), probed the way a person would.
// Real etcd, BIRD, calico-node, nftables; every namespace removed at the end.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { LAB, ROOT, calicoctl, eventually, inLab, lab, labNamespaces, workloads } from './lab-support.js';

const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : 'needs root (network namespaces)';

before(() => {
  if (skip) return;
  const r = lab(['up', join(ROOT, 'test/e2e/topology.yaml')], { timeoutMs: 300_000 });
  assert.equal(r.code, 0, `calico-lab up failed:\n${r.stdout}\n${r.stderr}`);
});

after(() => {
  if (skip) return;
  const r = lab(['down', LAB]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(labNamespaces(), [], 'down leaves no namespace behind');
  const left = spawnSync('pgrep', ['-f', 'calico-lab-e2e-'], { encoding: 'utf8' }).stdout.trim();
  assert.equal(left, '', 'down leaves no process of the lab behind');
});

const probe = (args: string[]) => lab(['probe', ...args], { timeoutMs: 60_000 });

/** Applies a policy file, waits for the matrix to match `expectFile`, then deletes the policies again. */
async function expectMatrixUnder(policyFile: string, expectFile: string): Promise<void> {
  const text = (await import('node:fs')).readFileSync(join(ROOT, policyFile), 'utf8');
  const applied = calicoctl(['apply', '-f', '-'], text);
  assert.equal(applied.code, 0, applied.stderr);
  let last = '';
  const ok = await eventually(() => {
    const r = probe(['--expect', join(ROOT, expectFile)]);
    last = r.stdout;
    return r.code === 0;
  }, 60_000, 2000);
  assert.ok(ok, `matrix differs:\n${last}`);
  const removed = calicoctl(['delete', '-f', '-'], text);
  assert.equal(removed.code, 0, removed.stderr);
}


test('every workload has an address from its pool and a WorkloadEndpoint', { skip }, () => {
  const wl = workloads();
  assert.equal(wl.length, 6);
  for (const w of wl) {
    const v4 = w.addresses.find((a) => !a.includes(':'))!;
    if (w.name === 'public-1') assert.match(v4, /^198\.51\.100\./);
    else {
      assert.match(v4, /^198\.19\./);
      assert.ok(w.addresses.some((a) => a.startsWith('2001:db8:ca1c:')), `${w.name} has an IPv6 address`);
    }
  }
  const weps = calicoctl(['get', 'workloadendpoints', '-A', '-o', 'json']);
  assert.equal(weps.code, 0, weps.stderr);
  const items = (JSON.parse(weps.stdout) as { items: { spec: { interfaceName: string } }[] }).items;
  assert.deepEqual(items.map((i) => i.spec.interfaceName).sort(), wl.map((w) => w.interfaceName).sort());
});

test('BGP: every fabric session is established (ToRs to hosts and to the border)', { skip }, async () => {
  let last = '';
  const ok = await eventually(() => {
    last = lab(['status', LAB]).stdout;
    return /r-rack1\s+65001\s+6\/6 BGP/.test(last) && /r-rack2\s+65002\s+6\/6 BGP/.test(last) && /border\s+65000\s+6\/6 BGP/.test(last);
  }, 60_000);
  assert.ok(ok, `sessions did not all come up:\n${last}`);
});

test('with no policy every workload reaches every workload and the internet (IPv4)', { skip }, async () => {
  let last = '';
  const ok = await eventually(() => {
    const r = probe(['--expect', join(ROOT, 'examples/lab/open-expect.yaml')]);
    last = r.stdout;
    return r.code === 0;
  }, 90_000, 2000);
  assert.ok(ok, `matrix differs:\n${last}`);
});

test('IPv6 across hosts and racks', { skip }, () => {
  const r = probe(['--family', '6', '--probes', 'tcp/80,icmp', '--expect', join(ROOT, 'examples/lab/open-expect.yaml')]);
  assert.equal(r.code, 0, r.stdout);
});

test('traceroute across racks: one hop per router, no tunnel', { skip }, () => {
  const web2 = workloads().find((w) => w.name === 'web-2')!.addresses.find((a) => !a.includes(':'))!;
  const r = inLab('web-1', ['traceroute', '-n', '-q1', '-w2', web2]);
  assert.equal(r.code, 0, r.stderr);
  const hops = r.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/)[1]);
  // web-1 -> host1 -> ToR rack1 -> border -> ToR rack2 -> host3 -> web-2: every hop a router that answers.
  assert.equal(hops.length, 6, r.stdout);
  assert.equal(hops[0], '198.18.1.10', 'host1');
  assert.equal(hops[1], '198.18.1.1', 'ToR of rack1');
  assert.match(hops[2]!, /^198\.18\.250\.\d+$/, 'border');
  assert.match(hops[3]!, /^198\.18\.(250\.\d+|2\.1)$/, 'ToR of rack2');
  assert.equal(hops[4], '198.18.2.10', 'host3');
  assert.equal(hops[5], web2);
});

test('a capture on a fabric link shows plain IP between workload addresses', { skip }, async () => {
  const web1 = workloads().find((w) => w.name === 'web-1')!.addresses.find((a) => !a.includes(':'))!;
  const web2 = workloads().find((w) => w.name === 'web-2')!.addresses.find((a) => !a.includes(':'))!;
  const cap = spawn('ip', ['netns', 'exec', 'cts-e2e-r-rack1', 'tcpdump', '-n', '-l', '-c', '4', '-i', 'up0', 'icmp or udp port 4789 or proto 4 or proto 47'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let text = '';
  cap.stdout.on('data', (d: Buffer) => (text += d.toString()));
  await new Promise((r) => setTimeout(r, 1000));
  inLab('web-1', ['ping', '-c', '3', '-i', '0.2', web2]);
  await new Promise((r) => setTimeout(r, 500));
  cap.kill();
  assert.match(text, new RegExp(`IP ${web1.replace(/\./g, '\\.')} > ${web2.replace(/\./g, '\\.')}: ICMP echo request`), text);
  assert.doesNotMatch(text, /VXLAN|GRE|ipip|4789/i, 'no encapsulation on the fabric');
});

test('natOutgoing: a private workload reaches the internet as its host; a public one as itself', { skip }, () => {
  const whoami = (w: string) => inLab(w, ['node', join(ROOT, 'dist/src/lab/probe-agent.js'), 'whoami', '203.0.113.10', '80']).stdout.trim();
  assert.equal(whoami('web-1'), '198.18.1.10', 'masqueraded to host1');
  const pub = workloads().find((w) => w.name === 'public-1')!.addresses[0]!;
  assert.equal(whoami('public-1'), pub, 'not masqueraded');
});

test('the border announces public pools to the internet, never the private pool', { skip }, () => {
  const r = inLab('internet', ['ip', 'route']);
  assert.match(r.stdout, /^198\.51\.100\.\d+\/\d+ via 203\.0\.113\.1/m);
  assert.doesNotMatch(r.stdout, /^198\.19\./m);
});

test('a forged source address or MAC never reaches its destination', { skip }, async () => {
  const web1 = workloads().find((w) => w.name === 'web-1')!.addresses.find((a) => !a.includes(':'))!;
  const cap = spawn('ip', ['netns', 'exec', 'cts-e2e-w-web-1', 'tcpdump', '-n', '-l', '-i', 'eth0', 'icmp and src 198.19.250.250'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let text = '';
  cap.stdout.on('data', (d: Buffer) => (text += d.toString()));
  await new Promise((r) => setTimeout(r, 800));
  inLab('client-2', ['ip', 'addr', 'add', '198.19.250.250/32', 'dev', 'eth0']);
  inLab('client-2', ['ping', '-c', '3', '-i', '0.2', '-W', '1', '-I', '198.19.250.250', web1]);
  inLab('client-2', ['ip', 'addr', 'del', '198.19.250.250/32', 'dev', 'eth0']);
  await new Promise((r) => setTimeout(r, 300));
  cap.kill();
  assert.doesNotMatch(text, /198\.19\.250\.250/, 'the forged packets arrived');
  // Same workload, forged MAC: even its own source address is refused.
  const mac = inLab('client-2', ['cat', '/sys/class/net/eth0/address']).stdout.trim();
  inLab('client-2', ['ip', 'link', 'set', 'eth0', 'address', '02:00:00:00:00:99']);
  const forged = inLab('client-2', ['ping', '-c', '2', '-W', '1', web1]);
  inLab('client-2', ['ip', 'link', 'set', 'eth0', 'address', mac]);
  assert.notEqual(forged.code, 0, 'ping with a forged MAC got through');
  // The host may still hold the forged MAC in its neighbour table for a few
  // seconds (ARP is not IP: the forged ARP request updated it), so allow time.
  const honest = await eventually(() => inLab('client-2', ['ping', '-c', '1', '-W', '1', web1]).code === 0, 15_000);
  assert.ok(honest, 'the same ping with the real MAC works (so the test can fail)');
});

test('policy: the example policies give exactly the expected matrix', { skip }, () =>
  expectMatrixUnder('examples/lab/policy.yaml', 'examples/lab/policy-expect.yaml'));

test('policy: tiers, Pass, Deny, a named port and a network set give exactly the expected matrix', { skip }, () =>
  expectMatrixUnder('test/e2e/policies.yaml', 'test/e2e/policies-expect.yaml'));

/** Pings `to` from workload `from` every 50 ms until stopped; resolves with transmitted/received. */
function pingFlow(from: string, to: string): { stop: () => Promise<{ sent: number; received: number; text: string }> } {
  const child = spawn('ip', ['netns', 'exec', `cts-e2e-w-${from}`, 'ping', '-i', '0.05', '-W', '1', to], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (d: Buffer) => (text += d.toString()));
  return {
    stop: () =>
      new Promise((resolve) => {
        child.on('close', () => {
          const m = /(\d+) packets transmitted, (\d+) received/.exec(text);
          resolve({ sent: Number(m?.[1] ?? 0), received: Number(m?.[2] ?? 0), text: text.split('\n').slice(-4).join('\n') });
        });
        child.kill('SIGINT');
      }),
  };
}

const v4Of = (name: string) => workloads().find((w) => w.name === name)!.addresses.find((a) => !a.includes(':'))!;

test('agent restart and BIRD restart: a running flow loses no packet', { skip }, async () => {
  const flow = pingFlow('web-1', v4Of('web-2')); // across racks: host1 -> ... -> host3
  await new Promise((r) => setTimeout(r, 1000));
  let r = lab(['restart', 'host1', 'calico-node']);
  assert.equal(r.code, 0, r.stderr);
  r = lab(['restart', 'host3', 'calico-node']);
  assert.equal(r.code, 0, r.stderr);
  await new Promise((r) => setTimeout(r, 3000));
  r = lab(['restart', 'host3', 'bird']);
  assert.equal(r.code, 0, r.stderr);
  await new Promise((r) => setTimeout(r, 6000));
  const { sent, received, text } = await flow.stop();
  assert.ok(sent > 150, `the flow ran (${sent} sent)`);
  assert.equal(received, sent, `no packet lost:\n${text}`);
  // BIRD came back under calico-node and the ToR session re-established.
  const ok = await eventually(() => /r-rack2\s+65002\s+6\/6 BGP/.test(lab(['status', LAB]).stdout), 60_000);
  assert.ok(ok, 'host3 BIRD session back up');
});

test('etcd down for 30 s: the dataplane is unchanged; the agents catch up when it returns', { skip }, async () => {
  const flow = pingFlow('client-2', v4Of('web-2'));
  let r = lab(['etcd', 'stop']);
  assert.equal(r.code, 0, r.stderr);
  // 30 s: longer than the agents' watch liveness checks and BGP hold times.
  await new Promise((r) => setTimeout(r, 30_000));
  const during = probe(['--probes', 'tcp/80,icmp', '--expect', join(ROOT, 'examples/lab/open-expect.yaml')]);
  assert.equal(during.code, 0, `matrix changed while etcd was down:\n${during.stdout}`);
  r = lab(['etcd', 'start']);
  assert.equal(r.code, 0, r.stderr);
  const { sent, received } = await flow.stop();
  assert.equal(received, sent, 'no packet lost while etcd was away');
  // A change made after etcd returns is enforced: the agents reconnected.
  const deny = `apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: e2e-deny-client-2}
spec:
  selector: app == 'client'
  types: [Egress]
  egress: [{action: Deny}]
`;
  const applied = calicoctl(['apply', '-f', '-'], deny);
  assert.equal(applied.code, 0, applied.stderr);
  const enforced = await eventually(() => inLab('client-2', ['ping', '-c', '1', '-W', '1', v4Of('web-2')]).code !== 0, 30_000);
  assert.ok(enforced, 'policy written after the outage is enforced');
  assert.equal(calicoctl(['delete', 'globalnetworkpolicy', 'e2e-deny-client-2']).code, 0);
  const restored = await eventually(() => inLab('client-2', ['ping', '-c', '1', '-W', '1', v4Of('web-2')]).code === 0, 30_000);
  assert.ok(restored, 'and its removal too');
});
