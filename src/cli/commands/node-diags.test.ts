import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Resource } from '../../api/resource.js';
import { main } from '../calicoctl.js';
import { CommandRegistry } from '../command.js';
import { FakeIO } from '../fake-io.js';
import { FakeDiagnosticsHost, type FakeDiagnosticsHostOptions } from '../node-diagnostics/fake-host.js';
import { detectBackends, diagnosticsPlan, sysctlKeys } from '../node-diagnostics/plan.js';
import { archiveName } from '../node-diagnostics/summary.js';
import { nodeCommand } from './node.js';

const protocols = readFileSync(fileURLToPath(new URL('../../../../src/bgp/testdata/show-protocols-all.txt', import.meta.url)), 'utf8');
const RUN = '/run/lab/h1';
const SOCK = `${RUN}/bird/bird.ctl`;
const NOW = new Date('2026-11-23T12:00:00Z');
const TMP = '/tmp/calico123';
const D = `${TMP}/diagnostics`;

/** A node running calico-node with the nftables backend, BIRD, health and metrics on the default ports. */
function healthyNode(over: Partial<FakeDiagnosticsHostOptions> = {}): FakeDiagnosticsHostOptions {
  return {
    hostname: 'h1-host',
    commands: {
      'nft list tables': { stdout: 'table inet calico\n' },
      'iptables-save -t filter': { stdout: '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n' },
      'uname -a': { stdout: 'Linux h1 6.1.0 x86_64 GNU/Linux\n' },
      'ip -V': { stdout: 'ip utility, iproute2-6.1.0\n' },
      'bird --version': { stderr: 'BIRD version 2.0.12\n' },
      'nft --version': { stdout: 'nftables v1.0.6\n' },
      'iptables --version': { stdout: 'iptables v1.8.9 (nf_tables)\n' },
      'ipset --version': { stdout: 'ipset v7.17\n' },
      'conntrack --version': { stdout: 'conntrack v1.4.7\n' },
      'ip -4 addr': { stdout: '2: eth0: <UP>\n    inet 192.0.2.10/24 scope global eth0\n' },
      'ip -6 addr': { stdout: '    inet6 2001:db8::10/64 scope global\n' },
      'ip -d -s link': { stdout: '5: cali12345: <BROADCAST,UP> veth\n' },
      'ip -4 route show table all': { stdout: '198.18.1.2 dev cali12345 scope link\nblackhole 198.18.1.0/26 proto 80\n' },
      'ip -6 route show table all': { stdout: '2001:db8:1::/122 proto 80\n' },
      'ip -4 rule': { stdout: '0: from all lookup local\n' },
      'ip -6 rule': { stdout: '0: from all lookup local\n' },
      'ip -4 neigh': { stdout: '198.18.1.2 dev cali12345 lladdr 02:00:00:00:01:02 PERMANENT\n' },
      'ip -6 neigh': { stdout: '' },
      'ss -anp': { stdout: 'tcp LISTEN 0 128 *:179 *:* users:(("bird",pid=7))\n' },
      'nft list ruleset': { stdout: 'table inet calico {\n\tchain cali-fw-cali12345 {\n\t}\n}\n' },
      'conntrack -C': { stdout: '42\n' },
      'conntrack -S': { stdout: 'cpu=0 found=0 invalid=1\n' },
      [`birdc -s ${SOCK} show status`]: { stdout: 'BIRD 2.0.12 ready.\nDaemon is up and running\n' },
      [`birdc -s ${SOCK} show protocols all`]: { stdout: protocols },
      [`birdc -s ${SOCK} show route`]: { stdout: 'Table master4:\n198.18.2.0/26 unicast [Mesh_192_0_2_2 12:00:00] * (100/0) [i]\n' },
      [`birdc -s ${SOCK} show interfaces`]: { stdout: 'eth0 up (index=2)\n' },
      [`tar -czf ${TMP}/diags-20261123_120000.tar.gz -C ${TMP} diagnostics`]: {},
    },
    files: {
      [`${RUN}/nodename`]: 'host1',
      [`${RUN}/bird/bird.conf`]: 'router id 192.0.2.10;\n',
      [`${RUN}/bird/bird.log`]: '2026-11-23 <INFO> Started\n',
      '/var/log/calico/calico-node.log': '{"level":"info","msg":"started"}\n',
      '/var/log/calico/old/calico-node.log.1': 'older\n',
      '/proc/sys/net/ipv4/ip_forward': '1\n',
      '/proc/sys/net/ipv4/conf/cali12345/proxy_arp': '1\n',
      '/proc/sys/net/ipv4/conf/eth0.100/rp_filter': '1\n',
    },
    directories: { '/proc/sys/net/ipv4/conf': ['all', 'default', 'lo', 'cali12345', 'eth0.100'], '/proc/sys/net/ipv6/conf': ['all', 'default', 'lo', 'cali12345'] },
    http: {
      'http://localhost:9099/liveness': { status: 200, body: '{"live":true,"ready":true}\n' },
      'http://localhost:9099/readiness': { status: 503, body: '{"live":true,"ready":false,"reason":"not in sync"}\n' },
      'http://localhost:9091/metrics': { status: 200, body: 'felix_active_local_endpoints 1\n' },
    },
    ...over,
  };
}

