// Docker's libnetwork remote NetworkDriver and IpamDriver, as Calico's
// libnetwork-plugin answers them, over the same IPAM, WorkloadEndpoint and
// Profile code the CNI plugin uses. Decisions here; I/O through the ports.
//
// The flow Docker drives, per container:
//   RequestAddress (IPAM: one address from Calico's pools)
//   CreateEndpoint (the WorkloadEndpoint, orchestrator/workload "libnetwork")
//   Join           (the veth: cali<id> on the host, temp<id> handed to Docker,
//                   which moves it into the container as eth0 and sets the
//                   address; we answer gateway 169.254.1.1 and the IPv6
//                   link-local gateway, both "connected" routes)
//   Leave / DeleteEndpoint / ReleaseAddress undo each step.
import { workloadEndpointName } from '../api/index.js';
import { API_VERSION } from '../api/kinds.js';
import type { Resource } from '../api/resource.js';
import type { CniCluster, CniEndpoints } from '../cni/ports.js';
import { GATEWAY_V4, GATEWAY_V6 } from '../cni/names.js';
import { normalizeCIDR } from '../base/ip.js';

export const ORCHESTRATOR = 'libnetwork';
/** Docker's address spaces for networks that use this IPAM driver. */
export const LOCAL_ADDRESS_SPACE = 'CalicoLocalAddressSpace';
export const GLOBAL_ADDRESS_SPACE = 'CalicoGlobalAddressSpace';
/** Pool IDs meaning "any Calico pool of this family". */
export const POOL_ID_V4 = 'CalicoPoolIPv4';
export const POOL_ID_V6 = 'CalicoPoolIPv6';
/** Docker names the container interface <prefix><n>. */
export const CONTAINER_IF_PREFIX = 'cali';

/** A refusal Docker shows the user as the error of `docker network create` / `docker run`. */
export class LibnetworkError extends Error {
  override readonly name = 'LibnetworkError';
}

export interface LibnetworkPorts {
  node: string;
  ipam: {
    autoAssign(req: { handleId: string; host: string; num4: number; num6: number; pools4: string[]; pools6: string[]; attrs: Record<string, string> }): Promise<string[]>;
    assignIps(req: { ips: string[]; handleId: string; host: string; attrs: Record<string, string> }): Promise<void>;
    /** Idempotent: an address that is free already is fine. */
    release(ip: string): Promise<void>;
  };
  /** IPPools as stored (name, cidr, disabled). */
  pools(): Promise<Resource[]>;
  endpoints: CniEndpoints;
  cluster: Pick<CniCluster, 'ensureProfile'>;
  links: {
    /** A veth: `host` stays here, `temp` is handed to Docker. Host side MAC ee:ee:ee:ee:ee:ee, up. */
    createVeth(host: string, temp: string, mtu: number | undefined): Promise<void>;
    mac(name: string): Promise<string>;
    /** Idempotent. */
    delete(name: string): Promise<void>;
  };
  /** The docker network's name and the container's labels, when Docker's API is reachable. */
  docker?: {
    networkName(networkId: string): Promise<string | undefined>;
  };
  /** A fresh unique string for IPAM handles. */
  newId(): string;
  mtu?: number;
  log(level: 'info' | 'warning' | 'error', msg: string): void;
}

type Json = Record<string, unknown>;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** `cali` + the first 11 characters of the endpoint ID, as Calico's plugin names the host side. */
export const hostIfFor = (endpointId: string) => 'cali' + endpointId.slice(0, 11);
export const tempIfFor = (endpointId: string) => 'temp' + endpointId.slice(0, 11);

export function wepNameFor(node: string, endpointId: string): string {
  const name = workloadEndpointName({ node, orchestrator: ORCHESTRATOR, workload: ORCHESTRATOR, endpoint: endpointId });
  if (!name) throw new LibnetworkError(`cannot name the WorkloadEndpoint of endpoint ${endpointId} on node ${node}`);
  return name;
}

export class LibnetworkDriver {
  constructor(private readonly p: LibnetworkPorts) {}

