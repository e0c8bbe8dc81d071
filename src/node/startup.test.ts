// calico-node's start-up duties against the in-memory datastore: default pools
// (once, racing nodes, existing pools, NO_DEFAULT_POOLS), ClusterInformation
// across restarts, and the Node's addresses as calico/node decides them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCalicoError, UnavailableError, ValidationError } from '../base/errors.js';
import type { Resource } from '../api/resource.js';
import { fieldWarnings } from '../api/index.js';
import type { Datastore } from '../datastore/datastore.js';
import { MemoryKV } from '../datastore/memory-kv.js';
import { ResourceStore } from '../datastore/resource-store.js';
import type { HostAddress } from './autodetect.js';
import { nodeConfigFromEnv } from './config.js';
import { createLogger } from './log.js';
import { runStartup } from './startup.js';
import type { StartupHost } from './startup.js';

const POOLS = { CALICO_IPV4POOL_CIDR: '198.18.0.0/16', CALICO_IPV6POOL_CIDR: '2001:db8:18::/48' };
const ETH0: HostAddress[] = [
  { iface: 'eth0', ifindex: 2, address: '192.0.2.10', prefixLength: 24, family: 4 },
  { iface: 'eth0', ifindex: 2, address: '2001:db8::10', prefixLength: 64, family: 6 },
];

function host(addresses: HostAddress[] = ETH0, extra: Partial<StartupHost> = {}): StartupHost {
  let n = 0;
  // Deterministic "random" bytes: 01 02 03 ...
  return { addresses: () => addresses, randomBytes: (k) => Uint8Array.from({ length: k }, () => ++n % 256), ...extra };
}

function start(ds: Datastore, env: Record<string, string>, opts: { host?: StartupHost; version?: string } = {}) {
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', sink: (l) => lines.push(l), now: () => new Date(0) });
  const run = runStartup({ datastore: ds, config: nodeConfigFromEnv(env, 'h'), log, host: opts.host ?? host(), calicoVersion: opts.version ?? 'v0.1.0' });
  return { run, lines };
}

const pools = async (ds: Datastore): Promise<Array<Record<string, unknown>>> => (await ds.list({ kind: 'IPPool' })).items.map((p) => ({ name: p.metadata.name, ...(p.spec as Record<string, unknown>) }));
const newStore = () => new ResourceStore(new MemoryKV());

test('default pools: created once from CALICO_IPV*POOL_*, with calico/node defaults for the rest; a restart creates nothing', async () => {
  const ds = newStore();
  const env = { NODENAME: 'n1', IP: '192.0.2.10/24', ...POOLS, CALICO_IPV4POOL_CIDR: '198.18.1.5/24', CALICO_IPV6POOL_BLOCK_SIZE: '120', CALICO_IPV4POOL_NODE_SELECTOR: "rack == 'a'", CALICO_IPV6POOL_DISABLE_BGP_EXPORT: 'true', CALICO_IPV4POOL_IPIP: 'off', CALICO_IPV4POOL_VXLAN: 'never' };
  const first = start(ds, env);
  assert.deepEqual((await first.run).createdPools, ['default-ipv4-ippool', 'default-ipv6-ippool']);
  const got = await pools(ds);
  assert.deepEqual(
    got.map((p) => [p.name, p.cidr, p.blockSize, p.natOutgoing, p.nodeSelector, p.disableBGPExport, p.ipipMode, p.vxlanMode]),
    [
      ['default-ipv4-ippool', '198.18.1.0/24', 26, true, "rack == 'a'", false, 'Never', 'Never'],
      ['default-ipv6-ippool', '2001:db8:18::/48', 120, false, undefined, true, 'Never', 'Never'],
    ],
    'host bits dropped as calico/node does; NAT outgoing on for IPv4, off for IPv6; no selector stored when none is given (all nodes)',
  );
  const again = start(ds, { ...env, CALICO_IPV4POOL_CIDR: '198.19.0.0/16' });
  assert.deepEqual((await again.run).createdPools, []);
  assert.deepEqual(await pools(ds), got, 'a restart (even with another CIDR) changes no pool');
  assert.ok(again.lines.some((l) => /no default IPv4 pool created/.test(l) && /IPPool default-ipv4-ippool already holds IPv4 addresses/.test(l)));
});

