// calicoctl node diags and checksystem on a host namespace with a real
// calico-node (etcd, BIRD, nft backend, health and metrics endpoints) and one
// workload on a cali veth. diags runs as bin/calicoctl inside the host's
// namespace, the archive is unpacked and the key files must hold the real
// state: the workload's route and neighbour, our nft table, BIRD's config and
// status, readiness, metrics, the Node from etcd, calico-node's log, the
// sysctls calico-node set. checksystem must pass there and leave nothing
// behind in the host's namespace. Everything is deleted even on failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from '../../../src/api/resource.js';
import { eventually } from '../../support/eventually.js';
import { inNs, must, putResource, sh } from './node-shell.js';

const ROOT = new URL('../../../../', import.meta.url).pathname;
const isRoot = process.getuid?.() === 0;
const suffix = `${process.pid % 100000}`;
const HOST = `ctsd-h${suffix}`;
const WL = `ctsd-w${suffix}`;
const IFACE = `cali${suffix.padStart(5, '0')}dgs`.slice(0, 15);
const ETCD = 'http://127.0.0.1:23792';

const inHost = (argv: string[], input?: string) => inNs(HOST, argv, input);


const put = (r: Resource): void => putResource(HOST, ETCD, r);

test('calicoctl node diags bundles the real state of a running node; checksystem passes and leaves the host untouched', { skip: isRoot ? false : 'needs root (network namespaces)' }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'cts-diags-'));
  const dataDir = join(work, 'etcd');
  const runDir = join(work, 'run');
  const logDir = join(work, 'logs');
  const bundles = join(work, 'bundles');
  for (const d of [runDir, logDir, bundles]) mkdirSync(d, { recursive: true });
  const procs: ChildProcess[] = [];
  try {
    must(['ip', 'netns', 'add', HOST]);
    must(['ip', 'netns', 'add', WL]);
    inHost(['ip', 'link', 'set', 'lo', 'up']);
    must(['ip', '-n', HOST, 'link', 'add', IFACE, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', WL]);
    inHost(['ip', 'link', 'set', IFACE, 'up']);
    must(['ip', '-n', WL, 'link', 'set', 'eth0', 'up']);
    must(['ip', '-n', WL, 'addr', 'add', '198.18.1.2/32', 'dev', 'eth0']);
    const wlMac = (JSON.parse(must(['ip', '-n', WL, '-j', 'link', 'show', 'eth0'])) as Array<{ address: string }>)[0]!.address;

    procs.push(spawn('ip', ['netns', 'exec', HOST, 'etcd', '--data-dir', dataDir, '--listen-client-urls', ETCD, '--advertise-client-urls', ETCD, '--listen-peer-urls', 'http://127.0.0.1:23802'], { stdio: 'ignore' }));
    await eventually('etcd', () => sh(['ip', 'netns', 'exec', HOST, 'env', 'ETCDCTL_API=3', 'etcdctl', '--endpoints', ETCD, 'endpoint', 'health']).code === 0);
    put({ apiVersion: 'projectcalico.org/v3', kind: 'Profile', metadata: { name: 'kns.default' }, spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] } });
    put({
      apiVersion: 'projectcalico.org/v3',
      kind: 'WorkloadEndpoint',
      metadata: { name: 'wl1', namespace: 'default' },
      spec: { node: 'host1', orchestrator: 'k8s', interfaceName: IFACE, mac: wlMac, ipNetworks: ['198.18.1.2/32'], profiles: ['kns.default'] },
    });

    // calico-node logs to a file in the log dir, as a packaged calico/node does under /var/log/calico.
    const logFd = openSync(join(logDir, 'calico-node.log'), 'a');
    const health = { FELIX_HEALTHHOST: '127.0.0.1', FELIX_HEALTHPORT: '29099', FELIX_PROMETHEUSMETRICSHOST: '127.0.0.1', FELIX_PROMETHEUSMETRICSPORT: '29191' };
    procs.push(
      spawn('ip', ['netns', 'exec', HOST, join(ROOT, 'bin/calico-node')], {
        env: {
          ...process.env,
          ...health,
          NODENAME: 'host1',
          NO_DEFAULT_POOLS: 'true',
          IP: '192.0.2.10/24',
          CALICO_NETWORKING_BACKEND: 'bird',
          CALICO_RUN_DIR: runDir,
          DATASTORE_TYPE: 'etcdv3',
          ETCD_ENDPOINTS: ETCD,
          FELIX_HEALTHENABLED: 'true',
          FELIX_PROMETHEUSMETRICSENABLED: 'true',
          FELIX_LOGSEVERITYSCREEN: 'Info',
        },
        stdio: ['ignore', logFd, logFd],
      }),
    );
    closeSync(logFd);
    await eventually('readiness', () => sh(['ip', 'netns', 'exec', HOST, 'curl', '-sf', 'http://127.0.0.1:29099/readiness']).code === 0);
    await eventually('BIRD answering', () => /Daemon is up and running/.test(sh(['ip', 'netns', 'exec', HOST, 'birdc', '-s', join(runDir, 'bird', 'bird.ctl'), 'show', 'status']).out));
    await eventually('workload route', () => /198\.18\.1\.2/.test(inHost(['ip', 'route', 'show', 'dev', IFACE])));

    // --- diags, as an operator runs it on the node.
    const diags = sh(['ip', 'netns', 'exec', HOST, 'env', `TMPDIR=${bundles}`, `CALICO_RUN_DIR=${runDir}`, `ETCD_ENDPOINTS=${ETCD}`, ...Object.entries(health).map(([k, v]) => `${k}=${v}`), join(ROOT, 'bin/calicoctl'), 'node', 'diags', `--log-dir=${logDir}`]);
    assert.equal(diags.code, 0, diags.out + diags.err);
    const archive = /^Diags saved to (\S+\.tar\.gz)$/m.exec(diags.out)?.[1];
    assert.ok(archive && existsSync(archive), `archive path printed:\n${diags.out}`);
    assert.ok(archive.startsWith(bundles + '/calico'), 'in a temp dir under TMPDIR');
    const unpacked = join(work, 'unpacked');
    mkdirSync(unpacked);
    must(['tar', '-xzf', archive, '-C', unpacked]);
    const file = (name: string) => readFileSync(join(unpacked, 'diagnostics', name), 'utf8');

    const summary = JSON.parse(file('summary.json')) as { node: string; policyBackend: string; collectors: Array<{ file: string; result: string; detail: string }> };
    assert.deepEqual(summary.collectors.filter((c) => c.result === 'failed'), [], 'nothing failed on a healthy node');
    assert.equal(summary.node, 'host1');
    assert.equal(summary.policyBackend, 'nftables (table inet calico)');
    assert.match(file('summary.txt'), /^network\/ipv4_route +ok +\d+ bytes$/m);

    assert.match(file('network/ipv4_route'), new RegExp(`198\\.18\\.1\\.2 dev ${IFACE}`));
    assert.match(file('network/ipv4_neigh'), new RegExp(`198\\.18\\.1\\.2 dev ${IFACE} lladdr ${wlMac} PERMANENT`));
    assert.match(file('network/ipv4_addr'), /inet 127\.0\.0\.1\/8/);
    assert.match(file('network/links'), new RegExp(`${IFACE}@`));
    assert.match(file('network/sysctls'), new RegExp(`^net\\.ipv4\\.conf\\.${IFACE}\\.proxy_arp = 1$`, 'm'), 'the sysctl calico-node set on the workload interface');
    assert.match(file('network/sysctls'), /^net\.ipv4\.ip_forward = 1$/m);
    assert.match(file('dataplane/nft_ruleset'), /table inet calico \{/);
    assert.ok(!existsSync(join(unpacked, 'diagnostics/dataplane/ipsets')), 'the iptables backend is not in use: not collected');
    assert.match(file('conntrack/count'), /^\d+\n$/);
    assert.match(file('bird/status'), /BIRD 2\.[\s\S]*Daemon is up and running/);
    assert.match(file('bird/protocols'), /calico_direct|Direct/);
    assert.match(file('bird/bird.conf'), /router id 192\.0\.2\.10;/);
    assert.match(file('calico-node/nodename'), /^host1$/);
    assert.match(file('calico-node/node_status'), /^Calico process is running\./);
    assert.match(file('calico-node/readiness'), /"ready":true/);
    assert.match(file('calico-node/liveness'), /"live":true/);
    assert.match(file('calico-node/metrics'), /^# (HELP|TYPE) /m);
    assert.match(file('datastore/node.yaml'), /kind: Node\n[\s\S]*name: host1\n[\s\S]*ipv4Address: 192\.0\.2\.10\/24/);
    assert.match(file('logs/calico-node.log'), /using IPv4 address from IP/);
    assert.match(file('versions/bird'), /BIRD version 2\./);
    assert.match(file('versions/kernel'), /^Linux /);

    // --- checksystem: passes here, and its probes leave nothing in the host's namespace.
    const before = { links: inHost(['ip', '-o', 'link']), rules: inHost(['ip', 'rule']), nft: inHost(['nft', 'list', 'ruleset']), fwd: inHost(['cat', '/proc/sys/net/ipv4/conf/lo/proxy_arp']) };
    const check = sh(['ip', 'netns', 'exec', HOST, join(ROOT, 'bin/calicoctl'), 'node', 'checksystem']);
    assert.equal(check.code, 0, check.out + check.err);
    assert.match(check.out, /^nftables +OK +works in a scratch network namespace$/m);
    assert.match(check.out, /^veth +OK/m);
    assert.match(check.out, /System meets minimum system requirements to run Calico!/);
    const after = { links: inHost(['ip', '-o', 'link']), rules: inHost(['ip', 'rule']), nft: inHost(['nft', 'list', 'ruleset']), fwd: inHost(['cat', '/proc/sys/net/ipv4/conf/lo/proxy_arp']) };
    assert.deepEqual(after, before, 'checksystem changed nothing in the host namespace');
    assert.doesNotMatch(after.links + after.nft, /calicheck/);
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    sh(['ip', 'netns', 'del', WL]);
    // BIRD runs in its own session: kill whatever is left in the host namespace.
    sh(['ip', 'netns', 'pids', HOST]).out.split('\n').filter(Boolean).forEach((pid) => sh(['kill', '-9', pid]));
    sh(['ip', 'netns', 'del', HOST]);
    rmSync(work, { recursive: true, force: true });
  }
});
