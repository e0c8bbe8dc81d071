// Which addresses this node registers, decided as calico/node decides them
// (startup.go configureIPsAndSubnets + checkConflictingNodes):
//
//   IP unset        autodetect only while the Node has no IPv4 address; else keep it
//   IP=autodetect   autodetect; if that fails keep the stored address (warned), else fail
//   IP=none         no detection; a stored address is kept
//   IP=<addr>       that address; without /prefix it takes the prefix of the
//                   interface holding it, else /32
//   IP6 unset/none  keep what the Node has (IPv6 is detected only with IP6=autodetect)
//   IP6=<addr>      that address (/128 without a prefix)
// With CALICO_NETWORKING_BACKEND=none the addresses are left as stored (policy
// only: nothing is detected). With BGP, no address at all is an error, and an
// address that changed must not be another Node's (DISABLE_NODE_IP_CHECK=true
// skips that check). A given address not found on any interface is only warned
// about, as calico/node does.
import { formatIP, tryParseCIDRWithIP, tryParseIP } from '../base/ip.js';
import type { IPFamily } from '../base/ip.js';
import type { Resource } from '../api/resource.js';
import { ValidationError } from '../base/errors.js';
import { describeMethod, detectNodeAddress, localCIDROf } from './autodetect.js';
import type { HostAddress, ReachLookup } from './autodetect.js';
import type { AddressSetting } from './config.js';

export interface FamilyDecision {
  address?: string;
  source: 'given' | 'detected' | 'kept' | 'none';
  /** Why, for the start-up log. */
  reason: string;
  /** Something the operator should look at, logged as a warning. */
  warning?: string;
}

const varName = (family: IPFamily) => (family === 4 ? 'IP' : 'IP6');
const methodVar = (family: IPFamily) => (family === 4 ? 'IP_AUTODETECTION_METHOD' : 'IP6_AUTODETECTION_METHOD');

function onHost(addresses: HostAddress[], cidr: string): string | undefined {
  const ip = cidr.split('/')[0]!;
  return localCIDROf(addresses, ip) ? undefined : `${varName(tryParseIP(ip)?.family ?? 4)} address ${ip} is not on any interface of this host (calico-node uses it anyway)`;
}

/** One family. Throws a ValidationError when the node cannot have the address it needs. */
export async function decideFamilyAddress(input: { family: IPFamily; setting: AddressSetting; stored?: string; hostAddresses: HostAddress[]; reach?: ReachLookup }): Promise<FamilyDecision> {
  const { family, setting, stored, hostAddresses } = input;
  const name = varName(family);
  const keep = (why: string): FamilyDecision => {
    if (!stored) return { source: 'none', reason: why };
    const warning = onHost(hostAddresses, stored);
    return { address: stored, source: 'kept', reason: `${why}; keeping the Node's stored address`, ...(warning ? { warning } : {}) };
  };
  if (setting.mode === 'none') return keep(`${name}=none`);
  if (setting.mode === 'static') {
    let cidr = setting.address;
    let why = `${name} is set`;
    if (setting.prefixLength === undefined) {
      const local = family === 4 ? localCIDROf(hostAddresses, setting.address) : undefined;
      cidr = local ? local.cidr : `${setting.address}/${family === 4 ? 32 : 128}`;
      why += local ? ` (prefix from interface ${local.iface})` : '';
    } else cidr = `${setting.address}/${setting.prefixLength}`;
    const warning = onHost(hostAddresses, cidr);
    return { address: cidr, source: 'given', reason: why, ...(warning ? { warning } : {}) };
  }
  if (setting.mode === 'unset' && (family === 6 || stored)) return keep(`${name} is not set`);
  const choice = await detectNodeAddress(hostAddresses, { family, method: setting.method, ...(input.reach ? { reach: input.reach } : {}) });
  if (choice.ok) return { address: choice.cidr, source: 'detected', reason: choice.reason };
  if (stored) {
    return { address: stored, source: 'kept', reason: `autodetection failed; keeping the Node's stored address`, warning: `cannot autodetect the IPv${family} address (${choice.reason}); keeping ${stored}` };
  }
  // Never guess: the BGP mesh and routes would silently use a wrong address.
  throw new ValidationError(
    [{ path: methodVar(family), message: `cannot autodetect the node's IPv${family} address with ${describeMethod(setting.method)}: ${choice.reason}; choose another ${methodVar(family)}, or set ${name}=<address> or ${name}=none` }],
    'calico-node start-up',
  );
}

/** The IPv4/IPv6 addresses other Nodes already use (calico/node refuses to start with another node's address). */
export function conflictingNodes(nodes: Resource[], self: { nodeName: string; ipv4?: string; ipv6?: string }): Array<{ node: string; family: IPFamily; address: string }> {
  const ipOf = (cidr: string | undefined) => (cidr ? (tryParseCIDRWithIP(cidr)?.ip ?? tryParseIP(cidr)) : undefined);
  const out: Array<{ node: string; family: IPFamily; address: string }> = [];
  for (const n of nodes) {
    if (n.metadata.name === self.nodeName) continue;
    const bgp = ((n.spec ?? {}) as { bgp?: { ipv4Address?: string; ipv6Address?: string } }).bgp;
    if (!bgp) continue;
    for (const [family, mine, theirs] of [[4, self.ipv4, bgp.ipv4Address], [6, self.ipv6, bgp.ipv6Address]] as const) {
      const a = ipOf(mine);
      const b = ipOf(theirs);
      if (a && b && a.family === b.family && a.value === b.value) out.push({ node: n.metadata.name, family, address: formatIP(a) });
    }
  }
  return out;
}
