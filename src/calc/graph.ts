// The calculation graph: typed resource updates in, CalcUpdate batches out.
// Pure (no I/O, no clock). Handling an update only records; `flush()` turns
// what changed into an ordered batch (see output.ts for the ordering rule).
//
// Work is proportional to what changed: a remote endpoint's update is checked
// only against the active IP sets its labels could match; a local endpoint's
// update against the policies its labels could match; a policy's update
// against the local endpoints only. Output depends only on the current inputs
// (ids are content hashes, lists are sorted), never on their history.
import type { WatchEvent } from '../datastore/datastore.js';
import type { Resource, ResourceKey } from '../api/resource.js';
import { parseSelector } from '../selector/index.js';
import type { Labels } from '../selector/ast.js';
import { HintIndex, LabelIndex } from './label-index.js';
import { IpSetIndex } from './ip-set-index.js';
import type { IpSetDefinition, SetItem } from './ip-set-index.js';
import { buildMatchSpec, matches } from './match-spec.js';
import type { MatchSpec, SelectorCompiler } from './match-spec.js';
import {
  implicitTier,
  labelledIdOf,
  parseLabelled,
  parsePolicy,
  parsePool,
  parseProfile,
  parseTier,
  policyId,
  SERVICE_ACCOUNT_LABEL_PREFIX,
} from './model.js';
import type { LabelledModel, PolicyModel, PoolModel, ProfileModel, TierModel } from './model.js';
import { normalizeRules } from './rules.js';
import type { NormalizedRules } from './rules.js';
import { emptyDesiredState } from './output.js';
import type { CalcUpdate, DesiredPolicyState, PolicyState, ProfileState } from './output.js';
import { endpointState } from './endpoint-policies.js';
import type { EndpointOutput } from './endpoint-policies.js';

/** The resource kinds the graph consumes (what the syncer should watch). */
export const CALC_KINDS = [
  'WorkloadEndpoint',
  'HostEndpoint',
  'NetworkSet',
  'GlobalNetworkSet',
  'Profile',
  'Tier',
  'NetworkPolicy',
  'GlobalNetworkPolicy',
  'IPPool',
] as const;

export interface CalcGraphOptions {
  /** This host's node name: endpoints with `spec.node` equal to it are local. */
  nodeName: string;
  /** Defaults to the selector package's parser. */
  compileSelector?: SelectorCompiler;
}

/** Work counters (monotonic). Tests diff them around one update. */
export interface CalcStats {
  selectorEvaluations: number;
  itemsScanned: number;
  policyEvaluations: number;
  endpointRecomputations: number;
  updatesIn: number;
}

/** A labelled item with its effective labels. */
class Item implements SetItem {
  readonly id: string;
  readonly isEndpoint: boolean;
  readonly namespace?: string;
  readonly nets: string[];
  readonly addresses: string[];
  readonly ports: LabelledModel['ports'];
  #sa: Labels | undefined;
  constructor(
    readonly model: LabelledModel,
    readonly labels: Labels,
  ) {
    this.id = model.id;
    this.isEndpoint = model.isEndpoint;
    if (model.namespace !== undefined) this.namespace = model.namespace;
    this.nets = model.nets;
    this.addresses = model.addresses;
    this.ports = model.ports;
  }
  serviceAccountLabels(): Labels {
    return (this.#sa ??= stripPrefix(this.labels, SERVICE_ACCOUNT_LABEL_PREFIX));
  }
}

function stripPrefix(labels: Labels, prefix: string): Labels {
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = labels[k]!;
  return out;
}

interface PolicyEntry {
  model: PolicyModel;
  spec: MatchSpec;
  rules: NormalizedRules;
  /** Local endpoint item ids it selects. */
  matching: Set<string>;
}

interface ProfileEntry {
  model: ProfileModel;
  rules: NormalizedRules;
}

export class CalcGraph {
  readonly stats: CalcStats = { selectorEvaluations: 0, itemsScanned: 0, policyEvaluations: 0, endpointRecomputations: 0, updatesIn: 0 };
  private readonly nodeName: string;
  private readonly compile: SelectorCompiler;
  private readonly selectorCache = new Map<string, ReturnType<SelectorCompiler>>();

  private readonly items = new Map<string, Item>();
  private readonly labelIndex = new LabelIndex();
  /** profile id -> ids of items inheriting its labels. */
  private readonly children = new Map<string, Set<string>>();
  private readonly ipSets: IpSetIndex;

