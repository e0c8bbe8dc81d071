// Shell helpers shared by the calico-node kernel tests: run a command (in a
// namespace), fail loudly, and store a resource in the test's etcd the way
// calicoctl would (its v3 key and encoding).

import { spawnSync } from 'node:child_process';
import { encodeResource } from '../../../src/datastore/resource-store.js';
import { resourceKeyPath } from '../../../src/datastore/keys.js';
import type { Resource } from '../../../src/api/resource.js';

export function sh(argv: string[], input?: string): { code: number; out: string; err: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { input: input ?? '', encoding: 'utf8', timeout: 30000 });
  return { code: r.status ?? 1, out: r.stdout ?? '', err: r.stderr ?? '' };
}

export function must(argv: string[], input?: string): string {
  const r = sh(argv, input);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.err}`);
  return r.out;
}

export const inNs = (ns: string, argv: string[], input?: string): string => must(['ip', 'netns', 'exec', ns, ...argv], input);

/** Writes the resource to etcd at `endpoint` with etcdctl run inside `ns` (etcd listens on that namespace's loopback). */
export function putResource(ns: string, endpoint: string, r: Resource): void {
  const key = resourceKeyPath({ kind: r.kind, name: r.metadata.name, ...(r.metadata.namespace ? { namespace: r.metadata.namespace } : {}) });
  inNs(ns, ['env', 'ETCDCTL_API=3', 'etcdctl', '--endpoints', endpoint, 'put', key], encodeResource(r));
}
