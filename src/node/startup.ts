// calico-node's start-up duties, in calico/node's order (startup.go Run):
//   1. the node's addresses (node-address.ts) and AS -> the Node resource
//   2. default IP pools (default-pools.ts), written through the IPAM pool guard
//   3. ClusterInformation "default" (cluster-info.ts)
//   4. the cluster's default Tiers, FelixConfiguration, BGPConfiguration and
//      IPAMConfiguration (default-config.ts)
// Run by the agent before anything else, and alone by `calico-node -startup`.
// I/O only through the Datastore and the StartupHost port (host.ts is the real one).
import { isCalicoError, ValidationError } from '../base/errors.js';
import type { IPFamily } from '../base/ip.js';
import type { Resource } from '../api/resource.js';
import type { Datastore } from '../datastore/datastore.js';
import { guardPoolWrites } from '../ipam/pool-guard.js';
import type { HostAddress, ReachLookup } from './autodetect.js';
import { ensureClusterInformation } from './cluster-info.js';
import { ensureClusterDefaults } from './default-config.js';
import type { NodeConfig } from './config.js';
import { planDefaultPools } from './default-pools.js';
import type { Logger } from './log.js';
import { conflictingNodes, decideFamilyAddress } from './node-address.js';
import { registerNode } from './registration.js';

/** What start-up needs to know about the host (the agent's network namespace). */
export interface StartupHost {
  addresses(): HostAddress[] | Promise<HostAddress[]>;
  /** For can-reach=; without it that method fails with a reason. */
  reach?: ReachLookup;
  /** Whether the kernel has IPv6 (/proc/sys/net/ipv6); default true. */
  ipv6Supported?(): boolean;
  randomBytes(n: number): Uint8Array;
}

export interface StartupOptions {
  datastore: Datastore;
  config: NodeConfig;
  log: Logger;
  host: StartupHost;
  calicoVersion: string;
}

export interface StartupResult {
  ipv4?: string;
  ipv6?: string;
  /** Default pools this node created (another node may have won the race). */
  createdPools: string[];
  clusterGUID: string;
}

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

async function getOrUndefined(ds: Datastore, key: { kind: 'Node'; name: string }): Promise<Resource | undefined> {
  try {
    return await ds.get(key);
  } catch (err) {
    if (isCalicoError(err, 'not-found')) return undefined;
    throw err;
  }
}

async function configureNode(opts: StartupOptions): Promise<{ ipv4?: string; ipv6?: string }> {
  const { datastore: ds, config, log } = opts;
  const current = await getOrUndefined(ds, { kind: 'Node', name: config.nodeName });
  const stored = ((current?.spec ?? {}) as { bgp?: { ipv4Address?: string; ipv6Address?: string } }).bgp ?? {};
  const addresses: { ipv4?: string; ipv6?: string } = {};
  if (config.networkingBackend === 'none') {
    // Policy only, as calico/node: nothing detected, whatever the Node holds stays.
    if (stored.ipv4Address) addresses.ipv4 = stored.ipv4Address;
    if (stored.ipv6Address) addresses.ipv6 = stored.ipv6Address;
    log.info('node addresses not configured', { reason: 'CALICO_NETWORKING_BACKEND=none (policy only)', ipv4: addresses.ipv4 ?? null, ipv6: addresses.ipv6 ?? null });
  } else {
    const hostAddresses = await opts.host.addresses();
    for (const family of [4, 6] as const) {
      const d = await decideFamilyAddress({
        family,
        setting: family === 4 ? config.ipv4 : config.ipv6,
        hostAddresses,
        ...(opts.host.reach ? { reach: opts.host.reach } : {}),
        ...((family === 4 ? stored.ipv4Address : stored.ipv6Address) ? { stored: (family === 4 ? stored.ipv4Address : stored.ipv6Address)! } : {}),
      });
      if (d.warning) log.warning(d.warning);
      const what = { given: `using IPv${family} address from ${family === 4 ? 'IP' : 'IP6'}`, detected: `autodetected IPv${family} address`, kept: `keeping the Node's IPv${family} address`, none: `IPv${family} address not used` }[d.source];
      log.info(what, { address: d.address ?? null, reason: d.reason });
      if (d.address) addresses[family === 4 ? 'ipv4' : 'ipv6'] = d.address;
    }
    if (!addresses.ipv4 && !addresses.ipv6) {
      throw new ValidationError([{ path: 'IP', message: 'no IPv4 or IPv6 address configured or detected, and BGP networking needs one: set IP / IP6, or CALICO_NETWORKING_BACKEND=none for policy only' }], 'calico-node start-up');
    }
    const changed = addresses.ipv4 !== stored.ipv4Address || addresses.ipv6 !== stored.ipv6Address;
    if (changed && config.nodeIPCheck) {
      const nodes = (await ds.list({ kind: 'Node' })).items;
      const clashes = conflictingNodes(nodes, { nodeName: config.nodeName, ...addresses });
      if (clashes.length) {
        throw new ValidationError(
          clashes.map((c) => ({ path: c.family === 4 ? 'IP' : 'IP6', message: `Node ${c.node} already uses ${c.address}: give this node its own address (or DISABLE_NODE_IP_CHECK=true if sharing is intended)` })),
          'calico-node start-up',
        );
      }
    }
  }
  const reg: Parameters<typeof registerNode>[1] = { nodeName: config.nodeName, ...addresses };
  if (config.asNumber !== undefined && config.networkingBackend !== 'none') reg.asNumber = config.asNumber;
  const { action } = await registerNode(ds, reg);
  log.info(`Node resource ${action}`, { node: config.nodeName, ipv4: addresses.ipv4 ?? null, ipv6: addresses.ipv6 ?? null, asNumber: reg.asNumber ?? null });
  return addresses;
}

