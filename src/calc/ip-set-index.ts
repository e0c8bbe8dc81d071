// Refcounted IP sets with incrementally maintained members. A set exists only
// while some emitted policy or profile references it (ref/unref); while it
// exists, every item change is checked only against the sets its labels could
// match (HintIndex), and members are counted so that two items contributing
// the same CIDR keep it in the set until both are gone.
import { HintIndex, LabelIndex } from './label-index.js';
import type { Hints } from './match-spec.js';
import { matches } from './match-spec.js';
import type { MatchSpec, MatchTarget } from './match-spec.js';
import { toCidr } from './model.js';
import type { NamedPort } from './model.js';
import { memberKey, sortedMembers } from './output.js';
import type { IpSetId, IpSetKind, IpSetState, SetMember } from './output.js';

/** A labelled item as the set index sees it. */
export interface SetItem extends MatchTarget {
  id: string;
  nets: string[];
  addresses: string[];
  ports: NamedPort[];
}

/** What a rule needs: a set of items' CIDRs, or of their (address, protocol, port) for one named port. */
export interface IpSetDefinition {
  id: IpSetId;
  kind: IpSetKind;
  description: string;
  spec: MatchSpec;
  /** protocol 'any': the rule gave no protocol, so each endpoint port of that name counts with its own protocol (Felix's ProtocolAny). */
  namedPort?: { protocol: number | 'any'; name: string };
}

interface ActiveSet {
  def: IpSetDefinition;
  /** The hint this set is indexed under: the most selective at creation time. */
  hints: Hints;
  refs: number;
  matching: Set<string>;
  /** By memberKey: the member and how many matching items contribute it. */
  counts: Map<string, { member: SetMember; n: number }>;
  /** Net change since the last flush (only meaningful once emitted), by memberKey. */
  added: Map<string, SetMember>;
  removed: Map<string, SetMember>;
  emitted: boolean;
  /** Released and re-referenced before a flush: the dataplane still holds an older version. */
  replacing: boolean;
}

/** Work counters, for tests that assert an update touched only what it had to. */
export interface IpSetCounters {
  selectorEvaluations: number;
  itemsScanned: number;
}

export interface IpSetFlush {
  upserted: IpSetState[];
  deltas: Array<{ id: IpSetId; added: SetMember[]; removed: SetMember[] }>;
  removed: IpSetId[];
}

export class IpSetIndex {
  private readonly sets = new Map<IpSetId, ActiveSet>();
  private readonly hints = new HintIndex<IpSetId>();
  /** item id -> ids of active sets it currently matches. */
  private readonly memberships = new Map<string, Set<IpSetId>>();
  private readonly dirty = new Set<IpSetId>();
  /** Sets emitted and since released; removed at flush unless re-referenced. */
  private readonly released = new Set<IpSetId>();

  constructor(
    private readonly items: { get(id: string): SetItem | undefined; labels: LabelIndex },
    private readonly counters: IpSetCounters,
  ) {}

  ref(def: IpSetDefinition): void {
    const existing = this.sets.get(def.id);
    if (existing) {
      existing.refs++;
      return;
    }
    const hints = this.mostSelective(def.spec.hintOptions);
    const set: ActiveSet = { def, hints, refs: 1, matching: new Set(), counts: new Map(), added: new Map(), removed: new Map(), emitted: false, replacing: false };
    this.sets.set(def.id, set);
    this.hints.add(def.id, hints);
    for (const itemId of this.items.labels.candidates(hints)) {
      this.counters.itemsScanned++;
      const item = this.items.get(itemId);
      if (!item) continue;
      this.counters.selectorEvaluations++;
      if (matches(def.spec, item)) this.join(set, item);
    }
    if (this.released.delete(def.id)) {
      // Released and re-referenced within one flush: the dataplane still has the old
      // members, so emit a full replacement rather than a delta.
      set.replacing = true;
    }
    this.dirty.add(def.id);
  }

  unref(id: IpSetId): void {
    const set = this.sets.get(id);
    if (!set) throw new Error(`calc: unref of unknown IP set ${id}`);
    if (--set.refs > 0) return;
    for (const itemId of set.matching) this.memberships.get(itemId)?.delete(id);
    this.hints.remove(id, set.hints);
    this.sets.delete(id);
    this.dirty.delete(id);
    if (set.emitted || set.replacing) this.released.add(id);
  }

