// BgpPlan -> bird.conf text for BIRD 2 (tested against 2.0.12 with `bird -p`).
// One daemon carries both families: per family one static protocol for our
// block blackholes, one for endpoint host routes, a kernel protocol, an export
// filter, and one BGP protocol per session (BIRD speaks one address family
// per IPv4 or IPv6 transport session here, so sessions are per family).
//
// What reaches the kernel: routes learned over BGP and our own block
// blackholes, nothing else (not the connected routes the direct protocol
// feeds in for next-hop resolution, not the endpoint announcements, whose
// real routes the dataplane owns). BIRD installs them with route protocol
// `bird` (12): that number is this subsystem's in the kernel.

import type { BgpPlan, FamilyExports, LogSeverity, Peering } from '../../bgp/model.js';
import type { IPFamily as Family } from '../../base/ip.js';
import { channelFilters, filterFunctions } from './bird-filters.js';

export interface BirdTimers {
  /** Seconds before the first connect attempt (BIRD default 5). */
  connectDelay: number;
  /** Seconds between connect attempts (BIRD default 120). */
  connectRetry: number;
  /** Backoff after a session error: [min, max] seconds (BIRD default 60, 300). */
  errorWait: [number, number];
  /** Kernel and device scan period in seconds. */
  scanTime: number;
}

/** Short enough that a fresh mesh comes up in seconds, long enough not to spin on a dead peer. */
export const DEFAULT_TIMERS: BirdTimers = { connectDelay: 2, connectRetry: 5, errorWait: [5, 60], scanTime: 10 };

export interface BirdRenderOptions {
  /** Log destination; default stderr (the supervisor captures it). */
  logFile?: string;
  timers?: Partial<BirdTimers>;
  /** Interfaces whose connected routes resolve BGP next hops; workload interfaces never do. */
  directInterfaces?: string[];
}

const SEVERITY: Record<LogSeverity, string> = {
  Debug: 'all',
  Info: '{ info, remote, warning, error, auth, fatal, bug }',
  Warning: '{ warning, error, auth, fatal, bug }',
  Error: '{ error, auth, fatal, bug }',
  Fatal: '{ fatal, bug }',
};

const quote = (s: string): string => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
const maxLen = (f: Family): number => (f === 4 ? 32 : 128);
const fam = (f: Family): string => `ipv${f}`;
const v = (f: Family): string => `v${f}`;

/** `[ a, b ]` with a per-element suffix, wrapped so long lists stay readable in diffs. */
function prefixSet(items: string[], suffix: (p: string) => string = () => ''): string {
  return `[ ${items.map((p) => p + suffix(p)).join(', ')} ]`;
}

function staticProtocol(name: string, f: Family, routes: string[], why: string): string[] {
  return [
    `# ${why}`,
    `protocol static ${name} {`,
    `  ${fam(f)};`,
    ...routes.map((r) => `  route ${r} blackhole;`),
    '}',
    '',
  ];
}

/** What BIRD installs in the kernel: learnt routes and our blackholes, minus what configuration keeps out. */
function kernelFilter(e: FamilyExports, f: Family, protos: { blocks: string; services: string; peers: string }): string[] {
  const out = [`filter calico_to_kernel_${v(f)} {`];
  if (e.unprogrammedPools.length) {
    out.push(
      '  # programClusterRoutes: routes inside IP pools are left to another router (nothing of BIRD\'s, learnt or blackhole).',
      `  if net ~ ${prefixSet(e.unprogrammedPools, () => '+')} then reject;`,
    );
  }
  if (e.serviceRanges.length) {
    out.push('  # Service ranges: what other nodes advertise for them is never installed here (as Calico).', `  if source = RTS_BGP && net ~ ${prefixSet(e.serviceRanges, () => '+')} then reject;`);
  }
  out.push('  if source = RTS_BGP then accept;', `  if proto = ${quote(protos.blocks)} then accept;`);
  if (e.serviceRoutes.length) out.push(`  if proto = ${quote(protos.services)} then accept;`);
  if (e.peerRoutes.length) out.push(`  if proto = ${quote(protos.peers)} then accept;`);
  out.push('  reject;', '}', '');
  return out;
}

