// The agent's view of the dataplane: a port that takes calc output batches.
// The real one records into the dataplane engineer's managers and kicks their
// throttled apply loop (which waits for inSync before touching the kernel);
// the fake records batches for tests. Stopping never tears kernel state down.
// The real one also watches interfaces (so a re-created veth gets its routes,
// neighbours and sysctls back), re-reads routes every routeRefreshInterval,
// and removes the other policy backend's objects once its own are in place.
import type { CalcUpdate } from '../calc/output.js';
import { ApplyLoop } from '../dataplane/apply-loop.js';
import type { ApplyMetrics, LogFn } from '../dataplane/apply-loop.js';
import { DataplaneManagers } from '../dataplane/managers.js';
import { otherBackendCleanup } from '../dataplane/backend-cleanup.js';
import { InterfaceMonitor } from '../dataplane/interface-monitor.js';
import { IptablesBackend, NftBackend } from '../dataplane/policy-backend.js';
import type { PolicyBackend } from '../dataplane/policy-backend.js';
import type { DataplaneFatalError } from '../dataplane/errors.js';
import type { Clock, DataplanePorts } from '../dataplane/ports.js';
import type { DataplaneConfig } from '../rules/model.js';

export interface DataplaneStatus {
  /** Apply loop state (`waiting-for-sync`, `idle`, `applying`, `failed` ...). */
  state: string;
  /** False once a failure that could leave traffic open stopped the dataplane. */
  healthy: boolean;
  /** True once the first full apply after sync has completed. */
  programmed: boolean;
  metrics?: ApplyMetrics;
  pendingFailures: number;
}

export interface Dataplane {
  /** Records one calc batch; must not block on the kernel. */
  apply(updates: CalcUpdate[]): void;
  status(): DataplaneStatus;
  /** Stops applying; whatever is in the kernel stays. */
  stop(): Promise<void>;
  /** Read every kernel view back and reconcile all of it in the next round (calico-node: SIGHUP). */
  reconcileNow?(): void;
}

/** Records batches; for tests of the wiring. */
export class FakeDataplane implements Dataplane {
  readonly batches: CalcUpdate[][] = [];
  stopped = false;
  apply(updates: CalcUpdate[]): void {
    if (this.stopped) throw new Error('fake dataplane: apply after stop');
    this.batches.push(updates);
  }
  status(): DataplaneStatus {
    const synced = this.batches.some((b) => b.some((u) => u.type === 'inSync'));
    return { state: this.stopped ? 'stopped' : synced ? 'idle' : 'waiting-for-sync', healthy: true, programmed: synced, pendingFailures: 0 };
  }
  async stop(): Promise<void> {
    this.stopped = true;
  }
}

export interface ApplyLoopDataplaneOptions {
  ports: DataplanePorts;
  backend: 'nftables' | 'iptables';
  config: DataplaneConfig;
  clock: Clock;
  log: LogFn;
  onFatal(err: DataplaneFatalError): void;
  minIntervalMs?: number;
  /** FelixConfiguration routeRefreshInterval: re-read routes and neighbours this often (0: never). Default 90 s. */
  routeRefreshIntervalMs?: number;
  /** FelixConfiguration interfaceRefreshInterval: full interface rescan this often, besides notifications (0: notifications only). Default 90 s. */
  interfaceRefreshIntervalMs?: number;
  /** Remove the other backend's objects once this backend's policy is in place. Default true. */
  retireOtherBackend?: boolean;
  /** FelixConfiguration nftablesRefreshInterval / iptablesRefreshInterval: full policy reconcile this often (0: only on start, failure and reconcileNow). Default 90 s. */
  fullReconcileIntervalMs?: number;
}

const DEFAULT_REFRESH_MS = 90_000;

/** The real dataplane: managers + one throttled apply loop over the given ports. */
export class ApplyLoopDataplane implements Dataplane {
  readonly managers = new DataplaneManagers();
  readonly loop: ApplyLoop;
  readonly interfaces: InterfaceMonitor;
  private failed = false;
  private started = false;
  private stopped = false;
  private refreshTimer: unknown;

  constructor(private readonly opts: ApplyLoopDataplaneOptions) {
    const backend: PolicyBackend = opts.backend === 'iptables' ? new IptablesBackend({ iptables: opts.ports.iptables, ipset: opts.ports.ipset }) : new NftBackend(opts.ports.nft);
    const loopOpts: ConstructorParameters<typeof ApplyLoop>[0] = {
      managers: this.managers,
      backend,
      ports: { routes: opts.ports.routes, neighbors: opts.ports.neighbors, sysctl: opts.ports.sysctl, conntrack: opts.ports.conntrack, links: opts.ports.links, hostInterfaces: opts.ports.hostInterfaces, close: () => opts.ports.close?.() },
      clock: opts.clock,
      config: opts.config,
      log: opts.log,
      onFatal: (err) => {
        this.failed = true;
        opts.onFatal(err);
      },
    };
    if (opts.minIntervalMs !== undefined) loopOpts.minIntervalMs = opts.minIntervalMs;
    if (opts.fullReconcileIntervalMs !== undefined) loopOpts.fullReconcileIntervalMs = opts.fullReconcileIntervalMs;
    if (opts.retireOtherBackend ?? true) loopOpts.retire = otherBackendCleanup(backend.name, opts.ports);
    this.loop = new ApplyLoop(loopOpts);
    this.interfaces = new InterfaceMonitor({
      links: opts.ports.links,
      clock: opts.clock,
      log: opts.log,
      rescanIntervalMs: opts.interfaceRefreshIntervalMs ?? DEFAULT_REFRESH_MS,
      onChanges: (changes) => this.loop.interfacesChanged(changes.map((c) => c.name)),
    });
  }

  apply(updates: CalcUpdate[]): void {
    if (this.stopped) return;
    // Constructing does no I/O (a replacement is built before the old one stops); watching starts with the first batch.
    if (!this.started) this.startWatching();
    for (const u of updates) this.managers.record(u);
    this.loop.kick();
  }

  private startWatching(): void {
    this.started = true;
    this.interfaces.start();
    const every = this.opts.routeRefreshIntervalMs ?? DEFAULT_REFRESH_MS;
    if (every <= 0) return;
    const tick = () => {
      this.refreshTimer = this.opts.clock.setTimer(every, () => {
        if (this.stopped) return;
        this.loop.refreshKernelViews();
        tick();
      });
    };
    tick();
  }

  reconcileNow(): void {
    if (!this.stopped) this.loop.reconcileNow();
  }

  status(): DataplaneStatus {
    const m = this.loop.metrics;
    return {
      state: this.loop.state,
      healthy: !this.failed && this.loop.state !== 'failed',
      programmed: m.rounds > 0 && this.loop.state !== 'waiting-for-sync',
      metrics: m,
      pendingFailures: this.loop.failing().size,
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.refreshTimer !== undefined) this.opts.clock.clearTimer(this.refreshTimer);
    this.refreshTimer = undefined;
    await this.interfaces.stop();
    await this.loop.stop();
  }
}
