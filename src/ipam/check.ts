// `calicoctl ipam check` as a pure function: a snapshot of IPAM plus who exists
// (nodes, workloads) in, a report out. The same report drives garbage collection.
import { checkBlockInvariants, listAllocations } from './block.js';
import { hostOfAffinity } from './model.js';
import type { IpamSnapshot } from './ipam-client.js';
import { poolContainingBlock, reservedMatcher } from './pools.js';

/** Who exists right now, as seen by the resource datastore (Nodes, WorkloadEndpoints). */
export interface OwnerIndex {
  nodes: Set<string>;
  /** `${namespace}/${workload}` of every WorkloadEndpoint (namespace empty for none). */
  workloads: Set<string>;
}

/** What the leak check reads about owners (the datastore in production, fakes in tests). */
export interface OwnerSource {
  owners(): Promise<OwnerIndex>;
}

export const workloadKey = (namespace: string | undefined, workload: string): string => `${namespace ?? ''}/${workload}`;

export type LeakReason = 'node-gone' | 'workload-gone';

export interface LeakedAddress {
  ip: string;
  block: string;
  handleId: string | null;
  sequenceNumber: number;
  attrs: Record<string, string>;
  reason: LeakReason;
}

export interface IpamCheckReport {
  summary: {
    pools: number;
    blocks: number;
    affinities: number;
    handles: number;
    allocated: number;
    leaked: number;
    problems: number;
  };
  /** Broken invariants: should never happen; each names the object and what is wrong. */
  inconsistencies: string[];
  leakedAddresses: LeakedAddress[];
  /** Blocks no host holds (affinity cleared, or its affinity key is missing). */
  blocksWithoutAffinity: { cidr: string; allocated: number; claimedBy?: string }[];
  /** Affinities that are not a settled claim of an existing block. */
  danglingAffinities: { host: string; cidr: string; state: string; why: 'no-block' | 'block-owned-by-other' | 'unsettled' }[];
  /** Handle counts that differ from the blocks. recorded > actual is left by a crash (benign). */
  handleMismatches: { handleId: string; block: string; recorded: number; actual: number }[];
  borrowed: { ip: string; node: string; blockHost: string | null }[];
  reservedInUse: string[];
  /** Blocks outside every pool (the pool was deleted). */
  blocksOutsidePools: string[];
  /** Affine blocks with no addresses: candidates for release after a grace period. */
  emptyAffineBlocks: { host: string; cidr: string }[];
}

export function isClean(report: IpamCheckReport): boolean {
  return (
    report.inconsistencies.length === 0 &&
    report.leakedAddresses.length === 0 &&
    report.blocksWithoutAffinity.length === 0 &&
    report.danglingAffinities.length === 0 &&
    report.handleMismatches.length === 0 &&
    report.reservedInUse.length === 0
  );
}

