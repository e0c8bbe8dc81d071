// Which host endpoint governs which host interface. Pure. Felix's rules
// (felix/dataplane/linux/endpoint_mgr.go, resolveHostEndpoints):
//   - per host interface (not a workload interface), the candidates are the
//     endpoints naming it (interfaceName) and the endpoints without an
//     interfaceName whose expectedIPs include one of its addresses; an
//     endpoint naming another interface never matches by address;
//   - of several candidates, the one with the alphabetically first id (the
//     HostEndpoint name) wins; the others stay inactive until it goes;
//   - "*" (all interfaces) is never matched per interface: the first-named
//     all-interfaces endpoint is the default for every interface that no
//     endpoint above claims.
// Unlike Felix, an endpoint naming an interface we have not seen (or whose
// address listing failed) is still rendered for that name: its rules then hold
// from the moment the interface appears, instead of from the next refresh.

import type { HostEndpointState } from '../calc/output.js';
import { canonicalCidr } from '../rules/cidr.js';
import { ALL_INTERFACES } from '../rules/names.js';
import type { HostInterface } from './ports.js';

export interface ResolvedHostEndpoint {
  /** The interface name, or "*" for the all-interfaces endpoint. */
  iface: string;
  endpoint: HostEndpointState;
}

export interface HostEndpointResolution {
  resolved: ResolvedHostEndpoint[];
  /** Endpoints that govern no interface (lost to another, or expectedIPs on no interface), for logs and status. */
  inactive: string[];
}

const canonical = (a: string): string | undefined => {
  try {
    return canonicalCidr(a);
  } catch {
    return undefined;
  }
};

const byId = (a: HostEndpointState, b: HostEndpointState) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function resolveHostEndpoints(
  endpoints: Iterable<HostEndpointState>,
  opts: { interfaces?: HostInterface[]; isWorkloadInterface: (name: string) => boolean },
): HostEndpointResolution {
  const all = [...endpoints].sort(byId);
  const byIface = new Map<string, HostEndpointState>();
  for (const iface of opts.interfaces ?? []) {
    if (opts.isWorkloadInterface(iface.name) || byIface.has(iface.name)) continue;
    const addrs = new Set(iface.addresses.map(canonical).filter((a): a is string => !!a));
    // Sorted by id, so the first match is the winner.
    const winner = all.find((ep) => {
      if (ep.interfaceName === ALL_INTERFACES) return false;
      if (ep.interfaceName) return ep.interfaceName === iface.name;
      return ep.expectedIPs.some((ip) => {
        const c = canonical(ip);
        return c !== undefined && addrs.has(c);
      });
    });
    if (winner) byIface.set(iface.name, winner);
  }
  for (const ep of all) {
    const name = ep.interfaceName;
    if (!name || name === ALL_INTERFACES || byIface.has(name) || opts.isWorkloadInterface(name)) continue;
    if ((opts.interfaces ?? []).some((i) => i.name === name)) continue; // present: decided above
    byIface.set(name, ep);
  }
  const resolved: ResolvedHostEndpoint[] = [...byIface.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([iface, endpoint]) => ({ iface, endpoint }));
  const star = all.find((ep) => ep.interfaceName === ALL_INTERFACES);
  if (star) resolved.unshift({ iface: ALL_INTERFACES, endpoint: star });
  const active = new Set(resolved.map((r) => r.endpoint.id));
  return { resolved, inactive: all.filter((ep) => !active.has(ep.id)).map((ep) => ep.id) };
}