function familySection(plan: BgpPlan, f: Family, t: BirdTimers): string[] {
  const e: FamilyExports = plan.exports[f];
  const blocksProto = `calico_blocks_${v(f)}`;
  const endpointsProto = `calico_endpoints_${v(f)}`;
  const servicesProto = `calico_services_${v(f)}`;
  const peersProto = `calico_peer_routes_${v(f)}`;
  const out: string[] = [`# ---- IPv${f} ----`, ''];
  out.push(...staticProtocol(blocksProto, f, e.blocks, 'IPAM blocks this host owns: blackholed in the kernel so traffic to an unused address dies here instead of looping.'));
  out.push(...staticProtocol(endpointsProto, f, e.endpointRoutes, 'Local workloads outside our blocks (borrowed or not from IPAM): announced only; the dataplane owns their kernel routes.'));
  if (e.serviceRoutes.length) {
    out.push(
      ...staticProtocol(
        servicesProto,
        f,
        e.serviceRoutes,
        'BGPConfiguration service ranges: announced from this node; blackholed in the kernel (no service proxy here: what a local address or DNAT does not take dies here instead of looping).',
      ),
    );
  }
  if (e.peerRoutes.length) {
    out.push(
      '# BGPPeer reachableBy: host routes to peers through their gateway; installed in the kernel, never announced.',
      `protocol static ${peersProto} {`,
      `  ${fam(f)};`,
      ...e.peerRoutes.map((r) => `  route ${r.prefix} via ${r.via};`),
      '}',
      '',
    );
  }
  out.push(
    ...kernelFilter(e, f, { blocks: blocksProto, services: servicesProto, peers: peersProto }),
    `protocol kernel calico_kernel_${v(f)} {`,
    `  ${fam(f)} { import none; export filter calico_to_kernel_${v(f)}; };`,
    '  merge paths on;',
    `  scan time ${t.scanTime};`,
    '  # Keep forwarding on what we learned while BIRD restarts; a restarted BIRD re-syncs before it prunes.',
    '  persist;',
    '  graceful restart on;',
    '}',
    '',
    '# What goes to peers; a function so that BGPFilter functions can run before it.',
    `function calico_export_rules_${v(f)}() {`,
  );
  for (const c of e.communities) {
    const adds = [
      ...c.standard.map(([a, b]) => `bgp_community.add((${a}, ${b}));`),
      ...c.large.map(([a, b, d]) => `bgp_large_community.add((${a}, ${b}, ${d}));`),
    ];
    if (adds.length) out.push(`  if source != RTS_BGP && net ~ ${c.cidr} then { ${adds.join(' ')} }`);
  }
  if (e.noExportPools.length) {
    out.push('  # Pools with disableBGPExport are never advertised.', `  if net ~ ${prefixSet(e.noExportPools, () => '+')} then reject;`);
  }
  const splittable = e.blocks.filter((b) => Number(b.split('/')[1]) < maxLen(f));
  if (splittable.length) {
    out.push(
      '  # Our blocks leave only as aggregates; nothing of ours more specific inside them.',
      `  if source != RTS_BGP && net ~ ${prefixSet(splittable, (b) => `{${Number(b.split('/')[1]) + 1},${maxLen(f)}}`)} then reject;`,
    );
  }
  if (e.exportedBlocks.length) out.push(`  if proto = ${quote(blocksProto)} && net ~ ${prefixSet(e.exportedBlocks)} then accept;`);
  if (e.endpointRoutes.length) out.push(`  if proto = ${quote(endpointsProto)} then accept;`);
  if (e.serviceRoutes.length) {
    out.push('  # Service ranges this node advertises, and anything learnt inside them (as Calico).', `  if net ~ ${prefixSet(e.serviceRoutes, () => '+')} then accept;`);
  }
  if (e.exportPools.length) {
    out.push(
      '  # Routes learned from other nodes in our pools pass on (route reflectors, eBGP towards the ToR).',
      `  if source = RTS_BGP && net ~ ${prefixSet(e.exportPools, () => '+')} then accept;`,
    );
  }
  out.push('  reject;', '}', '', `filter calico_export_${v(f)} {`, `  calico_export_rules_${v(f)}();`, '}', '');
  out.push(...filterFunctions(plan.filterFunctions[f], f));
  for (const p of plan.peerings.filter((x) => x.family === f)) out.push(...bgpProtocol(plan, p));
  return out;
}