export function checkIpam(snapshot: IpamSnapshot, owners?: OwnerIndex): IpamCheckReport {
  const inconsistencies: string[] = [];
  const leaked: LeakedAddress[] = [];
  const borrowed: IpamCheckReport['borrowed'] = [];
  const reservedInUse: string[] = [];
  const isReserved = reservedMatcher(snapshot.reservedCidrs);
  const actualCounts = new Map<string, Map<string, number>>(); // handle -> block -> n
  const seenIps = new Map<string, string>();
  const affinityOf = new Map(snapshot.affinities.map((a) => [`${a.host}|${a.cidr}`, a]));
  let allocated = 0;
  const blocksWithoutAffinity: IpamCheckReport['blocksWithoutAffinity'] = [];
  const emptyAffineBlocks: IpamCheckReport['emptyAffineBlocks'] = [];
  const blocksOutsidePools: string[] = [];

  for (const { value: block } of snapshot.blocks) {
    for (const p of checkBlockInvariants(block)) inconsistencies.push(`block ${block.cidr}: ${p}`);
    if (!poolContainingBlock(snapshot.pools, block.cidr)) blocksOutsidePools.push(block.cidr);
    const host = hostOfAffinity(block.affinity);
    const allocs = listAllocations(block);
    allocated += allocs.length;
    if (host === undefined || !affinityOf.has(`${host}|${block.cidr}`)) {
      blocksWithoutAffinity.push({ cidr: block.cidr, allocated: allocs.length, ...(host ? { claimedBy: host } : {}) });
    } else if (allocs.length === 0 && affinityOf.get(`${host}|${block.cidr}`)!.value.state === 'confirmed') {
      emptyAffineBlocks.push({ host, cidr: block.cidr });
    }
    for (const a of allocs) {
      const prev = seenIps.get(a.ip);
      if (prev) inconsistencies.push(`address ${a.ip} allocated in both ${prev} and ${block.cidr}`);
      seenIps.set(a.ip, block.cidr);
      if (isReserved(a.ip)) reservedInUse.push(a.ip);
      if (a.handleId === null) inconsistencies.push(`address ${a.ip} in ${block.cidr} has no handle`);
      else {
        const perBlock = actualCounts.get(a.handleId) ?? new Map<string, number>();
        perBlock.set(block.cidr, (perBlock.get(block.cidr) ?? 0) + 1);
        actualCounts.set(a.handleId, perBlock);
      }
      const node = a.attrs['node'];
      if (node !== undefined && node !== host) borrowed.push({ ip: a.ip, node, blockHost: host ?? null });
      if (owners) {
        const workload = a.attrs['workload'] ?? a.attrs['pod'];
        if (node !== undefined && !owners.nodes.has(node)) {
          leaked.push({ ip: a.ip, block: block.cidr, handleId: a.handleId, sequenceNumber: a.sequenceNumber, attrs: a.attrs, reason: 'node-gone' });
        } else if (workload !== undefined && !owners.workloads.has(workloadKey(a.attrs['namespace'], workload))) {
          leaked.push({ ip: a.ip, block: block.cidr, handleId: a.handleId, sequenceNumber: a.sequenceNumber, attrs: a.attrs, reason: 'workload-gone' });
        }
      }
    }
  }

  const blockByCidr = new Map(snapshot.blocks.map((b) => [b.value.cidr, b.value]));
  const danglingAffinities: IpamCheckReport['danglingAffinities'] = [];
  for (const a of snapshot.affinities) {
    const block = blockByCidr.get(a.cidr);
    if (!block) danglingAffinities.push({ host: a.host, cidr: a.cidr, state: a.value.state, why: 'no-block' });
    else if (block.affinity !== `host:${a.host}`) danglingAffinities.push({ host: a.host, cidr: a.cidr, state: a.value.state, why: 'block-owned-by-other' });
    else if (a.value.state !== 'confirmed') danglingAffinities.push({ host: a.host, cidr: a.cidr, state: a.value.state, why: 'unsettled' });
  }

  const handleMismatches: IpamCheckReport['handleMismatches'] = [];
  const handleIds = new Set(snapshot.handles.map((h) => h.value.handleID));
  for (const { value: h } of snapshot.handles) {
    const actual = actualCounts.get(h.handleID) ?? new Map<string, number>();
    const cidrs = new Set([...Object.keys(h.block), ...actual.keys()]);
    for (const cidr of cidrs) {
      const recorded = h.block[cidr] ?? 0;
      const n = actual.get(cidr) ?? 0;
      if (recorded !== n) handleMismatches.push({ handleId: h.handleID, block: cidr, recorded, actual: n });
    }
  }
  for (const [handleId, perBlock] of actualCounts) {
    if (!handleIds.has(handleId)) inconsistencies.push(`handle ${handleId} owns ${[...perBlock.values()].reduce((x, y) => x + y, 0)} address(es) but has no handle record`);
  }
  for (const m of handleMismatches) {
    if (m.recorded < m.actual) inconsistencies.push(`handle ${m.handleId} records ${m.recorded} address(es) in ${m.block}, the block holds ${m.actual}`);
  }

  const report: IpamCheckReport = {
    summary: {
      pools: snapshot.pools.length,
      blocks: snapshot.blocks.length,
      affinities: snapshot.affinities.length,
      handles: snapshot.handles.length,
      allocated,
      leaked: leaked.length,
      problems: 0,
    },
    inconsistencies,
    leakedAddresses: leaked,
    blocksWithoutAffinity,
    danglingAffinities,
    handleMismatches,
    borrowed,
    reservedInUse,
    blocksOutsidePools,
    emptyAffineBlocks,
  };
  report.summary.problems =
    inconsistencies.length + leaked.length + blocksWithoutAffinity.length + danglingAffinities.length + handleMismatches.length + reservedInUse.length;
  return report;
}

/** Human report, one finding per line (what `calicoctl ipam check` prints). */
export function formatCheckReport(report: IpamCheckReport): string {
  const s = report.summary;
  const lines = [
    `Checking IPAM: ${s.pools} pool(s), ${s.blocks} block(s), ${s.affinities} affinity(ies), ${s.handles} handle(s), ${s.allocated} address(es) in use.`,
  ];
  for (const i of report.inconsistencies) lines.push(`  INCONSISTENT  ${i}`);
  for (const l of report.leakedAddresses) {
    const who = [l.attrs['namespace'], l.attrs['workload'] ?? l.attrs['pod']].filter(Boolean).join('/');
    lines.push(`  LEAKED        ${l.ip} (handle ${l.handleId ?? '-'}, node ${l.attrs['node'] ?? '-'}${who ? `, workload ${who}` : ''}): ${l.reason === 'node-gone' ? 'node no longer exists' : 'workload endpoint no longer exists'}`);
  }
  for (const b of report.blocksWithoutAffinity) lines.push(`  NO-AFFINITY   block ${b.cidr} (${b.allocated} address(es) in use) is held by no host`);
  for (const a of report.danglingAffinities) lines.push(`  AFFINITY      ${a.host} ${a.cidr} (${a.state}): ${a.why === 'no-block' ? 'block does not exist' : a.why === 'block-owned-by-other' ? 'block belongs to another host' : 'claim or release not finished'}`);
  for (const m of report.handleMismatches) lines.push(`  HANDLE        ${m.handleId} in ${m.block}: records ${m.recorded}, block holds ${m.actual}`);
  for (const r of report.reservedInUse) lines.push(`  RESERVED      ${r} is reserved by an IPReservation but allocated`);
  lines.push(s.problems === 0 ? 'IPAM is consistent: no problems found.' : `Found ${s.problems} problem(s); 'calicoctl ipam release --from-report=<file>' releases the leaked addresses.`);
  return lines.join('\n') + '\n';
}
