// STATUS (CNI 1.1): can an ADD be served now? The datastore must answer and
// be ready, and the pools the configuration uses must have room for this
// node (error 50 otherwise). When this node has no Node resource, calico-node
// never registered here: nothing announces this host's workloads to the
// others, so existing containers may have limited connectivity (error 51).
// `freeForHost` is the pure estimate behind the pool check.
import { blockInPools } from '../ipam/planner.js';
import { ipOfOrdinal } from '../ipam/block.js';
import { blockCount, parseCidr } from '../ipam/cidr-math.js';
import { hostOfAffinity, type AllocationBlock, type IpamConfig } from '../ipam/model.js';
import type { PoolView } from '../ipam/pools.js';
import { delegate, usesCalicoIpam } from './addresses.js';
import type { NetConf } from './config.js';
import { CNI_CODES, CniError, toCniError, type CniEnv } from './protocol.js';
import type { CniPorts } from './ports.js';

/**
 * How many addresses of one family `host` could still get from `pools`: free
 * ones in its own blocks, in other blocks when borrowing is allowed, and in
 * blocks nobody has claimed yet (within maxBlocksPerHost, each counted at the
 * smallest block size in play). Reserved addresses count as used. STATUS only
 * asks whether it is zero.
 */
export function freeForHost(opts: { host: string; pools: PoolView[]; blocks: AllocationBlock[]; config: IpamConfig; isReserved: (ip: string) => boolean }): bigint {
  const { host, pools, config } = opts;
  if (pools.length === 0) return 0n;
  const inPools = opts.blocks.filter((b) => blockInPools(b.cidr, pools));
  const mine = inPools.filter((b) => hostOfAffinity(b.affinity) === host);
  let free = 0n;
  for (const b of config.strictAffinity ? mine : inPools) free += BigInt(b.unallocated.filter((o) => !opts.isReserved(ipOfOrdinal(b, o))).length);
  if (!config.autoAllocateBlocks) return free;
  const claimable = pools.reduce((n, p) => n + blockCount(parseCidr(p.cidr), p.blockSize), 0n) - BigInt(inPools.length);
  const left = config.maxBlocksPerHost === 0 ? claimable : BigInt(Math.max(0, config.maxBlocksPerHost - mine.length));
  const blocks = left < claimable ? left : claimable;
  const bits = pools[0]!.family === 4 ? 32 : 128;
  const smallest = pools.reduce((m, p) => Math.max(m, p.blockSize), 0);
  return free + (blocks > 0n ? blocks * (1n << BigInt(bits - smallest)) : 0n);
}

/** `checkNode`: calico (not calico-ipam alone) also needs this host's Node, else error 51. */
export async function cmdStatus(ports: CniPorts, args: { env: CniEnv; conf: NetConf; node: string; checkNode: boolean }): Promise<void> {
  const { conf, node } = args;
  let ready: boolean | undefined;
  try {
    ready = await ports.cluster.datastoreReady();
  } catch (err) {
    throw new CniError(CNI_CODES.notAvailable, `the datastore does not answer: ${toCniError(err).message}`);
  }
  if (ready === false) throw new CniError(CNI_CODES.notAvailable, 'Calico is not ready to process requests (ClusterInformation default: datastoreReady is false)');
  if (usesCalicoIpam(conf)) {
    const want = { host: node, num4: conf.ipam.assignIpv4 ? 1 : 0, num6: conf.ipam.assignIpv6 ? 1 : 0, pools4: conf.ipam.ipv4Pools, pools6: conf.ipam.ipv6Pools };
    let room;
    try {
      room = await ports.ipam.canAssign(want);
    } catch (err) {
      throw new CniError(CNI_CODES.notAvailable, `cannot assign addresses: ${toCniError(err).message}`);
    }
    if (!room.ok) throw new CniError(CNI_CODES.notAvailable, `cannot assign addresses on node ${node}: ${room.reason}`);
  } else {
    try {
      await delegate(ports, { conf, env: args.env, command: 'STATUS' });
    } catch (err) {
      const e = toCniError(err);
      throw new CniError(e.code === CNI_CODES.limitedConnectivity ? e.code : CNI_CODES.notAvailable, e.message);
    }
  }
  if (args.checkNode && !(await ports.cluster.nodeExists(node))) {
    throw new CniError(CNI_CODES.limitedConnectivity, `Node ${node} is not registered: calico-node has not run on this host, so nothing routes to its workloads from other hosts; start calico-node with NODENAME=${node}`);
  }
}