  private readonly policies = new Map<string, PolicyEntry>();
  private readonly policyHints = new HintIndex<string>();
  private readonly profiles = new Map<string, ProfileEntry>();
  /** profile id -> number of local endpoints referencing it. */
  private readonly profileRefs = new Map<string, number>();
  private readonly tiers = new Map<string, TierModel>();
  private readonly pools = new Map<string, PoolModel>();

  /** Local endpoint item id -> ids of policies selecting it. */
  private readonly localPolicies = new Map<string, Set<string>>();

  private readonly dirtyEndpoints = new Set<string>();
  private readonly dirtyPolicies = new Set<string>();
  private readonly dirtyProfiles = new Set<string>();
  private readonly dirtyPools = new Set<string>();
  private inSyncPending = false;
  private inSync = false;

  /** What was last emitted, by id, as JSON (for change detection) and as data (for snapshots). */
  private readonly emitted = {
    endpoints: new Map<string, { json: string; out: EndpointOutput }>(),
    policies: new Map<string, { json: string; out: PolicyState }>(),
    profiles: new Map<string, { json: string; out: ProfileState }>(),
    pools: new Map<string, string>(),
  };

  constructor(opts: CalcGraphOptions) {
    this.nodeName = opts.nodeName;
    const base = opts.compileSelector ?? defaultCompiler;
    this.compile = (text) => {
      let sel = this.selectorCache.get(text);
      if (!sel) this.selectorCache.set(text, (sel = base(text)));
      return sel;
    };
    this.ipSets = new IpSetIndex({ get: (id) => this.items.get(id), labels: this.labelIndex }, this.stats);
  }

  /** Records a batch of watch events (the syncer's delivery unit). */
  onEvents(events: WatchEvent[]): void {
    for (const ev of events) {
      this.stats.updatesIn++;
      if (ev.type === 'deleted') this.remove(ev.key);
      else this.upsert(ev.resource);
    }
  }

  /** The datastore's initial state has been delivered. */
  onInSync(): void {
    if (!this.inSync) this.inSyncPending = true;
  }

  upsert(r: Resource): void {
    switch (r.kind) {
      case 'WorkloadEndpoint':
      case 'HostEndpoint':
      case 'NetworkSet':
      case 'GlobalNetworkSet': {
        const model = parseLabelled(r, this.nodeName)!;
        this.setItem(model.id, model);
        return;
      }
      case 'NetworkPolicy':
      case 'GlobalNetworkPolicy':
        this.setPolicy(policyId(r), parsePolicy(r));
        return;
      case 'Profile':
        this.setProfile(r.metadata.name, parseProfile(r));
        return;
      case 'Tier':
        this.setTier(r.metadata.name, parseTier(r));
        return;
      case 'IPPool':
        this.pools.set(r.metadata.name, parsePool(r));
        this.dirtyPools.add(r.metadata.name);
        return;
      default:
        return;
    }
  }

  remove(key: ResourceKey): void {
    switch (key.kind) {
      case 'WorkloadEndpoint':
      case 'HostEndpoint':
      case 'NetworkSet':
      case 'GlobalNetworkSet':
        this.setItem(labelledIdOf(key)!, undefined);
        return;
      case 'NetworkPolicy':
      case 'GlobalNetworkPolicy': {
        const id = key.kind === 'NetworkPolicy' ? `np/${key.namespace ?? ''}/${key.name}` : `gnp/${key.name}`;
        this.setPolicy(id, undefined);
        return;
      }
      case 'Profile':
        this.setProfile(key.name, undefined);
        return;
      case 'Tier':
        this.setTier(key.name, undefined);
        return;
      case 'IPPool':
        this.pools.delete(key.name);
        this.dirtyPools.add(key.name);
        return;
      default:
        return;
    }
  }

  // ---- labelled items (endpoints, network sets) ----

  private effectiveLabels(model: LabelledModel): Labels {
    if (model.parents.length === 0) return model.ownLabels;
    const labels: Record<string, string> = {};
    // Earlier profiles win over later ones; the item's own labels win over all.
    for (let i = model.parents.length - 1; i >= 0; i--) {
      const p = this.profiles.get(model.parents[i]!);
      if (p) Object.assign(labels, p.model.labelsToApply);
    }
    return Object.assign(labels, model.ownLabels);
  }

