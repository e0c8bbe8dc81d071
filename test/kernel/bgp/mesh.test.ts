// 3 hosts in a full iBGP mesh with real BIRD: blocks spread everywhere, a new
// workload is reachable with no manual route, a borrowed address escapes as
// a /32, a bad config never replaces a good one, a killed BIRD comes back
// while the kernel keeps forwarding.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { NetnsLab, skipReason, waitFor, type LabHost } from './netns-lab.js';
import { blockV4, blockV6, inputsFor, labNode } from './inputs.js';
import { parseBirdProtocols } from '../../../src/bgp/status.js';
import { main } from '../../../src/cli/calicoctl.js';
import { CommandRegistry } from '../../../src/cli/command.js';
import { FakeIO } from '../../../src/cli/fake-io.js';
import { nodeCommand } from '../../../src/cli/commands/node.js';

const skip = skipReason;
let lab: NetnsLab;
let hosts: LabHost[] = [];

const meshInputs = (h: LabHost, extra: { localEndpointAddresses?: string[] } = {}) =>
  inputsFor(h, { nodes: hosts.map((x) => labNode(x)), ...extra });

before(async () => {
  if (skip) return;
  lab = new NetnsLab();
  hosts = ['h1', 'h2', 'h3'].map((n) => lab.addHost(n));
  for (const h of hosts) await lab.runBgp(h.name, meshInputs(h));
});

after(async () => {
  await lab?.destroy();
});

test('every host learns every other host\'s blocks (IPv4 and IPv6) and blackholes its own', { skip }, async () => {
  const complete = () =>
    hosts.every((h) => {
      const r4 = lab.birdRoutes(h.name, 4);
      const r6 = lab.birdRoutes(h.name, 6);
      return hosts.every((o) =>
        o === h
          ? r4.get(blockV4(o)) === 'blackhole' && r6.get(blockV6(o)) === 'blackhole'
          : r4.get(blockV4(o)) === o.v4 && r6.get(blockV6(o)) === o.v6,
      );
    });
  const ok = await waitFor(complete, 30_000);
  const dump = hosts.map((h) => `${h.name}: ${JSON.stringify([...lab.birdRoutes(h.name, 4), ...lab.birdRoutes(h.name, 6)])}`).join('\n');
  assert.ok(ok, `routes incomplete:\n${dump}\n${hosts.map((h) => h.logs.slice(-5).join('\n')).join('\n')}`);
  // Nothing but blocks: no /32 of ours, no connected routes re-exported.
  for (const h of hosts) assert.equal(lab.birdRoutes(h.name, 4).size, 3, `${h.name} has exactly 3 block routes`);
});

test('sessions are Established in both families; types read back as mesh', { skip }, async () => {
  const sessions = parseBirdProtocols(await lab.birdc('h1', ['show', 'protocols', 'all']));
  assert.deepEqual(
    sessions.map((s) => [s.peerAddress, s.type, s.bgpState]),
    [
      ['192.0.2.2', 'mesh', 'Established'],
      ['192.0.2.3', 'mesh', 'Established'],
      ['2001:db8::2', 'mesh', 'Established'],
      ['2001:db8::3', 'mesh', 'Established'],
    ],
  );
});

test('calicoctl node status reads the real BIRD socket under CALICO_RUN_DIR', { skip }, async () => {
  const registry = new CommandRegistry().register(nodeCommand());
  const io = new FakeIO({ env: { CALICO_RUN_DIR: lab.host('h2').runDir } });
  assert.equal(await main(['node', 'status'], io, { registry }), 0, io.errOut);
  assert.match(io.out, /Calico process is running\./);
  assert.match(io.out, /IPv4 BGP status\n\+-+/);
  assert.match(io.out, /\| 192\.0\.2\.1 +\| node-to-node mesh \| up +\| \d\d:\d\d:\d\d \| Established \|/);
  assert.match(io.out, /\| 2001:db8::3 +\| node-to-node mesh \| up /);
  const down = new FakeIO({ env: { CALICO_RUN_DIR: `${lab.dir}/nowhere` } });
  assert.equal(await main(['node', 'status'], down, { registry }), 1);
  assert.match(down.errOut, /Calico process is not running: BIRD does not answer on/);
});