const NODE: Resource = { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'host1' }, spec: { bgp: { ipv4Address: '192.0.2.10/24' } } } as Resource;

async function run(host: FakeDiagnosticsHost, argv: string[] = [], opts: { env?: Record<string, string>; unreachable?: boolean } = {}) {
  const io = new FakeIO({ env: { CALICO_RUN_DIR: RUN, ...opts.env }, ...(opts.unreachable ? { unreachable: true } : {}) });
  await io.datastore.create(NODE);
  const registry = new CommandRegistry().register(nodeCommand({ diagnosticsHost: host, now: () => NOW }));
  const code = await main(['node', 'diags', ...argv], io, { registry });
  const summary = JSON.parse(host.written.get(`${D}/summary.json`) ?? '{"collectors":[]}') as { policyBackend: string; node: string; collectors: Array<{ file: string; result: string; detail: string }> };
  const result = (file: string) => summary.collectors.find((c) => c.file === file);
  return { code, out: io.out, err: io.errOut, summary, result };
}

test('collects every item of a healthy node into diagnostics/, archives it with tar and prints the path', async () => {
  const host = new FakeDiagnosticsHost(healthyNode());
  const { code, out, summary, result } = await run(host);
  assert.equal(code, 0, out);
  assert.match(out, /^Collecting diagnostics\nUsing temp dir: \/tmp\/calico123\n/);
  assert.match(out, /\nDumping routes \(IPv4\)\n/);
  assert.match(out, /\nDiags saved to \/tmp\/calico123\/diags-20261123_120000\.tar\.gz\n$/);
  assert.doesNotMatch(out, /failed:/);
  const w = host.written;
  assert.match(w.get(`${D}/network/ipv4_route`)!, /198\.18\.1\.2 dev cali12345/);
  assert.match(w.get(`${D}/dataplane/nft_ruleset`)!, /table inet calico/);
  assert.match(w.get(`${D}/bird/protocols`)!, /BGP/);
  assert.match(w.get(`${D}/bird/routes`)!, /198\.18\.2\.0\/26/);
  assert.equal(w.get(`${D}/bird/bird.conf`), 'router id 192.0.2.10;\n');
  assert.match(w.get(`${D}/calico-node/node_status`)!, /^Calico process is running\.\n\nIPv4 BGP status/);
  assert.match(w.get(`${D}/calico-node/readiness`)!, /"ready":false/);
  assert.equal(result('calico-node/readiness')!.detail, 'HTTP 503 from http://localhost:9099/readiness');
  assert.match(w.get(`${D}/calico-node/metrics`)!, /felix_active_local_endpoints 1/);
  assert.equal(w.get(`${D}/conntrack/count`), '42\n');
  assert.match(w.get(`${D}/versions/calicoctl`)!, /Client Version: +v0\.1\.0-test/);
  assert.equal(w.get(`${D}/date`), '2026-11-23T12:00:00.000Z\n');
  // The Node calico-node registered as (its nodename file), from the datastore.
  assert.equal(summary.node, 'host1');
  assert.match(w.get(`${D}/datastore/node.yaml`)!, /kind: Node\n[\s\S]*name: host1\n[\s\S]*ipv4Address: 192\.0\.2\.10\/24/);
  assert.match(w.get(`${D}/datastore/ippools.yaml`)!, /kind: IPPoolList/);
  // Logs: the whole --log-dir tree.
  assert.equal(w.get(`${D}/logs/calico-node.log`), '{"level":"info","msg":"started"}\n');
  assert.equal(w.get(`${D}/logs/old/calico-node.log.1`), 'older\n');
  assert.equal(w.get(`${D}/bird/bird.log`), '2026-11-23 <INFO> Started\n');
  // Sysctls: read per interface, an unreadable one noted in place.
  const sysctls = w.get(`${D}/network/sysctls`)!;
  assert.match(sysctls, /^net\.ipv4\.ip_forward = 1$/m);
  assert.match(sysctls, /^net\.ipv4\.conf\.cali12345\.proxy_arp = 1$/m);
  assert.match(sysctls, /^net\.ipv4\.conf\.eth0\.100\.rp_filter = 1$/m);
  assert.match(sysctls, /^net\.ipv6\.conf\.cali12345\.proxy_ndp: ENOENT/m);
  // Only the backend in use: nft here, so no iptables-save / ipset.
  assert.equal(summary.policyBackend, 'nftables (table inet calico)');
  assert.equal(result('dataplane/ipsets')!.result, 'skipped');
  assert.ok(!host.log.some((l) => l.startsWith('run ipset list') || l.startsWith('run iptables-save -c')));
  assert.ok(summary.collectors.every((c) => c.result !== 'failed'), JSON.stringify(summary.collectors.filter((c) => c.result === 'failed')));
  // The archive is made last, from the temp dir, after the summary.
  assert.equal(host.log.at(-1), `run tar -czf ${TMP}/diags-20261123_120000.tar.gz -C ${TMP} diagnostics`);
  assert.match(w.get(`${D}/summary.txt`)!, /^calicoctl node diags\nCollected: +2026-11-23T12:00:00\.000Z\nNode: +host1\n/);
  assert.match(w.get(`${D}/summary.txt`)!, /\nnetwork\/ipv4_route +ok +\d+ bytes\n/);
});