  private setItem(id: string, model: LabelledModel | undefined): void {
    const before = this.items.get(id);
    const after = model ? new Item(model, this.effectiveLabels(model)) : undefined;
    if (before) {
      this.labelIndex.remove(id, before.labels);
      for (const p of before.model.parents) this.children.get(p)?.delete(id);
    }
    if (after) {
      this.items.set(id, after);
      this.labelIndex.add(id, after.labels);
      for (const p of after.model.parents) {
        let set = this.children.get(p);
        if (!set) this.children.set(p, (set = new Set()));
        set.add(id);
      }
    } else {
      this.items.delete(id);
    }
    const sameLabels = !!before && !!after && sameSelection(before, after);
    if (sameLabels) {
      if (!sameAddresses(before, after)) this.ipSets.itemAddressesChanged(before, after);
    } else if (before || after) {
      this.ipSets.itemChanged(before, after);
    }
    if (before?.model.local || after?.model.local) this.localEndpointChanged(id, before, after, sameLabels);
  }

  private localEndpointChanged(id: string, before: Item | undefined, after: Item | undefined, sameLabels: boolean): void {
    this.dirtyEndpoints.add(id);
    // Profiles referenced by this endpoint: take new references before dropping old ones.
    for (const p of after?.model.local?.profileIds ?? []) this.refProfile(p, +1);
    for (const p of before?.model.local?.profileIds ?? []) this.refProfile(p, -1);
    const old = this.localPolicies.get(id) ?? new Set<string>();
    if (sameLabels && before?.model.local && after?.model.local) return;
    const now = new Set<string>();
    if (after?.model.local) {
      const candidates = new Set<string>();
      this.policyHints.collect(after.labels, candidates);
      for (const pid of candidates) {
        const entry = this.policies.get(pid)!;
        this.stats.policyEvaluations++;
        if (matches(entry.spec, after)) now.add(pid);
      }
      this.localPolicies.set(id, now);
    } else {
      this.localPolicies.delete(id);
    }
    for (const pid of old) if (!now.has(pid)) this.setPolicyMatch(pid, id, false);
    for (const pid of now) if (!old.has(pid)) this.setPolicyMatch(pid, id, true);
  }

  private setPolicyMatch(pid: string, endpointId: string, matched: boolean): void {
    const entry = this.policies.get(pid);
    if (!entry) return;
    const wasActive = entry.matching.size > 0;
    if (matched) entry.matching.add(endpointId);
    else entry.matching.delete(endpointId);
    const isActive = entry.matching.size > 0;
    if (isActive && !wasActive) this.refSets(entry.rules.sets, +1);
    if (!isActive && wasActive) this.refSets(entry.rules.sets, -1);
    if (isActive !== wasActive) this.dirtyPolicies.add(pid);
  }

  private refSets(sets: IpSetDefinition[], delta: 1 | -1): void {
    for (const s of sets) {
      if (delta > 0) this.ipSets.ref(s);
      else this.ipSets.unref(s.id);
    }
  }

  // ---- policies ----

  private setPolicy(id: string, model: PolicyModel | undefined): void {
    const before = this.policies.get(id);
    let after: PolicyEntry | undefined;
    if (model) {
      const specInput: Parameters<typeof buildMatchSpec>[0] = { endpointsOnly: true, selector: model.selector };
      if (model.namespace !== undefined) specInput.namespace = model.namespace;
      if (model.namespaceSelector !== undefined) specInput.namespaceSelector = model.namespaceSelector;
      if (model.serviceAccountSelector !== undefined) specInput.serviceAccountSelector = model.serviceAccountSelector;
      const spec = buildMatchSpec(specInput, this.compile);
      const ctx = model.namespace !== undefined ? { namespace: model.namespace, compile: this.compile } : { compile: this.compile };
      after = { model, spec, rules: normalizeRules(model.ingress, model.egress, ctx), matching: new Set() };
    }
    if (before) this.policyHints.remove(id, before.spec.hints);
    if (after) {
      this.policyHints.add(id, after.spec.hints);
      this.policies.set(id, after);
    } else {
      this.policies.delete(id);
    }
    // Which local endpoints it selects: reuse the old answer when the selection is unchanged.
    if (after && before && before.spec.key === after.spec.key) {
      for (const e of before.matching) after.matching.add(e);
    } else if (after) {
      for (const epId of this.localPolicies.keys()) {
        this.stats.policyEvaluations++;
        if (matches(after.spec, this.items.get(epId)!)) after.matching.add(epId);
      }
    }
    // Sets: reference the new rules' sets before releasing the old ones, so a set
    // both use is never torn down and rebuilt.
    if (after && after.matching.size > 0) this.refSets(after.rules.sets, +1);
    if (before && before.matching.size > 0) this.refSets(before.rules.sets, -1);
    for (const epId of before?.matching ?? []) {
      if (!after?.matching.has(epId)) this.localPolicies.get(epId)?.delete(id);
      this.dirtyEndpoints.add(epId);
    }
    for (const epId of after?.matching ?? []) {
      this.localPolicies.get(epId)?.add(id);
      this.dirtyEndpoints.add(epId);
    }
    this.dirtyPolicies.add(id);
  }

