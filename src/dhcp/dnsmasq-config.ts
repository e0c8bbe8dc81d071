// This node's VM endpoints -> one dnsmasq configuration (pure).
//
// The routed model gives a VM a /32 and no on-link subnet, so the lease says
// exactly that: netmask 255.255.255.255, a classless static route (option 121)
// to the gateway as on-link, and the default route via the gateway (option 3
// as well, for clients without 121). The gateway is spec.ipv4Gateway, else
// Calico's 169.254.1.1, and it is a local address of the host on the DHCP
// interface, so the host both answers the VM's ARP for it and is its DHCP
// server identifier (renewals are unicast to it).
//
// dnsmasq only serves a request arriving on an interface that carries an
// IPv4 address in a dhcp-range's subnet. A tap carries none, so every tap is
// declared a bridge-interface alias of the DHCP interface (which holds the
// gateways), and each VM gets its own /32 range linked to that interface with
// shared-network (dnsmasq >= 2.87). Only the MACs of dhcp-host lines are
// served (static ranges, tag:!known ignored), so an unknown MAC on a tap gets
// nothing.
//
// IPv4 only: IPv6 addresses are reported, not served (see docs/vms.md).

import { formatIP, tryParseCIDROrIP, tryParseIP } from '../base/ip.js';
import type { Resource } from '../api/resource.js';
import type { WorkloadEndpointSpec } from '../api/kinds/endpoint.js';

/** Calico's gateway for routed workloads; the host answers for it. */
export const DEFAULT_IPV4_GATEWAY = '169.254.1.1';

/** One VM the DHCP service answers. */
export interface DhcpEndpoint {
  /** WorkloadEndpoint name (namespace/name when namespaced). */
  id: string;
  interfaceName: string;
  /** Lower case. */
  mac: string;
  ipv4: string;
  gateway: string;
}

export interface SkippedEndpoint {
  id: string;
  /** Why it is not (or not fully) served, naming the field and the fix. */
  reason: string;
}

export interface ServedEndpoints {
  endpoints: DhcpEndpoint[];
  skipped: SkippedEndpoint[];
}

/** Interface names we put in a config line: plain names only, so a name can never inject an option. */
const IFACE = /^[A-Za-z0-9_.-]{1,15}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

const idOf = (r: Resource<WorkloadEndpointSpec>): string => (r.metadata.namespace ? `${r.metadata.namespace}/${r.metadata.name}` : r.metadata.name);

function single(text: string, family: 4 | 6): string | undefined {
  const c = tryParseCIDROrIP(text);
  if (!c || c.family !== family || c.prefixLength !== (family === 4 ? 32 : 128)) return undefined;
  return formatIP({ family: c.family, value: c.address });
}

/**
 * The endpoints of `nodeName` whose orchestrator is one of `orchestrators`,
 * as DHCP entries, sorted by id; the rest of this node's matching endpoints
 * are reported in `skipped`. The result depends only on the set of inputs,
 * never on their order.
 */
