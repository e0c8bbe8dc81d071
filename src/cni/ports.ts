// The three things the CNI plugins reach: IPAM, WorkloadEndpoints in the
// datastore, and the kernel (veth, addresses, routes). Real implementations
// live in drivers.ts; fakes.ts records an op log and can fail a chosen call.
import type { Resource } from '../api/resource.js';
import type { ContainerPlan } from './plan.js';

export interface CniIpam {
  /** Addresses the handle holds now (bare IPs). */
  ipsByHandle(handleId: string): Promise<string[]>;
  autoAssign(req: { handleId: string; host: string; num4: number; num6: number; pools4: string[]; pools6: string[]; attrs: Record<string, string> }): Promise<string[]>;
  /** Idempotent: an unknown handle is fine. */
  releaseByHandle(handleId: string): Promise<void>;
}

export interface CniEndpoints {
  get(namespace: string, name: string): Promise<Resource | undefined>;
  /** Create, or replace the spec and labels of the one that is there. */
  put(wep: Resource): Promise<void>;
  /** Idempotent. */
  delete(namespace: string, name: string): Promise<void>;
}

export interface CniNetwork {
  netnsExists(netns: string): Promise<boolean>;
  hostLinkExists(name: string): Promise<boolean>;
  /** The veth pair: `plan.hostIf` here, `plan.ifName` inside `plan.netns`. */
  createVeth(plan: ContainerPlan): Promise<void>;
  /** Host side: MAC ee:ee:ee:ee:ee:ee, MTU, up. Returns its MAC. */
  configureHostSide(plan: ContainerPlan): Promise<string>;
  /** Container side: addresses, MTU, up, gateway and default routes. Returns its MAC. */
  configureContainerSide(plan: ContainerPlan): Promise<string>;
  /** Idempotent: deleting one end of a veth deletes both. */
  deleteHostLink(name: string): Promise<void>;
  /** Idempotent; a missing namespace is fine. */
  deleteContainerLink(netns: string, ifName: string): Promise<void>;
  /** Global-scope addresses (CIDR form) on the container interface; undefined when it is not there. */
  containerAddresses(netns: string, ifName: string): Promise<string[] | undefined>;
}

export interface CniPorts {
  ipam: CniIpam;
  endpoints: CniEndpoints;
  network: CniNetwork;
  /** One line per event on stderr (stdout is the protocol's). */
  log: (level: 'debug' | 'info' | 'warning' | 'error', msg: string) => void;
}
