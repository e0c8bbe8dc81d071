// Managers RECORD desired state; they never touch the kernel (STYLE.md rule 2).
// Each owns one slice of the calc graph's output and a "changed" flag; the
// apply loop asks them for the whole desired state when it runs.

import type { CalcUpdate, HostEndpointState, IpPoolState, IpSetState, PolicyState, ProfileState, SetMember, WorkloadEndpointState } from '../calc/output.js';
import { emptyDesiredState, memberKey, type DesiredPolicyState } from '../calc/output.js';
import { canonicalCidr, familyOf } from '../rules/cidr.js';
import type { Neighbor, Route } from './ports.js';

abstract class Slice {
  changed = false;
}

/** A value derived from a manager's state, recomputed only after the state changed (rounds must not cost O(endpoints) when none changed). */
class Derived<T> {
  private version = -1;
  private value: T | undefined;
  constructor(private readonly compute: () => T) {}
  get(version: number): T {
    if (version !== this.version) {
      this.value = this.compute();
      this.version = version;
    }
    return this.value!;
  }
}

// One endpoint's routes and neighbours, kept with the (immutable) endpoint
// state: a round after one endpoint changed re-derives only that endpoint's.
const routesOf = new WeakMap<WorkloadEndpointState, Route[]>();
const neighborsOf = new WeakMap<WorkloadEndpointState, Neighbor[]>();

function endpointRoutes(ep: WorkloadEndpointState): Route[] {
  let out = routesOf.get(ep);
  if (!out) routesOf.set(ep, (out = [...ep.ipv4Nets, ...ep.ipv6Nets].map((n) => ({ dst: canonicalCidr(n), dev: ep.interfaceName, family: familyOf(n) }))));
  return out;
}

function endpointNeighbors(ep: WorkloadEndpointState): Neighbor[] {
  let out = neighborsOf.get(ep);
  if (out) return out;
  out = [];
  if (ep.mac) {
    const mac = ep.mac.toLowerCase();
    for (const n of [...ep.ipv4Nets, ...ep.ipv6Nets]) {
      // Only single addresses have a neighbour; a wider workload net is routed, not resolved.
      const ip = canonicalCidr(n);
      if (!ip.includes('/')) out.push({ ip, mac, dev: ep.interfaceName, family: familyOf(n) });
    }
  }
  neighborsOf.set(ep, out);
  return out;
}

/** Local workload endpoints: routes, static neighbours, per-interface sysctls, conntrack flushes of removed addresses. */
export class EndpointManager extends Slice {
  readonly workloads = new Map<string, WorkloadEndpointState>();
  readonly hosts = new Map<string, HostEndpointState>();
  private flushes = new Set<string>();
  /** Bumped on every change of the workloads. */
  private version = 0;
  private readonly routes = new Derived(() => this.computeRoutes());
  private readonly neighbors = new Derived(() => this.computeNeighbors());
  private readonly ifaces = new Derived(() => [...new Set([...this.workloads.values()].map((w) => w.interfaceName))].sort());

  upsertWorkload(ep: WorkloadEndpointState): void {
    const old = this.workloads.get(ep.id);
    if (old) {
      const keep = new Set([...ep.ipv4Nets, ...ep.ipv6Nets]);
      for (const n of [...old.ipv4Nets, ...old.ipv6Nets]) if (!keep.has(n)) this.flushes.add(canonicalCidr(n));
    }
    this.workloads.set(ep.id, ep);
    this.version++;
    this.changed = true;
  }
  removeWorkload(id: string): void {
    const old = this.workloads.get(id);
    if (!old) return;
    for (const n of [...old.ipv4Nets, ...old.ipv6Nets]) this.flushes.add(canonicalCidr(n));
    this.workloads.delete(id);
    this.version++;
    this.changed = true;
  }
  upsertHost(ep: HostEndpointState): void {
    this.hosts.set(ep.id, ep);
    this.changed = true;
  }
  removeHost(id: string): void {
    this.changed = this.hosts.delete(id) || this.changed;
  }