export function servedEndpoints(resources: Iterable<Resource<WorkloadEndpointSpec>>, opts: { nodeName: string; orchestrators: string[] }): ServedEndpoints {
  const mine = [...resources]
    .filter((r) => r.spec?.node === opts.nodeName && opts.orchestrators.includes(r.spec?.orchestrator ?? ''))
    .sort((a, b) => (idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0));
  const endpoints: DhcpEndpoint[] = [];
  const skipped: SkippedEndpoint[] = [];
  const taken = { iface: new Map<string, string>(), mac: new Map<string, string>(), ip: new Map<string, string>() };
  for (const r of mine) {
    const id = idOf(r);
    const spec = r.spec!;
    const skip = (reason: string) => skipped.push({ id, reason });
    const iface = spec.interfaceName ?? '';
    if (!IFACE.test(iface)) {
      skip(`spec.interfaceName ${JSON.stringify(iface)} is not a usable interface name; set it to the VM's tap device, e.g. "tap1234abcd-56"`);
      continue;
    }
    const mac = (spec.mac ?? '').toLowerCase();
    if (!MAC.test(mac)) {
      skip('spec.mac is missing or not a MAC address: DHCP answers only a known MAC; set it to the MAC of the VM\'s NIC');
      continue;
    }
    const nets = spec.ipNetworks ?? [];
    const v4 = nets.map((n) => single(n, 4)).filter((x): x is string => x !== undefined);
    if (v4.length === 0) {
      skip('spec.ipNetworks has no IPv4 /32: there is nothing to lease (IPv6 is not served by DHCP; configure it in the guest)');
      continue;
    }
    const gatewayText = spec.ipv4Gateway ?? DEFAULT_IPV4_GATEWAY;
    const gw = tryParseIP(gatewayText);
    if (!gw || gw.family !== 4) {
      skip(`spec.ipv4Gateway ${JSON.stringify(gatewayText)} is not an IPv4 address; remove it (the default is ${DEFAULT_IPV4_GATEWAY}) or correct it`);
      continue;
    }
    const gateway = formatIP(gw);
    if (v4.includes(gateway)) {
      skip(`spec.ipv4Gateway ${gateway} is the VM's own address; choose another gateway or remove the field`);
      continue;
    }
    const clash = (kind: keyof typeof taken, value: string, field: string): boolean => {
      const other = taken[kind].get(value);
      if (other === undefined) return false;
      skip(`${field} ${value} is already served for ${other} on this node; each VM needs its own`);
      return true;
    };
    if (clash('iface', iface, 'spec.interfaceName') || clash('mac', mac, 'spec.mac') || clash('ip', v4[0]!, 'spec.ipNetworks[0]')) continue;
    taken.iface.set(iface, id);
    taken.mac.set(mac, id);
    taken.ip.set(v4[0]!, id);
    endpoints.push({ id, interfaceName: iface, mac, ipv4: v4[0]!, gateway });
    // A DHCP client takes one address; the rest stay routed and policed, the guest configures them itself.
    if (v4.length > 1) skip(`spec.ipNetworks: only ${v4[0]} is leased; ${v4.slice(1).join(', ')} must be configured in the guest`);
  }
  return { endpoints, skipped };
}

export interface DnsmasqOptions {
  /** The host interface that holds the gateway addresses and stands for every tap. */
  dhcpInterface: string;
  leaseSeconds: number;
  leaseFile: string;
  nodeName: string;
}

/** The gateway addresses the DHCP interface must carry (each as /32), sorted. */
export function gatewayAddresses(endpoints: DhcpEndpoint[]): string[] {
  return [...new Set(endpoints.map((e) => e.gateway))].sort();
}

/**
 * The whole dnsmasq configuration file. DNS is off (port=0): this is a DHCP
 * service only. The same endpoints always give the same text, so a caller can
 * compare texts to know whether dnsmasq must restart.
 */
export function renderDnsmasqConf(endpoints: DhcpEndpoint[], opts: DnsmasqOptions): string {
  if (!IFACE.test(opts.dhcpInterface)) throw new Error(`DHCP interface name ${JSON.stringify(opts.dhcpInterface)} is not a plain interface name`);
  const lines = [
    `# Generated by calico-dhcp-agent for node ${opts.nodeName}. Do not edit: rewritten on every change.`,
    'port=0',
    'bind-dynamic',
    'except-interface=lo',
    `interface=${opts.dhcpInterface}`,
    // Only the MACs below get an address; NAK what we do not know instead of letting a client wait.
    'dhcp-ignore=tag:!known',
    'dhcp-authoritative',
    `dhcp-leasefile=${opts.leaseFile}`,
    'log-dhcp',
  ];
  for (const e of endpoints) {
    const tag = e.interfaceName;
    lines.push(
      '',
      `# ${e.id}`,
      `interface=${e.interfaceName}`,
      `bridge-interface=${opts.dhcpInterface},${e.interfaceName}`,
      `shared-network=${opts.dhcpInterface},${e.ipv4}`,
      `dhcp-range=set:${tag},${e.ipv4},static,255.255.255.255,${opts.leaseSeconds}s`,
      `dhcp-host=${e.mac},${e.ipv4}`,
      `dhcp-option=tag:${tag},option:classless-static-route,${e.gateway}/32,0.0.0.0,0.0.0.0/0,${e.gateway}`,
      `dhcp-option=tag:${tag},option:router,${e.gateway}`,
    );
  }
  return lines.join('\n') + '\n';
}
