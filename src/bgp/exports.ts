// What this node announces and what BIRD puts in the kernel, per family:
// block aggregates, endpoint host routes, pools that pass on or never leave,
// communities, service address ranges (BGPConfiguration service*IPs),
// pools whose routes BIRD leaves out of the kernel (programClusterRoutes) and
// static routes towards peers (BGPPeer reachableBy). Pure.

import type { FieldIssue } from '../base/errors.js';
import { cidrContains, compareCIDR, formatCIDR, tryParseIP, tryParseStrictCIDROrIP, type CIDR, type IPFamily as Family } from '../base/ip.js';
import type { BgpConfigurationSpec, BgpInputs, BgpNode, CommunityRule, FamilyExports, Peering } from './model.js';
import { parseCommunity, resolveCommunity } from './validate.js';

const FAMILIES: Family[] = [4, 6];

/** Calico's label for nodes that must not attract service traffic (confd ExcludeServiceAdvertisement). */
export const EXCLUDE_FROM_LOAD_BALANCERS = 'node.kubernetes.io/exclude-from-external-load-balancers';

/** programClusterRoutes values under which BIRD installs routes of unencapsulated pools (all of ours: IPIP/VXLAN are refused). */
const PROGRAMS_NO_ENCAP = new Set(['Enabled', 'EnabledNoEncapOnly']);

function sortPrefixes(list: CIDR[]): string[] {
  const sorted = [...list].sort(compareCIDR);
  return [...new Set(sorted.map(formatCIDR))];
}

const isSingleAddress = (p: CIDR): boolean => p.prefixLength === (p.family === 4 ? 32 : 128);

export interface ExportContext {
  global: BgpConfigurationSpec;
  local: BgpConfigurationSpec;
  self: BgpNode | undefined;
  /** The chosen sessions (for reachableBy routes). */
  peerings: Peering[];
  problems: FieldIssue[];
}

/**
 * Service address ranges, as Calico's confd advertises them without a
 * Kubernetes API: every serviceClusterIPs CIDR; serviceExternalIPs CIDRs
 * except single addresses; serviceLoadBalancerIPs CIDRs except single
 * addresses, and only with serviceLoadBalancerAggregation Enabled (default).
 * Single addresses Calico advertises per Service from the nodes with its
 * endpoints; there are no Services here, so they are reported, not advertised.
 */
function serviceRanges(global: BgpConfigurationSpec, problems: FieldIssue[]): CIDR[] {
  const out: CIDR[] = [];
  const take = (field: 'serviceClusterIPs' | 'serviceExternalIPs' | 'serviceLoadBalancerIPs', singles: boolean, enabled = true): void => {
    (global[field] ?? []).forEach((text, i) => {
      const prefix = tryParseStrictCIDROrIP(text);
      if (!prefix) {
        problems.push({ path: `BGPConfiguration(default).spec.${field}[${i}].cidr`, message: `'${text}' is not a CIDR; not advertised` });
        return;
      }
      if (!singles && isSingleAddress(prefix)) {
        problems.push({
          path: `BGPConfiguration(default).spec.${field}[${i}].cidr`,
          message: `${formatCIDR(prefix)} is a single address: Calico advertises those per Service from the nodes running it, and calico-ts has no Services, so it is not advertised`,
        });
        return;
      }
      if (enabled) out.push(prefix);
    });
  };
  take('serviceClusterIPs', true);
  take('serviceExternalIPs', false);
  take('serviceLoadBalancerIPs', false, (global.serviceLoadBalancerAggregation ?? 'Enabled') === 'Enabled');
  return out;
}

