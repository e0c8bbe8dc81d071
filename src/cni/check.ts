// CHECK of the calico plugin: prevResult says what the attachment should be
// (our container interface, its addresses, our routes, the host end); the
// kernel, IPAM and the WorkloadEndpoint must agree. Later plugins in a chain
// may have added routes or changed other things: only what we made is
// checked, and only against prevResult (which carries their changes, e.g. a
// MAC set by tuning). checkAttachment is pure; cmdCheck gathers the facts.
import type { Resource } from '../api/resource.js';
import { delegate, usesCalicoIpam } from './addresses.js';
import type { CommandArgs } from './add.js';
import { GATEWAY_V4, GATEWAY_V6, HOST_SIDE_MAC } from './names.js';
import { hostCidr, workloadFor, type Workload } from './plan.js';
import { CNI_CODES, CniError, parseResult, type CniResult } from './protocol.js';
import type { CniPorts, LinkState } from './ports.js';

export interface Observed {
  container?: LinkState;
  host?: LinkState;
  routes: { dst: string; gw?: string }[];
  /** What IPAM holds for the handle; undefined when IPAM is delegated (the delegate checks itself). */
  ipam?: string[];
  endpoint?: Resource;
}

const norm = (xs: string[]): string => [...new Set(xs.map(hostCidr))].sort().join(', ');
const normRoute = (dst: string): string => (dst === 'default' ? '0.0.0.0/0' : dst.includes('/') ? dst : hostCidr(dst));

/** Every way the attachment differs from prevResult; empty when it is as expected. */
export function checkAttachment(opts: { w: Workload; netns: string; prev: CniResult; observed: Observed }): string[] {
  const { w, netns, prev, observed } = opts;
  const out: string[] = [];
  const interfaces = prev.interfaces ?? [];
  const index = interfaces.findIndex((i) => i.name === w.endpoint && i.sandbox === netns);
  if (index < 0) return [`prevResult lists no interface ${w.endpoint} with sandbox ${netns}`];
  const want = interfaces[index]!;
  const expected = prev.ips.filter((ip) => ip.interface === index).map((ip) => ip.address);
  if (expected.length === 0) out.push(`prevResult lists no address on ${w.endpoint}`);
  const c = observed.container;
  if (!c) out.push(`${w.endpoint} is missing in ${netns}`);
  else {
    if (!c.up) out.push(`${w.endpoint} in ${netns} is down`);
    if (want.mac && c.mac.toLowerCase() !== want.mac.toLowerCase()) out.push(`${w.endpoint} has MAC ${c.mac}, prevResult says ${want.mac}`);
    if (want.mtu && c.mtu !== want.mtu) out.push(`${w.endpoint} has MTU ${c.mtu}, prevResult says ${want.mtu}`);
    const have = new Set(c.addresses.map(hostCidr));
    const missing = expected.filter((a) => !have.has(hostCidr(a)));
    if (missing.length) out.push(`${w.endpoint} lacks ${missing.join(', ')}`);
  }
  const hostEntry = interfaces.find((i) => i.name === w.hostIf && !i.sandbox);
  const h = observed.host;
  if (hostEntry) {
    if (!h) out.push(`host interface ${w.hostIf} is missing`);
    else {
      if (!h.up) out.push(`host interface ${w.hostIf} is down`);
      if (h.mac.toLowerCase() !== HOST_SIDE_MAC) out.push(`host interface ${w.hostIf} has MAC ${h.mac}, not ${HOST_SIDE_MAC}`);
      if (c && (h.peerIfindex !== c.ifindex || c.peerIfindex !== h.ifindex)) out.push(`${w.hostIf} and ${w.endpoint} are not the two ends of one veth`);
    }
  }
  // Our routes: those via our gateways. Others (a later plugin's) are not ours to judge.
  const present = new Set(observed.routes.map((r) => `${normRoute(r.dst)} via ${r.gw ?? ''}`));
  for (const r of prev.routes ?? []) {
    if (r.gw !== GATEWAY_V4 && r.gw !== GATEWAY_V6) continue;
    if (!present.has(`${normRoute(r.dst)} via ${r.gw}`)) out.push(`route ${r.dst} via ${r.gw} is missing in ${netns}`);
  }
  if (observed.ipam !== undefined && norm(observed.ipam) !== norm(expected)) out.push(`IPAM holds [${norm(observed.ipam)}] for ${w.handleId}, prevResult says [${norm(expected)}]`);
  const ep = observed.endpoint;
  if (!ep) out.push(`WorkloadEndpoint ${w.namespace}/${w.wepName} is missing`);
  else {
    const spec = (ep.spec ?? {}) as { ipNetworks?: string[]; interfaceName?: string; mac?: string; containerID?: string; addressSpace?: string };
    if (spec.addressSpace !== w.addressSpace) out.push(`WorkloadEndpoint ${w.wepName} is in address space ${spec.addressSpace ?? '(none)'}, the configuration says ${w.addressSpace ?? '(none)'}`);
    if (norm(spec.ipNetworks ?? []) !== norm(expected)) out.push(`WorkloadEndpoint ${w.wepName} has ipNetworks [${norm(spec.ipNetworks ?? [])}], prevResult says [${norm(expected)}]`);
    if (spec.interfaceName !== w.hostIf) out.push(`WorkloadEndpoint ${w.wepName} names interface ${spec.interfaceName}, not ${w.hostIf}`);
    if (spec.containerID && spec.containerID !== w.containerID) out.push(`WorkloadEndpoint ${w.wepName} belongs to container ${spec.containerID}`);
    if (c && spec.mac && spec.mac.toLowerCase() !== c.mac.toLowerCase()) out.push(`WorkloadEndpoint ${w.wepName} has MAC ${spec.mac}, the interface has ${c.mac} (anti-spoofing would drop its traffic)`);
  }
  return out;
}

export async function cmdCheck(ports: CniPorts, args: CommandArgs): Promise<void> {
  const { env, conf } = args;
  if (conf.prevResult === undefined) throw new CniError(CNI_CODES.invalidConfig, 'CHECK needs prevResult in the network configuration (the result of the ADD)');
  const prev = parseResult(conf.prevResult, 'prevResult');
  const w = workloadFor(env, conf, args.node);
  if (!(await ports.network.netnsExists(env.netns))) throw new CniError(CNI_CODES.unknownContainer, `network namespace ${env.netns} does not exist (container ${env.containerID})`);
  const container = await ports.network.containerLink(env.netns, env.ifName);
  const host = await ports.network.hostLink(w.hostIf);
  const observed: Observed = { routes: container ? await ports.network.containerRoutes(env.netns, env.ifName) : [] };
  if (container) observed.container = container;
  if (host) observed.host = host;
  // Addresses that bypassed IPAM are in no handle: IPAM has nothing to agree with.
  if (usesCalicoIpam(conf) && conf.ipAddrsNoIpam.length === 0) observed.ipam = await ports.ipam.ipsByHandle(w.handleId);
  const endpoint = await ports.endpoints.get(w.namespace, w.wepName);
  if (endpoint) observed.endpoint = endpoint;
  const diffs = checkAttachment({ w, netns: env.netns, prev, observed });
  if (diffs.length) throw new CniError(CNI_CODES.checkFailed, `CHECK ${env.containerID}: ${diffs.join('; ')}`);
  // Spec: CHECK is passed on to a delegated plugin, and its error is ours.
  if (!usesCalicoIpam(conf) && conf.ipAddrsNoIpam.length === 0) await delegate(ports, { conf, env, command: 'CHECK' });
}
