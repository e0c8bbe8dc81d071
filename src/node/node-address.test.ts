// The Node's addresses as calico/node decides them: given, detected, kept
// from the stored Node, or refused (conflicts, nothing for BGP).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../base/errors.js';
import type { Datastore } from '../datastore/datastore.js';
import { MemoryKV } from '../datastore/memory-kv.js';
import { ResourceStore } from '../datastore/resource-store.js';
import type { HostAddress } from './autodetect.js';
import { nodeConfigFromEnv } from './config.js';
import { createLogger } from './log.js';
import { decideFamilyAddress } from './node-address.js';
import { runStartup } from './startup.js';

const HOST: HostAddress[] = [
  { iface: 'eth0', ifindex: 2, address: '192.0.2.10', prefixLength: 24, family: 4 },
  { iface: 'eth0', ifindex: 2, address: '2001:db8::10', prefixLength: 64, family: 6 },
];

const decide = (family: 4 | 6, env: Record<string, string>, stored?: string) => {
  const cfg = nodeConfigFromEnv({ NODENAME: 'n', ...env }, 'h');
  return decideFamilyAddress({ family, setting: family === 4 ? cfg.ipv4 : cfg.ipv6, hostAddresses: HOST, ...(stored ? { stored } : {}) });
};

const CASES: Array<{ name: string; family: 4 | 6; env: Record<string, string>; stored?: string; address: string | undefined; source: string; warning?: RegExp }> = [
  { name: 'IP unset, new node: detected', family: 4, env: {}, address: '192.0.2.10/24', source: 'detected' },
  { name: 'IP unset, stored address: kept, not re-detected', family: 4, env: {}, stored: '192.0.2.10/24', address: '192.0.2.10/24', source: 'kept' },
  { name: 'IP unset, stored address not on the host: kept with a warning', family: 4, env: {}, stored: '198.51.100.9/24', address: '198.51.100.9/24', source: 'kept', warning: /198\.51\.100\.9 is not on any interface/ },
  { name: 'IP=autodetect re-detects over a stored address', family: 4, env: { IP: 'autodetect' }, stored: '198.51.100.9/24', address: '192.0.2.10/24', source: 'detected' },
  { name: 'IP=autodetect that fails keeps the stored address, warned', family: 4, env: { IP: 'autodetect', IP_AUTODETECTION_METHOD: 'interface=bond0' }, stored: '192.0.2.10/24', address: '192.0.2.10/24', source: 'kept', warning: /cannot autodetect the IPv4 address .*keeping 192\.0\.2\.10\/24/ },
  { name: 'IP=none keeps a stored address', family: 4, env: { IP: 'none' }, stored: '192.0.2.10/24', address: '192.0.2.10/24', source: 'kept' },
  { name: 'IP=none, new node: none', family: 4, env: { IP: 'none' }, address: undefined, source: 'none' },
  { name: 'IP without prefix takes the interface prefix', family: 4, env: { IP: '192.0.2.10' }, address: '192.0.2.10/24', source: 'given' },
  { name: 'IP without prefix, not on the host: /32, warned', family: 4, env: { IP: '198.51.100.1' }, address: '198.51.100.1/32', source: 'given', warning: /not on any interface/ },
  { name: 'IP with prefix is taken as written', family: 4, env: { IP: '192.0.2.10/26' }, stored: '192.0.2.99/24', address: '192.0.2.10/26', source: 'given' },
  { name: 'IP6 unset: never detected', family: 6, env: {}, address: undefined, source: 'none' },
  { name: 'IP6 unset keeps a stored address', family: 6, env: {}, stored: '2001:db8::10/64', address: '2001:db8::10/64', source: 'kept' },
  { name: 'IP6=autodetect', family: 6, env: { IP6: 'autodetect' }, address: '2001:db8::10/64', source: 'detected' },
  { name: 'IP6 without prefix is /128 (no interface lookup for IPv6, as calico/node)', family: 6, env: { IP6: '2001:DB8::10' }, address: '2001:db8::10/128', source: 'given' },
];

for (const c of CASES) {
  test(`node address: ${c.name}`, async () => {
    const d = await decide(c.family, c.env, c.stored);
    assert.equal(d.address, c.address, d.reason);
    assert.equal(d.source, c.source);
    if (c.warning) assert.match(d.warning ?? '', c.warning);
    else assert.equal(d.warning, undefined);
  });
}

