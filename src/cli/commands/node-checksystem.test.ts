import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../calicoctl.js';
import { CommandRegistry } from '../command.js';
import { FakeIO } from '../fake-io.js';
import { atLeast, NFT_PROBE_SCRIPT, parseKernelRelease, systemChecks, versionIn } from '../system-check/checks.js';
import { FakeSystemProbe, type FakeProbeOptions } from '../system-check/fake-probe.js';
import { nodeCommand } from './node.js';

async function run(argv: string[], probe: FakeSystemProbe, env: Record<string, string> = {}) {
  const registry = new CommandRegistry().register(nodeCommand({ systemProbe: probe }));
  const io = new FakeIO({ env });
  const code = await main(['node', 'checksystem', ...argv], io, { registry });
  return { code, out: io.out, err: io.errOut, io };
}

const HEALTHY_ANSWERS = { 'bird --version': { stderr: 'BIRD version 2.0.12\n' }, 'ip -V': { stdout: 'ip utility, iproute2-6.1.0, libbpf 1.1.0\n' }, 'conntrack -C': { stdout: '12\n' } };

/** Every feature present; `answers` are added to (and override) the healthy ones. */
const healthy = (extra: FakeProbeOptions = {}) =>
  new FakeSystemProbe({ files: { '/proc/sys/net/ipv4/ip_forward': '1\n' }, ...extra, answers: { ...HEALTHY_ANSWERS, ...extra.answers } });

const row = (out: string, feature: string) => out.split('\n').find((l) => l.startsWith(feature + ' '))?.replace(/\s{2,}/g, ' | ');

test('a host with every feature passes: one table, exit 0, and only read-only commands ran outside a scratch namespace', async () => {
  const probe = healthy();
  const { code, out, io } = await run([], probe);
  assert.equal(code, 0, out);
  assert.equal(io.connects.length, 0, 'checksystem never needs the datastore');
  assert.match(out, /^Checking this host for calico-node with the nftables backend and BGP \(BIRD\)\.\nCHECK +STATUS +DETAIL\n/);
  assert.equal(row(out, 'kernel version'), 'kernel version | OK | 6.1.0-18-amd64 (>= 5.2)');
  assert.equal(row(out, 'BIRD 2 (bird)'), 'BIRD 2 (bird) | OK | bird 2.0.12');
  assert.equal(row(out, 'conntrack'), 'conntrack | OK | conntrack -C: 12');
  assert.equal(row(out, 'iptables + ipset'), 'iptables + ipset | SKIP | not needed with the nftables backend');
  assert.match(out, /\nSystem meets minimum system requirements to run Calico!\n$/);
  const host = probe.calls.filter((c) => c.startsWith('host: '));
  assert.deepEqual(host, ['host: ip -V', 'host: conntrack -C', 'host: bird --version']);
  // The kernel features were tried, each in a scratch namespace: veth, rule, sysctls, the nft script.
  const scratch = probe.calls.filter((c) => c.startsWith('scratch: '));
  assert.ok(scratch.some((c) => c.includes('ip link add name calicheck0 type veth peer name calicheck1')));
  assert.ok(scratch.some((c) => c.includes('echo 1 > /proc/sys/net/ipv4/conf/calicheck0/proxy_arp')));
  assert.ok(scratch.some((c) => c.includes('echo 0 > /proc/sys/net/ipv4/neigh/calicheck0/proxy_delay')));
  assert.ok(scratch.includes('scratch: nft -f -'));
});

