// The datastore-backed CNI ports: IPAM through IpamClient, WorkloadEndpoints,
// Profiles, ClusterInformation and Nodes through the resource store. Thin:
// every decision was made in plan.ts and the commands.
import type { Resource } from '../api/resource.js';
import { isCalicoError } from '../base/errors.js';
import type { Datastore } from '../datastore/datastore.js';
import { listAllocations } from '../ipam/block.js';
import { IpamClient } from '../ipam/ipam-client.js';
import { datastorePoolMatcher, datastorePoolSource } from '../ipam/datastore-sources.js';
import { eligiblePools } from '../ipam/planner.js';
import { reservedMatcher, type PoolHostMatcher } from '../ipam/pools.js';
import type { CniCluster, CniEndpoints, CniIpam } from './ports.js';
import { freeForHost } from './status.js';

async function getOrUndefined(ds: Datastore, key: Parameters<Datastore['get']>[0]): Promise<Resource | undefined> {
  try {
    return await ds.get(key);
  } catch (err) {
    if (isCalicoError(err, 'not-found')) return undefined;
    throw err;
  }
}

/** The CNI plugin's IPAM port, plus release by address (Docker's IPAM driver releases that way). */
export function datastoreIpam(ds: Datastore): CniIpam & { releaseIps(ips: string[]): Promise<void> } {
  let matcher: Promise<PoolHostMatcher> | undefined;
  let made: Promise<IpamClient> | undefined;
  // One client per invocation; the Node labels for pool nodeSelectors are read once, when first needed.
  const client = (): Promise<IpamClient> =>
    (made ??= (async () => new IpamClient({ kv: ds.kv, pools: datastorePoolSource(ds), poolMatchesHost: await (matcher ??= datastorePoolMatcher(ds)) }))());
  return {
    ipsByHandle: async (h) => (await client()).ipsByHandle(h),
    autoAssign: async (req) => {
      const got = await (await client()).autoAssign(req);
      return [...got.ipv4, ...got.ipv6];
    },
    assignIps: async (req) => {
      const c = await client();
      const done: string[] = [];
      try {
        for (const ip of req.ips) {
          await c.assignIp({ ip, handleId: req.handleId, host: req.host, attrs: req.attrs });
          done.push(ip);
        }
      } catch (err) {
        if (done.length) await c.releaseIps(done.map((ip) => ({ ip, handleId: req.handleId })));
        throw err;
      }
    },
    releaseByHandle: async (h) => void (await (await client()).releaseByHandle(h)),
    releaseIps: async (ips) => {
      const c = await client();
      // Free already (a repeated release) is fine; anything else is an error.
      const held = [];
      for (const ip of ips) if ((await c.ownerOf(ip)).allocation) held.push({ ip });
      if (held.length) await c.releaseIps(held);
    },
    handlesOnNode: async (node) => {
      const out = new Map<string, string[]>();
      for (const b of await (await client()).store.listBlocks()) {
        for (const a of listAllocations(b.value)) {
          if (!a.handleId || a.attrs['node'] !== node) continue;
          out.set(a.handleId, [...(out.get(a.handleId) ?? []), a.ip]);
        }
      }
      return out;
    },
    canAssign: async (req) => {
      const snap = await (await client()).snapshot();
      const match = await (matcher ??= datastorePoolMatcher(ds));
      const isReserved = reservedMatcher(snap.reservedCidrs);
      for (const [family, n, requested] of [[4, req.num4, req.pools4], [6, req.num6, req.pools6]] as const) {
        if (n === 0) continue;
        let pools;
        try {
          pools = eligiblePools(snap.pools, { family, host: req.host, use: 'Workload', matcher: match, ...(requested.length ? { requested: [...requested] } : {}) });
        } catch (err) {
          return { ok: false, reason: err instanceof Error ? err.message : String(err) };
        }
        if (pools.length === 0) return { ok: false, reason: `no enabled IPv${family} pool is usable by node ${req.host}` };
        const free = freeForHost({ host: req.host, pools, blocks: snap.blocks.map((b) => b.value), config: snap.config, isReserved });
        if (free < BigInt(n)) return { ok: false, reason: `no free IPv${family} address for node ${req.host} in ${pools.map((p) => p.cidr).join(', ')}` };
      }
      return { ok: true };
    },
  };
}

function withoutServerFields(r: Resource): Resource {
  const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, ...metadata } = r.metadata;
  return { ...r, metadata };
}

export function datastoreEndpoints(ds: Datastore): CniEndpoints {
  return {
    get: (namespace, name) => getOrUndefined(ds, { kind: 'WorkloadEndpoint', namespace, name }),
    put: async (wep) => {
      const clean = withoutServerFields(wep);
      try {
        await ds.create(clean);
      } catch (err) {
        if (!isCalicoError(err, 'already-exists')) throw err;
        await ds.update(clean);
      }
    },
    delete: async (namespace, name) => {
      try {
        await ds.delete({ kind: 'WorkloadEndpoint', namespace, name });
      } catch (err) {
        if (!isCalicoError(err, 'not-found')) throw err;
      }
    },
    listOnNode: async (node) => (await ds.list({ kind: 'WorkloadEndpoint' })).items.filter((r) => (r.spec as { node?: string } | undefined)?.node === node),
  };
}

export function datastoreCluster(ds: Datastore): CniCluster {
  return {
    ensureProfile: async (profile) => {
      if (await getOrUndefined(ds, { kind: 'Profile', name: profile.metadata.name })) return 'exists';
      try {
        await ds.create(profile);
        return 'created';
      } catch (err) {
        // Another ADD made it first: what we wanted.
        if (isCalicoError(err, 'already-exists')) return 'exists';
        throw err;
      }
    },
    datastoreReady: async () => {
      const ci = await getOrUndefined(ds, { kind: 'ClusterInformation', name: 'default' });
      if (!ci) return undefined;
      const ready = (ci.spec as { datastoreReady?: boolean } | undefined)?.datastoreReady;
      return ready === undefined ? undefined : ready;
    },
    nodeExists: async (node) => (await getOrUndefined(ds, { kind: 'Node', name: node })) !== undefined,
    addressSpaceExists: async (name) => (await getOrUndefined(ds, { kind: 'AddressSpace', name })) !== undefined,
  };
}
