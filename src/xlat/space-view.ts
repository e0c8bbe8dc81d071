// The agent's view of address spaces, between the datastore watch and
// everything downstream (calc graph, BGP). Pure and without hysteresis: its
// output depends only on the current AddressSpaces and WorkloadEndpoints.
//
// A WorkloadEndpoint that names an address space leaves here with its IPv4
// ipNetworks replaced by their translated IPv6 /128s (prefix | ipv4), so
// routes, static neighbours, anti-spoofing, IP sets, policy and BGP all work
// on the form the packets have on the host (docs/design/xlat.md). The
// original addresses stay in an annotation for people (calicoctl shows the
// stored resource anyway). A space that does not exist, or lost a prefix
// conflict, gives its endpoints no addresses at all: fail closed.
import { cidrOverlaps, formatCIDR, formatIP, tryParseCIDR, tryParseIP, type CIDR } from '../base/ip.js';
import type { Resource } from '../api/resource.js';
import type { AddressSpaceSpec } from '../api/kinds/address-space.js';
import type { WorkloadEndpointSpec } from '../api/kinds/endpoint.js';
import type { WatchEvent } from '../datastore/datastore.js';
import { embed } from './address.js';

export const ORIGINAL_NETWORKS_ANNOTATION = 'xlat.projectcalico.org/ipv4-networks';

export interface EffectiveSpace {
  name: string;
  prefix: string;
  /** Small number for the BPF maps: 1-based position by name among the effective spaces. */
  id: number;
  services: { ipv4: string; ipv6: string }[];
}

export interface SpaceProblem {
  space: string;
  message: string;
}

export interface SpaceEndpoint {
  /** `namespace/name`. */
  id: string;
  node: string;
  interfaceName: string;
  space: string;
  ipv4: string[];
  /** Translated; empty when the space is missing. */
  ipv6: string[];
  mac?: string;
}

const keyOf = (ev: WatchEvent): { kind: string; id: string } =>
  ev.type === 'deleted'
    ? { kind: ev.key.kind, id: `${ev.key.namespace ?? ''}/${ev.key.name}` }
    : { kind: ev.resource.kind, id: `${ev.resource.metadata.namespace ?? ''}/${ev.resource.metadata.name}` };

export class AddressSpaceView {
  private readonly spaces = new Map<string, Resource<AddressSpaceSpec>>();
  /** Endpoints that name a space, as stored. */
  private readonly endpoints = new Map<string, Resource<WorkloadEndpointSpec>>();
  /** IPPool CIDRs by pool: a space prefix must not overlap one (routes would collide). */
  private readonly pools = new Map<string, string>();
  private effectiveCache: { spaces: Map<string, EffectiveSpace>; problems: SpaceProblem[] } | undefined;

  /**
   * Records a batch and returns it rewritten: space endpoints translated, and
   * every endpoint of a space whose effective prefix changed re-emitted.
   * AddressSpace events stay in the batch (BGP reads the prefixes).
   */
  onEvents(events: WatchEvent[]): WatchEvent[] {
    const before = this.effective().spaces;
    const out: WatchEvent[] = [];
    const emittedEndpoints = new Set<string>();
    let spacesTouched = false;
    for (const ev of events) {
      const { kind, id } = keyOf(ev);
      if (kind === 'IPPool') {
        if (ev.type === 'deleted') this.pools.delete(id);
        else this.pools.set(id, String((ev.resource.spec as { cidr?: string } | undefined)?.cidr ?? ''));
        spacesTouched = true;
        out.push(ev);
      } else if (kind === 'AddressSpace') {
        if (ev.type === 'deleted') this.spaces.delete(id);
        else this.spaces.set(id, ev.resource as unknown as Resource<AddressSpaceSpec>);
        spacesTouched = true;
        out.push(ev);
      } else if (kind === 'WorkloadEndpoint') {
        if (ev.type === 'deleted') {
          this.endpoints.delete(id);
          out.push(ev);
        } else if ((ev.resource.spec as WorkloadEndpointSpec | undefined)?.addressSpace) {
          this.endpoints.set(id, ev.resource as unknown as Resource<WorkloadEndpointSpec>);
          out.push(ev); // rewritten below, once the batch's spaces are known
          emittedEndpoints.add(id);
        } else {
          this.endpoints.delete(id);
          out.push(ev);
        }
      } else {
        out.push(ev);
      }
    }
    if (spacesTouched) this.effectiveCache = undefined;
    const after = this.effective().spaces;
    // Endpoints whose space's prefix (or existence) changed: re-emit them.
    for (const [id, ep] of this.endpoints) {
      if (emittedEndpoints.has(id)) continue;
      const s = ep.spec?.addressSpace ?? '';
      if (before.get(s)?.prefix !== after.get(s)?.prefix) out.push({ type: 'modified', resource: ep as unknown as Resource });
    }
    return out.map((ev) => (ev.type !== 'deleted' && ev.resource.kind === 'WorkloadEndpoint' && (ev.resource.spec as WorkloadEndpointSpec | undefined)?.addressSpace ? { ...ev, resource: this.translated(ev.resource as unknown as Resource<WorkloadEndpointSpec>) as unknown as Resource } : ev));
  }

