// The Calico resources that make the lab's fabric a Calico cluster: pools,
// BGP configuration, one BGPPeer per rack router, a Node per host (with the
// rack label peers select on) and a Profile per workload namespace (as the
// Kubernetes integration makes them: namespace labels for namespaceSelector,
// allow-all so that only policy restricts). Pure.
import type { Resource } from '../api/resource.js';
import { API_VERSION } from '../api/kinds.js';
import type { LabPlan } from './plan.js';
import { LAB_NETWORK } from './workloads.js';
import { addressSpaceResource } from './address-spaces.js';

const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, ...extra });

export function clusterResources(plan: LabPlan): Resource[] {
  const t = plan.topology;
  const out: Resource[] = [];
  const withTor = t.racks.every((r) => r.tor);
  // Spaces before anything: the CNI plugin refuses a workload whose space does not exist.
  out.push(...t.addressSpaces.map(addressSpaceResource));
  for (const pool of t.pools) {
    out.push({
      apiVersion: API_VERSION,
      kind: 'IPPool',
      metadata: meta(pool.name),
      spec: { cidr: pool.cidr, blockSize: pool.blockSize, natOutgoing: pool.natOutgoing, nodeSelector: 'all()' },
    });
  }
  out.push({
    apiVersion: API_VERSION,
    kind: 'BGPConfiguration',
    metadata: meta('default'),
    spec: {
      asNumber: t.clusterAS,
      // With ToRs each rack's router reflects routes to its hosts; the hosts
      // need not mesh. Flat racks mesh unless route reflectors are named.
      nodeToNodeMeshEnabled: !withTor && !t.hosts.some((h) => h.routeReflector),
      logSeverityScreen: 'Info',
    },
  });
  for (const rack of t.racks) {
    const router = plan.routers.find((r) => r.role === 'tor' && r.routerId === `198.18.${rack.index + 1}.1`)!;
    for (const [suffix, peerIP] of [['', router.routerId], ['-v6', `2001:db8:18:${(rack.index + 1).toString(16)}::1`]] as const) {
      out.push({
        apiVersion: API_VERSION,
        kind: 'BGPPeer',
        metadata: meta(`${rack.name}-router${suffix}`),
        spec: { nodeSelector: `rack == '${rack.name}'`, peerIP, asNumber: router.asNumber },
      });
    }
  }
  if (t.hosts.some((h) => h.routeReflector)) {
    out.push({
      apiVersion: API_VERSION,
      kind: 'BGPPeer',
      metadata: meta('peer-with-route-reflectors'),
      spec: { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" },
    });
  }
  for (const h of plan.hosts) {
    const bgp: Record<string, unknown> = { ipv4Address: `${h.ipv4}/24`, ipv6Address: `${h.ipv6}/64`, asNumber: h.asNumber };
    if (h.host.routeReflector) bgp.routeReflectorClusterID = '244.0.0.1';
    out.push({ apiVersion: API_VERSION, kind: 'Node', metadata: meta(h.host.name, { labels: h.labels }), spec: { bgp } });
  }
  for (const ns of [...new Set(t.workloads.map((w) => w.namespace))].sort()) {
    out.push({
      apiVersion: API_VERSION,
      kind: 'Profile',
      metadata: meta(`kns.${ns}`),
      spec: {
        labelsToApply: { 'pcns.projectcalico.org/name': ns },
        ingress: [{ action: 'Allow' }],
        egress: [{ action: 'Allow' }],
      },
    });
  }
  // Runtime workloads are plain containers: their profile is the network's.
  // The lab makes it open like its namespace profiles (the plugins create a
  // profile only when it is missing, so this one stays).
  if (t.workloads.some((w) => w.runtime)) {
    out.push({
      apiVersion: API_VERSION,
      kind: 'Profile',
      metadata: meta(LAB_NETWORK),
      spec: { labelsToApply: { [LAB_NETWORK]: '' }, ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] },
    });
  }
  return out;
}
