// Keeps the kernel's translator state equal to this host's address-space
// endpoints: program loaded and attached on both hooks of each such
// interface, map entries for their ifindex and their spaces' DC-SIIT
// mappings, nothing on any other interface. Record, then apply: setDesired()
// only records; one reconcile runs at a time, reading the kernel back each
// time (interfaces come and go, ifindexes change), writing only differences.
// Order within a round: maps before attach (a new filter finds its
// interface's space), detach before map entries go.
import type { Clock } from '../dataplane/ports.js';
import type { Logger } from '../node/log.js';
import { desiredMaps, diffMaps, type LocalSpaceInterface } from './maps.js';
import type { EffectiveSpace, SpaceEndpoint } from './space-view.js';
import type { Hook, XlatKernel } from './ports.js';

const HOOKS: Hook[] = ['ingress', 'egress'];

export type XlatState = 'idle' | 'reconciling' | 'waiting-retry';

export interface XlatManagerOptions {
  kernel: XlatKernel;
  clock: Clock;
  log: Logger;
  /** Re-read the kernel this often even without changes (interfaces re-created). Default 10 s. */
  refreshMs?: number;
  backoff?: { initialMs: number; maxMs: number };
}

export class XlatManager {
  private spaces = new Map<string, EffectiveSpace>();
  private endpoints: SpaceEndpoint[] = [];
  private inSync = false;
  private running: Promise<void> | undefined;
  private dirty = false;
  private timer: unknown;
  private failures = 0;
  private loaded = false;
  private freshLoad = false;
  private stopped = false;
  /** Interfaces we attached to (so one that left a space is detached). */
  private readonly attached = new Set<string>();
  stateValue: XlatState = 'idle';
  readonly counters = { rounds: 0, failures: 0, attaches: 0, detaches: 0, mapWrites: 0, reloads: 0 };
  /** Interfaces of space endpoints that do not exist yet (retried). */
  pending: string[] = [];
  /** The program's counters (STAT_NAMES order) as read at the end of the last round; empty before anything is loaded. */
  lastStats: number[] = [];

  constructor(private readonly opts: XlatManagerOptions) {}

  /** This host's space endpoints and the spaces in force. Nothing is applied before markInSync(). */
  setDesired(spaces: Map<string, EffectiveSpace>, localEndpoints: SpaceEndpoint[]): void {
    this.spaces = spaces;
    this.endpoints = localEndpoints.filter((e) => e.interfaceName && spaces.has(e.space));
    this.kick();
  }

  markInSync(): void {
    this.inSync = true;
    this.kick();
  }

  /** Loads a fresh copy of the program and swaps it in on every interface (flows keep going: no state). */
  reload(): Promise<void> {
    this.freshLoad = true;
    this.counters.reloads++;
    this.kick();
    return this.settled();
  }

  kick(): void {
    if (this.stopped || !this.inSync) return;
    this.dirty = true;
    if (!this.running) this.running = this.loop();
  }

  /** Resolves when no round is running or due (for tests and shutdown). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.opts.clock.clearTimer(this.timer);
  }

  private async loop(): Promise<void> {
    try {
      while (this.dirty && !this.stopped) {
        this.dirty = false;
        this.stateValue = 'reconciling';
        try {
          await this.reconcile();
          this.failures = 0;
          this.schedule(this.opts.refreshMs ?? 10_000);
        } catch (err) {
          this.failures++;
          this.counters.failures++;
          const b = this.opts.backoff ?? { initialMs: 500, maxMs: 10_000 };
          const wait = Math.min(b.maxMs, b.initialMs * 2 ** (this.failures - 1));
          this.opts.log.warning('address-space translator: round failed; retrying', { error: err as Error, retryInMs: wait });
          this.schedule(wait);
        }
      }
    } finally {
      this.stateValue = this.timer !== undefined ? 'waiting-retry' : 'idle';
      this.running = undefined;
    }
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined) this.opts.clock.clearTimer(this.timer);
    this.timer = this.opts.clock.setTimer(ms, () => {
      this.timer = undefined;
      this.kick();
    });
  }

  private async reconcile(): Promise<void> {
    this.counters.rounds++;
    const k = this.opts.kernel;
    const wanted = new Map(this.endpoints.map((e) => [e.interfaceName, e.space]));
    // Endpoints in no space pay nothing: without space endpoints (and nothing of ours attached) nothing is loaded.
    if (wanted.size === 0 && this.attached.size === 0 && !this.loaded) return;
    const fresh = this.freshLoad;
    const ids = await k.load({ fresh });
    this.loaded = true;
    this.freshLoad = false;

    const ifaces: LocalSpaceInterface[] = [];
    const pending: string[] = [];
    for (const [name, space] of [...wanted].sort()) {
      const ifindex = await k.ifindex(name);
      if (ifindex === undefined) pending.push(name);
      else ifaces.push({ interfaceName: name, ifindex, space });
    }
    this.pending = pending;
    const present = new Set(ifaces.map((i) => i.interfaceName));
    const current = await k.attachments([...new Set([...present, ...this.attached])].sort());

    // Detach first where the interface left its space.
    for (const a of current) {
      if (present.has(a.interfaceName)) continue;
      await k.detach(a.interfaceName, a.hook);
      this.counters.detaches++;
    }
    for (const name of this.attached) if (!present.has(name)) this.attached.delete(name);

    const diffs = diffMaps(desiredMaps(this.spaces, ifaces), await k.readMaps());
    if (diffs.length) {
      await k.writeMaps(diffs);
      this.counters.mapWrites++;
    }
    for (const i of ifaces) {
      for (const hook of HOOKS) {
        const have = current.find((a) => a.interfaceName === i.interfaceName && a.hook === hook);
        if (have?.programId === ids[hook]) continue;
        await k.attach(i.interfaceName, hook);
        this.counters.attaches++;
      }
      this.attached.add(i.interfaceName);
    }
    if (fresh) {
      // Every interface now runs the new copy: the old one can go.
      await k.sweep();
      this.opts.log.info('address-space translator reloaded on every interface', { interfaces: ifaces.length, programs: ids });
    }
    this.lastStats = await k.stats();
    if (pending.length) throw new Error(`interfaces of address-space endpoints not present yet: ${pending.join(', ')}`);
  }
}