  /** Spaces in force (conflicts resolved: the older prefix wins, then the name), and why others are not. */
  effective(): { spaces: Map<string, EffectiveSpace>; problems: SpaceProblem[] } {
    if (this.effectiveCache) return this.effectiveCache;
    const all = [...this.spaces.values()].sort((a, b) => {
      const ta = a.metadata.creationTimestamp ?? '';
      const tb = b.metadata.creationTimestamp ?? '';
      return ta !== tb ? (ta < tb ? -1 : 1) : a.metadata.name < b.metadata.name ? -1 : 1;
    });
    const taken: { name: string; prefix: CIDR }[] = [];
    const pools = [...this.pools].flatMap(([id, c]) => {
      const p = tryParseCIDR(c);
      return p ? [{ name: id.replace(/^\//, ''), prefix: p }] : [];
    });
    const problems: SpaceProblem[] = [];
    const kept: Resource<AddressSpaceSpec>[] = [];
    for (const s of all) {
      const prefix = tryParseCIDR(s.spec?.prefix ?? '');
      if (!prefix) {
        problems.push({ space: s.metadata.name, message: `prefix '${s.spec?.prefix}' is not a CIDR; space ignored` });
        continue;
      }
      const pool = pools.find((p) => cidrOverlaps(p.prefix, prefix));
      if (pool) {
        problems.push({ space: s.metadata.name, message: `prefix ${s.spec?.prefix} overlaps IPPool ${pool.name} (${formatCIDR(pool.prefix)}): this space is ignored and its endpoints get no addresses until the prefix or the pool is changed` });
        continue;
      }
      const clash = taken.find((t) => cidrOverlaps(t.prefix, prefix));
      if (clash) {
        problems.push({ space: s.metadata.name, message: `prefix ${s.spec?.prefix} overlaps address space ${clash.name}'s (older): this space is ignored and its endpoints get no addresses until the prefix is changed` });
        continue;
      }
      taken.push({ name: s.metadata.name, prefix });
      kept.push(s);
    }
    kept.sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
    const spaces = new Map<string, EffectiveSpace>();
    kept.forEach((s, i) => spaces.set(s.metadata.name, { name: s.metadata.name, prefix: s.spec!.prefix, id: i + 1, services: (s.spec?.services ?? []).map((x) => ({ ipv4: x.ipv4, ipv6: x.ipv6 })) }));
    this.effectiveCache = { spaces, problems };
    return this.effectiveCache;
  }

  /** Endpoints in spaces (all nodes), with their translated addresses. */
  spaceEndpoints(): SpaceEndpoint[] {
    return [...this.endpoints.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([id, ep]) => {
        const s = ep.spec!;
        const ipv4 = (s.ipNetworks ?? []).filter((n) => !n.includes(':'));
        const out: SpaceEndpoint = { id, node: s.node ?? '', interfaceName: s.interfaceName ?? '', space: s.addressSpace!, ipv4, ipv6: this.translate(s.addressSpace!, ipv4) };
        if (s.mac) out.mac = s.mac.toLowerCase();
        return out;
      });
  }

  private translate(space: string, ipv4: string[]): string[] {
    const eff = this.effective().spaces.get(space);
    const prefix = eff ? tryParseCIDR(eff.prefix) : undefined;
    if (!prefix) return [];
    return ipv4.flatMap((n) => {
      const ip = tryParseIP(n.split('/')[0]!);
      return ip?.family === 4 ? [`${formatIP(embed(prefix, ip))}/128`] : [];
    });
  }

  private translated(ep: Resource<WorkloadEndpointSpec>): Resource<WorkloadEndpointSpec> {
    const s = ep.spec!;
    const ipv4 = (s.ipNetworks ?? []).filter((n) => !n.includes(':'));
    return {
      ...ep,
      metadata: { ...ep.metadata, annotations: { ...(ep.metadata.annotations ?? {}), [ORIGINAL_NETWORKS_ANNOTATION]: ipv4.join(',') } },
      spec: { ...s, ipNetworks: this.translate(s.addressSpace!, ipv4) },
    };
  }
}
