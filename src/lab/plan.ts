// From a topology to a concrete plan: every namespace, link, address and
// route the lab creates, and every router it runs. Pure, so the plan can be
// printed, tested and diffed without root.
//
// Address plan (all inside the project's ranges):
//   198.18.255.0/24       management network: etcd at .1, host N at .(10+N)   (bridge in <prefix>mgmt)
//   198.18.<R+1>.0/24     rack R's segment: router .1, host i at .(10+i)      (bridge in the rack router)
//   2001:db8:18:<R+1>::/64  same, IPv6
//   198.18.250.<2R>/31    rack router R <-> border (border .2R, router .2R+1); 2001:db8:18:ff<R>::/64
//   203.0.113.0/24        border .1 <-> internet .10; 2001:db8:203::/64
import type { Topology, LabHost, LabRack } from './topology.js';

export interface NamespacePlan {
  name: string;
  role: 'mgmt' | 'router' | 'border' | 'internet' | 'host' | 'workload';
  /** Topology name of the thing living there (host name, rack name, workload name). */
  label: string;
}

/** A veth pair created directly between two namespaces (never in the machine's own). */
export interface LinkPlan {
  a: { ns: string; dev: string; addresses: string[] };
  b: { ns: string; dev: string; addresses: string[]; bridge?: string };
}

export interface BridgePlan {
  ns: string;
  dev: string;
  addresses: string[];
}

export interface RoutePlan {
  ns: string;
  /** `ip route` arguments after `add`, e.g. `default via 198.18.1.1`. */
  spec: string;
  family: 4 | 6;
}

export interface BgpNeighbor {
  name: string;
  address: string;
  /** The neighbor's IPv6 address: IPv6 routes travel on a session of their own. */
  address6: string;
  asNumber: number;
  /** Route-reflector client (iBGP from a ToR to its hosts). */
  rrClient?: boolean;
  /** Prefixes this neighbor may be sent; undefined = everything. */
  exportOnly?: string[];
}

export interface RouterPlan {
  ns: string;
  role: 'tor' | 'border' | 'internet';
  routerId: string;
  asNumber: number;
  neighbors: BgpNeighbor[];
  /** Static default route to originate toward neighbors (the border's view of the internet). */
  originateDefault: boolean;
}

export interface HostPlan {
  host: LabHost;
  ns: string;
  ipv4: string;
  ipv6: string;
  mgmtAddress: string;
  asNumber: number;
  /** Node labels, so BGPPeers can select hosts by rack. */
  labels: Record<string, string>;
}

export interface LabPlan {
  topology: Topology;
  namespaces: NamespacePlan[];
  bridges: BridgePlan[];
  links: LinkPlan[];
  routes: RoutePlan[];
  routers: RouterPlan[];
  hosts: HostPlan[];
  etcd: { ns: string; clientURL: string; peerURL: string };
  internetAddress: { ipv4: string; ipv6: string };
}

export const MGMT_PREFIX = '198.18.255';

export function nsName(topology: Topology, role: NamespacePlan['role'], label = ''): string {
  const p = topology.prefix;
  switch (role) {
    case 'mgmt':
      return `${p}mgmt`;
    case 'border':
      return `${p}border`;
    case 'internet':
      return `${p}internet`;
    case 'router':
      return `${p}r-${label}`;
    case 'host':
      return `${p}h-${label}`;
    case 'workload':
      return `${p}w-${label}`;
  }
}

const rackV4 = (rack: LabRack, last: number) => `198.18.${rack.index + 1}.${last}`;
const rackV6 = (rack: LabRack, last: number) => `2001:db8:18:${(rack.index + 1).toString(16)}::${last.toString(16)}`;
const uplinkV6 = (rack: LabRack, last: number) => `2001:db8:18:ff${rack.index.toString(16).padStart(2, '0')}::${last}`;