test('node address: detection that fails with nothing stored refuses to start, naming the variable and the fix', async () => {
  await assert.rejects(decide(4, { IP_AUTODETECTION_METHOD: 'cidr=198.51.100.0/24' }), (e) => {
    assert.ok(e instanceof ValidationError);
    assert.equal(e.issues[0]!.path, 'IP_AUTODETECTION_METHOD');
    assert.match(e.message, /cannot autodetect the node's IPv4 address with cidr=198\.51\.100\.0\/24: .*no valid IPv4 addresses found.*set IP=<address> or IP=none/);
    return true;
  });
});

function startup(ds: Datastore, env: Record<string, string>, host: HostAddress[] = HOST) {
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', sink: (l) => lines.push(l), now: () => new Date(0) });
  return {
    lines,
    run: runStartup({ datastore: ds, config: nodeConfigFromEnv({ NO_DEFAULT_POOLS: 'true', ...env }, 'h'), log, host: { addresses: () => host, randomBytes: (n) => new Uint8Array(n) }, calicoVersion: 'v0' }),
  };
}

const nodeSpec = async (ds: Datastore, name: string) => (await ds.get({ kind: 'Node', name })).spec as Record<string, unknown>;

test("start-up: another Node's address is refused unless DISABLE_NODE_IP_CHECK=true; nothing is written", async () => {
  const ds = new ResourceStore(new MemoryKV());
  await startup(ds, { NODENAME: 'n1', IP: '192.0.2.10/24' }).run;
  await assert.rejects(startup(ds, { NODENAME: 'n2', IP: '192.0.2.10/25' }).run, /IP: Node n1 already uses 192\.0\.2\.10: give this node its own address \(or DISABLE_NODE_IP_CHECK=true/);
  await assert.rejects(ds.get({ kind: 'Node', name: 'n2' }), /not/);
  await startup(ds, { NODENAME: 'n2', IP: '192.0.2.10/24', DISABLE_NODE_IP_CHECK: 'true' }).run;
  assert.deepEqual((await nodeSpec(ds, 'n2')).bgp, { ipv4Address: '192.0.2.10/24' });
  // A restart of n1 with its unchanged address is no conflict (the check runs only when the address changes).
  await startup(ds, { NODENAME: 'n1', IP: '192.0.2.10/24' }).run;
});

test('start-up: BGP needs an address; CALICO_NETWORKING_BACKEND=none detects nothing and keeps what is stored', async () => {
  const ds = new ResourceStore(new MemoryKV());
  await assert.rejects(startup(ds, { NODENAME: 'n1', IP: 'none' }).run, /no IPv4 or IPv6 address configured or detected.*CALICO_NETWORKING_BACKEND=none/);
  await startup(ds, { NODENAME: 'n1', IP: '192.0.2.10/24', AS: '64512' }).run;
  const policyOnly = startup(ds, { NODENAME: 'n1', IP: '198.51.100.1/24', CALICO_NETWORKING_BACKEND: 'none' }, []);
  await policyOnly.run;
  assert.deepEqual((await nodeSpec(ds, 'n1')).bgp, { ipv4Address: '192.0.2.10/24', asNumber: 64512 });
  assert.ok(policyOnly.lines.some((l) => /node addresses not configured/.test(l) && /policy only/.test(l)));
  // A new policy-only node needs no address at all.
  await startup(ds, { NODENAME: 'n3', CALICO_NETWORKING_BACKEND: 'none' }, []).run;
  assert.equal((await nodeSpec(ds, 'n3')).bgp, undefined);
});

test('start-up: the stored AS stays when AS is not set', async () => {
  const ds = new ResourceStore(new MemoryKV());
  await startup(ds, { NODENAME: 'n1', IP: '192.0.2.10/24', AS: '64512' }).run;
  await startup(ds, { NODENAME: 'n1', IP: '192.0.2.10/24' }).run;
  assert.deepEqual((await nodeSpec(ds, 'n1')).bgp, { ipv4Address: '192.0.2.10/24', asNumber: 64512 });
  await startup(ds, { NODENAME: 'n1', IP: '192.0.2.10/24', AS: '64513' }).run;
  assert.equal(((await nodeSpec(ds, 'n1')).bgp as { asNumber: number }).asNumber, 64513);
});