export function computeExports(inputs: BgpInputs, ctx: ExportContext): Record<Family, FamilyExports> {
  const pools: { prefix: CIDR; exported: boolean }[] = [];
  for (const pool of inputs.pools) {
    const prefix = tryParseStrictCIDROrIP(pool.cidr);
    if (!prefix) ctx.problems.push({ path: `IPPool(${pool.name}).spec.cidr`, message: `'${pool.cidr}' is not a CIDR; pool ignored` });
    else pools.push({ prefix, exported: !pool.disableBGPExport });
  }
  const blocks: CIDR[] = [];
  for (const b of inputs.blocks) {
    const prefix = tryParseStrictCIDROrIP(b);
    if (!prefix) ctx.problems.push({ path: 'blocks', message: `'${b}' is not a CIDR; block ignored` });
    else blocks.push(prefix);
  }
  // A route's pool is the most specific pool containing it.
  const poolOf = (p: CIDR) =>
    pools.filter((x) => cidrContains(x.prefix, p)).sort((a, b) => b.prefix.prefixLength - a.prefix.prefixLength)[0];
  const endpointRoutes: CIDR[] = [];
  const spacePrefixes = (inputs.addressSpacePrefixes ?? []).flatMap((p) => tryParseStrictCIDROrIP(p) ?? []);
  for (const a of inputs.localEndpointAddresses ?? []) {
    const prefix = tryParseStrictCIDROrIP(a.split('/')[0]!);
    if (!prefix) {
      ctx.problems.push({ path: 'localEndpointAddresses', message: `'${a}' is not an address; ignored` });
      continue;
    }
    if (blocks.some((b) => cidrContains(b, prefix))) continue; // covered by our aggregate
    // Translated address-space endpoints (prefix|ipv4) live in no pool: each is announced as a /128.
    if (poolOf(prefix)?.exported || spacePrefixes.some((s) => cidrContains(s, prefix))) endpointRoutes.push(prefix);
  }
  // Node-specific prefixAdvertisements replace the cluster-wide ones (as Calico's per-node BGPConfiguration does).
  const cfg = ctx.local.prefixAdvertisements ? ctx.local : ctx.global;
  const defs = [...(ctx.global.communities ?? []), ...(ctx.local.communities ?? [])];
  const rules: (CommunityRule & { family: Family })[] = [];
  for (const adv of cfg.prefixAdvertisements ?? []) {
    const prefix = tryParseStrictCIDROrIP(adv.cidr);
    if (!prefix) continue; // reported by bgpConfigurationIssues
    const rule: CommunityRule & { family: Family } = { family: prefix.family, cidr: formatCIDR(prefix), standard: [], large: [] };
    for (const ref of adv.communities) {
      const c = parseCommunity(resolveCommunity(ref, defs));
      if (c?.standard) rule.standard.push(c.standard);
      if (c?.large) rule.large.push(c.large);
    }
    rules.push(rule);
  }
  // Service ranges: only the cluster-wide BGPConfiguration has them (as Calico).
  const services = serviceRanges(ctx.global, ctx.problems);
  const advertisesServices = ctx.self?.labels?.[EXCLUDE_FROM_LOAD_BALANCERS] !== 'true';
  const programsPools = PROGRAMS_NO_ENCAP.has(ctx.global.programClusterRoutes ?? 'EnabledNoEncapOnly');
  const out = {} as Record<Family, FamilyExports>;
  for (const family of FAMILIES) {
    const fb = blocks.filter((b) => b.family === family);
    const fs = services.filter((s) => s.family === family);
    out[family] = {
      blocks: sortPrefixes(fb),
      exportedBlocks: sortPrefixes(fb.filter((b) => poolOf(b)?.exported)),
      endpointRoutes: sortPrefixes(endpointRoutes.filter((p) => p.family === family)),
      exportPools: sortPrefixes(pools.filter((p) => p.exported && p.prefix.family === family).map((p) => p.prefix)),
      noExportPools: sortPrefixes(pools.filter((p) => !p.exported && p.prefix.family === family).map((p) => p.prefix)),
      communities: rules.filter((r) => r.family === family).map(({ family: _f, ...r }) => r),
      serviceRoutes: advertisesServices ? sortPrefixes(fs) : [],
      serviceRanges: sortPrefixes(fs),
      unprogrammedPools: programsPools ? [] : sortPrefixes(pools.filter((p) => p.prefix.family === family).map((p) => p.prefix)),
      peerRoutes: peerRoutes(ctx.peerings, family),
    };
  }
  return out;
}

/** BGPPeer reachableBy: a host route to the peer through the given gateway (as Calico's bird_aggr template). */
function peerRoutes(peerings: Peering[], family: Family): { prefix: string; via: string }[] {
  const out = new Map<string, string>();
  for (const p of peerings) {
    if (p.family !== family || p.reachableBy === undefined || tryParseIP(p.reachableBy)?.family !== family) continue;
    out.set(`${p.peerAddress}/${family === 4 ? 32 : 128}`, p.reachableBy);
  }
  return [...out].map(([prefix, via]) => ({ prefix, via })).sort((a, b) => compareCIDR(tryParseStrictCIDROrIP(a.prefix)!, tryParseStrictCIDROrIP(b.prefix)!));
}
