// bin/calicoctl ipam against a private etcd: show, check -o json, release --from-report,
// configure. Addresses are allocated with IpamClient as calico-node / CNI would.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcd, type EtcdHandle } from '../support/etcd.js';
import { EtcdKV } from '../../src/datastore/etcd-kv.js';
import { IpamClient } from '../../src/ipam/ipam-client.js';
import { poolView, staticPoolSource } from '../../src/ipam/pools.js';

const BIN = join(new URL('../../..', import.meta.url).pathname, 'bin/calicoctl');
let etcd: EtcdHandle;
let kv: EtcdKV;
let scratch: string;

function calicoctl(args: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...etcd.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

before(async () => {
  etcd = await startEtcd();
  kv = new EtcdKV({ endpoints: [etcd.endpoint] });
  scratch = mkdtempSync(join(tmpdir(), 'calico-ts-ipam-cli-'));
});
after(async () => {
  await kv.close();
  await etcd.stop();
  rmSync(scratch, { recursive: true, force: true });
});

test('calicoctl ipam show / check / release --from-report / configure against etcd', { timeout: 60_000 }, async () => {
  const yaml = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-v4
spec:
  cidr: 198.51.100.0/24
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: node-1
spec: {}
`;
  let r = await calicoctl(['create', '-f', '-'], yaml);
  assert.equal(r.code, 0, r.stderr);
  const ipam = new IpamClient({ kv, pools: staticPoolSource([poolView({ name: 'pool-v4', cidr: '198.51.100.0/24' })]) });
  const tunnel = await ipam.autoAssign({ handleId: 'ipip-tunnel-addr-node-1', host: 'node-1', num4: 1, attrs: { type: 'tunnel' } });
  const leaked = await ipam.autoAssign({ handleId: 'k8s-pod-network.gone', host: 'node-1', num4: 2, attrs: { namespace: 'default', workload: 'gone' } });

  r = await calicoctl(['ipam', 'show']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /IP Pool +198\.51\.100\.0\/24 +256 +3 \(1%\) +253 \(99%\)/);
  r = await calicoctl(['ipam', 'show', `--ip=${tunnel.ipv4[0]}`]);
  assert.match(r.stdout, /is in use\nHandle: ipip-tunnel-addr-node-1/);

  r = await calicoctl(['ipam', 'check', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { leakedAddresses: { ip: string }[] };
  assert.deepEqual(report.leakedAddresses.map((l) => l.ip).sort(), [...leaked.ipv4].sort(), 'only the workload that does not exist leaks');
  const file = join(scratch, 'report.json');
  writeFileSync(file, r.stdout);
  r = await calicoctl(['ipam', 'release', `--from-report=${file}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Released 2 address/);
  r = await calicoctl(['ipam', 'check']);
  assert.match(r.stdout, /IPAM is consistent: no problems found\./);

  r = await calicoctl(['ipam', 'release', `--ip=${leaked.ipv4[0]}`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not allocated/);
  r = await calicoctl(['ipam', 'configure', '--strictaffinity=true']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await ipam.getConfig()).strictAffinity, true);
  r = await calicoctl(['ipam', 'show', '--show-configuration']);
  assert.match(r.stdout, /StrictAffinity +true/);
});
