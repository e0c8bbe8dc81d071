// What an ADD makes, decided without touching anything: the workload's
// identity (orchestrator, WorkloadEndpoint name, labels, profile, ports), the
// host veth name, the IPAM handle, the container side's addresses and routes,
// the WorkloadEndpoint and Profile resources, and the CNI result. Pure.
import { workloadEndpointName } from '../api/kinds/endpoint.js';
import { API_VERSION } from '../api/kinds.js';
import type { Resource } from '../api/resource.js';
import type { NetConf } from './config.js';
import { GATEWAY_V4, GATEWAY_V6, HOST_SIDE_MAC, hostInterfaceName, hostInterfaceNameForContainer } from './names.js';
import { CNI_CODES, CniError, encodeResult, podFromArgs, type CniEnv, type CniResult, type CniRoute } from './protocol.js';

/** Namespace of WorkloadEndpoints made for non-Kubernetes containers, as Calico does. */
export const CNI_WORKLOAD_NAMESPACE = 'default';
/** Marks a WorkloadEndpoint as made by the plugin for this network: GC only ever touches these. */
export const NETWORK_ANNOTATION = 'cni.projectcalico.org/network';

export interface WorkloadPort {
  name?: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  port: number;
  hostPort?: number;
  hostIP?: string;
}

export interface Workload {
  orchestrator: 'k8s' | 'cni';
  node: string;
  network: string;
  namespace: string;
  /** k8s: the pod name; cni: the container ID. */
  workload: string;
  containerID: string;
  endpoint: string;
  wepName: string;
  hostIf: string;
  handleId: string;
  labels: Record<string, string>;
  profiles: string[];
  ports: WorkloadPort[];
  /** Its AddressSpace (calico-ts extension); undefined: none. */
  addressSpace?: string;
}

/** IPAM handle of one attachment: `<network name>.<containerID>` (Calico's form). */
export function handleIdFor(networkName: string, containerID: string): string {
  return `${networkName}.${containerID}`;
}

/** The container ID inside a handle of this network, or undefined when the handle is another network's. */
export function containerOfHandle(networkName: string, handleId: string): string | undefined {
  const prefix = `${networkName}.`;
  return handleId.startsWith(prefix) && handleId.length > prefix.length ? handleId.slice(prefix.length) : undefined;
}

export function workloadFor(env: CniEnv, conf: NetConf, node: string): Workload {
  const pod = podFromArgs(env.args);
  const orchestrator = pod ? 'k8s' : 'cni';
  const namespace = pod ? pod.namespace : CNI_WORKLOAD_NAMESPACE;
  const ids = pod ? { node, orchestrator, pod: pod.name, endpoint: env.ifName } : { node, orchestrator, containerID: env.containerID, endpoint: env.ifName };
  for (const [k, v] of Object.entries(ids)) {
    if (v.startsWith('-') || v.endsWith('-')) throw new CniError(CNI_CODES.invalidEnvironment, `cannot name the WorkloadEndpoint: ${k} '${v}' must not start or end with '-'`);
  }
  const wepName = workloadEndpointName(ids);
  if (!wepName) throw new CniError(CNI_CODES.invalidEnvironment, 'cannot name the WorkloadEndpoint: node, workload or interface name missing');
  const ports: WorkloadPort[] = [
    ...conf.namedPorts.map((p) => ({ name: p.name, protocol: p.protocol, port: p.port })),
    ...conf.portMappings.map((m) => ({ protocol: m.protocol, port: m.containerPort, hostPort: m.hostPort, ...(m.hostIP ? { hostIP: m.hostIP } : {}) })),
  ];
  return {
    orchestrator,
    node,
    network: conf.name,
    namespace,
    workload: pod ? pod.name : env.containerID,
    containerID: env.containerID,
    endpoint: env.ifName,
    wepName,
    hostIf: pod ? hostInterfaceName(pod.namespace, pod.name) : hostInterfaceNameForContainer(env.containerID),
    handleId: handleIdFor(conf.name, env.containerID),
    labels: { ...conf.labels, 'projectcalico.org/namespace': namespace, 'projectcalico.org/orchestrator': orchestrator },
    // Kubernetes pods: the namespace's profile (kube-controllers' kns.<ns>); others: the network's, as Calico's plugin does.
    profiles: [pod ? `kns.${namespace}` : conf.name],
    ports,
    ...(conf.addressSpace !== undefined ? { addressSpace: conf.addressSpace } : {}),
  };
}

export const isV6 = (ip: string): boolean => ip.includes(':');
export const hostCidr = (ip: string): string => `${ip.split('/')[0]}/${isV6(ip) ? 128 : 32}`;