  /** `<ip>/32 dev caliX` (and /128) for every local workload address. Shared: do not change. */
  desiredRoutes(): readonly Route[] {
    return this.routes.get(this.version);
  }

  private computeRoutes(): Route[] {
    return [...this.workloads.values()].flatMap((ep) => endpointRoutes(ep));
  }

  /**
   * A permanent `<ip> lladdr <mac> dev caliX` for every local workload address
   * of an endpoint with a MAC: a workload that forges ARP/NDP cannot then
   * repoint the host's entry for its own address at another MAC.
   */
  desiredNeighbors(): readonly Neighbor[] {
    return this.neighbors.get(this.version);
  }

  private computeNeighbors(): Neighbor[] {
    return [...this.workloads.values()].flatMap((ep) => endpointNeighbors(ep));
  }

  interfaces(): readonly string[] {
    return this.ifaces.get(this.version);
  }

  /** Addresses whose conntrack entries must go (their endpoint was removed or renumbered). */
  takeFlushes(): string[] {
    const out = [...this.flushes].filter((a) => ![...this.workloads.values()].some((w) => [...w.ipv4Nets, ...w.ipv6Nets].some((n) => canonicalCidr(n) === a)));
    this.flushes.clear();
    return out;
  }
}

export class PolicyManager extends Slice {
  readonly policies = new Map<string, PolicyState>();
  readonly profiles = new Map<string, ProfileState>();
}

export class IpsetManager extends Slice {
  /** Read through `settled()`: sets with pending deltas are folded in there. */
  readonly sets = new Map<string, IpSetState>();
  /**
   * Members by key of the sets changed by deltas since they were last read.
   * A delta then costs its own size, not the set's: at 50k members, copying
   * the set per one-member delta held the agent to ~100 updates/s (scale
   * simulation). The new set object is made once, when a round reads it.
   */
  private readonly editing = new Map<string, Map<string, SetMember>>();

  upsert(set: IpSetState): void {
    this.editing.delete(set.id);
    this.sets.set(set.id, set);
  }

  /** False when the set is unknown (the delta is dropped, as before). */
  applyDelta(id: string, delta: { added: readonly SetMember[]; removed: readonly SetMember[] }): boolean {
    const set = this.sets.get(id);
    if (!set) return false;
    let byKey = this.editing.get(id);
    if (!byKey) this.editing.set(id, (byKey = new Map(set.members.map((m) => [memberKey(m), m]))));
    for (const m of delta.removed) byKey.delete(memberKey(m));
    for (const m of delta.added) byKey.set(memberKey(m), m);
    return true;
  }

  remove(id: string): boolean {
    this.editing.delete(id);
    return this.sets.delete(id);
  }

  clear(): void {
    this.editing.clear();
    this.sets.clear();
  }

  /** The sets with every recorded delta in them (a new object for each set that changed). */
  settled(): Map<string, IpSetState> {
    for (const [id, byKey] of this.editing) {
      const set = this.sets.get(id);
      // Members in their order with the added ones last, as before (consumers sort where they need to).
      if (set) this.sets.set(id, { ...set, members: [...byKey.values()] });
    }
    this.editing.clear();
    return this.sets;
  }
}

export class NatManager extends Slice {
  readonly pools = new Map<string, IpPoolState>();
}

/** The four managers behind one `record(update)`. */
export class DataplaneManagers {
  readonly endpoints = new EndpointManager();
  readonly policy = new PolicyManager();
  readonly ipsets = new IpsetManager();
  readonly nat = new NatManager();
  inSync = false;

