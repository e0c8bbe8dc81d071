// computeBgpPlan: BgpInputs -> BgpPlan. Decides who this node peers with and
// what it announces; the BIRD renderer only turns the plan into text. Pure and
// order-independent: the same inputs in any order give the same plan.

import type { FieldIssue } from '../base/errors.js';
import {
  DEFAULT_AS_NUMBER,
  type BgpConfigurationSpec,
  type BgpInputs,
  type BgpNode,
  type BgpPeerResource,
  type BgpPlan,
  type Peering,
  type PeeringType,
} from './model.js';
import { computeExports } from './exports.js';
import { resolvePeeringFilters } from './filters.js';
import { matchNodeSelector, type SelectorMatcher } from './node-selector.js';
import { compareIP, tryParseIP, type IPFamily as Family } from '../base/ip.js';
import { bgpConfigurationIssues, bgpPeerIssues, parseDurationSeconds, parsePeerIP } from './validate.js';

export interface PlanOptions {
  /** Evaluates nodeSelector / peerSelector; defaults to src/selector (node-selector.ts). */
  matchSelector?: SelectorMatcher;
}

const FAMILIES: Family[] = [4, 6];
/** When one address is reachable several ways, the most specific intent wins. */
const PRIORITY: Record<PeeringType, number> = { node: 4, global: 3, rr: 2, mesh: 1 };
/** A reverse peering (a `node` session) ranks below every explicit BGPPeer session, above mesh and route reflection. */
const REVERSE_DISCOUNT = 1.5;
const DEFAULT_BGP_PORT = 179;
const NAME_PREFIX: Record<PeeringType, string> = { mesh: 'Mesh', global: 'Global', node: 'Node', rr: 'RR' };

export function nodeAddress(node: BgpNode, family: Family): string | undefined {
  const raw = family === 4 ? node.ipv4Address : node.ipv6Address;
  if (!raw) return undefined;
  const addr = raw.split('/')[0]!;
  return tryParseIP(addr)?.family === family ? addr : undefined;
}

export function protocolNameFor(type: PeeringType, address: string): string {
  return `${NAME_PREFIX[type]}_${address.replace(/[.:]/g, '_')}`;
}

/** BIRD needs a 32-bit router ID even on an IPv6-only node: derive a stable one from the name. */
function routerIdFor(self: BgpNode | undefined, name: string): string {
  const v4 = self && nodeAddress(self, 4);
  if (v4) return v4;
  let h = 0x811c9dc5;
  for (const ch of name) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return [24, 16, 8, 0].map((s) => (h >>> s) & 0xff).join('.');
}

interface Remote {
  address: string;
  family: Family;
  port?: number;
  peerAs: number;
  node?: BgpNode;
}