test('a workload added on one host is reachable from the others with no manual route', { skip }, async () => {
  lab.addWorkload('h1', 'w1', '198.18.1.5');
  for (const from of ['h2', 'h3']) {
    assert.ok(await waitFor(() => lab.ping(lab.host(from).ns, '198.18.1.5'), 10_000), `${from} -> 198.18.1.5`);
  }
});

test('a borrowed address (inside another host\'s block) is announced as a /32 and reachable', { skip }, async () => {
  lab.addWorkload('h2', 'w2', '198.18.1.9'); // h1 owns 198.18.1.0/26
  await lab.runBgp('h2', meshInputs(lab.host('h2'), { localEndpointAddresses: ['198.18.1.9'] }));
  for (const h of ['h1', 'h3']) {
    const got = await waitFor(() => lab.birdRoutes(h, 4).get('198.18.1.9') === '192.0.2.2', 15_000);
    assert.ok(got, `${h} learned 198.18.1.9/32 via h2: ${JSON.stringify([...lab.birdRoutes(h, 4)])}`);
  }
  assert.ok(await waitFor(() => lab.ping(lab.host('h3').ns, '198.18.1.9'), 10_000), 'h3 -> borrowed address');
  assert.ok(await waitFor(() => lab.ping(lab.host('h1').ns, '198.18.1.9'), 10_000), 'h1 (block owner) -> borrowed address');
});

test('a config BIRD rejects is logged with its error and never replaces the running one', { skip }, async () => {
  const sup = lab.host('h3').agent!.supervisor;
  const r = await sup.apply('router id 192.0.2.3;\nprotocol bgp broken { neighbor 192.0.2.1 as ; }\n');
  assert.equal(r.applied, false);
  assert.match(r.error!, /bird\.conf\.candidate:2/);
  assert.ok(lab.host('h3').logs.some((l) => l.includes('BIRD rejected the new config')));
  const sessions = parseBirdProtocols(await lab.birdc('h3', ['show', 'protocols', 'all']));
  assert.equal(sessions.filter((s) => s.bgpState === 'Established').length, 4);
});

test('BIRD killed: kernel routes stay (persist), the supervisor restarts it with backoff', { skip }, async () => {
  const h = lab.host('h3');
  const sup = h.agent!.supervisor;
  const pid = Number(lab.exec(h.ns, ['cat', sup.paths.pid]).trim());
  process.kill(pid, 'SIGKILL');
  assert.ok(await waitFor(() => sup.state === 'backoff', 5_000, 20), `state ${sup.state}`);
  assert.equal(lab.birdRoutes('h3', 4).get(blockV4(lab.host('h1'))), '192.0.2.1', 'forwarding state survives the crash');
  // Graceful restart: once h1 has noticed h3 is gone, it still keeps h3's routes.
  const noticed = await waitFor(async () => {
    const s = parseBirdProtocols(await lab.birdc('h1', ['show', 'protocols', 'all'])).find((x) => x.peerAddress === h.v4);
    return s !== undefined && s.bgpState !== 'Established';
  }, 5_000, 20);
  assert.ok(noticed, 'h1 saw the session to h3 drop');
  assert.equal(lab.birdRoutes('h1', 4).get(blockV4(h)), h.v4, 'h1 keeps the restarting node\'s block');
  assert.ok(await waitFor(() => sup.state === 'running', 15_000), `state ${sup.state}`);
  const up = await waitFor(async () => {
    const s = parseBirdProtocols(await lab.birdc('h3', ['show', 'protocols', 'all']));
    return s.filter((x) => x.bgpState === 'Established').length === 4;
  }, 30_000);
  assert.ok(up, 'sessions re-established after restart');
  assert.equal(lab.birdRoutes('h3', 4).get(blockV4(lab.host('h1'))), '192.0.2.1');
});
