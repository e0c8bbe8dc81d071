// Address spaces and IPAM-less addresses in the network configuration (pure).
//
// A workload joins an address space (docs/xlat.md) through the calico-ts
// extension field `address_space` of the network configuration (every
// workload of that network), or per pod through the annotation
// `cni.projectcalico.org/addressSpace`. Its address is the tenant's own, so
// no shared IP pool can hand it out: it comes with Calico's
// `cni.projectcalico.org/ipAddrsNoIpam` annotation (addresses that bypass
// IPAM), gated as in Calico behind `feature_control.ip_addrs_no_ipam`.
//
// Pod annotations: calico-ts has no Kubernetes client, so it reads them where
// containerd and CRI-O put them for a plugin that declares the capability:
// `runtimeConfig["io.kubernetes.cri.pod-annotations"]`.
//
// Every rule here is checked while parsing, before the plugin opens etcd or
// touches the kernel: a refused configuration creates nothing.
import { tryParseIP } from '../base/ip.js';
import { CNI_CODES, CniError } from './protocol.js';

export const POD_ANNOTATIONS_CAPABILITY = 'io.kubernetes.cri.pod-annotations';
export const IP_ADDRS_NO_IPAM = 'cni.projectcalico.org/ipAddrsNoIpam';
export const ADDRESS_SPACE_ANNOTATION = 'cni.projectcalico.org/addressSpace';

/** Calico's other per-pod annotations: acting on them needs what calico-ts does not have here, so they are refused, not ignored. */
const UNSUPPORTED_ANNOTATIONS: Record<string, string> = {
  'cni.projectcalico.org/ipAddrs': 'ask for specific addresses from IPAM with args.cni.ips (or CNI_ARGS IP) instead',
  'cni.projectcalico.org/ipv4pools': 'choose pools with ipam.ipv4_pools in the network configuration instead',
  'cni.projectcalico.org/ipv6pools': 'choose pools with ipam.ipv6_pools in the network configuration instead',
  'cni.projectcalico.org/floatingIPs': 'floating IPs are not supported; remove the annotation',
  'cni.projectcalico.org/ipFamilies': 'choose families with ipam.assign_ipv4 / ipam.assign_ipv6 instead',
};

/** An AddressSpace's name: a resource name (lower-case letters, digits, '-', '.'). */
const SPACE_NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

export interface SpaceConf {
  /** The address space every address of this attachment is in; undefined: none. */
  addressSpace?: string;
  /** Addresses that bypass IPAM (cni.projectcalico.org/ipAddrsNoIpam); empty: none. */
  ipAddrsNoIpam: string[];
}

const invalid = (msg: string): CniError => new CniError(CNI_CODES.invalidConfig, `network configuration: ${msg}`);
const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** The pod's annotations from runtimeConfig (empty when the runtime passed none). */
export function podAnnotations(runtimeConfig: unknown): Record<string, string> {
  if (!isObj(runtimeConfig)) return {};
  const v = runtimeConfig[POD_ANNOTATIONS_CAPABILITY];
  if (v === undefined || v === null) return {};
  const at = `runtimeConfig["${POD_ANNOTATIONS_CAPABILITY}"]`;
  if (!isObj(v)) throw invalid(`${at} must be an object of annotation names to string values`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') throw invalid(`${at}["${k}"] must be a string, got ${JSON.stringify(val)}`);
    out[k] = val;
  }
  return out;
}

