// Claiming and giving up a block's host affinity: the multi-step CAS sequences.
// Each step is one compare-and-swap; the order is chosen so that a crash after any step
// leaves state a later run recognises and finishes or undoes (docs/design/ipam.md):
//   claim:   affinity pending (create) -> block with affinity (create) -> affinity confirmed
//   release: affinity pendingDeletion -> block deleted if empty (else affinity cleared) -> affinity deleted
import { ConflictError, isCalicoError } from '../base/errors.js';
import { isEmptyBlock, newBlock } from './block.js';
import type { AffinityEntry, IpamStore } from './ipam-store.js';

export type ClaimResult = 'claimed' | 'lost';

/**
 * Claims `cidr` for `host`, or resumes a claim a crashed run left half done.
 * 'lost' when another host owns the block (our pending affinity is then removed).
 */
export async function claimBlock(store: IpamStore, opts: { host: string; cidr: string; now: string; strictAffinity: boolean }): Promise<ClaimResult> {
  const { host, cidr } = opts;
  return store.withRetry(`claim ${cidr} for ${host}`, async () => {
    // Step 1: pending affinity (or resume ours).
    let aff = await store.getAffinity({ host, cidr });
    if (!aff) {
      const rev = await store.createAffinity({ host, cidr }, { state: 'pending', deleted: false });
      aff = { host, cidr, value: { state: 'pending', deleted: false }, rev };
    } else if (aff.value.state === 'pendingDeletion') {
      // A release of ours is half done: let it finish (or revert) first, then retry.
      await finishRelease(store, aff);
      throw new ConflictError(`affinity ${host} ${cidr}`);
    }
    // Step 2: the block itself, carrying the affinity.
    const block = await store.getBlock(cidr);
    const mine = `host:${host}`;
    if (!block) {
      // If someone creates it first this throws already-exists and the retry sees who owns it.
      await store.createBlock(newBlock(cidr, { host, strictAffinity: opts.strictAffinity, claimTime: opts.now }));
    } else if (block.value.affinity === null) {
      // An orphaned block (its host gave it up while addresses were in use): adopt it.
      await store.updateBlock({ ...block.value, affinity: mine, affinityClaimTime: opts.now }, block.rev);
    } else if (block.value.affinity !== mine) {
      await store.deleteAffinity({ host, cidr }, aff.rev).catch((err) => {
        if (!isCalicoError(err, 'not-found')) throw err;
      });
      return 'lost';
    }
    // Step 3: confirm.
    if (aff.value.state !== 'confirmed') await store.updateAffinity({ host, cidr }, { value: { state: 'confirmed', deleted: false }, rev: aff.rev });
    return 'claimed';
  });
}

/**
 * Gives up a host's affinity to one block. With `requireEmpty`, a non-empty block keeps
 * its affinity (the release is reverted) and false is returned; without, the block keeps
 * its addresses and loses its affinity (becomes orphaned, reported by `ipam check`).
 */
export async function releaseBlockAffinity(
  store: IpamStore,
  opts: { host: string; cidr: string; requireEmpty: boolean; onlyIfRev?: number },
): Promise<boolean> {
  return store.withRetry(`release affinity ${opts.host} ${opts.cidr}`, async () => {
    const aff = await store.getAffinity(opts);
    if (!aff) return true;
    let marked = aff;
    if (aff.value.state !== 'pendingDeletion') {
      const rev = await store.updateAffinity(opts, { value: { state: 'pendingDeletion', deleted: false }, rev: aff.rev });
      marked = { ...aff, value: { state: 'pendingDeletion', deleted: false }, rev };
    }
    return finishRelease(store, marked, { requireEmpty: opts.requireEmpty });
  });
}

/** Steps 2 and 3 of a release, also used to repair a release a crashed run left half done. */
export async function finishRelease(store: IpamStore, aff: AffinityEntry, opts: { requireEmpty?: boolean } = {}): Promise<boolean> {
  const { host, cidr } = aff;
  const requireEmpty = opts.requireEmpty ?? true;
  const block = await store.getBlock(cidr);
  if (block && block.value.affinity === `host:${host}`) {
    if (isEmptyBlock(block.value)) {
      await store.deleteBlock(cidr, block.rev);
    } else if (requireEmpty) {
      // Someone allocated meanwhile (the CAS on the block saw to that): keep the block.
      await store.updateAffinity(aff, { value: { state: 'confirmed', deleted: false }, rev: aff.rev });
      return false;
    } else {
      await store.updateBlock({ ...block.value, affinity: null }, block.rev);
    }
  }
  await store.deleteAffinity(aff, aff.rev);
  return true;
}

/**
 * Brings one host's affinities to a settled state after a crash: resumes pending claims
 * (or drops them when another host won), finishes or reverts pending deletions, and
 * drops confirmed affinities whose block is gone or belongs to someone else.
 * Returns the confirmed affinities afterwards.
 */
export async function settleHostAffinities(
  store: IpamStore,
  opts: { host: string; now: string; strictAffinity: boolean; affinities: AffinityEntry[]; pruneDangling?: boolean },
): Promise<AffinityEntry[]> {
  let changed = false;
  for (const aff of opts.affinities) {
    if (opts.pruneDangling && aff.value.state === 'confirmed') {
      // A confirmed affinity whose block is gone or is another host's: drop it (CAS on
      // its revision, so a concurrent re-claim is not undone).
      const block = await store.getBlock(aff.cidr);
      if (!block || block.value.affinity !== `host:${opts.host}`) {
        await store.deleteAffinity(aff, aff.rev).catch((err) => {
          if (!isCalicoError(err, 'conflict') && !isCalicoError(err, 'not-found')) throw err;
        });
        changed = true;
      }
      continue;
    }
    if (aff.value.state === 'pending' && opts.pruneDangling && !(await store.getBlock(aff.cidr))) {
      // GC on behalf of a host that may be gone: drop the half claim rather than create
      // a block for it. A live host mid-claim recovers (its confirm finds no affinity,
      // retries, and re-creates it).
      await store.deleteAffinity(aff, aff.rev).catch((err) => {
        if (!isCalicoError(err, 'conflict') && !isCalicoError(err, 'not-found')) throw err;
      });
      changed = true;
    } else if (aff.value.state === 'pending') {
      await claimBlock(store, { host: opts.host, cidr: aff.cidr, now: opts.now, strictAffinity: opts.strictAffinity });
      changed = true;
    } else if (aff.value.state === 'pendingDeletion') {
      await store.withRetry(`finish release ${aff.cidr}`, async (attempt) => {
        const cur = attempt === 0 ? aff : await store.getAffinity(aff);
        if (cur && cur.value.state === 'pendingDeletion') await finishRelease(store, cur);
      });
      changed = true;
    }
  }
  const current = changed ? await store.listAffinities(opts.host) : opts.affinities;
  return current.filter((a) => a.value.state === 'confirmed');
}