export interface ContainerRoute {
  dst: string;
  gw: string;
}

/** The container side: each address as a host route, routes via the link-scoped gateways. */
export interface ContainerPlan {
  netns: string;
  ifName: string;
  hostIf: string;
  /** Undefined: the kernel's default. */
  mtu?: number;
  numQueues: number;
  addresses: string[];
  routes: ContainerRoute[];
  /** Set when the container has IPv4: 169.254.1.1 must be a link-scope route first. */
  gateway4?: string;
  /**
   * In an address space: the IPv4 gateway's MAC, written as a permanent
   * neighbour entry. The host keeps no IPv4 route for a space's addresses, so
   * its proxy ARP (which checks the reverse path of the asker's address)
   * would never answer for 169.254.1.1; the host end's MAC is fixed anyway.
   */
  gateway4Mac?: string;
  gateway6?: string;
  allowIpForwarding: boolean;
}

export function containerPlan(env: CniEnv, w: Workload, opts: { conf: NetConf; ips: string[]; mtu: number | undefined }): ContainerPlan {
  const { conf, ips } = opts;
  const has4 = ips.some((ip) => !isV6(ip));
  const has6 = ips.some(isV6);
  const defaults = [...(has4 ? ['0.0.0.0/0'] : []), ...(has6 ? ['::/0'] : [])];
  const wanted = conf.routes ? [...(conf.includeDefaultRoutes ? defaults : []), ...conf.routes] : defaults;
  const routes = [...new Set(wanted)]
    .filter((dst) => (isV6(dst) ? has6 : has4))
    .map((dst) => ({ dst, gw: isV6(dst) ? GATEWAY_V6 : GATEWAY_V4 }));
  const plan: ContainerPlan = { netns: env.netns, ifName: env.ifName, hostIf: w.hostIf, numQueues: conf.numQueues, addresses: ips.map(hostCidr), routes, allowIpForwarding: conf.allowIpForwarding };
  if (opts.mtu !== undefined) plan.mtu = opts.mtu;
  if (has4) plan.gateway4 = GATEWAY_V4;
  if (has4 && conf.addressSpace !== undefined) plan.gateway4Mac = HOST_SIDE_MAC;
  if (has6) plan.gateway6 = GATEWAY_V6;
  return plan;
}

export function workloadEndpointFor(w: Workload, opts: { ips: string[]; mac: string }): Resource {
  return {
    apiVersion: API_VERSION,
    kind: 'WorkloadEndpoint',
    metadata: { name: w.wepName, namespace: w.namespace, labels: { ...w.labels }, annotations: { [NETWORK_ANNOTATION]: w.network } },
    spec: {
      orchestrator: w.orchestrator,
      node: w.node,
      ...(w.orchestrator === 'k8s' ? { pod: w.workload } : { workload: w.workload }),
      containerID: w.containerID,
      endpoint: w.endpoint,
      interfaceName: w.hostIf,
      mac: opts.mac,
      ipNetworks: opts.ips.map(hostCidr),
      profiles: [...w.profiles],
      ...(w.ports.length ? { ports: w.ports.map((p) => ({ ...p })) } : {}),
      // In a space the MAC above is required (the host reaches the workload's translated address without NDP).
      ...(w.addressSpace !== undefined ? { addressSpace: w.addressSpace } : {}),
    },
  };
}

/**
 * The profile an endpoint needs when nobody made it: for a namespace (what
 * Calico's kube-controllers makes: allow, and the namespace's name as a label
 * for namespaceSelector), or for a plain CNI network (what Calico's plugin
 * makes: members may talk to each other, anything may go out). Never updated
 * once it exists: an operator's edits win.
 */
export function defaultProfileFor(w: Workload): Resource {
  if (w.orchestrator === 'k8s') {
    return {
      apiVersion: API_VERSION,
      kind: 'Profile',
      metadata: { name: `kns.${w.namespace}` },
      spec: { labelsToApply: { 'pcns.projectcalico.org/name': w.namespace }, ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] },
    };
  }
  return {
    apiVersion: API_VERSION,
    kind: 'Profile',
    metadata: { name: w.network },
    spec: { labelsToApply: { [w.network]: '' }, ingress: [{ action: 'Allow', source: { selector: `has(${w.network})` } }], egress: [{ action: 'Allow' }] },
  };
}

/**
 * The ADD result. With a prevResult (an earlier plugin in the chain), ours is
 * appended to it: its interfaces, addresses and routes stay, ours follow, and
 * our addresses point at our container interface's index.
 */