  /** One handler per remote-driver call: path -> request -> response. */
  readonly routes: Record<string, (req: Json) => Promise<Json>> = {
    '/Plugin.Activate': async () => ({ Implements: ['NetworkDriver', 'IpamDriver'] }),
    // Scope "local": Docker 20.10 keeps a "global" network only in swarm mode (its
    // cluster store is gone), so each engine creates the network itself; hosts
    // still share addresses, endpoints and policy through the datastore, so
    // connectivity is global.
    '/NetworkDriver.GetCapabilities': async () => ({ Scope: 'local', ConnectivityScope: 'global' }),
    '/NetworkDriver.CreateNetwork': (r) => this.createNetwork(r),
    '/NetworkDriver.DeleteNetwork': async () => ({}),
    '/NetworkDriver.CreateEndpoint': (r) => this.createEndpoint(r),
    '/NetworkDriver.EndpointOperInfo': async () => ({ Value: {} }),
    '/NetworkDriver.DeleteEndpoint': (r) => this.deleteEndpoint(r),
    '/NetworkDriver.Join': (r) => this.join(r),
    '/NetworkDriver.Leave': (r) => this.leave(r),
    '/NetworkDriver.DiscoverNew': async () => ({}),
    '/NetworkDriver.DiscoverDelete': async () => ({}),
    '/NetworkDriver.ProgramExternalConnectivity': async () => ({}),
    '/NetworkDriver.RevokeExternalConnectivity': async () => ({}),
    '/IpamDriver.GetCapabilities': async () => ({ RequiresMACAddress: false }),
    '/IpamDriver.GetDefaultAddressSpaces': async () => ({ LocalDefaultAddressSpace: LOCAL_ADDRESS_SPACE, GlobalDefaultAddressSpace: GLOBAL_ADDRESS_SPACE }),
    '/IpamDriver.RequestPool': (r) => this.requestPool(r),
    '/IpamDriver.ReleasePool': async () => ({}),
    '/IpamDriver.RequestAddress': (r) => this.requestAddress(r),
    '/IpamDriver.ReleaseAddress': (r) => this.releaseAddress(r),
  };

  private async createNetwork(r: Json): Promise<Json> {
    // Docker options we cannot honour are refused, not ignored (--internal, -o ...).
    for (const [k, v] of Object.entries((r.Options as Json | undefined) ?? {})) {
      if (k === 'com.docker.network.enable_ipv6') continue;
      if (k === 'com.docker.network.generic' && v && typeof v === 'object' && Object.keys(v).length === 0) continue;
      if (v === false || v === '' || v === null) continue;
      const flag = typeof v === 'boolean' ? `--${k.replace(/^com\.docker\.network\./, '')}` : v && typeof v === 'object' ? Object.keys(v).sort().join(', ') : `${k} (${String(v)})`;
      throw new LibnetworkError(`the calico driver does not support ${flag}: remove it from docker network create`);
    }
    // Our IPAM answers RequestPool with a 0.0.0.0/0 gateway; any other gateway means another IPAM driver.
    for (const d of (r.IPv4Data as Json[] | undefined) ?? []) {
      if (str(d.Gateway) !== '0.0.0.0/0') throw new LibnetworkError('the calico network driver needs Calico IPAM: add --ipam-driver calico-ipam to docker network create');
    }
    for (const d of (r.IPv6Data as Json[] | undefined) ?? []) {
      if (str(d.AddressSpace) !== GLOBAL_ADDRESS_SPACE) throw new LibnetworkError('the calico network driver needs Calico IPAM: add --ipam-driver calico-ipam to docker network create');
    }
    return {};
  }

