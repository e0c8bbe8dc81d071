// Two tenants with the same IPv4 /24 in the lab (examples/lab/address-spaces.yaml,
// docs/xlat.md): address spaces tenant-a and tenant-b, two workloads each on
// two hosts in two racks, the same addresses in both. The matrix over TCP,
// UDP and ICMP (probes check WHO answered, since addresses repeat), a ping
// and a traceroute across the fabric, and a `down` that leaves no namespace,
// process or mount (the lab's bpffs) behind.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, assertLabGone, eventually, mountsUnder } from './lab-support.js';

const STATE = mkdtempSync(join(tmpdir(), 'calico-lab-xlat-'));
const NAME = 'spaces';
const PREFIX = 'cts-spaces-';
const isRoot = process.getuid?.() === 0;
const skip = !isRoot ? 'needs root (network namespaces)' : !existsSync(join(ROOT, 'dist/bpf/xlat.o')) ? 'translator not built (bash bpf/xlat/build.sh needs clang and libbpf-dev)' : false;

function lab(args: string[], timeoutMs = 240_000) {
  const r = spawnSync(join(ROOT, 'bin/calico-lab'), args, { encoding: 'utf8', env: { ...process.env, CALICO_LAB_DIR: STATE, CALICO_LAB_NAME: NAME }, timeout: timeoutMs });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
const inLab = (target: string, argv: string[], timeoutMs = 60_000) => lab(['exec', target, '--', ...argv], timeoutMs);

before(() => {
  if (skip) return;
  const r = lab(['up', join(ROOT, 'examples/lab/address-spaces.yaml')], 300_000);
  assert.equal(r.code, 0, `calico-lab up failed:\n${r.stdout}\n${r.stderr}`);
});

after(() => {
  if (skip) return;
  const r = lab(['down', NAME]);
  assert.equal(r.code, 0, r.stderr);
  assertLabGone(STATE, PREFIX);
  rmSync(STATE, { recursive: true, force: true });
});

test('space workloads: the tenant\'s address (not from a pool), endpoints in their space with a MAC, MTU fabric - 20; the bpffs is the lab\'s own', { skip }, () => {
  const wl = JSON.parse(readFileSync(join(STATE, NAME, 'workloads.json'), 'utf8')) as { name: string; addresses: string[]; wepName: string; addressSpace?: string }[];
  assert.deepEqual(wl.map((w) => [w.name, w.addresses.join(','), w.addressSpace ?? '-']), [
    ['a1', '198.51.100.1', 'tenant-a'],
    ['a2', '198.51.100.2', 'tenant-a'],
    ['b1', '198.51.100.1', 'tenant-b'],
    ['b2', '198.51.100.2', 'tenant-b'],
    ['plain-1', wl[4]!.addresses.join(','), '-'],
  ]);
  assert.match(wl[4]!.addresses[0]!, /^198\.19\./, 'the plain workload keeps its pool address');
  const weps = lab(['calicoctl', 'get', 'workloadendpoints', '-A', '-o', 'json']);
  assert.equal(weps.code, 0, weps.stderr);
  const items = (JSON.parse(weps.stdout) as { items: { metadata: { name: string }; spec: { addressSpace?: string; mac?: string; ipNetworks: string[] } }[] }).items;
  for (const w of wl.filter((x) => x.addressSpace)) {
    const spec = items.find((i) => i.metadata.name === w.wepName)?.spec;
    assert.equal(spec?.addressSpace, w.addressSpace, w.name);
    const mac = inLab(w.name, ['cat', '/sys/class/net/eth0/address']).stdout.trim();
    assert.equal(spec?.mac, mac, `${w.name}: spec.mac is the interface's`);
    assert.equal(inLab(w.name, ['cat', '/sys/class/net/eth0/mtu']).stdout.trim(), '1480', `${w.name}: MTU 1500 - 20`);
  }
  const ipam = lab(['calicoctl', 'ipam', 'show', '--ip=198.51.100.1']);
  assert.match(ipam.stdout, /IP 198\.51\.100\.1 is not in any IPPool/, 'space addresses bypass IPAM');
  const bpffs = mountsUnder(STATE).filter((l) => l.split(' ')[2] === 'bpf');
  assert.deepEqual(bpffs.map((l) => l.split(' ')[1]), [join(STATE, NAME, 'bpffs')], 'one bpffs, on the lab\'s state directory');
});

test('hosts route the translated IPv6 /128s learned over BGP, and no space IPv4 at all', { skip }, async () => {
  // 198.51.100.2 = c633:6402: a2 in tenant-a's /96, b2 in tenant-b's, both on host2.
  let routes = '';
  const ok = await eventually(() => {
    routes = inLab('host1', ['ip', '-6', 'route', 'show']).stdout;
    return /^2001:db8:64:1::c633:6402 .*proto bird/m.test(routes) && /^2001:db8:64:2::c633:6402 .*proto bird/m.test(routes);
  }, 60_000, 1000);
  assert.ok(ok, `host1 lacks the translated routes to a2 and b2:\n${routes}`);
  assert.doesNotMatch(inLab('host1', ['ip', '-4', 'route', 'show']).stdout, /198\.51\.100\./);
});

test('matrix: each tenant reaches its own workloads and nothing of the other\'s over TCP, UDP and ICMP (bin/calico-lab probe --expect)', { skip }, async () => {
  let last = '';
  const ok = await eventually(() => {
    const r = lab(['probe', '--expect', join(ROOT, 'examples/lab/address-spaces-expect.yaml')], 120_000);
    last = r.stdout + r.stderr;
    return r.code === 0;
  }, 120_000, 2000);
  assert.ok(ok, `matrix differs:\n${last}`);
  // The probe told the namesakes apart: a1 -> b2 is denied although 198.51.100.2 answers a1 (as a2).
  assert.match(last, /matrix matches/);
});

test('ping: a1 reaches a2 across racks by its tenant address', { skip }, () => {
  const r = inLab('a1', ['ping', '-c', '3', '-i', '0.2', '-W', '2', '198.51.100.2']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /3 packets transmitted, 3 received/);
  assert.match(r.stdout, /from 198\.51\.100\.2: icmp_seq=1/);
});

test('traceroute: every router on the way answers (as 192.0.0.8, RFC 7600), then a2 itself', { skip }, () => {
  const r = inLab('a1', ['traceroute', '-n', '-q', '1', '-w', '2', '-m', '10', '198.51.100.2']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const hops = r.stdout.split('\n').slice(1).filter((l) => /^\s*\d+\s/.test(l)).map((l) => l.trim().split(/\s+/)[1]);
  // host1, ToR rack1, border, ToR rack2, host2: each decrements the hop limit once, as in native routing.
  assert.deepEqual(hops, ['192.0.0.8', '192.0.0.8', '192.0.0.8', '192.0.0.8', '192.0.0.8', '198.51.100.2'], r.stdout);
});
