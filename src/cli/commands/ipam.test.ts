// In-process tests of calicoctl ipam show | check | release | configure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../../api/resource.js';
import { main } from '../calicoctl.js';
import { CommandRegistry } from '../command.js';
import { FakeIO } from '../fake-io.js';
import { BUILTIN_COMMANDS } from './index.js';
import { ipamCommand } from './ipam.js';
import { datastorePoolSource } from '../../ipam/datastore-sources.js';
import { IpamClient } from '../../ipam/ipam-client.js';

const res = (kind: Resource['kind'], name: string, spec: Record<string, unknown>, namespace?: string): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}) },
  spec,
});

/** FakeIO whose run() uses a registry with `ipam` (works whether or not index.ts lists it yet). */
class IpamIO extends FakeIO {
  override async run(argv: string | string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const registry = new CommandRegistry();
    for (const c of BUILTIN_COMMANDS) registry.register(c);
    if (!BUILTIN_COMMANDS.includes(ipamCommand)) registry.register(ipamCommand);
    this.out = '';
    this.errOut = '';
    const code = await main(typeof argv === 'string' ? argv.split(' ').filter(Boolean) : argv, this, { registry });
    return { code, stdout: this.out, stderr: this.errOut };
  }
}

async function seeded() {
  const io = new IpamIO();
  const ds = io.datastore;
  await ds.create(res('IPPool', 'v4', { cidr: '192.0.2.0/24', blockSize: 26 }));
  await ds.create(res('IPPool', 'v6', { cidr: '2001:db8::/120' }));
  await ds.create(res('Node', 'n1', {}));
  await ds.create(res('Node', 'n2', {}));
  await ds.create(res('WorkloadEndpoint', 'n1-k8s-web-eth0', { node: 'n1', workload: 'web', orchestrator: 'k8s', endpoint: 'eth0' }, 'prod'));
  const ipam = new IpamClient({ kv: ds.kv, pools: datastorePoolSource(ds) });
  const web = await ipam.autoAssign({ handleId: 'k8s-pod-network.web', host: 'n1', num4: 1, num6: 1, attrs: { namespace: 'prod', workload: 'web' } });
  const gone = await ipam.autoAssign({ handleId: 'k8s-pod-network.gone', host: 'n1', num4: 1, attrs: { namespace: 'prod', workload: 'gone' } });
  return { io, ipam, web, gone };
}

test('ipam show: totals per pool, --show-blocks, --ip, --show-configuration', async () => {
  const { io, web } = await seeded();
  let r = await io.run('ipam show');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^GROUPING +CIDR +IPS TOTAL +IPS IN USE +IPS FREE\n/);
  assert.match(r.stdout, /IP Pool +192\.0\.2\.0\/24 +256 +2 \(1%\) +254 \(99%\)/);
  assert.match(r.stdout, /IP Pool +2001:db8::\/120 +256 +1 \(0%\) +255 \(100%\)/);
  r = await io.run('ipam show --show-blocks');
  assert.match(r.stdout, /Block +192\.0\.2\.\d+\/26 +64 +2 \(3%\) +62 \(97%\)/);
  r = await io.run(`ipam show --ip=${web.ipv4[0]}`);
  assert.match(r.stdout, new RegExp(`IP ${web.ipv4[0]!.replace(/\./g, '\\.')} is in use\nHandle: k8s-pod-network\\.web\n`));
  assert.match(r.stdout, /Attribute workload: web/);
  r = await io.run('ipam show --ip=192.0.2.250');
  assert.match(r.stdout, /is not assigned in IPPool v4/);
  r = await io.run('ipam show --ip=nonsense');
  assert.equal(r.code, 1);
  r = await io.run('ipam show --show-configuration');
  assert.match(r.stdout, /StrictAffinity +false/);
});

test('ipam check finds the leak; release --from-report frees exactly it; check is then clean', async () => {
  const { io, gone, web } = await seeded();
  let r = await io.run('ipam check');
  assert.equal(r.code, 0);
  assert.match(r.stdout, new RegExp(`LEAKED +${gone.ipv4[0]!.replace(/\./g, '\\.')} \\(handle k8s-pod-network\\.gone, node n1, workload prod/gone\\)`));
  r = await io.run('ipam check -o json');
  const report = JSON.parse(r.stdout);
  assert.equal(report.leakedAddresses.length, 1);
  io.files.set('/tmp/report.json', r.stdout);
  r = await io.run('ipam release --from-report=/tmp/report.json');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Released 1 address/);
  r = await io.run('ipam check');
  assert.match(r.stdout, /IPAM is consistent: no problems found\./);
  r = await io.run(`ipam show --ip=${web.ipv4[0]}`);
  assert.match(r.stdout, /is in use/);
  // Replaying the old report skips: the address is no longer allocated.
  r = await io.run('ipam release --from-report=/tmp/report.json');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Skipped .*not allocated/);
});

test('ipam release --ip and its errors', async () => {
  const { io, web } = await seeded();
  let r = await io.run(`ipam release --ip=${web.ipv6[0]}`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Successfully released IP address 2001:db8::/);
  r = await io.run(`ipam release --ip=${web.ipv6[0]}`);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not allocated/);
  r = await io.run('ipam release --ip=203.0.113.1');
  assert.match(r.stderr, /not in any IPPool/);
  r = await io.run('ipam release');
  assert.match(r.stderr, /exactly one of --ip/);
  r = await io.run('ipam release --from-report=/nope.json');
  assert.equal(r.code, 1);
});

test('ipam configure --strictaffinity changes allocation behaviour', async () => {
  const { io, ipam } = await seeded();
  let r = await io.run('ipam configure --strictaffinity=true');
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await ipam.getConfig()).strictAffinity, true);
  r = await io.run('ipam configure --strictaffinity=maybe');
  assert.equal(r.code, 1);
  r = await io.run('ipam configure --max-blocks-per-host=2');
  assert.equal((await ipam.getConfig()).maxBlocksPerHost, 2);
  assert.equal((await ipam.getConfig()).strictAffinity, true, 'unchanged');
  r = await io.run('ipam configure');
  assert.equal(r.code, 1);
  r = await io.run('ipam --help');
  assert.match(r.stdout, /show/);
  assert.match(r.stdout, /configure/);
});