  private async requestPool(r: Json): Promise<Json> {
    if (str(r.SubPool)) throw new LibnetworkError('Calico IPAM does not support --ip-range: addresses come from the Calico IP pool as a whole (configure pools with calicoctl)');
    if (Object.keys((r.Options as Json | undefined) ?? {}).length) throw new LibnetworkError(`Calico IPAM takes no --ipam-opt options (got ${Object.keys(r.Options as Json).join(', ')})`);
    const v6 = r.V6 === true;
    const any = v6 ? { PoolID: POOL_ID_V6, Pool: '::/0', gw: '::/0' } : { PoolID: POOL_ID_V4, Pool: '0.0.0.0/0', gw: '0.0.0.0/0' };
    const subnet = str(r.Pool);
    if (!subnet) return { PoolID: any.PoolID, Pool: any.Pool, Data: { 'com.docker.network.gateway': any.gw } };
    const pool = await this.poolByCidr(subnet);
    if (!pool) throw new LibnetworkError(`--subnet ${subnet} must be the CIDR of a Calico IP pool (calicoctl get ippools lists them)`);
    // The dummy gateway keeps Docker from taking an address of the pool for one.
    return { PoolID: subnet, Pool: subnet, Data: { 'com.docker.network.gateway': any.gw } };
  }

  private async poolByCidr(cidr: string): Promise<Resource | undefined> {
    let want: string;
    try {
      want = canonical(cidr);
    } catch {
      throw new LibnetworkError(`${cidr} is not a valid CIDR`);
    }
    return (await this.p.pools()).find((p) => canonical(str((p.spec as Json).cidr)) === want);
  }

  private async requestAddress(r: Json): Promise<Json> {
    const options = (r.Options as Json | undefined) ?? {};
    if (options['RequestAddressType'] === 'com.docker.network.gateway') throw new LibnetworkError('Calico IPAM does not support --gateway: workloads route through their host');
    const poolId = str(r.PoolID);
    const handleId = `libnetwork.${this.p.newId()}`;
    const attrs = { node: this.p.node, orchestrator: ORCHESTRATOR };
    const wanted = str(r.Address);
    if (wanted) {
      // Any address in any Calico pool, as Calico's plugin allows (--ip).
      await this.p.ipam.assignIps({ ips: [wanted], handleId, host: this.p.node, attrs });
      return { Address: `${wanted}/${wanted.includes(':') ? 128 : 32}`, Data: {} };
    }
    let pools4: string[] = [];
    let pools6: string[] = [];
    let v6 = poolId === POOL_ID_V6;
    if (poolId !== POOL_ID_V4 && poolId !== POOL_ID_V6) {
      const pool = await this.poolByCidr(poolId);
      if (!pool) throw new LibnetworkError(`the network's pool ${poolId} is no longer a Calico IP pool: re-create the pool (calicoctl apply) or the network`);
      v6 = poolId.includes(':');
      (v6 ? (pools6 = [pool.metadata.name]) : (pools4 = [pool.metadata.name]));
    }
    const ips = await this.p.ipam.autoAssign({ handleId, host: this.p.node, num4: v6 ? 0 : 1, num6: v6 ? 1 : 0, pools4, pools6, attrs });
    if (ips.length !== 1) throw new LibnetworkError(`Calico IPAM assigned ${ips.length} addresses where one was asked for`);
    const ip = ips[0]!;
    return { Address: `${ip}/${ip.includes(':') ? 128 : 32}`, Data: {} };
  }

  private async releaseAddress(r: Json): Promise<Json> {
    const ip = str(r.Address).split('/')[0]!;
    // Docker never asked us for a gateway; a dummy one (0.0.0.0) has nothing to release.
    if (!ip || ip === '0.0.0.0' || ip === '::') return {};
    await this.p.ipam.release(ip);
    return {};
  }