test('a missing program fails its check with the fix, and the exit code is 1', async () => {
  const probe = healthy({ programs: ['ip', 'unshare', 'conntrack', 'bird', 'birdc'] });
  const { code, out } = await run([], probe);
  assert.equal(code, 1);
  assert.equal(row(out, 'nftables'), 'nftables | FAIL | nft: not found on PATH');
  assert.match(out, /\nMissing: nftables: nft: not found on PATH\n  Fix: install nftables \(apt-get install nftables\)/);
  assert.match(out, /\nSystem doesn't meet the minimum requirements to run Calico: missing nftables\.\n$/);
  assert.ok(!probe.calls.includes('scratch: nft -f -'), 'not run when the program is missing');
});

test('a kernel feature that fails in the scratch namespace is named with the kernel error', async () => {
  const veth = 'sh -ec ip link add name calicheck0 type veth peer name calicheck1';
  const probe = healthy({ answers: { [veth]: { code: 2, stderr: 'Error: Unknown device type.\n' } } });
  const { code, out } = await run([], probe);
  assert.equal(code, 1);
  assert.equal(row(out, 'veth'), 'veth | FAIL | Error: Unknown device type.');
  assert.match(out, /Missing: veth: Error: Unknown device type\.\n  Fix: enable CONFIG_VETH \(module veth\)/);
});

test('kernel version: 4.19 is too old for the nftables backend, fine for iptables (3.10)', async () => {
  const nft = await run([], healthy({ kernel: '4.19.0-26-amd64' }));
  assert.equal(nft.code, 1);
  assert.match(row(nft.out, 'kernel version')!, /FAIL \| 4\.19\.0-26-amd64 is older than 5\.2: NAT chains in an inet nftables table need 5\.2/);
  const ipt = await run(['--dataplane=iptables'], healthy({ kernel: '4.19.0-26-amd64' }));
  assert.equal(ipt.code, 0, ipt.out);
  assert.equal(row(ipt.out, 'nftables'), 'nftables | SKIP | not needed with the iptables backend');
  assert.match(row(ipt.out, 'iptables + ipset')!, /^iptables \+ ipset \| OK/);
});

test('without network namespaces every scratch probe says so instead of blaming each feature', async () => {
  const probe = healthy({ answers: { true: { code: 1, stderr: 'unshare: unshare failed: Operation not permitted\n' } } });
  const { code, out } = await run([], probe);
  assert.equal(code, 1);
  assert.equal(row(out, 'network namespaces (unshare)'), 'network namespaces (unshare) | FAIL | unshare: unshare failed: Operation not permitted');
  assert.match(row(out, 'veth')!, /FAIL \| not probed: no private network namespace/);
  assert.deepEqual(probe.calls.filter((c) => c.startsWith('scratch: ')), ['scratch: true'], 'no later scratch probe ran');
});

test('IPv6 missing is a warning (exit 0); BIRD 1.x is a failure', async () => {
  const v6 = systemChecks({ backend: 'nftables', bgp: true }).find((c) => c.feature === 'IPv6 routing and sysctls')!;
  const argv = (v6.probe as { argv: string[] }).argv.join(' ');
  const warn = await run([], healthy({ answers: { [argv]: { code: 2, stderr: 'RTNETLINK answers: Address family not supported by protocol' } } }));
  assert.equal(warn.code, 0, warn.out);
  assert.match(warn.out, /\nWarning: IPv6 routing and sysctls: RTNETLINK answers: Address family not supported by protocol\n  Fix: enable IPv6/);
  const old = await run([], healthy({ answers: { 'bird --version': { stderr: 'BIRD version 1.6.8' } } }));
  assert.equal(old.code, 1);
  assert.equal(row(old.out, 'BIRD 2 (bird)'), 'BIRD 2 (bird) | FAIL | bird 1.6.8 found; version 2 or later is needed');
});

test('the backend follows FELIX_NFTABLESMODE and CALICO_NETWORKING_BACKEND unless flags say otherwise', async () => {
  const env = await run([], healthy(), { FELIX_NFTABLESMODE: 'Disabled', CALICO_NETWORKING_BACKEND: 'none' });
  assert.match(env.out, /with the iptables backend\./);
  assert.equal(row(env.out, 'BIRD 2 (bird)'), 'BIRD 2 (bird) | SKIP | not needed with CALICO_NETWORKING_BACKEND=none');
  const flag = await run(['--dataplane=nftables', '--networking-backend=bird'], healthy(), { FELIX_NFTABLESMODE: 'Disabled', CALICO_NETWORKING_BACKEND: 'none' });
  assert.match(flag.out, /with the nftables backend and BGP/);
  const bad = await run(['--dataplane=ebpf'], healthy());
  assert.equal(bad.code, 1);
  assert.match(bad.err, /Invalid option: .*--dataplane must be nftables or iptables \(got 'ebpf'\)/);
});

test('not root: says so and probes nothing', async () => {
  const probe = healthy({ root: false });
  const { code, err } = await run([], probe);
  assert.equal(code, 1);
  assert.match(err, /This command must be run as root\./);
  assert.deepEqual(probe.calls, []);
});

test('--help describes the checks, the scratch namespace and the flags', async () => {
  const { code, out } = await run(['--help'], healthy());
  assert.equal(code, 0);
  assert.match(out, /Usage:\n  calicoctl node checksystem \[--dataplane=<nftables\|iptables>\]/);
  assert.match(out, /--networking-backend=<bird\|none>/);
  assert.match(out, /unshare --net/);
});

test('version parsing (table)', () => {
  const cases: Array<[string, [number, number] | undefined]> = [
    ['6.1.0-18-amd64', [6, 1]],
    ['5.2.0', [5, 2]],
    ['4.19.0-26-cloud-amd64', [4, 19]],
    ['garbage', undefined],
  ];
  for (const [text, want] of cases) assert.deepEqual(parseKernelRelease(text), want, text);
  assert.ok(atLeast([5, 10], [5, 2]) && atLeast([6, 0], [5, 2]) && !atLeast([5, 1], [5, 2]) && !atLeast([4, 99], [5, 2]));
  assert.deepEqual(versionIn('BIRD version 2.0.12'), { text: '2.0.12', major: 2 });
  assert.deepEqual(versionIn('ip utility, iproute2-6.1.0, libbpf 1.1.0'), { text: '6.1.0', major: 6 });
  assert.equal(versionIn('no digits'), undefined);
  assert.match(NFT_PROBE_SCRIPT, /type nat hook postrouting/);
});
