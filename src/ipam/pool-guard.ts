// Enforces IPAM's cross-resource IPPool rules (no overlap, block size fits, no cidr or
// blockSize change while blocks hold addresses) on the resource write path: a Datastore
// decorator, because the store's own validation hook is synchronous and sees one
// resource, while these rules need the other pools and the IPAM blocks.
// Wire it where a Datastore is opened for writers (calicoctl's NodeIO, the lab).
// Limits: check-then-write is not one transaction; two concurrent pool writes can
// both pass. Pools are written by operators, rarely and one at a time.
import type { Datastore } from '../datastore/datastore.js';
import type { Resource } from '../api/resource.js';
import { IpamClient } from './ipam-client.js';
import { datastorePoolSource } from './datastore-sources.js';
import { poolFromResource } from './pools.js';

export function guardPoolWrites(ds: Datastore): Datastore {
  const ipam = new IpamClient({ kv: ds.kv, pools: datastorePoolSource(ds) });
  const check = async (r: Resource): Promise<void> => {
    if (r.kind === 'IPPool') await ipam.validatePoolWrite(poolFromResource(r));
  };
  return {
    get: (key) => ds.get(key),
    list: (opts) => ds.list(opts),
    create: async (r) => {
      await check(r);
      return ds.create(r);
    },
    update: async (r) => {
      await check(r);
      return ds.update(r);
    },
    delete: (key, opts) => ds.delete(key, opts),
    watch: (opts, handlers) => ds.watch(opts, handlers),
    get kv() {
      return ds.kv;
    },
    close: () => ds.close(),
  };
}