/** Calico's annotation format: a JSON list of addresses, at most one IPv4 and one IPv6. */
function parseNoIpamAddresses(text: string): string[] {
  const at = `pod annotation ${IP_ADDRS_NO_IPAM}`;
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    throw invalid(`${at} ${JSON.stringify(text)} is not JSON: write a list such as ["198.51.100.7"]`);
  }
  if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) throw invalid(`${at} must be a JSON list of addresses such as ["198.51.100.7"], got ${text}`);
  if (list.length === 0) throw invalid(`${at} is empty: give one IPv4 and/or one IPv6 address, or remove it`);
  const seen = new Set<number>();
  return (list as string[]).map((a) => {
    const ip = tryParseIP(a);
    if (!ip || a.includes('/')) throw invalid(`${at}: "${a}" is not an IP address (no prefix length: each is a /32 or /128)`);
    if (seen.has(ip.family)) throw invalid(`${at} has more than one IPv${ip.family} address: an interface gets at most one of each family`);
    seen.add(ip.family);
    return a;
  });
}

/**
 * Reads `address_space`, the pod annotations and `feature_control.ip_addrs_no_ipam`
 * into the attachment's space and IPAM-less addresses, refusing every
 * combination that cannot work with a message naming the field and the fix.
 */
export function parseSpaceConf(opts: { addressSpaceField: unknown; annotations: Record<string, string>; noIpamEnabled: boolean; requestedIps: string[] }): SpaceConf {
  const { annotations } = opts;
  for (const [k, fix] of Object.entries(UNSUPPORTED_ANNOTATIONS)) {
    if (annotations[k] !== undefined) throw new CniError(CNI_CODES.unsupportedField, `network configuration: pod annotation ${k} is not supported: ${fix}`);
  }
  if (opts.addressSpaceField !== undefined && opts.addressSpaceField !== null && typeof opts.addressSpaceField !== 'string') {
    throw invalid(`'address_space' must be the name of an AddressSpace, got ${JSON.stringify(opts.addressSpaceField)}`);
  }
  const fromConf = (opts.addressSpaceField as string | undefined) || undefined;
  const fromPod = annotations[ADDRESS_SPACE_ANNOTATION] || undefined;
  if (fromConf && fromPod && fromConf !== fromPod) {
    throw invalid(`address_space is "${fromConf}" but the pod annotation ${ADDRESS_SPACE_ANNOTATION} says "${fromPod}": a workload is in one space; remove one of them`);
  }
  const space = fromConf ?? fromPod;
  const spaceField = fromConf ? 'address_space' : `pod annotation ${ADDRESS_SPACE_ANNOTATION}`;
  if (space !== undefined && !SPACE_NAME.test(space)) {
    throw invalid(`${spaceField} "${space}" is not an AddressSpace name: use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit (e.g. "tenant-a")`);
  }
  const noIpamText = annotations[IP_ADDRS_NO_IPAM];
  let noIpam: string[] = [];
  if (noIpamText !== undefined) {
    if (!opts.noIpamEnabled) {
      throw invalid(`pod annotation ${IP_ADDRS_NO_IPAM} bypasses IPAM, which is off unless the network configuration enables it: add "feature_control": {"ip_addrs_no_ipam": true}`);
    }
    noIpam = parseNoIpamAddresses(noIpamText);
    if (opts.requestedIps.length) {
      throw invalid(`pod annotation ${IP_ADDRS_NO_IPAM} and args.cni.ips (${opts.requestedIps.join(', ')}) both give addresses: use one of them`);
    }
  }
  if (space !== undefined) {
    if (noIpam.length === 0) {
      throw invalid(
        `the workload is in address space "${space}" (${spaceField}), whose addresses are the tenant's own and come from no IP pool: ` +
          `give its IPv4 address with the pod annotation ${IP_ADDRS_NO_IPAM} (e.g. ["198.51.100.7"]) and "feature_control": {"ip_addrs_no_ipam": true}`,
      );
    }
    const v6 = noIpam.find((a) => a.includes(':'));
    if (v6) throw invalid(`pod annotation ${IP_ADDRS_NO_IPAM}: "${v6}" is IPv6, but an endpoint in address space "${space}" has one IPv4 address only (its IPv6 form comes from the space's prefix); remove it`);
  }
  return { ...(space !== undefined ? { addressSpace: space } : {}), ipAddrsNoIpam: noIpam };
}
