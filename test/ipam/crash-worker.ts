// An allocator that SIGKILLs itself right after its N-th write to etcd lands, to leave
// the store exactly as a crash between two CAS steps would. argv[2]: JSON CrashConfig.
import { EtcdKV } from '../../src/datastore/etcd-kv.js';
import type { KVStore } from '../../src/datastore/kv.js';
import { IpamClient } from '../../src/ipam/ipam-client.js';
import { poolView, staticPoolSource } from '../../src/ipam/pools.js';

export interface CrashConfig {
  endpoint: string;
  host: string;
  handleId: string;
  killAfterWrites: number;
}

export const CRASH_POOLS = [poolView({ name: 'v4', cidr: '192.0.2.0/24', blockSize: 28 }), poolView({ name: 'v6', cidr: '2001:db8:2::/120', blockSize: 124 })];

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2]!) as CrashConfig;
  const etcd = new EtcdKV({ endpoints: [cfg.endpoint] });
  let writes = 0;
  const afterWrite = <T>(v: T): T => {
    if (++writes >= cfg.killAfterWrites) process.kill(process.pid, 'SIGKILL');
    return v;
  };
  const kv: KVStore = {
    get: (k) => etcd.get(k),
    list: (p) => etcd.list(p),
    create: (k, v) => etcd.create(k, v).then(afterWrite),
    update: (k, v, o) => etcd.update(k, v, o).then(afterWrite),
    delete: (k, o) => etcd.delete(k, o).then(afterWrite),
    watch: (p, r, h) => etcd.watch(p, r, h),
    revision: () => etcd.revision(),
    close: () => etcd.close(),
  };
  const client = new IpamClient({ kv, pools: staticPoolSource(CRASH_POOLS) });
  await client.autoAssign({ handleId: cfg.handleId, host: cfg.host, num4: 2, num6: 1, attrs: { namespace: 'ns', workload: cfg.handleId } });
  process.stdout.write(`done after ${writes} writes\n`);
  await etcd.close();
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
