// A workload's veth deleted and re-created with the same name and addresses
// (an endpoint removed and re-added quickly, a runtime re-creating its veth):
// the kernel dropped the route and neighbour entries on the old interface and
// the new one has default sysctls. The running dataplane (calico-node's
// composition, real drivers) must notice the new interface and put them back,
// without a restart and within a bounded wait.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { allowAll, workload } from '../../../src/dataplane/testing-fixtures.js';
import { LinuxExec } from '../../../src/dataplane/linux/exec.js';
import { linuxPorts } from '../../../src/dataplane/linux/drivers.js';
import { systemClock } from '../../../src/dataplane/linux/clock.js';
import { defaultDataplaneConfig } from '../../../src/rules/model.js';
import { ApplyLoopDataplane } from '../../../src/node/dataplane.js';
import { Topology, canRunKernelTests, sh, type Workload } from './topology.js';
import { eventually } from '../../support/eventually.js';

const skip = canRunKernelTests();


describe('an interface deleted and re-created with the same name gets its route, neighbours and sysctls back', { skip }, () => {
  const topo = new Topology();
  let h1 = '';
  let w1: Workload;
  let w2: Workload;
  let dataplane: ApplyLoopDataplane;
  const logs: string[] = [];
  const ifindex = (iface: string) => (JSON.parse(sh(['ip', '-n', h1, '-j', 'link', 'show', iface])) as { ifindex: number }[])[0]!.ifindex;
  const route = (w: Workload) => sh(['ip', '-n', h1, 'route', 'show', w.ip, 'proto', '80']).trim();
  const neigh = (w: Workload) => sh(['ip', '-n', h1, 'neigh', 'show', w.ip, 'dev', w.iface], { allowFail: true }).trim();
  const sysctl = (key: string) => sh(['ip', 'netns', 'exec', h1, 'sysctl', '-n', key], { allowFail: true }).trim();

  before(async () => {
    ({ h1 } = topo.hosts());
    sh(['ip', '-n', h1, 'route', 'add', 'default', 'via', '192.0.2.2']);
    w1 = topo.workload(h1, { name: 'r1', iface: 'calirc00000001', ip: '198.18.3.1', ip6: '2001:db8:3::1', mac: '02:00:00:00:03:01' });
    w2 = topo.workload(h1, { name: 'r2', iface: 'calirc00000002', ip: '198.18.3.2', ip6: '2001:db8:3::2', mac: '02:00:00:00:03:02' });
    dataplane = new ApplyLoopDataplane({
      ports: linuxPorts(new LinuxExec({ netns: h1 })),
      backend: 'nftables',
      config: defaultDataplaneConfig(),
      clock: systemClock,
      log: (level, msg, fields) => logs.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`),
      onFatal: (err) => logs.push(`fatal ${err.message}`),
      minIntervalMs: 20,
    });
    const wl = (w: Workload) => workload({ name: w.ns.split('-').pop()!, iface: w.iface, ipv4: [`${w.ip}/32`], ipv6: [`${w.ip6}/128`], mac: w.mac, profiles: ['kns.default'] });
    dataplane.apply([{ type: 'profileUpserted', profile: allowAll('kns.default') }, { type: 'workloadEndpointUpserted', endpoint: wl(w1) }, { type: 'workloadEndpointUpserted', endpoint: wl(w2) }, { type: 'inSync' }]);
    await dataplane.loop.settled();
  });
  after(async () => {
    await dataplane?.stop();
    topo.teardown();
  });

  test('programmed before: route, static neighbour, proxy_arp, ping', () => {
    assert.match(route(w2), /^198\.18\.3\.2 dev calirc00000002 scope link/);
    assert.match(neigh(w2), /lladdr 02:00:00:00:03:02 PERMANENT proto 80/);
    assert.equal(sysctl('net.ipv4.conf.calirc00000002.proxy_arp'), '1');
    assert.equal(topo.ping(w1.ns, w2.ip), true);
  });

  test('after the veth is re-created (new ifindex, default sysctls) everything comes back, no agent restart', async () => {
    const before = ifindex(w2.iface);
    topo.replug(w2);
    assert.notEqual(ifindex(w2.iface), before, 'a new interface, same name');
    // Bounded: the interface monitor reacts in well under a second; 10 s leaves room for a busy machine.
    await eventually('route back', () => /^198\.18\.3\.2 dev calirc00000002/.test(route(w2)), 10_000);
    await eventually('static neighbour back', () => /lladdr 02:00:00:00:03:02 PERMANENT proto 80/.test(neigh(w2)), 10_000);
    await eventually('proxy_arp back', () => sysctl('net.ipv4.conf.calirc00000002.proxy_arp') === '1', 10_000);
    assert.equal(sysctl('net.ipv6.conf.calirc00000002.proxy_ndp'), '1');
    assert.equal(sysctl('net.ipv4.neigh.calirc00000002.proxy_delay'), '0');
    await eventually('w1 reaches w2 again', () => topo.ping(w1.ns, w2.ip), 10_000);
    assert.equal(topo.ping(w2.ns, w1.ip), true);
    assert.ok(!logs.some((l) => l.startsWith('fatal')), logs.join('\n'));
  });

  test('a link set down and up again (IPv4 routes go with "down") gets its route back', async () => {
    sh(['ip', '-n', h1, 'link', 'set', w2.iface, 'down']);
    sh(['ip', '-n', h1, 'link', 'set', w2.iface, 'up']);
    await eventually('route back after down/up', () => /^198\.18\.3\.2 dev calirc00000002/.test(route(w2)), 10_000);
    await eventually('w1 reaches w2 after down/up', () => topo.ping(w1.ns, w2.ip), 10_000);
  });

  test('routeRefreshInterval: a route of ours deleted by hand is back after the next refresh; stop leaves no monitor process', async () => {
    await dataplane.stop();
    // stop() signals the `ip monitor` child; its exit is asynchronous (slow on a loaded machine), so wait for it.
    await eventually('the interface monitor process is gone with the dataplane', () => sh(['ip', 'netns', 'pids', h1]).trim() === '', 5_000);
    dataplane = new ApplyLoopDataplane({
      ports: linuxPorts(new LinuxExec({ netns: h1 })),
      backend: 'nftables',
      config: defaultDataplaneConfig(),
      clock: systemClock,
      log: (level, msg, fields) => logs.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`),
      onFatal: (err) => logs.push(`fatal ${err.message}`),
      minIntervalMs: 20,
      routeRefreshIntervalMs: 1000,
    });
    const wl = (w: Workload) => workload({ name: w.ns.split('-').pop()!, iface: w.iface, ipv4: [`${w.ip}/32`], ipv6: [`${w.ip6}/128`], mac: w.mac, profiles: ['kns.default'] });
    dataplane.apply([{ type: 'profileUpserted', profile: allowAll('kns.default') }, { type: 'workloadEndpointUpserted', endpoint: wl(w1) }, { type: 'workloadEndpointUpserted', endpoint: wl(w2) }, { type: 'inSync' }]);
    await dataplane.loop.settled();
    sh(['ip', '-n', h1, 'route', 'del', w2.ip, 'dev', w2.iface]);
    assert.equal(route(w2), '');
    await eventually('route restored by the periodic refresh', () => /^198\.18\.3\.2 dev calirc00000002/.test(route(w2)), 10_000);
    assert.ok(dataplane.loop.metrics.routeRefreshes >= 1);
  });
});
