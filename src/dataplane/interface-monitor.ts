// Watches the host's interfaces so the apply loop can put back what the kernel
// dropped. When an interface is deleted the kernel deletes the routes and
// neighbour entries on it, and a new interface with the same name (an endpoint
// removed and re-added quickly, a runtime re-creating its veth) starts with
// default sysctls; IPv4 routes also go when a link goes down. The name alone
// does not show any of this: the interface index does (the kernel never gives
// a new interface the index of the one it replaces while either exists).
//
// Like Felix's interface monitor: link notifications (`Links.subscribe`, e.g.
// `ip -o monitor link`) trigger a listing after a short settle delay (a runtime
// creates, renames, sets the MAC and brings a veth up in quick succession), and
// a periodic full rescan (FelixConfiguration interfaceRefreshInterval) catches
// anything a lost notification stream missed. Pure apart from the ports.

import type { LogFn } from './apply-loop.js';
import type { Clock, Link, Links } from './ports.js';

export type InterfaceChangeReason = 'appeared' | 'recreated' | 'up';

export interface InterfaceChange {
  name: string;
  index: number;
  reason: InterfaceChangeReason;
}

export type LinkSnapshot = Map<string, { index: number; up: boolean }>;

/**
 * What changed between two listings, for interfaces that may need their
 * routes, neighbours and sysctls (re)applied: new names, names with a new
 * index, and links that came up (also those a notification showed going down
 * in between: `wentDown`). Deleted names need nothing (the kernel removed
 * what was on them; a later re-creation is reported as `appeared`).
 */
export function diffLinks(before: LinkSnapshot, now: Link[], wentDown: ReadonlySet<string> = new Set()): InterfaceChange[] {
  const out: InterfaceChange[] = [];
  for (const l of now) {
    const was = before.get(l.name);
    if (!was) out.push({ name: l.name, index: l.index, reason: 'appeared' });
    else if (was.index !== l.index) out.push({ name: l.name, index: l.index, reason: 'recreated' });
    else if (l.up && (!was.up || wentDown.has(l.name))) out.push({ name: l.name, index: l.index, reason: 'up' });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function snapshotOf(links: Link[]): LinkSnapshot {
  return new Map(links.map((l) => [l.name, { index: l.index, up: l.up }]));
}

export interface InterfaceMonitorOptions {
  links: Links;
  clock: Clock;
  log?: LogFn;
  /** Full rescan period (interfaceRefreshInterval); 0 = notifications only. */
  rescanIntervalMs: number;
  /** Delay between a notification and the listing it triggers (coalesces bursts). */
  settleMs?: number;
  /** Called with every change found (never with an empty list); the first listing is the baseline and reports nothing. */
  onChanges(changes: InterfaceChange[]): void;
}

type MonitorState = 'created' | 'running' | 'stopped';

export class InterfaceMonitor {
  private stateValue: MonitorState = 'created';
  private known: LinkSnapshot | undefined;
  private subscription: { stop(): void } | undefined;
  private listTimer: unknown;
  private rescanTimer: unknown;
  private resubscribeTimer: unknown;
  private resubscribeDelayMs = 1000;
  private listing: Promise<void> | undefined;
  private listAgain = false;
  /** Names a notification showed down or deleted since the last listing. */
  private wentDown = new Set<string>();
  private readonly settleMs: number;
  private readonly log: LogFn;
  /** For status and metrics. */
  readonly counters = { listings: 0, notifications: 0, changes: 0, subscriptionFailures: 0, listFailures: 0 };

  constructor(private readonly opts: InterfaceMonitorOptions) {
    this.settleMs = opts.settleMs ?? 50;
    this.log = opts.log ?? (() => undefined);
  }

  get state(): MonitorState {
    return this.stateValue;
  }

  start(): void {
    if (this.stateValue !== 'created') throw new Error(`interface monitor: illegal transition ${this.stateValue} -> running`);
    this.stateValue = 'running';
    this.subscribe();
    // Baseline (subscribed first, so nothing between the listing and the first notification is missed).
    this.requestListing(0);
    this.scheduleRescan();
  }

  /** Resolves once no listing is running or pending (tests with a fake clock). */
  async idle(): Promise<void> {
    while (this.listing) await this.listing;
  }

  async stop(): Promise<void> {
    if (this.stateValue === 'stopped') return;
    this.stateValue = 'stopped';
    this.subscription?.stop();
    this.subscription = undefined;
    for (const t of [this.listTimer, this.rescanTimer, this.resubscribeTimer]) if (t !== undefined) this.opts.clock.clearTimer(t);
    this.listTimer = this.rescanTimer = this.resubscribeTimer = undefined;
    await this.idle();
  }

  private subscribe(): void {
    this.subscription = this.opts.links.subscribe({
      onChange: (notice) => {
        if (this.stateValue !== 'running') return;
        this.counters.notifications++;
        // A notification shows the stream works: the next failure starts the backoff over.
        this.resubscribeDelayMs = 1000;
        // A link that goes down (IPv4 routes go with it) and up again before we list looks unchanged in the listing.
        if (notice && (notice.deleted || !notice.up)) this.wentDown.add(notice.name);
        this.requestListing(this.settleMs);
      },
      onFailed: (error) => {
        if (this.stateValue !== 'running') return;
        this.counters.subscriptionFailures++;
        this.subscription = undefined;
        const delay = this.resubscribeDelayMs;
        this.resubscribeDelayMs = Math.min(delay * 2, 30_000);
        this.log('warn', 'interface notifications stopped; resubscribing (periodic rescans continue)', { error, retryInMs: delay });
        this.resubscribeTimer = this.opts.clock.setTimer(delay, () => {
          this.resubscribeTimer = undefined;
          if (this.stateValue !== 'running') return;
          this.subscribe();
          // Whatever happened while we were not subscribed.
          this.requestListing(0);
        });
      },
    });
  }

  private scheduleRescan(): void {
    if (this.opts.rescanIntervalMs <= 0) return;
    this.rescanTimer = this.opts.clock.setTimer(this.opts.rescanIntervalMs, () => {
      this.rescanTimer = undefined;
      if (this.stateValue !== 'running') return;
      this.requestListing(0);
      this.scheduleRescan();
    });
  }

  private requestListing(delayMs: number): void {
    if (this.listing) {
      this.listAgain = true;
      return;
    }
    if (this.listTimer !== undefined) return;
    this.listTimer = this.opts.clock.setTimer(delayMs, () => {
      this.listTimer = undefined;
      if (this.stateValue !== 'running') return;
      this.listing = this.list().finally(() => {
        this.listing = undefined;
        if (this.listAgain && this.stateValue === 'running') {
          this.listAgain = false;
          this.requestListing(this.settleMs);
        }
      });
    });
  }

  private async list(): Promise<void> {
    // Taken before listing: a notice that arrives while the listing runs belongs to the next one.
    const wentDown = this.wentDown;
    this.wentDown = new Set();
    let links: Link[];
    try {
      links = await this.opts.links.list();
    } catch (err) {
      for (const n of wentDown) this.wentDown.add(n);
      this.counters.listFailures++;
      this.log('warn', 'listing interfaces failed; the next notification or rescan retries', { error: err instanceof Error ? err.message : String(err) });
      return;
    }
    this.counters.listings++;
    const before = this.known;
    this.known = snapshotOf(links);
    if (!before || this.stateValue !== 'running') return;
    const changes = diffLinks(before, links, wentDown);
    if (changes.length === 0) return;
    this.counters.changes += changes.length;
    this.opts.onChanges(changes);
  }
}
