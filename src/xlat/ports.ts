// The kernel side of the translator, as the manager needs it. Real: linux.ts
// (bpftool + tc through Exec); fake: fake.ts (records an operation log).
import type { MapContents, MapDiff } from './maps.js';

export type Hook = 'ingress' | 'egress';
/** Which program goes on which hook of a space endpoint's interface. */
export const PROGRAM_OF: Record<Hook, 'xlat_from_wl' | 'xlat_to_wl'> = { ingress: 'xlat_from_wl', egress: 'xlat_to_wl' };

export interface Attachment {
  interfaceName: string;
  hook: Hook;
  /** Kernel program id of the attached filter. */
  programId: number;
}

export interface XlatKernel {
  /**
   * Makes sure the maps are pinned and a program set matching the object is
   * loaded and pinned (reusing pinned maps); returns the program ids by hook.
   * `fresh` loads a new copy even when one for this object exists (reload).
   */
  load(opts?: { fresh?: boolean }): Promise<Record<Hook, number>>;
  /** Interface name -> ifindex; undefined when it does not exist (yet). */
  ifindex(interfaceName: string): Promise<number | undefined>;
  /** Our filters (pref 1, named xlat_*) on the given interfaces (all cali* when omitted). */
  attachments(interfaceNames?: string[]): Promise<Attachment[]>;
  /** Puts (or atomically replaces) the program of `hook` on the interface. */
  attach(interfaceName: string, hook: Hook): Promise<void>;
  detach(interfaceName: string, hook: Hook): Promise<void>;
  readMaps(): Promise<MapContents>;
  writeMaps(diffs: MapDiff[]): Promise<void>;
  /** Unpins program copies other than the current one (their filters are gone). */
  sweep(): Promise<unknown>;
  /** Per-CPU counters summed, in STAT_NAMES order. */
  stats(): Promise<number[]>;
}
