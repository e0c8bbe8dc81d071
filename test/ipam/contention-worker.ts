// One "host" of the contention test and benchmark: a real node process allocating and
// releasing against a shared etcd. Prints one JSON line with what it holds at the end.
// argv[2]: JSON WorkerConfig.
import { EtcdKV } from '../../src/datastore/etcd-kv.js';
import { isIpamError } from '../../src/ipam/errors.js';
import { IpamClient } from '../../src/ipam/ipam-client.js';
import { poolView, staticPoolSource } from '../../src/ipam/pools.js';

export interface WorkerConfig {
  endpoint: string;
  host: string;
  operations: number;
  /** Fraction of operations that allocate (the rest release a random live handle). */
  allocateRatio: number;
  /** Every n-th allocation also takes an IPv6 address (0: never). */
  ipv6Every: number;
  seed: number;
  /** Pools as { name, cidr, blockSize }; default CONTENTION_POOLS. */
  pools?: { name: string; cidr: string; blockSize?: number }[];
}

export interface WorkerResult {
  host: string;
  live: Record<string, string[]>;
  allocations: number;
  releases: number;
  exhausted: number;
  casRetries: number;
  elapsedMs: number;
}

// Small blocks in a tight pool so hosts collide on claims and must borrow from each other.
export const CONTENTION_POOLS = [poolView({ name: 'v4', cidr: '198.18.0.0/21', blockSize: 29 }), poolView({ name: 'v6', cidr: '2001:db8:1::/112' })];

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2]!) as WorkerConfig;
  let s = cfg.seed >>> 0;
  const rnd = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const kv = new EtcdKV({ endpoints: [cfg.endpoint] });
  const client = new IpamClient({ kv, pools: staticPoolSource(cfg.pools ? cfg.pools.map((p) => poolView(p)) : CONTENTION_POOLS), retry: { random: rnd } });
  const live = new Map<string, string[]>();
  let allocations = 0;
  let releases = 0;
  let exhausted = 0;
  const start = performance.now();
  for (let i = 0; i < cfg.operations; i++) {
    if (live.size === 0 || rnd() < cfg.allocateRatio) {
      const handleId = `${cfg.host}.c${i}`;
      const num6 = cfg.ipv6Every > 0 && allocations % cfg.ipv6Every === 0 ? 1 : 0;
      try {
        const r = await client.autoAssign({ handleId, host: cfg.host, num4: 1, num6, attrs: { namespace: 'bench', workload: handleId } });
        live.set(handleId, [...r.ipv4, ...r.ipv6]);
        allocations++;
      } catch (err) {
        // A legitimate answer when this host is at maxBlocksPerHost and nobody has room to lend.
        if (!isIpamError(err, 'pool-exhausted')) throw err;
        exhausted++;
      }
    } else {
      const handles = [...live.keys()];
      const h = handles[Math.floor(rnd() * handles.length)]!;
      await client.releaseByHandle(h);
      live.delete(h);
      releases++;
    }
  }
  const result: WorkerResult = {
    host: cfg.host,
    live: Object.fromEntries(live),
    allocations,
    releases,
    exhausted,
    casRetries: client.stats.casRetries,
    elapsedMs: performance.now() - start,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
  await kv.close();
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
