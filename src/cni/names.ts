// Names and fixed addresses of a workload's plumbing, as Calico's CNI plugin
// makes them, so that tools and people who know Calico find what they expect.
// The one implementation: the plugin names with it, calico-node names its endpoint status files with it.
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

/** Go's url.PathEscape: unreserved characters and `$&+:=@` stay, everything else is %XX per UTF-8 byte. */
function pathEscape(s: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(s)) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~$&+:=@]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Splits a WorkloadEndpoint name at single dashes ("--" is an escaped "-"), as Calico's extractParts. */
export function workloadEndpointNameParts(name: string): string[] {
  const parts: string[] = [];
  let last = -1;
  for (let i = 1; i < name.length; i++) {
    if (name[i] !== '-') continue;
    if (i < name.length - 1 && name[i + 1] === '-') {
      i++;
      continue;
    }
    parts.push(name.slice(last + 1, i).replace(/--/g, '-'));
    last = i;
  }
  parts.push(name.slice(last + 1).replace(/--/g, '-'));
  return parts;
}

/**
 * The file calico-node writes once it has programmed an endpoint, and the CNI
 * plugin waits for (Felix's endpoint-status contract): `<orchestrator>
 * <namespace>%2F<workload> <endpoint>`, each part path-escaped. Undefined for
 * a name that is not <node>-<orchestrator>-<workload>-<endpoint>.
 */
export function endpointStatusFilename(ep: { namespace: string; name: string }): string | undefined {
  const parts = workloadEndpointNameParts(ep.name);
  if (parts.length !== 4 || !ep.namespace) return undefined;
  return [pathEscape(parts[1]!), pathEscape(`${ep.namespace}/${parts[2]!}`), pathEscape(parts[3]!)].join(' ');
}
