// The host's interface addresses, against which host endpoints are resolved
// (expectedIPs, host-endpoint-resolution.ts). The apply loop asks for a fresh
// listing at the start of each round; it is only read when host endpoints
// exist and the last reading is stale, and it goes stale again every
// refreshMs (the loop is kicked then; a round whose model did not change
// writes nothing). A failed read keeps the previous listing and is retried at
// the next refresh.

import type { LogFn } from './failure-tracker.js';
import type { Clock, HostInterface, HostInterfaces } from './ports.js';

export interface HostInterfaceListingOptions {
  /** Absent: no listing is ever read (host endpoints then resolve by interfaceName only). */
  port: HostInterfaces | undefined;
  clock: Clock;
  /** Default 10 s. */
  refreshMs?: number;
  /** The listing went stale: schedule a round. */
  onStale: () => void;
  log: LogFn;
}

export class HostInterfaceListing {
  private listing: HostInterface[] | undefined;
  private stale = true;
  private timer: unknown;
  private stopped = false;

  constructor(private readonly opts: HostInterfaceListingOptions) {}

  /** The last listing read (undefined: none yet). */
  get current(): HostInterface[] | undefined {
    return this.listing;
  }

  async refresh(hostEndpoints: boolean): Promise<void> {
    const port = this.opts.port;
    if (!port || !hostEndpoints) return;
    if (this.stale) {
      try {
        this.listing = await port.list();
        this.stale = false;
      } catch (err) {
        this.opts.log('warn', 'reading host interface addresses failed; keeping the previous listing', { error: err instanceof Error ? err.message : String(err) });
      }
    }
    if (this.timer === undefined && !this.stopped) {
      this.timer = this.opts.clock.setTimer(this.opts.refreshMs ?? 10_000, () => {
        this.timer = undefined;
        this.stale = true;
        this.opts.onStale();
      });
    }
  }

  /** No refresh timer runs after this (the loop is stopping). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.opts.clock.clearTimer(this.timer);
    this.timer = undefined;
  }
}