const poolFamily = (r: Resource): IPFamily => (String((r.spec as { cidr?: string }).cidr).includes(':') ? 6 : 4);

/** Creates the default pools that are due; losing the race to another node is fine, anything else stops start-up. */
async function configurePools(opts: StartupOptions): Promise<string[]> {
  const { datastore: ds, config, log } = opts;
  const guarded = guardPoolWrites(ds);
  const listPools = async () => (await ds.list({ kind: 'IPPool' })).items;
  const hostAddresses = config.defaultPools.disabled || config.defaultPools.ipv4?.cidr ? [] : (await opts.host.addresses()).map((a) => a.address);
  const plan = planDefaultPools(config.defaultPools, {
    existingPools: await listPools(),
    hostAddresses,
    ipv6Supported: opts.host.ipv6Supported?.() ?? true,
    randomBytes: (n) => opts.host.randomBytes(n),
  });
  for (const s of plan.skipped) log.info(`no default IPv${s.family} pool created`, { reason: s.reason });
  const created: string[] = [];
  for (const pool of plan.create) {
    const spec = pool.spec as Record<string, unknown>;
    try {
      await guarded.create(pool);
      created.push(pool.metadata.name);
      log.info(`created default IPv${poolFamily(pool)} pool`, { name: pool.metadata.name, ...spec });
    } catch (err) {
      // Another node may have created a pool of this family since we looked
      // (same name: already-exists; the guard may see it first: overlap).
      const winner = (await listPools()).find((p) => poolFamily(p) === poolFamily(pool));
      if (!winner) throw err;
      log.info(`default IPv${poolFamily(pool)} pool not created: another node created ${winner.metadata.name} first`, { name: winner.metadata.name, cidr: (winner.spec as { cidr?: string }).cidr });
    }
  }
  return created;
}

export async function runStartup(opts: StartupOptions): Promise<StartupResult> {
  const addresses = await configureNode(opts);
  const createdPools = await configurePools(opts);
  const { info, action } = await ensureClusterInformation(opts.datastore, {
    calicoVersion: opts.calicoVersion,
    clusterType: opts.config.clusterType,
    newGUID: () => hex(opts.host.randomBytes(16)),
  });
  const spec = info.spec as { clusterGUID: string; calicoVersion?: string; clusterType?: string; datastoreReady?: boolean };
  opts.log.info(`ClusterInformation ${action}`, { clusterGUID: spec.clusterGUID, calicoVersion: spec.calicoVersion ?? null, clusterType: spec.clusterType ?? null, datastoreReady: spec.datastoreReady ?? null });
  for (const [what, done] of await ensureClusterDefaults(opts.datastore)) {
    if (done === 'created' || done === 'updated') opts.log.info(`${what} ${done} with Calico's defaults`);
  }
  return { ...addresses, createdPools, clusterGUID: spec.clusterGUID };
}