function bgpProtocol(plan: BgpPlan, p: Peering): string[] {
  const lines: string[] = [];
  const who = p.peerNodeName ? `node ${p.peerNodeName}` : p.peerAddress;
  const why = p.type === 'mesh' || p.type === 'rr' ? p.origin : `${p.type} BGPPeer ${p.origin}${p.reverse ? ' (reverse peering)' : ''}`;
  lines.push(`protocol bgp ${p.protocolName} from calico_bgp {`, `  description ${quote(`${why}: ${who}`)};`);
  const port = plan.listenPort === undefined ? '' : ` port ${plan.listenPort}`;
  lines.push(`  local${p.localAddress ? ` ${p.localAddress}` : ''}${port} as ${p.localAs};`);
  lines.push(`  neighbor ${p.peerAddress}${p.peerPort === undefined ? '' : ` port ${p.peerPort}`} as ${p.peerAs};`);
  if (p.strictBind) lines.push('  # bindMode NodeIP: accept connections on the node address only.', '  strict bind on;');
  if (p.passive) lines.push('  passive on;');
  if (p.password !== undefined) lines.push(`  password ${quote(p.password)};`);
  if (p.ttlSecurityHops !== undefined) {
    lines.push('  ttl security on;', p.ttlSecurityHops === 1 ? '  direct;' : `  multihop ${p.ttlSecurityHops};`);
  } else if (p.peerAs !== p.localAs) {
    // As Calico (`multihop;` on every peer without ttlSecurity): an eBGP peer may be a router's
    // loopback behind a gateway (reachableBy). BIRD's eBGP default would insist on a connected neighbour.
    lines.push('  multihop;');
  }
  if (p.holdSeconds !== undefined) lines.push(`  hold time ${p.holdSeconds};`);
  if (p.keepaliveSeconds !== undefined) lines.push(`  keepalive time ${p.keepaliveSeconds};`);
  if (p.gracefulRestartSeconds !== undefined) lines.push(`  graceful restart time ${p.gracefulRestartSeconds};`);
  if (p.allowLocalAs !== undefined) lines.push(`  allow local as ${p.allowLocalAs};`);
  if (p.routeReflectorClient) {
    lines.push('  rr client;');
    if (p.routeReflectorClusterID !== undefined) lines.push(`  rr cluster id ${p.routeReflectorClusterID};`);
  }
  const withPeerType = new Set(plan.filterFunctions[p.family].filter((fn) => fn.takesPeerType).map((fn) => fn.symbol));
  const filters = channelFilters(p, `calico_export_${v(p.family)}`, `calico_export_rules_${v(p.family)}`, withPeerType);
  if (filters.comment) lines.push(`  ${filters.comment}`);
  const channel = [...filters.clauses];
  if (p.nextHop === 'self') channel.push('next hop self;');
  if (p.nextHop === 'keep') channel.push('next hop keep;');
  lines.push(`  ${fam(p.family)} { ${channel.join(' ')} };`, '}', '');
  return lines;
}

export function renderBirdConfig(plan: BgpPlan, opts: BirdRenderOptions = {}): string {
  const t: BirdTimers = { ...DEFAULT_TIMERS, ...(opts.timers ?? {}) };
  // BGPConfiguration ignoredInterfaces: excluded before anything is included.
  const ifaces = [...plan.ignoredInterfaces.map((i) => `-${quote(i)}`), ...(opts.directInterfaces ?? ['-"cali*"', '"*"'])];
  const out: string[] = [
    `# Generated by calico-ts for node ${plan.nodeName}. Do not edit: it is rewritten on every change.`,
    ...plan.problems.map((i) => `# ignored: ${i.path}: ${i.message}`.replace(/\n/g, ' ')),
    '',
    `router id ${plan.routerId};`,
    `log ${opts.logFile === undefined ? 'stderr' : quote(opts.logFile)} ${SEVERITY[plan.logSeverity]};`,
    'timeformat protocol iso long;',
    'timeformat base iso long;',
    '',
    '# Watches interfaces; every other protocol depends on it.',
    `protocol device { scan time ${t.scanTime}; }`,
    '',
    '# Connected networks, so iBGP next hops resolve (gateway recursive); never exported anywhere.',
    'protocol direct calico_direct {',
    '  ipv4;',
    '  ipv6;',
    `  interface ${ifaces.join(', ')};`,
    '}',
    '',
    '# Session defaults shared by every peer.',
    'template bgp calico_bgp {',
    '  graceful restart on;',
    `  connect delay time ${t.connectDelay};`,
    `  connect retry time ${t.connectRetry};`,
    `  error wait time ${t.errorWait[0]}, ${t.errorWait[1]};`,
    '}',
    '',
  ];
  out.push(...familySection(plan, 4, t), ...familySection(plan, 6, t));
  return out.join('\n').replace(/\n+$/, '\n');
}