test('default pools: an existing pool of a family (any name) means none for that family; the other family still gets one', async () => {
  const ds = newStore();
  await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'ops-v4' }, spec: { cidr: '198.18.128.0/24', disabled: true } });
  const s = start(ds, { NODENAME: 'n1', IP: '192.0.2.10/24', ...POOLS });
  assert.deepEqual((await s.run).createdPools, ['default-ipv6-ippool']);
  assert.deepEqual((await pools(ds)).map((p) => p.name), ['default-ipv6-ippool', 'ops-v4']);
});

test('default pools: two nodes starting at once create one pool per family (create-if-absent on the fixed name)', async () => {
  const ds = newStore();
  const a = start(ds, { NODENAME: 'n1', IP: '192.0.2.10/24', ...POOLS });
  const b = start(ds, { NODENAME: 'n2', IP: '192.0.2.11/24', CALICO_IPV4POOL_CIDR: '198.19.0.0/16', CALICO_IPV6POOL_CIDR: '2001:db8:19::/48' }, { host: host([{ iface: 'eth0', ifindex: 2, address: '192.0.2.11', prefixLength: 24, family: 4 }]) });
  const [ra, rb] = await Promise.all([a.run, b.run]);
  assert.equal(ra.createdPools.length + rb.createdPools.length, 2, 'each family created by exactly one node');
  const got = await pools(ds);
  assert.deepEqual(got.map((p) => p.name), ['default-ipv4-ippool', 'default-ipv6-ippool']);
  const loser = ra.createdPools.length === 2 ? b : a;
  assert.ok(loser.lines.some((l) => /another node created default-ipv4-ippool first/.test(l)));
});

