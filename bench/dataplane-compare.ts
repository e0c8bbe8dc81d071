// Dataplane comparison (issue 13), a benchmark (not a test). Four paths built
// side by side on the SAME two hosts (network namespaces joined by a veth),
// measured in one run, alternating path by path and rotating the order each
// round so that drift (other work on the machine, thermal, caches) hits all
// of them alike; medians per path, then ratios:
//   (a) routed + policy   workload -> cali veth -> host routing -> host -> cali veth -> workload,
//                         our agent's ruleset with an ingress and an egress policy
//   (b) routed            the same workloads and agent, no policy (open profile)
//   (c) VXLAN overlay     what overlay networks build: a bridge per host with a VXLAN
//                         device (VNI 42, UDP 4789) on it, workloads on the bridge with
//                         MTU 1450 (1500 minus the 50-byte encapsulation)
//   (d) bare              host to host over the same veth
// Each: iperf3 TCP throughput with 1 and 4 streams, new TCP connections/s
// (8 loops of connect -> reply -> close), connect time (the first packet of a
// new flow through everything and back). The profile of each path (iperf3's CPU
// use on both ends, retransmits, MTU, ruleset size) goes into the JSON so a
// missed goal can be explained.
// Needs root and iperf3. Usage:
//   node dist/bench/dataplane-compare.js [--rounds 5] [--seconds 5] [--backend nftables|iptables] [--quick]
// Prints a table and writes bench/results/dataplane-compare.json.

import { spawnSync } from 'node:child_process';
import type { CalcUpdate } from '../src/calc/output.js';
import { allowAll, policy, rule, side, workload } from '../src/dataplane/testing-fixtures.js';
import { PATHS, PATH_LABELS, dataplaneRatios, type PathMedians, type PathName } from '../src/perf-report/ratios.js';
import { TestAgent } from '../test/kernel/dataplane/agent.js';
import { PROBE, Topology, sh, type Workload } from '../test/kernel/dataplane/topology.js';
import { arg, iperf3Tcp, machineLine, median, nftRulesetLines, printTable, quick, requireIperf3, writeResult } from './harness.js';

const ROUNDS = Number(arg('rounds', quick ? '1' : '5'));
const SECONDS = Number(arg('seconds', quick ? '1' : '5'));
const CONN_SECONDS = Number(arg('conn-seconds', quick ? '1' : '3'));
const CONNECTS = Number(arg('connects', quick ? '50' : '500'));
const backend = arg('backend', 'nftables') as 'nftables' | 'iptables';
const IPERF_PORT = 5201;
const PROBE_PORT = 8080;

interface Samples {
  tcp1Gbps: number[];
  tcp4Gbps: number[];
  connPerSecond: number[];
  connectP50Us: number[];
  /** iperf3's own CPU accounting (percent of one CPU, sender and receiver), single stream. */
  senderCpuPct: number[];
  receiverCpuPct: number[];
  /** The whole machine during the single-stream sample (all CPUs, softirq included): iperf3 sees only its own process. */
  machineBusyPct: number[];
  softirqPct: number[];
  retransmits: number[];
  connectErrors: number;
}

interface Endpoints {
  client: string;
  server: string;
  serverIp: string;
  mtu: number;
}

const iperf = (p: Endpoints, streams: number) => iperf3Tcp(p.client, p.serverIp, { port: IPERF_PORT, seconds: SECONDS, streams });

