// Two address spaces that both use 198.18.5.0/24, with workloads on two hosts
// each (the same IPv4 address on the same host and across hosts), through the
// real calico-node + BIRD + tc translator. Shows: each workload reaches its
// own space and nothing of the other's (TCP, UDP, ICMP matrix), ping and
// traceroute, path-MTU discovery through translated ICMP errors, the fabric
// sees IPv6 that calicoctl decodes back to space + IPv4, DC-SIIT to an IPv6
// service, and a translator reload in the middle of a TCP stream.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Resource } from '../../../src/api/resource.js';
import { PROBE, ECHO, SpaceLab, eventually, sh, type LabHost, type LabWorkload } from './space-lab.js';
import { xlatUnavailable } from './runner.js';

const ROOT = new URL('../../../../', import.meta.url).pathname;
const haveBird = spawnSync('bird', ['--version']).status === 0;
const skip = xlatUnavailable() ?? (haveBird ? false : 'bird not installed');
const PORT = 7000;
const SPACE_A = '2001:db8:64:1::/96';
const SPACE_B = '2001:db8:64:2::/96';
const SERVICE6 = '2001:db8:f00::10';

const meta = (name: string, namespace?: string) => ({ name, ...(namespace ? { namespace } : {}), creationTimestamp: '2026-12-01T00:00:00Z' });
const res = (kind: Resource['kind'], name: string, spec: Record<string, unknown>, namespace?: string): Resource => ({ apiVersion: 'projectcalico.org/v3', kind, metadata: meta(name, namespace), spec });

