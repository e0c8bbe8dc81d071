// Names and fixed addresses of a workload's plumbing, as Calico's CNI plugin
// makes them, so that tools and people who know Calico find what they expect.
// The one implementation: the CNI plugin and the lab's plumbing both use it.
import { createHash } from 'node:crypto';

/** Host side of every workload veth: the workload's gateway answers from here. */
export const HOST_SIDE_MAC = 'ee:ee:ee:ee:ee:ee';
/** The IPv4 gateway a workload routes through; the host answers ARP for it (proxy_arp). */
export const GATEWAY_V4 = '169.254.1.1';
/** The IPv6 gateway: the EUI-64 link-local address that HOST_SIDE_MAC gives the host side. */
export const GATEWAY_V6 = 'fe80::ecee:eeff:feee:eeee';

/** `cali` + 11 hex characters of sha1("<namespace>.<name>"): 15 characters, IFNAMSIZ-safe. */
export function hostInterfaceName(namespace: string, name: string): string {
  return 'cali' + createHash('sha1').update(`${namespace}.${name}`).digest('hex').slice(0, 11);
}

/** Non-Kubernetes workloads (orchestrator cni): `cali` + the first 11 characters of the container ID. */
export function hostInterfaceNameForContainer(containerID: string): string {
  return 'cali' + containerID.slice(0, 11);
}