export function addResult(opts: { conf: NetConf; plan: ContainerPlan; containerMac: string; prev?: CniResult }): CniResult {
  const { conf, plan, prev } = opts;
  const interfaces = [...(prev?.interfaces ?? [])];
  const hostIndex = interfaces.length;
  interfaces.push({ name: plan.hostIf, mac: HOST_SIDE_MAC });
  interfaces.push({ name: plan.ifName, mac: opts.containerMac, ...(plan.mtu ? { mtu: plan.mtu } : {}), sandbox: plan.netns });
  const routes: CniRoute[] = [...(prev?.routes ?? []), ...plan.routes.map((r) => ({ dst: r.dst, gw: r.gw }))];
  const result: CniResult = {
    cniVersion: conf.cniVersion,
    interfaces,
    ips: [
      ...(prev?.ips ?? []),
      ...plan.addresses.map((address) => ({ address, gateway: isV6(address) ? plan.gateway6! : plan.gateway4!, interface: hostIndex + 1 })),
    ],
    routes,
    dns: { ...(prev?.dns ?? {}), ...conf.dns },
  };
  return encodeResult(result, conf.cniVersion);
}

/** calico-ipam's own result: addresses only (no interfaces, no interface index), as the spec has it for IPAM. */
export function ipamResult(conf: NetConf, ips: string[]): CniResult {
  const routes: CniRoute[] = [];
  if (ips.some((ip) => !isV6(ip))) routes.push({ dst: '0.0.0.0/0' });
  if (ips.some(isV6)) routes.push({ dst: '::/0' });
  return encodeResult({ cniVersion: conf.cniVersion, ips: ips.map((ip) => ({ address: hostCidr(ip) })), routes, dns: { ...conf.dns } }, conf.cniVersion);
}

/** IPAM request for one attachment: the families the config asks for that the handle does not hold yet. */
export function missingFamilies(conf: NetConf, held: string[]): { num4: number; num6: number } {
  const has4 = held.some((ip) => !isV6(ip));
  const has6 = held.some(isV6);
  if (conf.ips.length) return { num4: 0, num6: 0 };
  return { num4: conf.ipam.assignIpv4 && !has4 ? 1 : 0, num6: conf.ipam.assignIpv6 && !has6 ? 1 : 0 };
}

/** The IPAM attributes Calico records with each address (`node` is added by IPAM). */
export function ipamAttributes(w: Pick<Workload, 'orchestrator' | 'namespace' | 'workload' | 'containerID'>): Record<string, string> {
  // Pods by namespace/pod, others by namespace/workload (= container ID): what `ipam check` matches endpoints on.
  return w.orchestrator === 'k8s'
    ? { namespace: w.namespace, pod: w.workload, containerID: w.containerID }
    : { namespace: w.namespace, workload: w.workload, containerID: w.containerID };
}

export interface GcPlan {
  /** IPAM handles of this network on this node whose container is not a valid attachment. */
  releaseHandles: string[];
  /** WorkloadEndpoints this plugin made for this network on this node, for containers no longer attached. */
  deleteEndpoints: { namespace: string; name: string; interfaceName?: string }[];
}

/**
 * GC: what to release, given the runtime's still-valid attachments. Only what
 * is provably ours is touched: handles named `<network>.<containerID>` with
 * addresses on this node (a handle with no address here may be another node's
 * ADD in progress), and endpoints carrying our network annotation.
 */
export function planGc(opts: { network: string; node: string; valid: { containerID: string }[]; handles: Map<string, string[]>; endpoints: Resource[] }): GcPlan {
  const valid = new Set(opts.valid.map((a) => a.containerID));
  const releaseHandles = [...opts.handles.keys()]
    .filter((h) => {
      const cid = containerOfHandle(opts.network, h);
      return cid !== undefined && !valid.has(cid);
    })
    .sort();
  const deleteEndpoints = opts.endpoints
    .filter((r) => {
      const spec = (r.spec ?? {}) as { node?: string; containerID?: string; interfaceName?: string };
      return r.metadata.annotations?.[NETWORK_ANNOTATION] === opts.network && spec.node === opts.node && !!spec.containerID && !valid.has(spec.containerID);
    })
    .map((r) => {
      const iface = ((r.spec ?? {}) as { interfaceName?: string }).interfaceName;
      return { namespace: r.metadata.namespace ?? CNI_WORKLOAD_NAMESPACE, name: r.metadata.name, ...(iface ? { interfaceName: iface } : {}) };
    })
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  return { releaseHandles, deleteEndpoints };
}
