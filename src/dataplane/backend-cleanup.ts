// Removing the objects of the policy backend we are NOT running (nftables vs
// iptables+ipset). After a backend switch (FelixConfiguration nftablesMode,
// dataplaneDriver), live or across a restart, the old backend's rules would
// otherwise keep filtering every packet next to the new ones, with whatever
// policy they had when the switch happened. The apply loop calls removeAll()
// only after the new backend's policy is fully in place, so there is never a
// moment without policy (BackendRetirement). Only our objects are touched
// (src/rules/names.ts).

import { NFT_FAMILY, NFT_TABLE } from '../rules/names.js';
import { renderIpsetRemoval, renderIptablesRemoval } from '../render/iptables/removal.js';
import { objectRef, type FailureKind, type FailureTracker, type LogFn } from './failure-tracker.js';
import type { BackendName } from './policy-backend.js';
import type { Ipset, IptablesRestore, Nft } from './ports.js';

export interface BackendCleanup {
  /** The backend whose objects this removes. */
  readonly name: BackendName;
  /** Removes every object of ours of that backend; returns what it removed (empty: there was nothing). */
  removeAll(): Promise<string[]>;
}

export class NftCleanup implements BackendCleanup {
  readonly name = 'nftables';
  constructor(private readonly nft: Nft) {}
  async removeAll(): Promise<string[]> {
    if (!(await this.nft.listTable())) return [];
    // The whole table is ours: one statement removes chains, sets and maps atomically.
    await this.nft.apply(`delete table ${NFT_FAMILY} ${NFT_TABLE}\n`);
    return [`nft table ${NFT_FAMILY} ${NFT_TABLE}`];
  }
}

export class IptablesCleanup implements BackendCleanup {
  readonly name = 'iptables';
  constructor(private readonly ports: { iptables: IptablesRestore; ipset: Ipset }) {}
  async removeAll(): Promise<string[]> {
    const removed: string[] = [];
    for (const family of [4, 6] as const) {
      const script = renderIptablesRemoval(await this.ports.iptables.save(family));
      if (!script) continue;
      await this.ports.iptables.restore(family, script);
      const chains = script.split('\n').filter((l) => l.startsWith('-X ')).length;
      const hooks = script.split('\n').filter((l) => l.startsWith('-D ')).length;
      removed.push(`ip${family === 6 ? '6' : ''}tables: ${chains} chains, ${hooks} hook rules`);
    }
    // Sets last: a set referenced by a rule cannot be destroyed.
    const sets = renderIpsetRemoval(await this.ports.ipset.save());
    if (sets) {
      await this.ports.ipset.restore(sets);
      removed.push(`ipset: ${sets.trim().split('\n').length} sets`);
    }
    return removed;
  }
}

/** The cleanup for the backend other than `running`. */
export function otherBackendCleanup(running: BackendName, ports: { nft: Nft; iptables: IptablesRestore; ipset: Ipset }): BackendCleanup {
  return running === 'nftables' ? new IptablesCleanup(ports) : new NftCleanup(ports.nft);
}

export interface BackendRetirementOptions {
  /** Absent: there is nothing to retire. */
  cleanup: BackendCleanup | undefined;
  /** The backend this agent runs (named in the log line). */
  running: BackendName;
  failures: Pick<FailureTracker, 'inBackoff' | 'recordFailure' | 'clear'>;
  /** Failed removals after which the loop gives up (the loop's maxPolicyAttempts). */
  maxAttempts: number;
  /** The apply loop's metrics object. */
  metrics: { retiredObjects: number; failures: Record<FailureKind, number> };
  log: LogFn;
}

const CLEANUP = objectRef('cleanup');

/** Runs the cleanup once per apply loop, after a round that left this backend's policy fully in place. */
export class BackendRetirement {
  private attempts = 0;
  private retired = false;

  constructor(private readonly opts: BackendRetirementOptions) {}

  /** policyInPlace: the kernel was read back and no policy object is failing. */
  async retireIfDue(policyInPlace: boolean): Promise<void> {
    const { cleanup, failures } = this.opts;
    if (!cleanup || this.retired || !policyInPlace) return;
    if (failures.inBackoff(CLEANUP)) return;
    try {
      const removed = await cleanup.removeAll();
      this.retired = true;
      failures.clear(CLEANUP);
      this.opts.metrics.retiredObjects += removed.length;
      if (removed.length) this.opts.log('info', `removed the ${cleanup.name} backend's objects (this agent runs ${this.opts.running})`, { removed });
    } catch (err) {
      // Not fatal: leftover rules of the old backend filter next to the new ones (a packet must pass both),
      // they do not open anything. Retried a few times, then left for the operator.
      this.attempts++;
      if (this.attempts >= this.opts.maxAttempts) {
        this.retired = true;
        failures.clear(CLEANUP);
        this.opts.metrics.failures.cleanup++;
        this.opts.log('error', `could not remove the ${cleanup.name} backend's objects; giving up (remove them by hand)`, { error: err instanceof Error ? err.message : String(err), attempts: this.attempts });
        return;
      }
      failures.recordFailure(CLEANUP, err);
    }
  }
}