test('a broken node: every failing item is recorded with its reason, the rest is still collected, exit 0', async () => {
  const base = healthyNode();
  const commands = { ...base.commands };
  for (const k of Object.keys(commands)) if (k.startsWith('birdc ')) commands[k] = { code: 1, stdout: `Unable to connect to server control socket (${SOCK}): No such file or directory\n` };
  delete commands['conntrack -C'];
  const files = Object.fromEntries(Object.entries(base.files!).filter(([p]) => !p.startsWith('/var/log/calico') && !p.endsWith('/nodename')));
  const host = new FakeDiagnosticsHost({ ...base, commands, files, http: {} });
  const { code, out, result, summary } = await run(host, [], { unreachable: true, env: { NODENAME: 'host1' } });
  assert.equal(code, 0, out);
  assert.match(result('bird/protocols')!.detail, /Unable to connect to server control socket/);
  assert.equal(result('bird/protocols')!.result, 'failed');
  assert.match(host.written.get(`${D}/bird/protocols`)!, /Unable to connect/, 'what birdc said is kept');
  assert.equal(result('calico-node/node_status')!.detail, `Calico process is not running: BIRD does not answer on ${SOCK}`);
  assert.equal(result('conntrack/count')!.detail, 'conntrack: not found on PATH');
  assert.match(result('calico-node/liveness')!.detail, /^http:\/\/localhost:9099\/liveness: ECONNREFUSED \(is calico-node running with its health/);
  assert.match(result('datastore/node.yaml')!.detail, /ECONNREFUSED/);
  assert.match(result('logs')!.detail, /no directory \/var\/log\/calico: give the directory of calico-node's logs with --log-dir/);
  assert.equal(summary.node, 'host1', 'NODENAME when calico-node wrote no nodename file');
  // Still collected:
  assert.equal(result('network/ipv4_route')!.result, 'ok');
  assert.equal(result('dataplane/nft_ruleset')!.result, 'ok');
  assert.match(out, /\n {2}failed: bird\/protocols: .*Unable to connect/);
  assert.match(out, /\n\d+ item\(s\) could not be collected; see diagnostics\/summary\.txt in the archive\.\nDiags saved to /);
});

test('iptables backend in use: iptables-save -c, ip6tables-save -c and ipset list, no nft ruleset', async () => {
  const base = healthyNode();
  const host = new FakeDiagnosticsHost({
    ...base,
    commands: {
      ...base.commands,
      'nft list tables': { stdout: 'table ip filter\n' },
      'iptables-save -t filter': { stdout: '*filter\n:cali-FORWARD - [0:0]\nCOMMIT\n' },
      'iptables-save -c': { stdout: '*filter\n:cali-FORWARD - [0:0]\n[1:84] -A FORWARD -j cali-FORWARD\nCOMMIT\n' },
      'ip6tables-save -c': { stdout: '*filter\nCOMMIT\n' },
      'ipset list': { stdout: 'Name: cali40all-ipam-pools\nType: hash:net\n' },
    },
  });
  const { code, result, summary } = await run(host, ['--log-dir=/var/log/calico']);
  assert.equal(code, 0);
  assert.equal(summary.policyBackend, 'iptables + ipset (cali- chains)');
  assert.match(host.written.get(`${D}/dataplane/ipv4_tables`)!, /-A FORWARD -j cali-FORWARD/);
  assert.match(host.written.get(`${D}/dataplane/ipsets`)!, /cali40all-ipam-pools/);
  assert.equal(result('dataplane/nft_ruleset')!.result, 'skipped');
});

test('--run-dir and --log-dir are used; tar failing leaves the folder and exits 1', async () => {
  const base = healthyNode();
  const commands = { ...base.commands };
  delete commands[`tar -czf ${TMP}/diags-20261123_120000.tar.gz -C ${TMP} diagnostics`];
  const host = new FakeDiagnosticsHost({ ...base, commands, files: { ...base.files, '/srv/logs/x.log': 'x\n' } });
  const { code, out, err } = await run(host, ['--run-dir=/srv/run', '--log-dir=/srv/logs']);
  assert.equal(code, 1);
  assert.ok(host.log.includes('run birdc -s /srv/run/bird/bird.ctl show status'));
  assert.equal(host.written.get(`${D}/logs/x.log`), 'x\n');
  assert.match(out, /Error compressing the diagnostics: tar: not found on PATH/);
  assert.match(err, /Diagnostics are in \/tmp\/calico123\/diagnostics \(not archived\)\./);
});

test('not root: says so and collects nothing', async () => {
  const host = new FakeDiagnosticsHost(healthyNode({ root: false }));
  const { code, err } = await run(host);
  assert.equal(code, 1);
  assert.match(err, /This command must be run as root\./);
  assert.deepEqual(host.log, []);
  assert.equal(host.written.size, 0);
});

test('--help: usage, --log-dir default, the layout of the bundle', async () => {
  const io = new FakeIO();
  const registry = new CommandRegistry().register(nodeCommand({ diagnosticsHost: new FakeDiagnosticsHost() }));
  assert.equal(await main(['node', 'diags', '--help'], io, { registry }), 0);
  assert.match(io.out, /Usage:\n  calicoctl node diags \[--log-dir=<LOG_DIR>\]/);
  assert.match(io.out, /--log-dir=<LOG_DIR> +The directory containing Calico logs\. \[default: \/var\/log\/calico\]/);
  assert.match(io.out, /diags-<YYYYMMDD_HHMMSS>\.tar\.gz/);
  const node = new FakeIO();
  assert.equal(await main(['node', '--help'], node, { registry }), 0);
  assert.match(node.out, /Commands:\n  status +Show this node's BGP sessions[^\n]*\n  diags +Gather a diagnostics bundle[^\n]*\n  checksystem +Verify/);
});

test('plan pieces: backend detection, sysctl paths of dotted interface names, archive name', () => {
  assert.deepEqual(detectBackends({ nftTables: 'table inet calico\ntable ip filter\n' }), { nftables: true, iptables: false, found: true });
  assert.deepEqual(detectBackends({ nftTables: 'table inet calicoish\n', iptablesFilter: ':INPUT ACCEPT\n' }), { nftables: true, iptables: true, found: false });
  assert.deepEqual(detectBackends({ nftTables: 'table inet calico\n', iptablesFilter: ':cali-INPUT - [0:0]\n' }), { nftables: true, iptables: true, found: true });
  const keys = sysctlKeys({ ipv4: ['all', 'eth0.100', 'cali1'], ipv6: ['cali1'] });
  assert.ok(keys.some((k) => k.key === 'net.ipv4.conf.eth0.100.rp_filter' && k.path === '/proc/sys/net/ipv4/conf/eth0.100/rp_filter'));
  assert.ok(keys.some((k) => k.key === 'net.ipv6.conf.cali1.proxy_ndp' && k.path === '/proc/sys/net/ipv6/conf/cali1/proxy_ndp'));
  assert.ok(!keys.some((k) => k.key === 'net.ipv6.conf.eth0.100.proxy_ndp'), 'no IPv6 keys for an interface without IPv6');
  assert.ok(!keys.some((k) => k.key.includes('.all.proxy_arp')), 'all/default are not interfaces');
  assert.equal(archiveName(new Date('2026-01-02T03:04:05.678Z')), 'diags-20260102_030405.tar.gz');
  // Every file name is unique: nothing in the bundle overwrites another item.
  const plan = diagnosticsPlan({ runDir: '/r', logDir: '/l', nodeName: 'n', backends: { nftables: true, iptables: true, found: true }, healthURLs: { liveness: 'l', readiness: 'r' }, metricsURL: 'm', clientVersion: '', now: NOW, hostname: 'h' });
  assert.equal(new Set(plan.map((c) => c.file)).size, plan.length);
});