function probe(ns: string, args: string[]): number[] {
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, PROBE, ...args], { encoding: 'utf8' });
  return r.stdout.trim().split(' ').map(Number);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) return void console.log('dataplane-compare: skipped (needs root for network namespaces)');
  requireIperf3('dataplane-compare');
  const topo = new Topology();
  try {
    const { h1, h2 } = topo.hosts();
    // (a)/(b): Calico-style workloads, one per host, routed between hosts (BGP's job elsewhere: static here).
    const wa = topo.workload(h1, { name: 'wa', iface: 'calicmpclient01', ip: '198.18.1.1', ip6: '2001:db8:1::1', mac: '02:00:00:00:01:01' });
    const wb = topo.workload(h2, { name: 'wb', iface: 'calicmpserver02', ip: '198.18.2.1', ip6: '2001:db8:2::1', mac: '02:00:00:00:02:01' });
    sh(['ip', '-n', h1, 'route', 'add', '198.18.2.0/24', 'via', '192.0.2.2']);
    sh(['ip', '-n', h2, 'route', 'add', '198.18.1.0/24', 'via', '192.0.2.1']);
    // Proxy ARP for 169.254.1.1 answers only for targets routed out of another interface: hosts have a default route.
    sh(['ip', '-n', h1, 'route', 'add', 'default', 'via', '192.0.2.2']);
    sh(['ip', '-n', h2, 'route', 'add', 'default', 'via', '192.0.2.1']);
    // (c): bridge + VXLAN on the same hosts, workloads on the bridge.
    const overlay = (host: string, n: number) => {
      const local = `192.0.2.${n}`;
      const remote = `192.0.2.${3 - n}`;
      sh(['ip', '-n', host, '-batch', '-'], {
        input: [
          'link add br-ovl type bridge',
          'link set br-ovl up',
          `link add vx-ovl type vxlan id 42 local ${local} remote ${remote} dstport 4789 dev eth0`,
          'link set vx-ovl mtu 1450 master br-ovl up',
        ].join('\n') + '\n',
      });
      const ns = topo.ns(`o${n}`);
      sh(['ip', '-n', host, 'link', 'add', `ovl${n}`, 'mtu', '1450', 'type', 'veth', 'peer', 'name', 'eth0', 'mtu', '1450', 'netns', ns]);
      sh(['ip', '-n', host, 'link', 'set', `ovl${n}`, 'master', 'br-ovl', 'up']);
      sh(['ip', '-n', ns, 'addr', 'add', `198.19.0.${n}/24`, 'dev', 'eth0']);
      sh(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
      return ns;
    };
    const oa = overlay(h1, 1);
    const ob = overlay(h2, 2);

    const paths: Record<PathName, Endpoints> = {
      routedPolicy: { client: wa.ns, server: wb.ns, serverIp: wb.ip, mtu: 1500 },
      routed: { client: wa.ns, server: wb.ns, serverIp: wb.ip, mtu: 1500 },
      overlay: { client: oa, server: ob, serverIp: '198.19.0.2', mtu: 1450 },
      bare: { client: h1, server: h2, serverIp: '192.0.2.2', mtu: 1500 },
    };
    for (const ns of [wb.ns, ob, h2]) {
      void topo.run(ns, ['iperf3', '-s', '-p', String(IPERF_PORT)]);
      await topo.background(ns, ['serve', String(PROBE_PORT), '']);
    }

    // The agents: one per host, as calico-node would run them.
    const agents = { h1: new TestAgent(h1, backend), h2: new TestAgent(h2, backend) };
    const ports = [{ first: IPERF_PORT, last: IPERF_PORT }, { first: PROBE_PORT, last: PROBE_PORT }];
    const base: CalcUpdate[] = [
      { type: 'profileUpserted', profile: allowAll('kns.default') },
      { type: 'ipSetUpserted', ipSet: { id: 'sclient', kind: 'net', description: "app == 'client'", members: [{ net: `${wa.ip}/32` }] } },
      { type: 'ipSetUpserted', ipSet: { id: 'sserver', kind: 'net', description: "app == 'server'", members: [{ net: `${wb.ip}/32` }] } },
      { type: 'policyUpserted', policy: policy('np/default/server-ingress', { inbound: [rule({ action: 'Allow', protocol: 6, source: side({ ipSetIds: ['sclient'] }), destination: side({ ports }) })] }) },
      { type: 'policyUpserted', policy: policy('np/default/client-egress', { outbound: [rule({ action: 'Allow', protocol: 6, destination: side({ ipSetIds: ['sserver'], ports }) })] }) },
    ];
    const ep = (w: Workload, dir: { ingress?: string[]; egress?: string[] }) =>
      workload({ name: w.ns, iface: w.iface, ipv4: [`${w.ip}/32`], mac: w.mac, profiles: ['kns.default'], ...dir });
    const setPolicy = async (on: boolean) => {
      await agents.h1.apply([{ type: 'workloadEndpointUpserted', endpoint: ep(wa, on ? { egress: ['np/default/client-egress'] } : {}) }]);
      await agents.h2.apply([{ type: 'workloadEndpointUpserted', endpoint: ep(wb, on ? { ingress: ['np/default/server-ingress'] } : {}) }]);
    };
    await agents.h1.apply([...base, { type: 'workloadEndpointUpserted', endpoint: ep(wa, {}) }, { type: 'inSync' }]);
    await agents.h2.apply([...base, { type: 'workloadEndpointUpserted', endpoint: ep(wb, {}) }, { type: 'inSync' }]);

    const samples = Object.fromEntries(PATHS.map((p) => [p, { tcp1Gbps: [], tcp4Gbps: [], connPerSecond: [], connectP50Us: [], senderCpuPct: [], receiverCpuPct: [], machineBusyPct: [], softirqPct: [], retransmits: [], connectErrors: 0 } satisfies Samples])) as unknown as Record<PathName, Samples>;
    const rulesetLines: Partial<Record<PathName, { h1: number; h2: number }>> = {};
    for (let round = 0; round < ROUNDS; round++) {
      const order = PATHS.map((_, i) => PATHS[(i + round) % PATHS.length]!);
      for (const name of order) {
        const p = paths[name];
        const s = samples[name];
        await setPolicy(name === 'routedPolicy');
        if (round === 0) rulesetLines[name] = { h1: nftRulesetLines(h1), h2: nftRulesetLines(h2) };
        const one = iperf(p, 1);
        s.machineBusyPct.push(one.machineBusyPct);
        s.softirqPct.push(one.softirqPct);
        s.tcp1Gbps.push(one.gbps);
        s.senderCpuPct.push(one.senderCpuPct);
        s.receiverCpuPct.push(one.receiverCpuPct);
        s.retransmits.push(one.retransmits);
        s.tcp4Gbps.push(iperf(p, 4).gbps);
        const [done, errors] = probe(p.client, ['connrate', p.serverIp, String(PROBE_PORT), String(CONN_SECONDS), '8']) as [number, number];
        s.connPerSecond.push(done / CONN_SECONDS);
        const [p50, , lerr] = probe(p.client, ['connlat', p.serverIp, String(PROBE_PORT), String(CONNECTS)]) as [number, number, number];
        s.connectP50Us.push(p50);
        s.connectErrors += errors + lerr;
      }
    }
    await agents.h1.loop.stop();
    await agents.h2.loop.stop();

    const medians = Object.fromEntries(
      PATHS.map((p) => [p, { tcp1Gbps: median(samples[p].tcp1Gbps), tcp4Gbps: median(samples[p].tcp4Gbps), connPerSecond: median(samples[p].connPerSecond), connectP50Us: median(samples[p].connectP50Us) } satisfies PathMedians]),
    ) as Record<PathName, PathMedians>;
    const ratios = dataplaneRatios(medians);
    const profile = Object.fromEntries(
      PATHS.map((p) => [p, { mtu: paths[p].mtu, senderCpuPct: median(samples[p].senderCpuPct), receiverCpuPct: median(samples[p].receiverCpuPct), machineBusyPct: median(samples[p].machineBusyPct), softirqPct: median(samples[p].softirqPct), retransmits: median(samples[p].retransmits), connectErrors: samples[p].connectErrors, nftRulesetLines: rulesetLines[p] }]),
    );
    printTable(`dataplane comparison, ${backend}, ${ROUNDS} rounds x ${SECONDS} s, medians (${machineLine()})${quick ? ' [--quick: numbers are indicative only]' : ''}`, [
      ['path', 'TCP 1 stream Gbit/s', 'TCP 4 streams Gbit/s', 'new conn/s', 'connect p50 us', 'machine busy %', 'softirq %', 'MTU'],
      ...PATHS.map((p) => [PATH_LABELS[p], medians[p].tcp1Gbps.toFixed(2), medians[p].tcp4Gbps.toFixed(2), String(Math.round(medians[p].connPerSecond)), String(Math.round(medians[p].connectP50Us)), profile[p]!.machineBusyPct.toFixed(0), profile[p]!.softirqPct.toFixed(0), String(paths[p].mtu)]),
    ]);
    printTable('ratios', [
      ['', '1 stream', '4 streams', 'conn/s', 'connect time'],
      ['routed / overlay (goal >= 1.2)', ...Object.values(ratios.routedOverOverlay).map((x) => x.toFixed(2))],
      ['policy cost (goal <= 5 %)', ...Object.values(ratios.policyCost).map((x) => `${(x * 100).toFixed(1)} %`)],
      ['routed / bare', ...Object.values(ratios.routedOverBare).map((x) => x.toFixed(2))],
    ]);
    writeResult('dataplane-compare', { backend, rounds: ROUNDS, seconds: SECONDS, connSeconds: CONN_SECONDS, connects: CONNECTS, samples, medians, ratios, profile });
  } finally {
    topo.teardown();
  }
}

await main();