export function planLab(topology: Topology): LabPlan {
  const mgmt = nsName(topology, 'mgmt');
  const border = nsName(topology, 'border');
  const internet = nsName(topology, 'internet');
  const namespaces: NamespacePlan[] = [
    { name: mgmt, role: 'mgmt', label: 'mgmt' },
    { name: border, role: 'border', label: 'border' },
    { name: internet, role: 'internet', label: 'internet' },
  ];
  const bridges: BridgePlan[] = [{ ns: mgmt, dev: 'br-mgmt', addresses: [`${MGMT_PREFIX}.1/24`] }];
  const links: LinkPlan[] = [];
  const routes: RoutePlan[] = [];
  const routers: RouterPlan[] = [];
  const hosts: HostPlan[] = [];
  const publicPools = topology.pools.filter((p) => !p.natOutgoing).map((p) => p.cidr);
  const borderPlan: RouterPlan = {
    ns: border,
    role: 'border',
    routerId: '198.18.250.255',
    asNumber: topology.borderAS,
    neighbors: [],
    originateDefault: true,
  };

  links.push({
    a: { ns: border, dev: 'inet0', addresses: ['203.0.113.1/24', '2001:db8:203::1/64'] },
    b: { ns: internet, dev: 'eth0', addresses: ['203.0.113.10/24', '2001:db8:203::10/64'] },
  });
  // The internet only learns what a data center would announce to it: the
  // fabric (where masqueraded traffic comes from) and the public pools.
  borderPlan.neighbors.push({
    name: 'internet',
    address: '203.0.113.10',
    address6: '2001:db8:203::10',
    asNumber: 64496,
    exportOnly: ['198.18.0.0/16', '2001:db8:18::/48', ...publicPools],
  });
  routers.push({
    ns: internet,
    role: 'internet',
    routerId: '203.0.113.10',
    asNumber: 64496,
    neighbors: [{ name: 'border', address: '203.0.113.1', address6: '2001:db8:203::1', asNumber: topology.borderAS }],
    originateDefault: false,
  });

  let hostCounter = 0;
  for (const rack of topology.racks) {
    const router = nsName(topology, 'router', rack.name);
    namespaces.push({ name: router, role: 'router', label: rack.name });
    bridges.push({ ns: router, dev: 'br-rack', addresses: [`${rackV4(rack, 1)}/24`, `${rackV6(rack, 1)}/64`] });
    links.push({
      a: { ns: router, dev: 'up0', addresses: [`198.18.250.${2 * rack.index + 1}/31`, `${uplinkV6(rack, 2)}/64`] },
      b: { ns: border, dev: `r${rack.index}`, addresses: [`198.18.250.${2 * rack.index}/31`, `${uplinkV6(rack, 1)}/64`] },
    });
    const torAS = rack.tor ? rack.asNumber : 65001 + rack.index;
    borderPlan.neighbors.push({ name: `rack_${rack.index}`, address: `198.18.250.${2 * rack.index + 1}`, address6: uplinkV6(rack, 2), asNumber: torAS });
    const routerPlan: RouterPlan = {
      ns: router,
      role: 'tor',
      routerId: rackV4(rack, 1),
      asNumber: torAS,
      neighbors: [{ name: 'border', address: `198.18.250.${2 * rack.index}`, address6: uplinkV6(rack, 1), asNumber: topology.borderAS }],
      originateDefault: false,
    };
    for (const host of rack.hosts) {
      const ns = nsName(topology, 'host', host.name);
      const n = hostCounter++;
      namespaces.push({ name: ns, role: 'host', label: host.name });
      const ipv4 = rackV4(rack, 10 + host.index);
      const ipv6 = rackV6(rack, 10 + host.index);
      const mgmtAddress = `${MGMT_PREFIX}.${10 + n}`;
      links.push({
        a: { ns, dev: 'eth0', addresses: [`${ipv4}/24`, `${ipv6}/64`] },
        b: { ns: router, dev: `p${host.index}`, addresses: [], bridge: 'br-rack' },
      });
      links.push({
        a: { ns, dev: 'mgmt0', addresses: [`${mgmtAddress}/24`] },
        b: { ns: mgmt, dev: `m${n}`, addresses: [], bridge: 'br-mgmt' },
      });
      routes.push({ ns, spec: `default via ${rackV4(rack, 1)}`, family: 4 });
      routes.push({ ns, spec: `default via ${rackV6(rack, 1)}`, family: 6 });
      const hostAS = rack.tor ? rack.asNumber : topology.clusterAS;
      routerPlan.neighbors.push({ name: `host_${host.name.replace(/-/g, '_')}`, address: ipv4, address6: ipv6, asNumber: hostAS, rrClient: rack.tor });
      hosts.push({ host, ns, ipv4, ipv6, mgmtAddress, asNumber: hostAS, labels: { rack: rack.name, ...(host.routeReflector ? { 'route-reflector': 'true' } : {}) } });
    }
    routers.push(routerPlan);
  }
  routers.push(borderPlan);
  return {
    topology,
    namespaces,
    bridges,
    links,
    routes,
    routers,
    hosts,
    etcd: { ns: mgmt, clientURL: `http://${MGMT_PREFIX}.1:2379`, peerURL: `http://${MGMT_PREFIX}.1:2380` },
    internetAddress: { ipv4: '203.0.113.10', ipv6: '2001:db8:203::10' },
  };
}