/** A datastore whose first IPPool list is taken before another node's create: the race seen from the slower node. */
function staleFirstPoolList(ds: Datastore): Datastore {
  let stale = true;
  return new Proxy(ds, {
    get(target, prop, receiver) {
      if (prop === 'list') {
        return async (opts: Parameters<Datastore['list']>[0]) => {
          if (opts.kind === 'IPPool' && stale) {
            stale = false;
            return { items: [], revision: '0' };
          }
          return target.list(opts);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

for (const [label, cidr] of [
  ['the pool guard refuses the overlap', '198.18.0.0/16'],
  ['the create finds the name taken', '198.19.0.0/16'],
] as const) {
  test(`default pools: a node that saw no pools loses the race cleanly when ${label}`, async () => {
    const ds = newStore();
    await start(ds, { NODENAME: 'n1', IP: '192.0.2.10/24', ...POOLS, CALICO_IPV6POOL_CIDR: 'none' }).run;
    const slow = start(staleFirstPoolList(ds), { NODENAME: 'n2', IP: '192.0.2.11/24', CALICO_IPV4POOL_CIDR: cidr, CALICO_IPV6POOL_CIDR: 'none' });
    assert.deepEqual((await slow.run).createdPools, []);
    assert.deepEqual((await pools(ds)).map((p) => [p.name, p.cidr]), [['default-ipv4-ippool', '198.18.0.0/16']]);
    assert.ok(slow.lines.some((l) => /another node created default-ipv4-ippool first/.test(l)));
  });
}

test('default pools: a failed create with no pool of that family stops start-up (nothing swallowed)', async () => {
  const ds = newStore();
  const broken = new Proxy(ds, {
    get(target, prop) {
      if (prop === 'create') return async (r: Resource) => (r.kind === 'IPPool' ? Promise.reject(new UnavailableError('etcd went away')) : target.create(r));
      const v = Reflect.get(target, prop);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as Datastore;
  await assert.rejects(start(broken, { NODENAME: 'n1', IP: '192.0.2.10/24', ...POOLS }).run, (e) => isCalicoError(e, 'unavailable'));
});

test('default pools: NO_DEFAULT_POOLS=true creates none; CALICO_IPV*POOL_CIDR=none skips a family; no kernel IPv6 or FELIX_IPV6SUPPORT=false skips IPv6', async () => {
  for (const [env, h, want] of [
    [{ NO_DEFAULT_POOLS: 'true' }, host(), []],
    [{ NO_DEFAULT_POOLS: 'TRUE' }, host(), []],
    [{ ...POOLS, CALICO_IPV4POOL_CIDR: 'none' }, host(), ['default-ipv6-ippool']],
    [POOLS, host(ETH0, { ipv6Supported: () => false }), ['default-ipv4-ippool']],
    [{ ...POOLS, FELIX_IPV6SUPPORT: 'false' }, host(), ['default-ipv4-ippool']],
  ] as const) {
    const ds = newStore();
    const s = start(ds, { NODENAME: 'n1', IP: '192.0.2.10/24', ...env }, { host: h });
    assert.deepEqual((await s.run).createdPools, want, JSON.stringify(env));
    assert.deepEqual((await pools(ds)).map((p) => p.name), want);
  }
});

test("default pools: without CIDRs, calico/node's defaults (192.168.0.0/16, or a free 172.x/16; a random ULA /48)", async () => {
  const ds = newStore();
  // Pure data: the host "has" 192.168.7.1, so calico/node moves the default IPv4 pool away from 192.168.0.0/16.
  const addrs: HostAddress[] = [...ETH0, { iface: 'eth1', ifindex: 3, address: '192.168.7.1', prefixLength: 24, family: 4 }, { iface: 'eth2', ifindex: 4, address: '172.16.0.9', prefixLength: 16, family: 4 }];
  await start(ds, { NODENAME: 'n1', IP: '192.0.2.10/24' }, { host: host(addrs) }).run;
  assert.deepEqual((await pools(ds)).map((p) => p.cidr), ['172.17.0.0/16', 'fd01:203:405::/48']);
  const ds2 = newStore();
  await start(ds2, { NODENAME: 'n1', IP: '192.0.2.10/24', CALICO_IPV6POOL_CIDR: 'none' }).run;
  assert.deepEqual((await pools(ds2)).map((p) => p.cidr), ['192.168.0.0/16']);
});

const BAD_ENV: Array<[Record<string, string>, string, RegExp]> = [
  [{ CALICO_IPV4POOL_CIDR: '198.18.0.0' }, 'CALICO_IPV4POOL_CIDR', /not an IPv4 CIDR.*or "none"/],
  [{ CALICO_IPV4POOL_CIDR: '2001:db8::/48' }, 'CALICO_IPV4POOL_CIDR', /not an IPv4 CIDR/],
  [{ CALICO_IPV6POOL_CIDR: '198.18.0.0/16' }, 'CALICO_IPV6POOL_CIDR', /not an IPv6 CIDR/],
  [{ CALICO_IPV4POOL_CIDR: '169.254.0.0/16' }, 'CALICO_IPV4POOL_CIDR', /link-local/],
  [{ CALICO_IPV4POOL_CIDR: '198.18.0.0/28' }, 'CALICO_IPV4POOL_CIDR', /smaller than one block \(\/26\)/],
  [{ CALICO_IPV4POOL_BLOCK_SIZE: '19' }, 'CALICO_IPV4POOL_BLOCK_SIZE', /from 20 to 32/],
  [{ CALICO_IPV4POOL_BLOCK_SIZE: 'big' }, 'CALICO_IPV4POOL_BLOCK_SIZE', /not a block size/],
  [{ CALICO_IPV6POOL_BLOCK_SIZE: '64' }, 'CALICO_IPV6POOL_BLOCK_SIZE', /from 116 to 128/],
  [{ CALICO_IPV4POOL_IPIP: 'Always' }, 'CALICO_IPV4POOL_IPIP', /IPIP encapsulation is not supported by calico-ts/],
  [{ CALICO_IPV4POOL_IPIP: 'cross-subnet' }, 'CALICO_IPV4POOL_IPIP', /IPIP encapsulation is not supported/],
  [{ CALICO_IPV4POOL_VXLAN: 'CrossSubnet' }, 'CALICO_IPV4POOL_VXLAN', /VXLAN encapsulation is not supported/],
  [{ CALICO_IPV6POOL_VXLAN: 'always' }, 'CALICO_IPV6POOL_VXLAN', /VXLAN encapsulation is not supported/],
  [{ CALICO_IPV4POOL_IPIP: 'sometimes' }, 'CALICO_IPV4POOL_IPIP', /not an encapsulation mode: use Never/],
  [{ CALICO_IPV4POOL_NAT_OUTGOING: 'maybe' }, 'CALICO_IPV4POOL_NAT_OUTGOING', /not a boolean: use true or false/],
  [{ CALICO_IPV6POOL_DISABLE_BGP_EXPORT: 'yes please' }, 'CALICO_IPV6POOL_DISABLE_BGP_EXPORT', /not a boolean/],
  [{ CALICO_IPV4POOL_NODE_SELECTOR: "rack == 'a" }, 'CALICO_IPV4POOL_NODE_SELECTOR', /./],
  [{ NO_DEFAULT_POOLS: 'yes' }, 'NO_DEFAULT_POOLS', /not true or false/],
  [{ NO_DEFAULT_POOLS: 'true', CALICO_IPV4POOL_CIDR: '198.18.0.0/16' }, 'CALICO_IPV4POOL_CIDR', /cannot be set together with NO_DEFAULT_POOLS=true/],
  [{ IP_AUTODETECTION_METHOD: 'kubernetes-internal-ip' }, 'IP_AUTODETECTION_METHOD', /calico-ts runs without Kubernetes: use first-found/],
  [{ IP6: 'autodetect', IP6_AUTODETECTION_METHOD: 'kubernetes-internal-ip' }, 'IP6_AUTODETECTION_METHOD', /without Kubernetes/],
  [{ IP_AUTODETECTION_METHOD: 'interfaces=eth0' }, 'IP_AUTODETECTION_METHOD', /not an autodetection method/],
];

for (const [env, variable, message] of BAD_ENV) {
  test(`bad environment ${JSON.stringify(env)} is refused naming ${variable}, before anything is written`, () => {
    try {
      nodeConfigFromEnv({ NODENAME: 'n1', ...env }, 'h');
      assert.fail('expected a ValidationError');
    } catch (err) {
      assert.ok(err instanceof ValidationError, String(err));
      const issue = err.issues.find((i) => i.path === variable);
      assert.ok(issue, `no issue for ${variable}: ${err.message}`);
      assert.match(issue.message, message);
    }
  });
}

test('kubernetes-internal-ip is only an error where it would be used (IP given, or IPv6 not detected)', () => {
  assert.doesNotThrow(() => nodeConfigFromEnv({ IP: '192.0.2.10/24', IP_AUTODETECTION_METHOD: 'kubernetes-internal-ip', IP6_AUTODETECTION_METHOD: 'kubernetes-internal-ip' }, 'h'));
});

test('ClusterInformation: created with a GUID, version, type and datastoreReady; kept across restarts; an operator\'s datastoreReady=false stays', async () => {
  const ds = newStore();
  const env = { NODENAME: 'n1', IP: '192.0.2.10/24', NO_DEFAULT_POOLS: 'true', CLUSTER_TYPE: 'k8s,bgp' };
  const first = await start(ds, env).run;
  const info = () => ds.get({ kind: 'ClusterInformation', name: 'default' }).then((r) => r.spec as Record<string, unknown>);
  assert.match(first.clusterGUID, /^[0-9a-f]{32}$/);
  assert.deepEqual(await info(), { calicoVersion: 'v0.1.0', clusterGUID: first.clusterGUID, clusterType: 'k8s,bgp', datastoreReady: true });

  const stored = await ds.get({ kind: 'ClusterInformation', name: 'default' });
  await ds.update({ ...stored, spec: { ...(stored.spec as object), datastoreReady: false } });
  const second = await start(ds, { ...env, CLUSTER_TYPE: 'bgp,typha' }, { version: 'v0.2.0' }).run;
  assert.equal(second.clusterGUID, first.clusterGUID, 'the GUID is generated once');
  assert.deepEqual(await info(), { calicoVersion: 'v0.2.0', clusterGUID: first.clusterGUID, clusterType: 'k8s,bgp,typha', datastoreReady: false });

  // A ClusterInformation written by hand without GUID / datastoreReady gets them.
  const bare = newStore();
  await bare.create({ apiVersion: 'projectcalico.org/v3', kind: 'ClusterInformation', metadata: { name: 'default' }, spec: { clusterType: 'manual' } });
  await start(bare, env).run;
  const spec = (await bare.get({ kind: 'ClusterInformation', name: 'default' })).spec as Record<string, unknown>;
  assert.equal(spec.datastoreReady, true);
  assert.equal(spec.clusterType, 'manual,k8s,bgp');
  assert.match(String(spec.clusterGUID), /^[0-9a-f]{32}$/);
});

test('ClusterInformation: two nodes starting at once agree on one GUID', async () => {
  const ds = newStore();
  const env = { IP: '192.0.2.10/24', NO_DEFAULT_POOLS: 'true', DISABLE_NODE_IP_CHECK: 'true' };
  const [a, b] = await Promise.all([start(ds, { ...env, NODENAME: 'n1' }).run, start(ds, { ...env, NODENAME: 'n2' }, { host: host(ETH0, { randomBytes: (k) => new Uint8Array(k).fill(0xee) }) }).run]);
  assert.equal(a.clusterGUID, b.clusterGUID);
});

test("Calico's cluster defaults: tiers, FelixConfiguration, BGPConfiguration and IPAMConfiguration exist after start; what an operator set stays", async () => {
  const ds = newStore();
  // An operator's earlier choices: a Felix log level and a BGP setting.
  await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'FelixConfiguration', metadata: { name: 'default' }, spec: { logSeverityScreen: 'Debug' } });
  await ds.create({ apiVersion: 'projectcalico.org/v3', kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { nodeToNodeMeshEnabled: false } });
  const env = { IP: '192.0.2.10/24', NO_DEFAULT_POOLS: 'true', DISABLE_NODE_IP_CHECK: 'true' };
  await Promise.all([start(ds, { ...env, NODENAME: 'n1' }).run, start(ds, { ...env, NODENAME: 'n2' }).run]);
  const spec = async (kind: 'Tier' | 'FelixConfiguration' | 'BGPConfiguration' | 'IPAMConfiguration', name: string) => (await ds.get({ kind, name })).spec;
  assert.deepEqual(await spec('Tier', 'default'), { order: 1000000, defaultAction: 'Deny' });
  assert.deepEqual(await spec('Tier', 'kube-admin'), { order: 1000, defaultAction: 'Pass' });
  assert.deepEqual(await spec('Tier', 'kube-baseline'), { order: 10000000, defaultAction: 'Pass' });
  assert.deepEqual(await spec('FelixConfiguration', 'default'), { logSeverityScreen: 'Debug', reportingInterval: '0s' }, 'only the unset field is filled in');
  assert.deepEqual(await spec('BGPConfiguration', 'default'), { nodeToNodeMeshEnabled: false }, 'an existing BGPConfiguration is left alone');
  assert.deepEqual(await spec('IPAMConfiguration', 'default'), { strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 0 });
  // No per-node FelixConfiguration: Calico's node.<name> Return would override the cluster's defaultEndpointToHostAction.
  await assert.rejects(ds.get({ kind: 'FelixConfiguration', name: 'node.n1' }), (e) => isCalicoError(e, 'not-found'));
  // A restart writes nothing more.
  const rev = (await ds.get({ kind: 'FelixConfiguration', name: 'default' })).metadata.resourceVersion;
  await start(ds, { ...env, NODENAME: 'n1' }).run;
  assert.equal((await ds.get({ kind: 'FelixConfiguration', name: 'default' })).metadata.resourceVersion, rev);
});

test("Calico's default FelixConfiguration draws no field warning (reportingInterval 0s is what calico-ts does)", async () => {
  const ds = newStore();
  await start(ds, { NODENAME: 'n1', IP: '192.0.2.10/24', NO_DEFAULT_POOLS: 'true' }).run;
  assert.deepEqual(fieldWarnings(await ds.get({ kind: 'FelixConfiguration', name: 'default' })), []);
});