export function computeBgpPlan(inputs: BgpInputs, opts: PlanOptions = {}): BgpPlan {
  const match = opts.matchSelector ?? matchNodeSelector;
  const problems: FieldIssue[] = [];
  const global: BgpConfigurationSpec = inputs.globalConfig ?? {};
  const local: BgpConfigurationSpec = inputs.nodeConfig ?? {};
  for (const i of bgpConfigurationIssues(global)) problems.push({ path: `BGPConfiguration(default).${i.path}`, message: i.message });

  const nodes = [...inputs.nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const self = nodes.find((n) => n.name === inputs.nodeName);
  if (!self) problems.push({ path: 'nodeName', message: `node '${inputs.nodeName}' is not among the nodes; no sessions rendered` });
  const clusterAs = global.asNumber ?? DEFAULT_AS_NUMBER;
  const asOf = (n: BgpNode): number => n.asNumber ?? clusterAs;
  const localAs = self ? asOf(self) : clusterAs;
  const selfCluster = self?.routeReflectorClusterID;
  // Where another Calico node listens (Calico: its node.<name> listenPort, else the cluster's); 179 needs no port.
  const portOf = (n: BgpNode): number | undefined => {
    const port = inputs.nodeListenPorts?.[n.name] ?? global.listenPort;
    return port === undefined || port === DEFAULT_BGP_PORT ? undefined : port;
  };
  const nodeByAddress = new Map<string, BgpNode>();
  for (const n of nodes) for (const f of FAMILIES) { const a = nodeAddress(n, f); if (a) nodeByAddress.set(a, n); }

  const candidates: Peering[] = [];
  const add = (type: PeeringType, remote: Remote, extra: Partial<Peering> & { origin: string }): void => {
    if (!self) return;
    const own = nodeAddress(self, remote.family);
    if (own === remote.address) return; // never peer with ourselves
    const peerNode = remote.node;
    const isCalico = peerNode !== undefined;
    const ibgp = remote.peerAs === (extra.localAs ?? localAs); // localASNumber decides, as Calico's effective AS
    const rrClient =
      extra.routeReflectorClient ??
      // As Calico's confd: every iBGP peer of a reflector is its client unless it is a reflector of the same cluster.
      (ibgp && selfCluster !== undefined && peerNode?.routeReflectorClusterID !== selfCluster);
    const p: Peering = {
      protocolName: protocolNameFor(type, remote.address),
      type,
      family: remote.family,
      peerAddress: remote.address,
      peerAs: remote.peerAs,
      localAs,
      // Between two Calico nodes the lower address waits, so exactly one side dials.
      passive: isCalico && own !== undefined && compareAddresses(own, remote.address) < 0,
      routeReflectorClient: rrClient,
      nextHop: 'auto',
      ...extra,
    };
    if (rrClient && selfCluster !== undefined) p.routeReflectorClusterID = selfCluster;
    if (remote.port !== undefined) p.peerPort = remote.port;
    if (own !== undefined && p.localAddress === undefined && !('localAddress' in extra)) p.localAddress = own;
    if (peerNode) p.peerNodeName = peerNode.name;
    for (const k of Object.keys(p) as (keyof Peering)[]) if (p[k] === undefined) delete p[k];
    candidates.push(p);
  };

  // Node-to-node mesh, or the automatic route-reflector topology when any node has a cluster ID.
  const meshOn = global.nodeToNodeMeshEnabled ?? true;
  if (meshOn && global.nodeMeshPasswordUnresolved !== undefined) {
    problems.push({
      path: 'BGPConfiguration(default).spec.nodeMeshPassword',
      message: `secret ${global.nodeMeshPasswordUnresolved} cannot be read (calico-ts has no Kubernetes Secrets; use inline): no mesh sessions rather than sessions without the password`,
    });
  }
  if (self && meshOn && global.nodeMeshPasswordUnresolved === undefined) {
    const reflectors = nodes.filter((n) => n.routeReflectorClusterID !== undefined);
    const meshExtra = {
      password: global.nodeMeshPassword,
      gracefulRestartSeconds:
        global.nodeMeshMaxRestartTime === undefined ? undefined : parseDurationSeconds(global.nodeMeshMaxRestartTime),
    };
    for (const other of nodes) {
      if (other.name === self.name) continue;
      let type: PeeringType = 'mesh';
      if (reflectors.length) {
        if (selfCluster === undefined && other.routeReflectorClusterID === undefined) continue; // clients only talk to reflectors
        type = 'rr';
      }
      for (const family of FAMILIES) {
        const address = nodeAddress(other, family);
        if (!address || !nodeAddress(self, family)) continue;
        add(type, { address, family, port: portOf(other), peerAs: asOf(other), node: other }, { origin: type === 'mesh' ? 'mesh' : 'route-reflector', ...meshExtra });
      }
    }
  }

  // Explicit BGPPeer resources.
  const peers = [...inputs.peers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const validPeers: BgpPeerResource[] = [];
  for (const peer of peers) {
    const issues = bgpPeerIssues(peer);
    if (issues.length) {
      for (const i of issues) problems.push({ path: `BGPPeer(${peer.name}).${i.path}`, message: i.message });
      continue;
    }
    if (peer.spec.passwordUnresolved !== undefined) {
      problems.push({
        path: `BGPPeer(${peer.name}).spec.password`,
        message: `secret ${peer.spec.passwordUnresolved} cannot be read (calico-ts has no Kubernetes Secrets; use inline): no session rather than one without the password`,
      });
      continue;
    }
    validPeers.push(peer);
    if (!self) continue;
    const s = peer.spec;
    let applies: boolean;
    try {
      applies = s.node !== undefined ? s.node === self.name : s.nodeSelector !== undefined ? match(s.nodeSelector, self.labels ?? {}) : true;
    } catch (err) {
      problems.push({ path: `BGPPeer(${peer.name}).spec.nodeSelector`, message: (err as Error).message });
      continue;
    }
    if (!applies) continue;
    const type: PeeringType = s.node !== undefined || s.nodeSelector !== undefined ? 'node' : 'global';
    const remotes: Remote[] = [];
    if (s.peerIP !== undefined) {
      const ip = parsePeerIP(s.peerIP)!;
      const family = tryParseIP(ip.address)!.family;
      const node = nodeByAddress.get(ip.address);
      // A Calico node's address without a port: dial where that node listens (as Calico, when the AS is that node's).
      const port = ip.port ?? (node && s.asNumber === asOf(node) ? portOf(node) : undefined);
      remotes.push({ address: ip.address, family, port, peerAs: s.asNumber!, ...(node ? { node } : {}) });
    } else {
      for (const other of nodes) {
        if (other.name === self.name) continue;
        let hit: boolean;
        try {
          hit = match(s.peerSelector!, other.labels ?? {});
        } catch (err) {
          problems.push({ path: `BGPPeer(${peer.name}).spec.peerSelector`, message: (err as Error).message });
          break;
        }
        if (!hit) continue;
        for (const family of FAMILIES) {
          const address = nodeAddress(other, family);
          if (address && nodeAddress(self, family)) remotes.push({ address, family, port: portOf(other), peerAs: s.asNumber ?? asOf(other), node: other });
        }
      }
    }
    const extra: Partial<Peering> & { origin: string } = {
      origin: peer.name,
      password: s.password,
      ttlSecurityHops: s.ttlSecurity || undefined,
      keepaliveSeconds: s.keepaliveTime === undefined ? undefined : parseDurationSeconds(s.keepaliveTime),
      holdSeconds: s.holdTime === undefined ? undefined : parseDurationSeconds(s.holdTime),
      gracefulRestartSeconds: s.maxRestartTime === undefined ? undefined : parseDurationSeconds(s.maxRestartTime),
      allowLocalAs: s.numAllowedLocalASNumbers || undefined,
      nextHop: s.nextHopMode === 'Keep' ? 'keep' : s.nextHopMode === 'Self' ? 'self' : 'auto',
    };
    if (s.filters?.length) extra.filters = [...s.filters];
    if (s.localASNumber !== undefined) extra.localAs = s.localASNumber;
    if (s.reachableBy !== undefined) extra.reachableBy = s.reachableBy;
    if (s.sourceAddress === 'None') extra.localAddress = undefined;
    // The deprecated keepOriginalNextHop only acts on eBGP sessions (Calico's confd: "legacy ... only apply for eBGP peers").
    const keepOnEbgp = s.keepOriginalNextHop === true && s.nextHopMode === undefined;
    for (const r of remotes) add(type, r, keepOnEbgp && r.peerAs !== (s.localASNumber ?? localAs) ? { ...extra, nextHop: 'keep' } : extra);
  }

  // Reverse peerings (Calico's reversePeering Auto): this node is what a BGPPeer selects
  // (peerSelector, or peerIP is our address and asNumber our AS), so it peers back with
  // the nodes that BGPPeer applies to. An explicit BGPPeer session to the same address wins.
  if (self) {
    const ourPort = local.listenPort ?? global.listenPort ?? DEFAULT_BGP_PORT;
    for (const { peer, node, family } of reverseTargets(validPeers, { self, nodes, localAs, ourPort, match, problems })) {
      const s = peer.spec;
      const extra: Partial<Peering> & { origin: string } = {
        origin: peer.name,
        reverse: true,
        password: s.password,
        ttlSecurityHops: s.ttlSecurity || undefined,
        keepaliveSeconds: s.keepaliveTime === undefined ? undefined : parseDurationSeconds(s.keepaliveTime),
        gracefulRestartSeconds: s.maxRestartTime === undefined ? undefined : parseDurationSeconds(s.maxRestartTime),
      };
      if (s.filters?.length) extra.filters = [...s.filters];
      if (s.sourceAddress === 'None') extra.localAddress = undefined;
      add('node', { address: nodeAddress(node, family)!, family, port: portOf(node), peerAs: asOf(node), node }, extra);
    }
  }

  // One session per (family, address): the most specific intent wins; ties go to the first by name.
  const rank = (p: Peering): number => PRIORITY[p.type] - (p.reverse ? REVERSE_DISCOUNT : 0);
  const chosen = new Map<string, Peering>();
  for (const p of candidates) {
    const key = `${p.family}|${p.peerAddress}`;
    const have = chosen.get(key);
    if (!have || rank(p) > rank(have)) chosen.set(key, p);
  }
  const peerings = [...chosen.values()].sort((a, b) => a.family - b.family || compareAddresses(a.peerAddress, b.peerAddress));
  const filterFunctions = resolvePeeringFilters(peerings, inputs.filters ?? [], problems);
  if ((local.bindMode ?? global.bindMode) === 'NodeIP') bindToNodeIP(peerings, self, problems);

  const plan: BgpPlan = {
    nodeName: inputs.nodeName,
    routerId: routerIdFor(self, inputs.nodeName),
    localAs,
    logSeverity: local.logSeverityScreen ?? global.logSeverityScreen ?? 'Info',
    peerings,
    exports: computeExports(inputs, { global, local, self, peerings, problems }),
    filterFunctions,
    ignoredInterfaces: [...(local.ignoredInterfaces ?? global.ignoredInterfaces ?? [])],
    problems,
  };
  const port = local.listenPort ?? global.listenPort;
  if (port !== undefined) plan.listenPort = port;
  return plan;
}

interface ReverseContext {
  self: BgpNode;
  nodes: BgpNode[];
  localAs: number;
  ourPort: number;
  match: SelectorMatcher;
  problems: FieldIssue[];
}

/**
 * The (BGPPeer, node, family) sessions this node owes as reverse peerings, as
 * Calico's confd computes them: for a BGPPeer with reversePeering Auto that
 * selects this node through peerSelector (both families) or names our address
 * in peerIP with our AS (that family; a port in peerIP, when given, must be
 * our listen port), one session to each other node the BGPPeer applies to (node,
 * nodeSelector, or all nodes).
 */
function reverseTargets(peers: BgpPeerResource[], ctx: ReverseContext): { peer: BgpPeerResource; node: BgpNode; family: Family }[] {
  const out: { peer: BgpPeerResource; node: BgpNode; family: Family }[] = [];
  const { self } = ctx;
  const matches = (peer: BgpPeerResource, field: string, sel: string, labels: Record<string, string>): boolean => {
    try {
      return ctx.match(sel, labels);
    } catch (err) {
      ctx.problems.push({ path: `BGPPeer(${peer.name}).spec.${field}`, message: (err as Error).message });
      return false;
    }
  };
  for (const peer of peers) {
    const s = peer.spec;
    if (s.reversePeering === 'Manual') continue;
    let families: Family[] = [];
    if (s.peerSelector !== undefined) {
      if (matches(peer, 'peerSelector', s.peerSelector, self.labels ?? {})) families = [...FAMILIES];
    } else if (s.peerIP !== undefined) {
      const ip = parsePeerIP(s.peerIP)!;
      const family = tryParseIP(ip.address)!.family;
      if (nodeAddress(self, family) === ip.address && s.asNumber === ctx.localAs && (ip.port === undefined || ip.port === ctx.ourPort)) families = [family];
    }
    if (!families.length) continue;
    for (const node of ctx.nodes) {
      if (node.name === self.name) continue;
      const applies =
        s.node !== undefined ? s.node === node.name : s.nodeSelector !== undefined ? matches(peer, 'nodeSelector', s.nodeSelector, node.labels ?? {}) : true;
      if (!applies) continue;
      for (const family of families) if (nodeAddress(node, family) && nodeAddress(self, family)) out.push({ peer, node, family });
    }
  }
  return out;
}

/**
 * bindMode NodeIP: every session uses the node's address and binds its
 * listening socket to it (BIRD's strict bind has to be on for all sessions of
 * a family or none, so a sourceAddress: None peer gets the node address too).
 */
function bindToNodeIP(peerings: Peering[], self: BgpNode | undefined, problems: FieldIssue[]): void {
  for (const p of peerings) {
    const own = self && nodeAddress(self, p.family);
    if (!own) continue;
    if (p.localAddress === undefined) {
      problems.push({ path: `BGPPeer(${p.origin}).spec.sourceAddress`, message: 'None is overridden by bindMode NodeIP: the session uses the node address' });
    }
    p.localAddress = own;
    p.strictBind = true;
  }
}

/** Numeric order of two address strings (the "lower address is passive" rule); text order if either does not parse. */
function compareAddresses(a: string, b: string): number {
  const x = tryParseIP(a);
  const y = tryParseIP(b);
  if (!x || !y) return a < b ? -1 : a > b ? 1 : 0;
  return compareIP(x, y);
}