  // ---- profiles and tiers ----

  private setProfile(id: string, model: ProfileModel | undefined): void {
    const before = this.profiles.get(id);
    const after = model ? { model, rules: normalizeRules(model.ingress, model.egress, { compile: this.compile }) } : undefined;
    if (after) this.profiles.set(id, after);
    else this.profiles.delete(id);
    const active = (this.profileRefs.get(id) ?? 0) > 0;
    if (active && after) this.refSets(after.rules.sets, +1);
    if (active && before) this.refSets(before.rules.sets, -1);
    if (active) this.dirtyProfiles.add(id);
    if (JSON.stringify(before?.model.labelsToApply ?? {}) !== JSON.stringify(after?.model.labelsToApply ?? {})) {
      // Inherited labels changed: every child is re-indexed as if it had been updated.
      for (const child of [...(this.children.get(id) ?? [])]) this.setItem(child, this.items.get(child)!.model);
    }
  }

  private refProfile(id: string, delta: 1 | -1): void {
    const n = (this.profileRefs.get(id) ?? 0) + delta;
    if (n > 0) this.profileRefs.set(id, n);
    else this.profileRefs.delete(id);
    const entry = this.profiles.get(id);
    if (n === 1 && delta > 0) {
      if (entry) this.refSets(entry.rules.sets, +1);
      this.dirtyProfiles.add(id);
    } else if (n === 0) {
      if (entry) this.refSets(entry.rules.sets, -1);
      this.dirtyProfiles.add(id);
    }
  }

  private setTier(name: string, model: TierModel | undefined): void {
    if (model) this.tiers.set(name, model);
    else this.tiers.delete(name);
    // Tiers change rarely; recompute every local endpoint that has a policy in this tier.
    for (const [epId, pids] of this.localPolicies) {
      for (const pid of pids) {
        if (this.policies.get(pid)?.model.tier === name) {
          this.dirtyEndpoints.add(epId);
          break;
        }
      }
    }
  }

  private tierOf = (name: string): TierModel => this.tiers.get(name) ?? implicitTier(name);

  // ---- output ----

  /** Everything that changed since the last flush, as one ordered batch. */
  flush(): CalcUpdate[] {
    const sets = this.ipSets.flush();
    const head: CalcUpdate[] = [];
    const tail: CalcUpdate[] = [];
    for (const ipSet of sets.upserted) head.push({ type: 'ipSetUpserted', ipSet });
    for (const d of sets.deltas) head.push({ type: 'ipSetDelta', ...d });

    const policyRemovals: CalcUpdate[] = [];
    for (const id of [...this.dirtyPolicies].sort()) {
      const entry = this.policies.get(id);
      const out = entry && entry.matching.size > 0 ? policyState(entry) : undefined;
      const change = diffEmitted(this.emitted.policies, id, out);
      if (change === 'upsert') head.push({ type: 'policyUpserted', policy: out! });
      if (change === 'remove') policyRemovals.push({ type: 'policyRemoved', id });
    }
    for (const id of [...this.dirtyProfiles].sort()) {
      const entry = this.profiles.get(id);
      const out = entry && (this.profileRefs.get(id) ?? 0) > 0 ? profileState(id, entry.rules) : undefined;
      const change = diffEmitted(this.emitted.profiles, id, out);
      if (change === 'upsert') head.push({ type: 'profileUpserted', profile: out! });
      if (change === 'remove') policyRemovals.push({ type: 'profileRemoved', id });
    }
    for (const name of [...this.dirtyPools].sort()) {
      const pool = this.pools.get(name);
      if (pool) {
        const json = JSON.stringify(pool);
        if (this.emitted.pools.get(name) !== json) head.push({ type: 'ipPoolUpserted', pool: { ...pool } });
        this.emitted.pools.set(name, json);
      } else if (this.emitted.pools.delete(name)) {
        tail.push({ type: 'ipPoolRemoved', name });
      }
    }
    const endpointRemovals: CalcUpdate[] = [];
    for (const id of [...this.dirtyEndpoints].sort()) {
      const item = this.items.get(id);
      let out: EndpointOutput | undefined;
      if (item?.model.local) {
        this.stats.endpointRecomputations++;
        const pids = [...(this.localPolicies.get(id) ?? [])].map((pid) => this.policies.get(pid)!.model);
        out = endpointState(item.model.local, pids, this.tierOf);
      }
      const prev = this.emitted.endpoints.get(id);
      const change = diffEmitted(this.emitted.endpoints, id, out);
      if (change === 'upsert') {
        head.push(out!.kind === 'workload' ? { type: 'workloadEndpointUpserted', endpoint: out!.state } : { type: 'hostEndpointUpserted', endpoint: out!.state });
      }
      if (change === 'remove') endpointRemovals.push(removalOf(prev!.out));
    }
    const setRemovals: CalcUpdate[] = sets.removed.map((id) => ({ type: 'ipSetRemoved', id }));
    const batch = [...head, ...endpointRemovals, ...policyRemovals, ...setRemovals, ...tail];
    if (this.inSyncPending) {
      this.inSyncPending = false;
      this.inSync = true;
      batch.push({ type: 'inSync' });
    }
    this.dirtyEndpoints.clear();
    this.dirtyPolicies.clear();
    this.dirtyProfiles.clear();
    this.dirtyPools.clear();
    return batch;
  }

