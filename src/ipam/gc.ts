// IPAM garbage collection. planGc is pure: it remembers when each leak and each empty
// affine block was first seen and releases only what was seen on two rounds at least
// `gracePeriodMs` apart. The collector then re-validates each candidate against a fresh
// owner lookup and releases it with its handle AND sequence number, so an address that
// was re-allocated in between (new sequence number) is never taken from its new owner.
import { releaseBlockAffinity, settleHostAffinities } from './affinity-flows.js';
import { checkIpam, workloadKey, type IpamCheckReport, type LeakedAddress, type OwnerSource } from './check.js';
import { isIpamError } from './errors.js';
import type { IpamClient } from './ipam-client.js';

interface Sighting {
  firstSeen: number;
  seen: number;
}

export interface GcState {
  leaks: Record<string, Sighting>;
  emptyBlocks: Record<string, Sighting>;
  handleMismatches: Record<string, Sighting>;
}

export const emptyGcState = (): GcState => ({ leaks: {}, emptyBlocks: {}, handleMismatches: {} });

const leakId = (l: LeakedAddress): string => `${l.ip}|${l.handleId ?? ''}|${l.sequenceNumber}`;
const blockId = (b: { host: string; cidr: string }): string => `${b.host}|${b.cidr}`;

export interface GcPlan {
  state: GcState;
  releaseLeaks: LeakedAddress[];
  releaseEmptyBlocks: { host: string; cidr: string }[];
  /** Handle over-counts (left by a crash between block and handle writes) to correct. */
  fixHandles: IpamCheckReport['handleMismatches'];
}

function track<T>(items: T[], opts: { id: (t: T) => string; prev: Record<string, Sighting>; now: number; graceMs: number }): { next: Record<string, Sighting>; due: T[] } {
  const { id, prev, now, graceMs } = opts;
  const next: Record<string, Sighting> = {};
  const due: T[] = [];
  for (const item of items) {
    const key = id(item);
    const before = prev[key];
    // Anything not seen this round is forgotten: a leak that disappears and comes back starts over.
    const s = before ? { firstSeen: before.firstSeen, seen: before.seen + 1 } : { firstSeen: now, seen: 1 };
    next[key] = s;
    if (s.seen >= 2 && now - s.firstSeen >= graceMs) due.push(item);
  }
  return { next, due };
}

export function planGc(report: IpamCheckReport, state: GcState, opts: { now: number; gracePeriodMs: number }): GcPlan {
  const leaks = track(report.leakedAddresses, { id: leakId, prev: state.leaks, now: opts.now, graceMs: opts.gracePeriodMs });
  const blocks = track(report.emptyAffineBlocks, { id: blockId, prev: state.emptyBlocks, now: opts.now, graceMs: opts.gracePeriodMs });
  // Only over-counts are fixed: an allocation in flight increments the handle before the
  // block, so a fresh over-count is normal; one that lasts a whole grace period is a crash's.
  const overCounts = report.handleMismatches.filter((m) => m.recorded > m.actual);
  const handles = track(overCounts, {
    id: (m) => `${m.handleId}|${m.block}|${m.recorded}|${m.actual}`,
    prev: state.handleMismatches,
    now: opts.now,
    graceMs: opts.gracePeriodMs,
  });
  return {
    state: { leaks: leaks.next, emptyBlocks: blocks.next, handleMismatches: handles.next },
    releaseLeaks: leaks.due,
    releaseEmptyBlocks: blocks.due,
    fixHandles: handles.due,
  };
}

export interface GcRoundResult {
  report: IpamCheckReport;
  releasedIps: string[];
  releasedBlocks: string[];
  /** Candidates that were due but turned out to be owned again on re-validation. */
  skipped: string[];
  fixedHandles: string[];
}

/** Runs GC rounds against the store; the caller schedules rounds (time is passed in). */
export class IpamGarbageCollector {
  private state: GcState = emptyGcState();
  private readonly client: IpamClient;
  private readonly owners: OwnerSource;
  private readonly gracePeriodMs: number;

  constructor(client: IpamClient, opts: { owners: OwnerSource; gracePeriodMs: number }) {
    this.client = client;
    this.owners = opts.owners;
    this.gracePeriodMs = opts.gracePeriodMs;
  }

  async runRound(now: number): Promise<GcRoundResult> {
    const report = checkIpam(await this.client.snapshot(), await this.owners.owners());
    const plan = planGc(report, this.state, { now, gracePeriodMs: this.gracePeriodMs });
    this.state = plan.state;
    const result: GcRoundResult = { report, releasedIps: [], releasedBlocks: [], skipped: [], fixedHandles: [] };
    if (plan.releaseLeaks.length > 0) {
      const fresh = await this.owners.owners(); // re-validate just before releasing
      for (const leak of plan.releaseLeaks) {
        const node = leak.attrs['node'];
        const workload = leak.attrs['workload'] ?? leak.attrs['pod'];
        const stillLeaked =
          leak.reason === 'node-gone' ? node !== undefined && !fresh.nodes.has(node) : workload !== undefined && !fresh.workloads.has(workloadKey(leak.attrs['namespace'], workload));
        if (!stillLeaked) {
          result.skipped.push(leak.ip);
          continue;
        }
        try {
          await this.client.releaseIps([{ ip: leak.ip, ...(leak.handleId ? { handleId: leak.handleId } : {}), sequenceNumber: leak.sequenceNumber }]);
          result.releasedIps.push(leak.ip);
        } catch (err) {
          // Re-allocated or already freed meanwhile: exactly what the sequence number is for.
          if (!isIpamError(err)) throw err;
          result.skipped.push(leak.ip);
        }
      }
    }
    for (const b of plan.releaseEmptyBlocks) {
      const ok = await releaseBlockAffinity(this.client.store, { host: b.host, cidr: b.cidr, requireEmpty: true });
      (ok ? result.releasedBlocks : result.skipped).push(b.cidr);
    }
    for (const m of plan.fixHandles) {
      await this.client.store.adjustHandle(m.handleId, { block: m.block, delta: m.actual - m.recorded });
      result.fixedHandles.push(m.handleId);
    }
    // Finish claims/releases left half done by crashed allocators, for every host.
    const byHost = new Map<string, typeof report.danglingAffinities>();
    for (const d of report.danglingAffinities) byHost.set(d.host, [...(byHost.get(d.host) ?? []), d]);
    for (const host of byHost.keys()) {
      const affinities = await this.client.store.listAffinities(host);
      await settleHostAffinities(this.client.store, { host, now: new Date(now).toISOString(), strictAffinity: false, affinities, pruneDangling: true });
    }
    return result;
  }
}
