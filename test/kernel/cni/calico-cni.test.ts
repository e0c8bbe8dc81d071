// bin/calico and bin/calico-ipam as a runtime runs them, in throw-away network
// namespaces: a "host" namespace running etcd (the plugin runs there, as on a
// node), container namespaces made by the test. ADD gives a working interface
// and a WorkloadEndpoint; a repeated ADD the same address; DEL removes veth,
// endpoint and addresses; a failing ADD leaves nothing and prints error JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostInterfaceName } from '../../../src/cni/names.js';
import { eventually } from '../../support/eventually.js';

const ROOT = new URL('../../../../', import.meta.url).pathname;
const isRoot = process.getuid?.() === 0;
const suffix = `${process.pid % 100000}`;
const HOST = `ctsc-h${suffix}`;
const C1 = `ctsc-a${suffix}`;
const C2 = `ctsc-b${suffix}`;
const ETCD = 'http://127.0.0.1:23790';

function sh(argv: string[], opts: { input?: string; env?: Record<string, string> } = {}): { code: number; out: string; err: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { input: opts.input ?? '', encoding: 'utf8', env: { ...process.env, ...opts.env } });
  return { code: r.status ?? 1, out: r.stdout ?? '', err: r.stderr ?? '' };
}
const must = (argv: string[], input?: string): string => {
  const r = sh(argv, { input });
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.err}`);
  return r.out;
};
const inHost = (argv: string[], input?: string) => must(['ip', 'netns', 'exec', HOST, ...argv], input);
const etcdctl = (...args: string[]) => inHost(['env', 'ETCDCTL_API=3', 'etcdctl', '--endpoints', ETCD, ...args]);


const CONF = {
  cniVersion: '1.0.0',
  name: 'k8s-pod-network',
  type: 'calico',
  etcd_endpoints: ETCD,
  nodename: 'host1',
  nodename_file_optional: true,
  mtu: 1400,
  ipam: { type: 'calico-ipam', assign_ipv4: 'true', assign_ipv6: 'true', ipv4_pools: ['198.18.40.0/26'], ipv6_pools: ['2001:db8:40::/122'] },
};

function plugin(name: 'calico' | 'calico-ipam', command: string, opts: { cid: string; netns: string; pod?: string; conf?: object }) {
  const r = sh(['ip', 'netns', 'exec', HOST, join(ROOT, 'bin', name)], {
    input: JSON.stringify(opts.conf ?? CONF),
    env: {
      CNI_COMMAND: command,
      CNI_CONTAINERID: opts.cid,
      CNI_NETNS: opts.netns,
      CNI_IFNAME: 'eth0',
      CNI_PATH: join(ROOT, 'bin'),
      CNI_ARGS: opts.pod ? `IgnoreUnknown=1;K8S_POD_NAMESPACE=web;K8S_POD_NAME=${opts.pod}` : '',
    },
  });
  return { ...r, json: r.out.trim() ? (JSON.parse(r.out) as Record<string, unknown>) : undefined };
}

const wepKey = (pod: string) => `/calico/resources/v3/projectcalico.org/workloadendpoints/web/host1-k8s-${pod}-eth0`;
const handleKey = (cid: string) => `/calico/ipam/v2/handle/k8s-pod-network.${cid}`;
const hostLink = (name: string) => sh(['ip', '-n', HOST, 'link', 'show', 'dev', name]).code === 0;

test('calico CNI plugin: ADD/DEL/CHECK, repeated ADD, failing ADD rolls back (real etcd, namespaces)', { skip: isRoot ? false : 'needs root (network namespaces)' }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cts-cni-etcd-'));
  const procs: ChildProcess[] = [];
  try {
    for (const ns of [HOST, C1, C2]) must(['ip', 'netns', 'add', ns]);
    inHost(['ip', 'link', 'set', 'lo', 'up']);
    // A default route in the host namespace, so proxy ARP answers the workload's gateway (as on a real node).
    inHost(['ip', 'link', 'add', 'uplink0', 'type', 'veth', 'peer', 'name', 'uplink1']);
    inHost(['ip', 'link', 'set', 'uplink1', 'up']);
    inHost(['ip', 'addr', 'add', '192.0.2.10/24', 'dev', 'uplink0']);
    inHost(['ip', 'link', 'set', 'uplink0', 'up']);
    inHost(['ip', 'route', 'add', 'default', 'dev', 'uplink0']);
    const etcd = spawn('ip', ['netns', 'exec', HOST, 'etcd', '--data-dir', dataDir, '--listen-client-urls', ETCD, '--advertise-client-urls', ETCD, '--listen-peer-urls', 'http://127.0.0.1:23800'], { stdio: 'ignore' });
    procs.push(etcd);
    await eventually('etcd', () => sh(['ip', 'netns', 'exec', HOST, 'env', 'ETCDCTL_API=3', 'etcdctl', '--endpoints', ETCD, 'endpoint', 'health']).code === 0);
    const pools = [
      { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'v4' }, spec: { cidr: '198.18.40.0/26', blockSize: 28 } },
      { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'v6' }, spec: { cidr: '2001:db8:40::/122', blockSize: 124 } },
      { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'tiny' }, spec: { cidr: '198.18.41.0/31', blockSize: 31 } },
    ];
    inHost(['env', `ETCD_ENDPOINTS=${ETCD}`, join(ROOT, 'bin/calicoctl'), 'create', '-f', '-'], pools.map((p) => JSON.stringify(p)).join('\n---\n'));

    const n1 = `/var/run/netns/${C1}`;
    const hostIf = hostInterfaceName('web', 'pod-a');

    // VERSION
    const version = plugin('calico', 'VERSION', { cid: 'x', netns: '' });
    assert.ok((version.json!.supportedVersions as string[]).includes('1.1.0'));

    // ADD: a working interface and a WorkloadEndpoint.
    const add = plugin('calico', 'ADD', { cid: 'cid-a', netns: n1, pod: 'pod-a' });
    assert.equal(add.code, 0, add.out + add.err);
    const ips = (add.json!.ips as { address: string; interface: number }[]).map((i) => i.address);
    assert.equal(ips.length, 2);
    const v4 = ips.find((a) => !a.includes(':'))!.split('/')[0]!;
    const v6 = ips.find((a) => a.includes(':'))!.split('/')[0]!;
    assert.match(v4, /^198\.18\.40\./);
    assert.deepEqual((add.json!.interfaces as { name: string; sandbox?: string }[]).map((i) => [i.name, i.sandbox]), [[hostIf, undefined], ['eth0', n1]]);
    const cAddrs = must(['ip', '-n', C1, '-j', 'addr', 'show', 'dev', 'eth0']);
    const link = (JSON.parse(cAddrs) as { mtu: number; addr_info: { local: string; prefixlen: number }[] }[])[0]!;
    assert.equal(link.mtu, 1400);
    assert.ok(link.addr_info.some((a) => a.local === v4 && a.prefixlen === 32));
    assert.ok(link.addr_info.some((a) => a.local === v6 && a.prefixlen === 128));
    assert.match(must(['ip', '-n', C1, 'route', 'show', 'default']), /default via 169\.254\.1\.1 dev eth0/);
    assert.match(must(['ip', '-n', C1, '-6', 'route', 'show', 'default']), /default via fe80::ecee:eeff:feee:eeee dev eth0/);
    const hostSide = (JSON.parse(inHost(['ip', '-j', 'link', 'show', 'dev', hostIf])) as { address: string; operstate: string; flags: string[] }[])[0]!;
    assert.equal(hostSide.address, 'ee:ee:ee:ee:ee:ee');
    assert.ok(hostSide.flags.includes('UP'));
    const wep = JSON.parse(etcdctl('get', '--print-value-only', wepKey('pod--a'))) as { spec: { ipNetworks: string[]; interfaceName: string; containerID: string; profiles: string[] }; metadata: { labels: Record<string, string> } };
    assert.deepEqual(wep.spec.ipNetworks.sort(), [`${v4}/32`, `${v6}/128`].sort());
    assert.equal(wep.spec.interfaceName, hostIf);
    assert.equal(wep.spec.containerID, 'cid-a');
    assert.deepEqual(wep.spec.profiles, ['kns.web']);
    assert.equal(wep.metadata.labels['projectcalico.org/orchestrator'], 'k8s');
    // The plumbing works: with what calico-node would add on the host (proxy ARP, a route), the workload answers.
    inHost(['sysctl', '-qw', `net.ipv4.conf.${hostIf}.proxy_arp=1`, `net.ipv4.conf.${hostIf}.forwarding=1`]);
    inHost(['ip', 'route', 'add', `${v4}/32`, 'dev', hostIf]);
    assert.equal(sh(['ip', 'netns', 'exec', HOST, 'ping', '-c', '1', '-W', '5', v4]).code, 0, 'ping the workload from its host');

    // CHECK against the ADD result.
    const check = plugin('calico', 'CHECK', { cid: 'cid-a', netns: n1, pod: 'pod-a', conf: { ...CONF, prevResult: add.json } });
    assert.equal(check.code, 0, check.out + check.err);

    // Repeated ADD: same addresses, still one handle.
    const again = plugin('calico', 'ADD', { cid: 'cid-a', netns: n1, pod: 'pod-a' });
    assert.equal(again.code, 0, again.out + again.err);
    assert.deepEqual((again.json!.ips as { address: string }[]).map((i) => i.address), ips);
    const handle = JSON.parse(etcdctl('get', '--print-value-only', handleKey('cid-a'))) as { block: Record<string, number> };
    assert.equal(Object.values(handle.block).reduce((a, b) => a + b, 0), 2, 'the handle holds two addresses, not four');

    // A failing ADD (the container already has an eth0): error JSON, nothing left behind.
    const n2 = `/var/run/netns/${C2}`;
    must(['ip', '-n', C2, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0peer']);
    const bad = plugin('calico', 'ADD', { cid: 'cid-b', netns: n2, pod: 'pod-b' });
    assert.equal(bad.code, 1);
    assert.equal(bad.json!.code, 102, bad.out);
    assert.equal(typeof bad.json!.msg, 'string');
    assert.equal(etcdctl('get', '--keys-only', handleKey('cid-b')).trim(), '', 'no addresses kept');
    assert.equal(etcdctl('get', '--keys-only', wepKey('pod--b')).trim(), '', 'no WorkloadEndpoint');
    assert.equal(hostLink(hostInterfaceName('web', 'pod-b')), false, 'no host veth');
    must(['ip', '-n', C2, 'link', 'del', 'eth0']);

    // Pool exhausted: the /31 has two addresses; the third container's ADD fails and keeps nothing.
    const tiny = { ...CONF, ipam: { type: 'calico-ipam', ipv4_pools: ['198.18.41.0/31'] } };
    for (const cid of ['t1', 't2']) assert.equal(plugin('calico-ipam', 'ADD', { cid, netns: n2, conf: tiny }).code, 0);
    const full = plugin('calico', 'ADD', { cid: 'cid-c', netns: n2, pod: 'pod-c', conf: tiny });
    assert.equal(full.code, 1, full.out);
    assert.equal(etcdctl('get', '--keys-only', handleKey('cid-c')).trim(), '');
    assert.equal(hostLink(hostInterfaceName('web', 'pod-c')), false);
    assert.equal(sh(['ip', '-n', C2, 'link', 'show', 'eth0']).code, 1, 'no container interface');
    for (const cid of ['t1', 't2']) assert.equal(plugin('calico-ipam', 'DEL', { cid, netns: '', conf: tiny }).code, 0);
    assert.equal(etcdctl('get', '--keys-only', handleKey('t1')).trim(), '');

    // A namespace that does not exist: error 3, nothing done.
    const gone = plugin('calico', 'ADD', { cid: 'cid-d', netns: '/var/run/netns/ctsc-missing', pod: 'pod-d' });
    assert.equal(gone.json!.code, 3);
    assert.equal(etcdctl('get', '--keys-only', handleKey('cid-d')).trim(), '');

    // DEL: veth, endpoint and addresses gone; a second DEL (netns gone too) still succeeds.
    const del = plugin('calico', 'DEL', { cid: 'cid-a', netns: n1, pod: 'pod-a' });
    assert.equal(del.code, 0, del.out + del.err);
    assert.equal(hostLink(hostIf), false);
    assert.equal(sh(['ip', '-n', C1, 'link', 'show', 'eth0']).code, 1);
    assert.equal(etcdctl('get', '--keys-only', wepKey('pod--a')).trim(), '');
    assert.equal(etcdctl('get', '--keys-only', handleKey('cid-a')).trim(), '');
    must(['ip', 'netns', 'del', C1]);
    const del2 = plugin('calico', 'DEL', { cid: 'cid-a', netns: '', pod: 'pod-a' });
    assert.equal(del2.code, 0, del2.out + del2.err);
    // The addresses really are free again in IPAM.
    for (const ip of [v4, v6]) {
      const shown = inHost(['env', `ETCD_ENDPOINTS=${ETCD}`, join(ROOT, 'bin/calicoctl'), 'ipam', 'show', `--ip=${ip}`]);
      assert.match(shown, /is not assigned/, shown);
    }
    // And a new workload after all this still works (the failed ADDs left no half-state in the way).
    must(['ip', 'netns', 'add', C1]);
    const next = plugin('calico', 'ADD', { cid: 'cid-e', netns: n1, pod: 'pod-e' });
    assert.equal(next.code, 0, next.out + next.err);
    assert.equal(plugin('calico', 'DEL', { cid: 'cid-e', netns: n1, pod: 'pod-e' }).code, 0);
    const leftovers = etcdctl('get', '--prefix', '--keys-only', '/calico/ipam/v2/handle/').trim();
    assert.equal(leftovers, '', 'no IPAM handles left');
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    for (const ns of [C1, C2, HOST]) sh(['ip', 'netns', 'del', ns]);
    rmSync(dataDir, { recursive: true, force: true });
  }
});
