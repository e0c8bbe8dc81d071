// What an ADD makes, decided without touching anything: the workload's
// identity (orchestrator, WorkloadEndpoint name, labels, profiles), the host
// veth name, the IPAM handle, the container side's addresses and routes, the
// WorkloadEndpoint resource and the CNI result. Pure.
import { workloadEndpointName } from '../api/index.js';
import { API_VERSION } from '../api/kinds.js';
import type { Resource } from '../api/resource.js';
import { GATEWAY_V4, GATEWAY_V6, hostInterfaceName, hostInterfaceNameForContainer } from './names.js';
import { CNI_CODES, CniError, podFromArgs, type CniEnv, type CniResult, type NetConf } from './protocol.js';

/** Namespace of WorkloadEndpoints made for non-Kubernetes containers, as Calico does. */
export const CNI_WORKLOAD_NAMESPACE = 'default';

export interface Workload {
  orchestrator: 'k8s' | 'cni';
  node: string;
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
}

/** IPAM handle of one attachment: `<network name>.<containerID>` (Calico's form). */
export function handleIdFor(networkName: string, containerID: string): string {
  return `${networkName}.${containerID}`;
}

export function workloadFor(env: CniEnv, conf: NetConf, node: string): Workload {
  const pod = podFromArgs(env.args);
  const orchestrator = pod ? 'k8s' : 'cni';
  const namespace = pod ? pod.namespace : CNI_WORKLOAD_NAMESPACE;
  const ids = pod
    ? { node, orchestrator, pod: pod.name, endpoint: env.ifName }
    : { node, orchestrator, containerID: env.containerID, endpoint: env.ifName };
  const wepName = workloadEndpointName(ids);
  if (!wepName) throw new CniError(CNI_CODES.invalidEnvironment, 'cannot name the WorkloadEndpoint: node, workload or interface name missing');
  return {
    orchestrator,
    node,
    namespace,
    workload: pod ? pod.name : env.containerID,
    containerID: env.containerID,
    endpoint: env.ifName,
    wepName,
    hostIf: pod ? hostInterfaceName(pod.namespace, pod.name) : hostInterfaceNameForContainer(env.containerID),
    handleId: handleIdFor(conf.name, env.containerID),
    labels: { 'projectcalico.org/namespace': namespace, 'projectcalico.org/orchestrator': orchestrator },
    profiles: [`kns.${namespace}`],
  };
}

export const isV6 = (ip: string): boolean => ip.includes(':');
export const hostCidr = (ip: string): string => `${ip}/${isV6(ip) ? 128 : 32}`;

/** The container side: each address as a host route, default routes via the link-scoped gateways. */
export interface ContainerPlan {
  netns: string;
  ifName: string;
  hostIf: string;
  mtu: number;
  addresses: string[];
  gateway4?: string;
  gateway6?: string;
}

export function containerPlan(env: CniEnv, w: Workload, conf: NetConf, ips: string[]): ContainerPlan {
  const plan: ContainerPlan = { netns: env.netns, ifName: env.ifName, hostIf: w.hostIf, mtu: conf.mtu, addresses: ips.map(hostCidr) };
  if (ips.some((ip) => !isV6(ip))) plan.gateway4 = GATEWAY_V4;
  if (ips.some(isV6)) plan.gateway6 = GATEWAY_V6;
  return plan;
}

export function workloadEndpointFor(w: Workload, ips: string[], mac: string): Resource {
  return {
    apiVersion: API_VERSION,
    kind: 'WorkloadEndpoint',
    metadata: { name: w.wepName, namespace: w.namespace, labels: { ...w.labels } },
    spec: {
      orchestrator: w.orchestrator,
      node: w.node,
      ...(w.orchestrator === 'k8s' ? { pod: w.workload } : {}),
      containerID: w.containerID,
      endpoint: w.endpoint,
      interfaceName: w.hostIf,
      mac,
      ipNetworks: ips.map(hostCidr),
      profiles: [...w.profiles],
    },
  };
}

/** Results before 1.0.0 carry each address's family as `version: "4" | "6"` (dropped in 1.0.0). */
function legacyVersion(cniVersion: string, ip: string): { version?: '4' | '6' } {
  return cniVersion.startsWith('0.') ? { version: isV6(ip) ? '6' : '4' } : {};
}

/** The ADD result: interface 0 the host side, 1 the container side (in the sandbox); IPs on interface 1. */
export function addResult(opts: { conf: NetConf; plan: ContainerPlan; hostMac: string; containerMac: string }): CniResult {
  const { conf, plan } = opts;
  const routes = [];
  if (plan.gateway4) routes.push({ dst: '0.0.0.0/0' });
  if (plan.gateway6) routes.push({ dst: '::/0' });
  return {
    cniVersion: conf.cniVersion,
    interfaces: [
      { name: plan.hostIf, mac: opts.hostMac },
      { name: plan.ifName, mac: opts.containerMac, sandbox: plan.netns },
    ],
    ips: plan.addresses.map((address) => ({ ...legacyVersion(conf.cniVersion, address), address, interface: 1, gateway: isV6(address) ? plan.gateway6! : plan.gateway4! })),
    routes,
    dns: {},
  };
}

/** calico-ipam's own result: only addresses, no interfaces. */
export function ipamResult(conf: NetConf, ips: string[]): CniResult {
  const routes = [];
  if (ips.some((ip) => !isV6(ip))) routes.push({ dst: '0.0.0.0/0' });
  if (ips.some(isV6)) routes.push({ dst: '::/0' });
  return { cniVersion: conf.cniVersion, ips: ips.map((ip) => ({ ...legacyVersion(conf.cniVersion, ip), address: hostCidr(ip) })), routes, dns: {} };
}

/** CHECK: what differs between prevResult's addresses and what is there. Empty = fine. */
export function checkDifferences(opts: { expected: string[]; ipam: string[]; endpoint: string[] | undefined; container: string[] | undefined }): string[] {
  const norm = (xs: string[]): string => [...new Set(xs.map((x) => (x.includes('/') ? x : hostCidr(x))))].sort().join(',');
  const want = norm(opts.expected);
  const out: string[] = [];
  if (norm(opts.ipam) !== want) out.push(`IPAM holds [${norm(opts.ipam)}] for this container, prevResult says [${want}]`);
  if (opts.endpoint === undefined) out.push('the WorkloadEndpoint is missing');
  else if (norm(opts.endpoint) !== want) out.push(`the WorkloadEndpoint has ipNetworks [${norm(opts.endpoint)}], prevResult says [${want}]`);
  if (opts.container === undefined) out.push('the container interface is missing');
  else if (norm(opts.container) !== want) out.push(`the container interface has [${norm(opts.container)}], prevResult says [${want}]`);
  return out;
}