  private async createEndpoint(r: Json): Promise<Json> {
    const endpointId = str(r.EndpointID);
    const iface = (r.Interface as Json | undefined) ?? {};
    const v4 = str(iface.Address);
    const v6 = str(iface.AddressIPv6);
    if (!endpointId) throw new LibnetworkError('CreateEndpoint without an EndpointID');
    if (!v4 && !v6) throw new LibnetworkError(`endpoint ${endpointId} has no address: the network must use --ipam-driver calico-ipam`);
    const ipNetworks = [...(v4 ? [`${v4.split('/')[0]}/32`] : []), ...(v6 ? [`${v6.split('/')[0]}/128`] : [])];
    const profile = await this.profileName(str(r.NetworkID));
    const created = await this.p.cluster.ensureProfile({
      apiVersion: API_VERSION,
      kind: 'Profile',
      metadata: { name: profile },
      // As Calico's plugin: members of the network reach each other; anything may go out.
      spec: { labelsToApply: { [profile]: '' }, ingress: [{ action: 'Allow', source: { selector: `has(${profile})` } }], egress: [{ action: 'Allow' }] },
    });
    if (created === 'created') this.p.log('info', `created Profile ${profile} for docker network ${str(r.NetworkID)}`);
    const wep: Resource = {
      apiVersion: API_VERSION,
      kind: 'WorkloadEndpoint',
      metadata: { name: wepNameFor(this.p.node, endpointId), namespace: ORCHESTRATOR, labels: { 'projectcalico.org/orchestrator': ORCHESTRATOR, 'projectcalico.org/namespace': ORCHESTRATOR } },
      spec: {
        orchestrator: ORCHESTRATOR,
        node: this.p.node,
        workload: ORCHESTRATOR,
        endpoint: endpointId,
        interfaceName: hostIfFor(endpointId),
        ...(str(iface.MacAddress) ? { mac: str(iface.MacAddress).toLowerCase() } : {}),
        ipNetworks,
        profiles: [profile],
      },
    };
    await this.p.endpoints.put(wep);
    return { Interface: {} };
  }

  /** The docker network's name when Docker tells us (Calico's profile per network), else its ID. */
  private async profileName(networkId: string): Promise<string> {
    const name = await this.p.docker?.networkName(networkId).catch((err: unknown) => {
      this.p.log('warning', `docker network ${networkId}: cannot read its name from Docker (${(err as Error).message}); the profile is named by its ID`);
      return undefined;
    });
    const chosen = name || networkId.slice(0, 12);
    // Profile names are DNS labels; docker network names may hold characters they cannot.
    return /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(chosen) ? chosen : `docker-${networkId.slice(0, 12)}`;
  }

  private async deleteEndpoint(r: Json): Promise<Json> {
    await this.p.endpoints.delete(ORCHESTRATOR, wepNameFor(this.p.node, str(r.EndpointID)));
    return {};
  }

  private async join(r: Json): Promise<Json> {
    const endpointId = str(r.EndpointID);
    const hostIf = hostIfFor(endpointId);
    const temp = tempIfFor(endpointId);
    const name = wepNameFor(this.p.node, endpointId);
    const wep = await this.p.endpoints.get(ORCHESTRATOR, name);
    if (!wep) throw new LibnetworkError(`no WorkloadEndpoint ${ORCHESTRATOR}/${name} for endpoint ${endpointId}: was CreateEndpoint answered by this node's plugin?`);
    await this.p.links.delete(hostIf);
    await this.p.links.createVeth(hostIf, temp, this.p.mtu);
    try {
      // The container keeps the temp end's MAC: anti-spoofing checks against it.
      const mac = await this.p.links.mac(temp);
      await this.p.endpoints.put({ ...wep, spec: { ...(wep.spec as Json), mac } });
    } catch (err) {
      await this.p.links.delete(hostIf);
      throw err;
    }
    const v6 = ((wep.spec as { ipNetworks?: string[] }).ipNetworks ?? []).some((n) => n.includes(':'));
    return {
      InterfaceName: { SrcName: temp, DstPrefix: CONTAINER_IF_PREFIX },
      Gateway: GATEWAY_V4,
      ...(v6 ? { GatewayIPv6: GATEWAY_V6 } : {}),
      StaticRoutes: [
        // RouteType 1 = connected: the gateway is on the link, no next hop.
        { Destination: `${GATEWAY_V4}/32`, RouteType: 1, NextHop: '' },
        ...(v6 ? [{ Destination: `${GATEWAY_V6}/128`, RouteType: 1, NextHop: '' }] : []),
      ],
      DisableGatewayService: false,
    };
  }

  private async leave(r: Json): Promise<Json> {
    await this.p.links.delete(hostIfFor(str(r.EndpointID)));
    return {};
  }
}

/** A CIDR in one spelling, for comparing pools with Docker's --subnet. */
function canonical(cidr: string): string {
  const c = normalizeCIDR(cidr);
  if (c === undefined) throw new Error(`not a CIDR: ${cidr}`);
  return c;
}
