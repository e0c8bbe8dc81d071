// Plumbs one workload the way Calico's CNI plugin does, from inside the
// workload's host namespace (where etcd is reachable over the management
// network): addresses from IPAM, a veth `cali<hash>` on the host with `eth0`
// in the workload's namespace, the workload's side configured (its /32 and
// /128, default routes via the 169.254.1.1 / link-local gateway), and a
// WorkloadEndpoint written. The host side (routes, sysctls, policy) is
// calico-node's job: it sees the WorkloadEndpoint through its watch.
//   node dist/src/lab/plumb.js add '<PlumbRequest JSON>'   (prints the WorkloadEndpoint as JSON)
import { execFileSync } from 'node:child_process';
import { loadDatastoreConfig, openDatastore } from '../datastore/index.js';
import { IpamClient } from '../ipam/ipam-client.js';
import { datastorePoolSource } from '../ipam/datastore-sources.js';
import type { Datastore } from '../datastore/datastore.js';
import { API_VERSION } from '../api/kinds.js';
import type { Resource } from '../api/resource.js';
import { workloadEndpointName } from '../api/index.js';
import { hostInterfaceName, HOST_SIDE_MAC, GATEWAY_V4, GATEWAY_V6 } from '../cni/names.js';

export interface PlumbRequest {
  node: string;
  name: string;
  namespace: string;
  labels: Record<string, string>;
  /** The workload's network namespace (already created). */
  netns: string;
  /** Fixed addresses, or empty to ask IPAM. */
  addresses: string[];
  /** Pool names or CIDRs IPAM may use, per family. */
  pools4: string[];
  pools6: string[];
  ports: { name: string; protocol: string; port: number }[];
}

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8' });
}

export async function plumb(req: PlumbRequest, ds: Datastore): Promise<Resource> {
  let addresses = req.addresses;
  const handleId = `lab.${req.namespace}.${req.name}`;
  if (addresses.length === 0) {
    const ipam = new IpamClient({ kv: ds.kv, pools: datastorePoolSource(ds) });
    const got = await ipam.autoAssign({
      handleId,
      host: req.node,
      num4: req.pools4.length ? 1 : 0,
      num6: req.pools6.length ? 1 : 0,
      pools4: req.pools4,
      pools6: req.pools6,
      attrs: { namespace: req.namespace, pod: req.name },
    });
    addresses = [...got.ipv4, ...got.ipv6];
  }
  const hostIf = hostInterfaceName(req.namespace, req.name);
  ip(['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', req.netns]);
  ip(['link', 'set', hostIf, 'address', HOST_SIDE_MAC]);
  ip(['link', 'set', hostIf, 'up']);
  const w = (args: string[]) => ip(['-n', req.netns, ...args]);
  for (const a of addresses) w(a.includes(':') ? ['-6', 'addr', 'add', `${a}/128`, 'dev', 'eth0', 'nodad'] : ['addr', 'add', `${a}/32`, 'dev', 'eth0']);
  w(['link', 'set', 'eth0', 'up']);
  if (addresses.some((a) => !a.includes(':'))) {
    w(['route', 'add', GATEWAY_V4, 'dev', 'eth0', 'scope', 'link']);
    w(['route', 'add', 'default', 'via', GATEWAY_V4, 'dev', 'eth0']);
  }
  if (addresses.some((a) => a.includes(':'))) w(['-6', 'route', 'add', 'default', 'via', GATEWAY_V6, 'dev', 'eth0']);
  const mac = (JSON.parse(w(['-j', 'link', 'show', 'eth0'])) as { address: string }[])[0]!.address;

  const wep: Resource = {
    apiVersion: API_VERSION,
    kind: 'WorkloadEndpoint',
    metadata: {
      name: workloadEndpointName({ node: req.node, orchestrator: 'k8s', pod: req.name, endpoint: 'eth0' })!,
      namespace: req.namespace,
      labels: { ...req.labels, 'projectcalico.org/namespace': req.namespace, 'projectcalico.org/orchestrator': 'k8s' },
    },
    spec: {
      orchestrator: 'k8s',
      node: req.node,
      pod: req.name,
      endpoint: 'eth0',
      interfaceName: hostIf,
      mac,
      ipNetworks: addresses.map((a) => (a.includes(':') ? `${a}/128` : `${a}/32`)),
      profiles: [`kns.${req.namespace}`],
      ...(req.ports.length ? { ports: req.ports } : {}),
    },
  };
  return ds.create(wep);
}

if (process.argv[2] === 'add') {
  const req = JSON.parse(process.argv[3] ?? '{}') as PlumbRequest;
  const ds = openDatastore(loadDatastoreConfig());
  plumb(req, ds)
    .then((wep) => console.log(JSON.stringify(wep)))
    .catch((err: unknown) => {
      console.error(`plumbing ${req.namespace}/${req.name} on ${req.node} failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    })
    .finally(() => void ds.close());
}