  private mostSelective(options: Hints[]): Hints {
    let chosen: Hints = null;
    let cost = Number.POSITIVE_INFINITY;
    for (const h of options) {
      const c = this.items.labels.count(h);
      if (c < cost) {
        cost = c;
        chosen = h;
      }
    }
    return chosen;
  }

  has(id: IpSetId): boolean {
    return this.sets.has(id);
  }

  /** Re-evaluates one item against the sets it could be in, before or after. */
  itemChanged(before: SetItem | undefined, after: SetItem | undefined): void {
    const id = (before ?? after)!.id;
    const candidates = new Set<IpSetId>(this.memberships.get(id) ?? []);
    if (after) this.hints.collect(after.labels, candidates);
    for (const setId of candidates) {
      const set = this.sets.get(setId)!;
      const was = set.matching.has(id);
      let now = false;
      if (after) {
        this.counters.selectorEvaluations++;
        now = matches(set.def.spec, after);
      }
      if (was) this.leave(set, before!);
      if (now) this.join(set, after!);
    }
  }

  /** Items whose labels did not change but whose addresses/ports did: no selector work. */
  itemAddressesChanged(before: SetItem, after: SetItem): void {
    // Copy: leave/join re-insert into the live membership set, which would never end.
    for (const setId of [...(this.memberships.get(before.id) ?? [])]) {
      const set = this.sets.get(setId)!;
      this.leave(set, before);
      this.join(set, after);
    }
  }

  private join(set: ActiveSet, item: SetItem): void {
    set.matching.add(item.id);
    let m = this.memberships.get(item.id);
    if (!m) this.memberships.set(item.id, (m = new Set()));
    m.add(set.def.id);
    for (const member of membersOf(set.def, item)) {
      const key = memberKey(member);
      const counted = set.counts.get(key);
      if (counted) counted.n++;
      else {
        set.counts.set(key, { member, n: 1 });
        this.noteAdded(set, key, member);
      }
    }
  }

  private leave(set: ActiveSet, item: SetItem): void {
    set.matching.delete(item.id);
    const m = this.memberships.get(item.id);
    m?.delete(set.def.id);
    if (m?.size === 0) this.memberships.delete(item.id);
    for (const member of membersOf(set.def, item)) {
      const key = memberKey(member);
      const counted = set.counts.get(key);
      if (!counted || counted.n <= 1) {
        set.counts.delete(key);
        this.noteRemoved(set, key, member);
      } else {
        counted.n--;
      }
    }
  }

  private noteAdded(set: ActiveSet, key: string, member: SetMember): void {
    if (!set.emitted) return;
    if (!set.removed.delete(key)) set.added.set(key, member);
    this.dirty.add(set.def.id);
  }

  private noteRemoved(set: ActiveSet, key: string, member: SetMember): void {
    if (!set.emitted) return;
    if (!set.added.delete(key)) set.removed.set(key, member);
    this.dirty.add(set.def.id);
  }

  /** Changes since the last flush, in a deterministic order. */
  flush(): IpSetFlush {
    const out: IpSetFlush = { upserted: [], deltas: [], removed: [...this.released].sort() };
    this.released.clear();
    for (const id of [...this.dirty].sort()) {
      const set = this.sets.get(id);
      if (!set) continue;
      if (!set.emitted) {
        set.emitted = true;
        set.replacing = false;
        out.upserted.push(this.stateOf(set));
      } else if (set.added.size || set.removed.size) {
        out.deltas.push({ id, added: sortedMembers(set.added.values()), removed: sortedMembers(set.removed.values()) });
      }
      set.added.clear();
      set.removed.clear();
    }
    this.dirty.clear();
    return out;
  }

  /** Every emitted set with its current members (for snapshots). */
  snapshot(): IpSetState[] {
    return [...this.sets.values()].filter((s) => s.emitted).map((s) => this.stateOf(s));
  }

  get activeCount(): number {
    return this.sets.size;
  }

  private stateOf(set: ActiveSet): IpSetState {
    const { id, kind, description } = set.def;
    return { id, kind, description, members: sortedMembers([...set.counts.values()].map((c) => c.member)) };
  }
}

function membersOf(def: IpSetDefinition, item: SetItem): SetMember[] {
  if (!def.namedPort) return item.nets.map((net) => ({ net }));
  const { protocol, name } = def.namedPort;
  const out: SetMember[] = [];
  for (const p of item.ports) {
    if (p.name !== name || (protocol !== 'any' && p.protocol !== protocol)) continue;
    for (const a of item.addresses) out.push({ net: toCidr(a), protocol: p.protocol, port: p.port });
  }
  return out;
}