  /** The state as of the last flush (what a consumer applying every batch holds). */
  snapshot(): DesiredPolicyState {
    const s = emptyDesiredState();
    for (const ipSet of this.ipSets.snapshot()) s.ipSets.set(ipSet.id, ipSet);
    for (const [id, e] of this.emitted.policies) s.policies.set(id, e.out);
    for (const [id, e] of this.emitted.profiles) s.profiles.set(id, e.out);
    for (const { out } of this.emitted.endpoints.values()) {
      if (out.kind === 'workload') s.workloadEndpoints.set(out.id, out.state);
      else s.hostEndpoints.set(out.id, out.state);
    }
    for (const json of this.emitted.pools.values()) {
      const pool = JSON.parse(json) as PoolModel;
      s.ipPools.set(pool.name, pool);
    }
    s.inSync = this.inSync;
    return s;
  }

  /** Sizes, for metrics and logs. */
  counts(): { endpoints: number; localEndpoints: number; policies: number; activePolicies: number; ipSets: number } {
    let active = 0;
    for (const p of this.policies.values()) if (p.matching.size > 0) active++;
    return {
      endpoints: this.items.size,
      localEndpoints: this.localPolicies.size,
      policies: this.policies.size,
      activePolicies: active,
      ipSets: this.ipSets.activeCount,
    };
  }
}

const defaultCompiler: SelectorCompiler = (text) => {
  const sel = parseSelector(text);
  return { ast: sel.ast, evaluate: (labels) => sel.evaluate(labels), canonical: sel.toString() };
};

function sameSelection(a: Item, b: Item): boolean {
  if (a.isEndpoint !== b.isEndpoint || a.namespace !== b.namespace) return false;
  const ka = Object.keys(a.labels);
  if (ka.length !== Object.keys(b.labels).length) return false;
  for (const k of ka) if (a.labels[k] !== b.labels[k]) return false;
  return true;
}

function sameAddresses(a: Item, b: Item): boolean {
  return JSON.stringify([a.nets, a.addresses, a.ports]) === JSON.stringify([b.nets, b.addresses, b.ports]);
}

function diffEmitted<T>(map: Map<string, { json: string; out: T }>, id: string, out: T | undefined): 'upsert' | 'remove' | 'none' {
  if (out === undefined) return map.delete(id) ? 'remove' : 'none';
  const json = JSON.stringify(out);
  if (map.get(id)?.json === json) return 'none';
  map.set(id, { json, out });
  return 'upsert';
}

function removalOf(out: EndpointOutput): CalcUpdate {
  return out.kind === 'workload' ? { type: 'workloadEndpointRemoved', id: out.id } : { type: 'hostEndpointRemoved', id: out.id };
}

function policyState(entry: PolicyEntry): PolicyState {
  const m = entry.model;
  return {
    id: m.id,
    tier: m.tier,
    inboundRules: entry.rules.inbound,
    outboundRules: entry.rules.outbound,
    doNotTrack: m.doNotTrack,
    preDnat: m.preDnat,
    applyOnForward: m.applyOnForward,
  };
}

function profileState(id: string, rules: NormalizedRules): ProfileState {
  return { id, inboundRules: rules.inbound, outboundRules: rules.outbound };
}