  record(u: CalcUpdate): void {
    switch (u.type) {
      case 'ipSetUpserted':
        this.ipsets.upsert(u.ipSet);
        this.ipsets.changed = true;
        return;
      case 'ipSetDelta':
        if (this.ipsets.applyDelta(u.id, u)) this.ipsets.changed = true;
        return;
      case 'ipSetRemoved':
        this.ipsets.changed = this.ipsets.remove(u.id) || this.ipsets.changed;
        return;
      case 'policyUpserted':
        this.policy.policies.set(u.policy.id, u.policy);
        this.policy.changed = true;
        return;
      case 'policyRemoved':
        this.policy.changed = this.policy.policies.delete(u.id) || this.policy.changed;
        return;
      case 'profileUpserted':
        this.policy.profiles.set(u.profile.id, u.profile);
        this.policy.changed = true;
        return;
      case 'profileRemoved':
        this.policy.changed = this.policy.profiles.delete(u.id) || this.policy.changed;
        return;
      case 'workloadEndpointUpserted':
        return this.endpoints.upsertWorkload(u.endpoint);
      case 'workloadEndpointRemoved':
        return this.endpoints.removeWorkload(u.id);
      case 'hostEndpointUpserted':
        return this.endpoints.upsertHost(u.endpoint);
      case 'hostEndpointRemoved':
        return this.endpoints.removeHost(u.id);
      case 'ipPoolUpserted':
        this.nat.pools.set(u.pool.name, u.pool);
        this.nat.changed = true;
        return;
      case 'ipPoolRemoved':
        this.nat.changed = this.nat.pools.delete(u.name) || this.nat.changed;
        return;
      case 'inSync':
        this.inSync = true;
        return;
    }
  }

  /** Replaces everything with a full state (first sync, resync). */
  replaceAll(state: DesiredPolicyState): void {
    const fresh = new DataplaneManagers();
    const old = [...this.endpoints.workloads.keys()];
    for (const id of old) if (!state.workloadEndpoints.has(id)) this.endpoints.removeWorkload(id);
    this.endpoints.hosts.clear();
    for (const s of state.ipSets.values()) fresh.record({ type: 'ipSetUpserted', ipSet: s });
    this.ipsets.clear();
    for (const v of fresh.ipsets.settled().values()) this.ipsets.upsert(v);
    this.policy.policies.clear();
    this.policy.profiles.clear();
    for (const p of state.policies.values()) this.policy.policies.set(p.id, p);
    for (const p of state.profiles.values()) this.policy.profiles.set(p.id, p);
    this.nat.pools.clear();
    for (const p of state.ipPools.values()) this.nat.pools.set(p.name, p);
    for (const w of state.workloadEndpoints.values()) this.endpoints.upsertWorkload(w);
    for (const h of state.hostEndpoints.values()) this.endpoints.upsertHost(h);
    this.ipsets.changed = this.policy.changed = this.nat.changed = this.endpoints.changed = true;
    this.inSync = this.inSync || state.inSync;
  }

  /** The recorded state in the calc graph's own shape (for modelFromCalc). */
  snapshot(): DesiredPolicyState {
    const s = emptyDesiredState();
    for (const [k, v] of this.endpoints.workloads) s.workloadEndpoints.set(k, v);
    for (const [k, v] of this.endpoints.hosts) s.hostEndpoints.set(k, v);
    for (const [k, v] of this.policy.policies) s.policies.set(k, v);
    for (const [k, v] of this.policy.profiles) s.profiles.set(k, v);
    for (const [k, v] of this.ipsets.settled()) s.ipSets.set(k, v);
    for (const [k, v] of this.nat.pools) s.ipPools.set(k, v);
    s.inSync = this.inSync;
    return s;
  }

  /**
   * The recorded state in the calc graph's shape, sharing the managers' own
   * maps (no copy: a round must not cost O(state) just to look). Read only,
   * and only until the next record().
   */
  view(): DesiredPolicyState {
    return {
      workloadEndpoints: this.endpoints.workloads,
      hostEndpoints: this.endpoints.hosts,
      policies: this.policy.policies,
      profiles: this.policy.profiles,
      ipSets: this.ipsets.settled(),
      ipPools: this.nat.pools,
      inSync: this.inSync,
    };
  }

  anyChanged(): boolean {
    return this.endpoints.changed || this.policy.changed || this.ipsets.changed || this.nat.changed;
  }

  clearChanged(): void {
    this.endpoints.changed = this.policy.changed = this.ipsets.changed = this.nat.changed = false;
  }
}