describe('two address spaces with the same IPv4 /24 on two hosts', { skip, timeout: 240_000 }, () => {
  let lab: SpaceLab;
  let h1: LabHost;
  let h2: LabHost;
  const w: Record<string, LabWorkload> = {};
  const servers: Record<string, { output: () => string }> = {};

  const endpoint = (wl: LabWorkload, ip: string, space?: string): Resource => ({
    ...res('WorkloadEndpoint', `${wl.host.name}-cni-${wl.name}-eth0`, {
      node: wl.host.name,
      orchestrator: 'cni',
      containerID: wl.name,
      endpoint: 'eth0',
      interfaceName: wl.iface,
      mac: wl.mac,
      ipNetworks: [ip.includes(':') ? `${ip}/128` : `${ip}/32`],
      profiles: ['kns.t'],
      ...(space ? { addressSpace: space } : {}),
    }, 't'),
    metadata: { ...meta(`${wl.host.name}-cni-${wl.name}-eth0`, 't'), labels: { workload: wl.name } },
  });

  before(async () => {
    lab = new SpaceLab();
    h1 = lab.addHost('h1', 1);
    h2 = lab.addHost('h2', 2);
    await lab.startEtcd(h1);
    // Translated workloads get fabric MTU - 20 (docs/design/xlat.md "MTU").
    w.a1 = lab.workload(h1, 'a1', '198.18.5.1', { mtu: 1480 });
    w.b1 = lab.workload(h1, 'b1', '198.18.5.1', { mtu: 1480 });
    w.a2 = lab.workload(h2, 'a2', '198.18.5.2', { mtu: 1480 });
    w.b2 = lab.workload(h2, 'b2', '198.18.5.2', { mtu: 1480 });
    w.b3 = lab.workload(h2, 'b3', '198.18.5.3', { mtu: 1480 });
    w.svc = lab.workload(h2, 'svc', SERVICE6);
    lab.put(res('Profile', 'kns.t', { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] }));
    lab.put(res('IPPool', 'services-v6', { cidr: '2001:db8:f00::/120' }));
    lab.put(res('AddressSpace', 'tenant-a', { prefix: SPACE_A, services: [{ ipv4: '198.18.200.10', ipv6: SERVICE6 }] }));
    lab.put(res('AddressSpace', 'tenant-b', { prefix: SPACE_B }));
    for (const [name, ip, space] of [['a1', '198.18.5.1', 'tenant-a'], ['b1', '198.18.5.1', 'tenant-b'], ['a2', '198.18.5.2', 'tenant-a'], ['b2', '198.18.5.2', 'tenant-b'], ['b3', '198.18.5.3', 'tenant-b'], ['svc', SERVICE6, undefined]] as const) {
      lab.put(endpoint(w[name]!, ip, space));
    }
    for (const name of ['a1', 'b1', 'a2', 'b2', 'b3', 'svc']) servers[name] = await lab.spawn(w[name]!.ns, [process.execPath, ECHO, name, String(PORT)], true);
    lab.startNode(h1);
    lab.startNode(h2);
    // Ready when each host learnt the other's translated /128s over BGP (IPv6 session) and the translator is attached.
    await eventually('BGP routes for the translated addresses', () => {
      const r1 = lab.in(h1.ns, ['ip', '-6', 'route', 'show', 'proto', 'bird']);
      const r2 = lab.in(h2.ns, ['ip', '-6', 'route', 'show', 'proto', 'bird']);
      return r1.includes('2001:db8:64:1::c612:502') && r1.includes('2001:db8:64:2::c612:503') && r1.includes(SERVICE6) && r2.includes('2001:db8:64:1::c612:501') && r2.includes('2001:db8:64:2::c612:501');
    }, 90_000).catch((err: Error) => {
      throw new Error(`${err.message}\nh1 log:\n${h1.log.slice(-4000)}\nh2 log:\n${h2.log.slice(-4000)}`);
    });
    for (const name of ['a1', 'b1', 'a2', 'b2', 'b3']) {
      const wl = w[name]!;
      await eventually(`translator on ${name}`, () => /xlat_from_wl/.test(lab.in(wl.host.ns, ['tc', 'filter', 'show', 'dev', wl.iface, 'ingress'])) && /xlat_to_wl/.test(lab.in(wl.host.ns, ['tc', 'filter', 'show', 'dev', wl.iface, 'egress'])));
    }
  });
  after(() => lab?.destroy());

  test('matrix over TCP, UDP and ICMP: each workload reaches its own space (same host and across hosts) and nothing of the other space', () => {
    // Who answers on each IPv4 address, per space; undefined = nobody in this space has it.
    const owner: Record<string, Record<string, string | undefined>> = {
      'tenant-a': { '198.18.5.1': 'a1', '198.18.5.2': 'a2', '198.18.5.3': undefined },
      'tenant-b': { '198.18.5.1': 'b1', '198.18.5.2': 'b2', '198.18.5.3': 'b3' },
    };
    const ipOf: Record<string, string> = { a1: '198.18.5.1', b1: '198.18.5.1', a2: '198.18.5.2', b2: '198.18.5.2', b3: '198.18.5.3' };
    const spaceOf = (n: string) => (n.startsWith('a') ? 'tenant-a' : 'tenant-b');
    const got: string[] = [];
    const want: string[] = [];
    for (const from of ['a1', 'b1', 'a2', 'b2', 'b3']) {
      for (const dst of ['198.18.5.1', '198.18.5.2', '198.18.5.3']) {
        if (dst === ipOf[from]) continue;
        const expect = owner[spaceOf(from)]![dst];
        for (const proto of ['tcp', 'udp'] as const) {
          const out = lab.probe(w[from]!, proto, dst, PORT);
          got.push(`${from} -> ${dst} ${proto}: ${out.startsWith('ok') ? out.slice(3) : 'no answer'}`);
          want.push(`${from} -> ${dst} ${proto}: ${expect ? `${expect} ${ipOf[from]}` : 'no answer'}`);
        }
        const ping = spawnSync('ip', ['netns', 'exec', w[from]!.ns, 'ping', '-n', '-c', '1', '-W', '1', dst], { encoding: 'utf8' }).status === 0;
        got.push(`${from} -> ${dst} icmp: ${ping ? 'reached' : 'no answer'}`);
        want.push(`${from} -> ${dst} icmp: ${expect ? 'reached' : 'no answer'}`);
      }
    }
    // The answer names the server (so its space) and the client's address as the server saw it (translated back).
    assert.deepEqual(got, want);
  });

  test('policy still applies per endpoint, on selectors: a Deny from a1 to a2 over TCP leaves UDP, and b1 -> b2 (same IPv4 addresses), alone', async () => {
    lab.put(
      res('GlobalNetworkPolicy', 'a2-no-tcp-from-a1', {
        selector: "workload == 'a2'",
        ingress: [{ action: 'Deny', protocol: 'TCP', source: { selector: "workload == 'a1'" } }, { action: 'Allow' }],
        egress: [{ action: 'Allow' }],
      }),
    );
    try {
      await eventually('the Deny in force', () => /^fail/.test(lab.probe(w.a1!, 'tcp', '198.18.5.2', PORT)), 20000);
      assert.equal(lab.probe(w.a1!, 'udp', '198.18.5.2', PORT), 'ok a2 198.18.5.1');
      assert.equal(lab.probe(w.b1!, 'tcp', '198.18.5.2', PORT), 'ok b2 198.18.5.1', 'the same IPv4 pair in the other space is not matched');
    } finally {
      lab.del('GlobalNetworkPolicy', 'a2-no-tcp-from-a1');
    }
    await eventually('the Deny gone', () => lab.probe(w.a1!, 'tcp', '198.18.5.2', PORT) === 'ok a2 198.18.5.1', 20000);
  });

  test('ping and traceroute across hosts: hops are the two hosts (192.0.0.8, RFC 7600: routers without an IPv4 address), then the peer', () => {
    const ping = lab.in(w.a1!.ns, ['ping', '-n', '-c', '3', '-i', '0.2', '198.18.5.2']);
    assert.match(ping, /3 packets transmitted, 3 received/);
    const tr = lab.in(w.b1!.ns, ['traceroute', '-n', '-q', '1', '-w', '2', '-m', '5', '198.18.5.3']);
    const hops = tr.split('\n').slice(1).filter(Boolean).map((l) => l.trim().split(/\s+/)[1]);
    assert.deepEqual(hops, ['192.0.0.8', '192.0.0.8', '198.18.5.3'], tr);
  });

  test('path-MTU discovery: a workload left at MTU 1500 learns 1480 from the translated "packet too big"', () => {
    sh(['ip', '-n', w.a1!.ns, 'link', 'set', 'eth0', 'mtu', '1500']);
    try {
      sh(['ip', '-n', w.a1!.ns, 'route', 'flush', 'cache'], { allowFail: true });
      const first = lab.in(w.a1!.ns, ['ping', '-n', '-c', '2', '-i', '0.3', '-W', '1', '-M', 'do', '-s', '1472', '198.18.5.2'], { allowFail: true });
      assert.match(first, /mtu ?= ?1480/i, first);
      const cached = lab.in(w.a1!.ns, ['ip', 'route', 'get', '198.18.5.2']);
      assert.match(cached, /mtu 1480/, 'the kernel cached the path MTU from the translated ICMP error');
      const fits = lab.in(w.a1!.ns, ['ping', '-n', '-c', '1', '-W', '1', '-M', 'do', '-s', '1452', '198.18.5.2'], { allowFail: true });
      assert.match(fits, /1 received/);
    } finally {
      sh(['ip', '-n', w.a1!.ns, 'link', 'set', 'eth0', 'mtu', '1480']);
    }
  });

  test('a capture on the fabric shows IPv6 only; calicoctl xlat decode reads space and IPv4 off it', async () => {
    const cap = await lab.spawn(h1.ns, ['tcpdump', '-l', '-n', '-i', 'eth0', '-c', '2', 'icmp6 and (ip6[40] == 128 or ip6[40] == 129)']);
    await new Promise((r) => setTimeout(r, 1000));
    lab.in(w.b1!.ns, ['ping', '-n', '-c', '1', '-W', '1', '198.18.5.2']);
    await eventually('capture', () => cap.exitCode !== null || (cap.output().match(/ICMP6/g) ?? []).length >= 2, 10000);
    const lines = cap.output().split('\n').filter((l) => l.includes('ICMP6'));
    assert.match(lines[0]!, /2001:db8:64:2::c612:501 > 2001:db8:64:2::c612:502: ICMP6, echo request/);
    assert.ok(!/IP 198\.18/.test(cap.output()), 'no IPv4 of a space on the fabric');
    const out = spawnSync('ip', ['netns', 'exec', h1.ns, join(ROOT, 'bin/calicoctl'), 'xlat', 'decode', '2001:db8:64:2::c612:501', '2001:db8:64:2::c612:502'], { encoding: 'utf8', env: { ...process.env, DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: lab.etcdUrl } });
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stdout, /2001:db8:64:2::c612:501 +tenant-b +198\.18\.5\.1/);
    assert.match(out.stdout, /2001:db8:64:2::c612:502 +tenant-b +198\.18\.5\.2/);
    const eps = spawnSync('ip', ['netns', 'exec', h1.ns, join(ROOT, 'bin/calicoctl'), 'xlat', 'endpoints', 'tenant-b'], { encoding: 'utf8', env: { ...process.env, DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: lab.etcdUrl } });
    assert.equal((eps.stdout.match(/tenant-b|h[12]-cni-b\d-eth0/g) ?? []).length, 3, eps.stdout);
  });

  test('DC-SIIT: tenant A reaches the IPv6 service through 198.18.200.10 (the service sees its translated address); tenant B has no such mapping', () => {
    assert.equal(lab.probe(w.a1!, 'tcp', '198.18.200.10', PORT), 'ok svc 2001:db8:64:1::c612:501');
    assert.equal(lab.probe(w.a2!, 'udp', '198.18.200.10', PORT), 'ok svc 2001:db8:64:1::c612:502');
    assert.match(lab.in(w.a1!.ns, ['ping', '-n', '-c', '1', '-W', '1', '198.18.200.10']), /1 received/);
    assert.match(lab.probe(w.b1!, 'tcp', '198.18.200.10', PORT), /^fail/);
  });

  test('translator reload (SIGUSR2 to calico-node on both hosts) in the middle of a TCP stream: the stream survives, every byte arrives', async () => {
    const sink = await lab.spawn(w.a2!.ns, [process.execPath, PROBE, 'sink', String(PORT + 1)], true);
    const before = lab.in(h1.ns, ['tc', 'filter', 'show', 'dev', w.a1!.iface, 'ingress']);
    const stream = await lab.spawn(w.a1!.ns, [process.execPath, PROBE, 'stream', '198.18.5.2', String(PORT + 1), '6']);
    await new Promise((r) => setTimeout(r, 2000));
    for (const h of [h1, h2]) h.node!.kill('SIGUSR2');
    await eventually('reload on both hosts', () => /translator reloaded on every interface/.test(h1.log) && /translator reloaded on every interface/.test(h2.log), 10000);
    const afterReload = lab.in(h1.ns, ['tc', 'filter', 'show', 'dev', w.a1!.iface, 'ingress']);
    const id = (t: string) => /xlat_from_wl.* id (\d+)/.exec(t)?.[1];
    assert.notEqual(id(afterReload), id(before), 'a new program is attached');
    await eventually('stream end', () => stream.exitCode !== null && /^\d+$/m.test(sink.output()), 20000);
    const sent = Number(stream.output().trim().split('\n').pop());
    const received = Number(sink.output().split('\n').filter((l) => /^\d+$/.test(l)).pop());
    assert.equal(stream.exitCode, 0, stream.output());
    assert.ok(sent > 1_000_000, `sent ${sent}`);
    assert.equal(received, sent, 'the receiver got every byte');
    // The reload round read the program's counters: calico-node exports them.
    const count = (h: LabHost, result: string) => Number(new RegExp(`^calico_xlat_packets_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(lab.metrics(h))?.[1] ?? -1);
    assert.ok(count(h1, 'translated-4to6') > 1000, `h1 metrics:\n${lab.metrics(h1)}`);
    assert.ok(count(h2, 'translated-6to4') > 1000);
  });

  test('calico-node stopped: translated traffic keeps flowing (no agent, no state); restarted: it keeps the pinned program, the old copy is gone', async () => {
    const idOf = () => /xlat_from_wl.* id (\d+)/.exec(lab.in(h1.ns, ['tc', 'filter', 'show', 'dev', w.a1!.iface, 'ingress']))?.[1];
    const before = idOf();
    assert.ok(before);
    h1.node!.kill('SIGTERM');
    await eventually('calico-node on h1 stopped', () => h1.node!.exitCode !== null, 15000);
    assert.equal(lab.probe(w.a1!, 'tcp', '198.18.5.2', PORT), 'ok a2 198.18.5.1', 'the translator works without the agent');
    h1.log = '';
    lab.startNode(h1);
    await eventually('in sync again', () => /datastore in sync/.test(h1.log), 30000);
    await new Promise((r) => setTimeout(r, 3000)); // let its first translator round run (a no-op when it keeps the program)
    assert.equal(idOf(), before, 'the restarted agent kept the attached program');
    const progs = lab.in(h1.ns, ['ls', join(lab.bpffs, 'h1')]).split('\n').filter((d) => d.startsWith('prog-'));
    assert.equal(progs.length, 1, `one program copy pinned after the reload: ${progs.join(' ')}`);
    assert.equal(lab.probe(w.a1!, 'udp', '198.18.5.2', PORT), 'ok a2 198.18.5.1');
  });
});
