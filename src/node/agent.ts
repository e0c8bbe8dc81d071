// The calico-node composition root, without process concerns (main.ts adds
// env, signals, HTTP and the Linux drivers). Flow, in order:
//   start-up duties (startup.ts: addresses given or detected, reason logged ->
//   Node registration -> default IP pools -> ClusterInformation) ->
//   FelixConfiguration (default, node.<name>, FELIX_*) -> dataplane ->
//   one datastore watch -> syncer -> calc graph -> dataplane.apply
// A lifecycle state machine makes illegal transitions throw.
// FelixConfiguration is live: a change takes effect at once for the log level
// (and whatever onSettings applies), and rebuilds the dataplane in process
// when the dataplane's part of the settings changed (dataplane-reloader.ts).
import type { Datastore, WatchEvent } from '../datastore/datastore.js';
import { isCalicoError } from '../base/errors.js';
import type { Resource } from '../api/resource.js';
import type { FieldIssue } from '../base/errors.js';
import { stateAsUpdates } from '../calc/output.js';
import type { Clock } from '../dataplane/ports.js';
import { systemClock } from '../dataplane/linux/clock.js';
import { CalcGraph } from '../calc/graph.js';
import { CalcSyncer } from '../calc/syncer.js';
import type { CalcUpdate, DesiredPolicyState } from '../calc/output.js';
import type { HostAddress } from './autodetect.js';
import { felixOverridesFromEnv } from './config.js';
import type { Env, FelixSettings, NodeConfig } from './config.js';
import type { Dataplane } from './dataplane.js';
import { DataplaneReloader } from './dataplane-reloader.js';
import { changedSettings, FelixLayers, type FelixWarnings } from './felix-layers.js';
import type { Logger } from './log.js';
import { MetricsRegistry } from './metrics.js';
import { runStartup } from './startup.js';
import type { StartupHost } from './startup.js';
import { CALICO_TS_VERSION } from '../base/version.js';
import { randomBytes } from 'node:crypto';
import { BGP_KINDS, BgpInputsTracker, BgpUpdater, watchHostBlocks } from './bgp-wiring.js';
import type { BgpPort } from './bgp-wiring.js';
import { AddressSpaceView } from '../xlat/space-view.js';
import type { XlatManager } from '../xlat/manager.js';
import { STAT_NAMES } from '../xlat/maps.js';
import { IdleCollector } from './idle-collector.js';

export type NodeState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

const TRANSITIONS: Record<NodeState, NodeState[]> = {
  created: ['starting', 'stopped'],
  starting: ['running', 'failed', 'stopping'],
  running: ['stopping', 'failed'],
  stopping: ['stopped'],
  failed: ['stopping', 'stopped'],
  stopped: [],
};

export interface CalicoNodeOptions {
  config: NodeConfig;
  env: Env;
  datastore: Datastore;
  /** Builds the dataplane once the effective settings are known, and again after a change of them (see dataplaneKey). */
  makeDataplane(settings: FelixSettings): Dataplane;
  /** The part of the settings makeDataplane uses; the dataplane is rebuilt only when it changes. Default: all of them. */
  dataplaneKey?(settings: FelixSettings): string;
  /** This host's addresses (in the agent's network namespace), for autodetection and the default IPv4 pool. */
  hostAddresses(): HostAddress[] | Promise<HostAddress[]>;
  /** can-reach= route lookups, IPv6 availability and randomness for start-up (defaults: none, available, node:crypto). */
  startupHost?: Partial<Omit<StartupHost, 'addresses'>>;
  log: Logger;
  /** BGP (CALICO_NETWORKING_BACKEND=bird): fed from the same datastore connection once in sync. */
  bgp?: BgpPort;
  /** The effective settings at start (changed: []) and after every change (the names that changed), e.g. to set the log level at once. */
  onSettings?(settings: FelixSettings, changed: string[]): void;
  /** Timers of the dataplane rebuild (default: the system clock). */
  clock?: Clock;
  /** Quiet period after a FelixConfiguration change before the dataplane is rebuilt (a burst is one rebuild). Default 500 ms. */
  reloadSettleMs?: number;
  /** The 464-XLAT translator of address-space endpoints (docs/design/xlat.md); without it such endpoints get routes but no translation. */
  xlat?: XlatManager;
  /** Runs a young-generation garbage collection; used once the agent is quiet after a burst of datastore events (idle-collector.ts). None without it. */
  collectYoungGeneration?(): void;
  /** Flow logs (src/flowlogs/): built from the settings, undefined when off; rebuilt when flowLogsKey changes. */
  makeFlowLogs?(settings: FelixSettings, ctx: FlowLogsContext): FlowLogsPort | undefined;
  /** The part of the settings makeFlowLogs uses. Default: all of them. */
  flowLogsKey?(settings: FelixSettings): string;
}

/** What a flow-log reporter needs from the node. */
export interface FlowLogsContext {
  /** The calc state given to the dataplane, and a number that changes with it. */
  policyState(): { version: number; state: DesiredPolicyState };
  metrics: MetricsRegistry;
}

export interface FlowLogsPort {
  start(): void;
  stop(): Promise<void>;
}

export interface Health {
  live: boolean;
  ready: boolean;
  detail: Record<string, unknown>;
}

export class CalicoNode {
  private stateValue: NodeState = 'created';
  private graph: CalcGraph | undefined;
  private syncer: CalcSyncer | undefined;
  private dataplane: DataplaneReloader | undefined;
  private felixLayers: FelixLayers | undefined;
  private pendingUpdates = 0;
  private bgpTracker: BgpInputsTracker | undefined;
  private bgpUpdater: BgpUpdater | undefined;
  private blockWatch: { stop(): void } | undefined;
  private roundsSeen = 0;
  /** Address spaces: rewrites space endpoints before the graph and BGP see them. */
  readonly spaces = new AddressSpaceView();
  private spaceProblems = '';
  private flowLogs: { key: string; port: FlowLogsPort } | undefined;
  private flowLogsChain: Promise<void> = Promise.resolve();
  /** Bumped with every calc batch, so flow logs re-index endpoints only when the state changed. */
  private calcVersion = 0;
  private calcSnapshot: { version: number; state: DesiredPolicyState } | undefined;
  private durationsSeen = 0;
  private idleCollector: IdleCollector | undefined;
  readonly metrics = new MetricsRegistry();
  settings: FelixSettings | undefined;
  addresses: { ipv4?: string; ipv6?: string } = {};

  constructor(private readonly opts: CalicoNodeOptions) {
    const m = this.metrics;
    m.declare('felix_int_dataplane_apply_time_seconds', 'Time to apply one round of dataplane changes.', 'histogram', [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
    m.declare('felix_int_dataplane_pending_updates', 'Calc updates recorded but not yet applied by a completed round.', 'gauge');
    m.declare('felix_resyncs_started', 'Datastore re-lists (after compaction or reconnect).', 'counter');
    m.declare('felix_int_dataplane_failures', 'Dataplane object failures, by kind.', 'counter');
    m.declare('felix_active_local_endpoints', 'Local workload and host endpoints.', 'gauge');
    m.declare('felix_active_local_policies', 'Policies selecting at least one local endpoint.', 'gauge');
    m.declare('felix_cluster_num_endpoints', 'Endpoints and network sets cluster-wide.', 'gauge');
    m.declare('felix_cluster_num_policies', 'Policies cluster-wide.', 'gauge');
    m.declare('felix_ipsets_calico', 'IP sets referenced by active policies.', 'gauge');
    m.declare('felix_calc_graph_updates_processed', 'Resource updates processed by the calc graph.', 'counter');
    m.declare('calico_node_datastore_in_sync', '1 once the datastore initial state has been processed.', 'gauge');
    m.declare('calico_node_felix_configuration_updates_total', 'FelixConfiguration versions seen after start, by result (applied, unchanged, rejected).', 'counter');
    m.declare('calico_node_dataplane_rebuilds_total', 'Dataplane rebuilds after a FelixConfiguration change.', 'counter');
    m.declare('calico_node_interface_refreshes_total', 'Interfaces whose routes, neighbours and sysctls were re-applied (appeared, came up, re-created).', 'counter');
    m.declare('calico_node_route_refreshes_total', 'Route and neighbour read-backs (routeRefreshInterval).', 'counter');
    m.declare('calico_xlat_packets_total', 'Packets seen by the address-space translator on this host, by result (translated-4to6, translated-6to4, passed, dropped-*); read at the end of each translator round.', 'counter');
    m.declare('calico_node_backend_objects_removed_total', 'Removals of the other policy backend\'s objects (per nft table, iptables family, ipset batch; after a backend switch).', 'counter');
  }

  get state(): NodeState {
    return this.stateValue;
  }

  private to(next: NodeState): void {
    if (!TRANSITIONS[this.stateValue].includes(next)) throw new Error(`calico-node: illegal transition ${this.stateValue} -> ${next}`);
    this.stateValue = next;
  }

  async start(): Promise<void> {
    this.to('starting');
    const { config, log, datastore } = this.opts;
    try {
      log.info('calico-node starting', { nodeName: config.nodeName, nodeNameFrom: config.nodeNameSource, runDir: config.runDir, networkingBackend: config.networkingBackend });
      // calico/node's start-up duties: Node (addresses, AS), default pools, ClusterInformation.
      const started = await runStartup({ datastore, config, log, calicoVersion: CALICO_TS_VERSION, host: { randomBytes, ...this.opts.startupHost, addresses: () => this.opts.hostAddresses() } });
      if (started.ipv4) this.addresses.ipv4 = started.ipv4;
      if (started.ipv6) this.addresses.ipv6 = started.ipv6;

      const { overrides, unknown } = felixOverridesFromEnv(this.opts.env);
      if (unknown.length) log.warning('ignoring unknown FELIX_* settings', { variables: unknown });
      const layers = (this.felixLayers = new FelixLayers({ nodeName: config.nodeName, env: overrides }));
      const { rejected, warned } = layers.load({ global: await this.felixResource('default'), node: await this.felixResource(layers.nodeResourceName) });
      this.logFieldWarnings(warned);
      for (const r of rejected) {
        log.error(`FelixConfiguration ${r.name} has invalid fields; they are ignored (built-in or lower-layer values apply) until it is fixed`, { resource: r.name, issues: describeIssues(r.issues) });
      }
      this.settings = layers.effective();
      log.info('effective FelixConfiguration', { settings: this.settings });
      this.opts.onSettings?.(this.settings, []);

      const graph = (this.graph = new CalcGraph({ nodeName: config.nodeName }));
      this.dataplane = new DataplaneReloader({
        make: (s) => this.opts.makeDataplane(s),
        key: this.opts.dataplaneKey ?? ((s) => JSON.stringify(s)),
        currentState: () => stateAsUpdates(graph.snapshot()),
        clock: this.opts.clock ?? systemClock,
        log: log.child({ component: 'dataplane-reload' }),
        ...(this.opts.reloadSettleMs !== undefined ? { settleMs: this.opts.reloadSettleMs } : {}),
      });
      this.dataplane.start(this.settings);
      const collectYoung = this.opts.collectYoungGeneration;
      if (collectYoung) {
        const gcLog = log.child({ component: 'memory' });
        this.idleCollector = new IdleCollector({ clock: this.opts.clock ?? systemClock, collectYoung, onSettled: (work) => gcLog.debug('young generation collected twice after a burst, agent quiet (gives back what the burst grew)', { datastoreEvents: work }) });
      }
      this.reconfigureFlowLogs(this.settings);
      const bgp = this.opts.bgp;
      if (bgp) {
        const tracker = (this.bgpTracker = new BgpInputsTracker(config.nodeName));
        this.bgpUpdater = new BgpUpdater({ port: bgp, inputs: () => tracker.inputs(), log: log.child({ component: 'bgp' }) });
        this.blockWatch = watchHostBlocks(datastore.kv, {
          nodeName: config.nodeName,
          log,
          onBlocks: (cidrs) => {
            if (tracker.setBlocks(cidrs) && this.syncer?.inSync) this.bgpUpdater?.kick();
          },
        });
      } else {
        log.info('BGP not started', { reason: `CALICO_NETWORKING_BACKEND=${config.networkingBackend}` });
      }
      this.syncer = new CalcSyncer({
        datastore,
        graph: this.graph,
        sink: (updates) => this.toDataplane(updates),
        otherKinds: bgp ? ['FelixConfiguration', 'AddressSpace', ...BGP_KINDS] : ['FelixConfiguration', 'AddressSpace'],
        onOtherEvents: (events) => this.felixChanged(events.filter((e) => (e.type === 'deleted' ? e.key.kind : e.resource.kind) === 'FelixConfiguration')),
        transform: (events) => this.spaces.onEvents(events),
        tap: (events) => {
          this.idleCollector?.noteWork(events.length);
          this.spacesChanged();
          // BGP waits for the initial state: a partial mesh would flap sessions.
          if (this.bgpTracker?.onEvents(events) && this.syncer?.inSync) this.bgpUpdater?.kick();
        },
        onStatus: (s) => log.info('datastore watch status', { status: s }),
      });
      this.syncer.start();
      this.to('running');
    } catch (err) {
      this.to('failed');
      log.fatal('calico-node failed to start', { error: err as Error });
      throw err;
    }
  }

  private async felixResource(name: string): Promise<Resource | undefined> {
    try {
      return await this.opts.datastore.get({ kind: 'FelixConfiguration', name });
    } catch (err) {
      if (isCalicoError(err, 'not-found')) return undefined;
      throw err;
    }
  }

  /** On demand (SIGHUP): the dataplane reads the kernel back and reconciles everything in its next round. */
  reconcileDataplane(): void {
    this.opts.log.info('full dataplane reconcile requested');
    this.dataplane?.reconcileNow();
  }

  private toDataplane(updates: CalcUpdate[]): void {
    if (!this.dataplane || this.stateValue === 'stopping' || this.stateValue === 'stopped') return;
    this.pendingUpdates += updates.length;
    this.calcVersion++;
    this.dataplane.apply(updates);
    if (updates.some((u) => u.type === 'inSync')) {
      this.opts.log.info('datastore in sync; dataplane may now be programmed', { counts: this.graph?.counts() });
      this.bgpUpdater?.kick();
      this.opts.xlat?.markInSync();
    }
  }

  /** Hands this host's address-space endpoints to the translator; logs space conflicts once per change. */
  private spacesChanged(): void {
    const { spaces, problems } = this.spaces.effective();
    const text = JSON.stringify(problems);
    if (text !== this.spaceProblems) {
      this.spaceProblems = text;
      for (const p of problems) this.opts.log.error(`AddressSpace(${p.space}): ${p.message}`);
    }
    const nodeName = this.opts.config.nodeName;
    this.opts.xlat?.setDesired(spaces, this.spaces.spaceEndpoints().filter((e) => e.node === nodeName));
  }

  /** Loads a fresh copy of the translator and swaps it in everywhere (SIGUSR2); flows keep going, there is no state. */
  reloadTranslator(): Promise<void> {
    return this.opts.xlat ? this.opts.xlat.reload() : Promise.resolve();
  }

  /** Settings Felix has and calico-ts does not act on (docs/fields.md): named in the log whenever a version is accepted. */
  private logFieldWarnings(warned: FelixWarnings[]): void {
    for (const w of warned) for (const f of w.warnings) this.opts.log.warning(`FelixConfiguration(${w.name}): ${f.path} ${f.message}`);
  }

    /** FelixConfiguration `default` / `node.<name>` changed: validate, re-layer, apply what changed (FELIX_* still wins). */
  private felixChanged(events: WatchEvent[]): void {
    const layers = this.felixLayers;
    if (!layers || !this.settings || (this.stateValue !== 'running' && this.stateValue !== 'starting')) return;
    const { touched, rejected, warned } = layers.onEvents(events);
    const log = this.opts.log;
    this.logFieldWarnings(warned);
    for (const r of rejected) {
      this.metrics.inc('calico_node_felix_configuration_updates_total', 1, { result: 'rejected' });
      log.error(`FelixConfiguration ${r.name} is invalid; this version is ignored and the previous settings stay in force. Fix the fields below and apply it again`, { resource: r.name, issues: describeIssues(r.issues) });
    }
    if (!touched) return;
    const next = layers.effective();
    const changed = changedSettings(this.settings, next);
    if (changed.length === 0) {
      this.metrics.inc('calico_node_felix_configuration_updates_total', 1, { result: 'unchanged' });
      log.info('FelixConfiguration updated; the effective settings are unchanged (FELIX_* overrides or same values)');
      return;
    }
    this.metrics.inc('calico_node_felix_configuration_updates_total', 1, { result: 'applied' });
    this.settings = next;
    log.info('FelixConfiguration changed; applying the new settings', { changed, values: Object.fromEntries(changed.map((k) => [k, next[k] ?? null])) });
    this.opts.onSettings?.(next, changed);
    this.dataplane?.settingsChanged(next);
    this.reconfigureFlowLogs(next);
  }

  /** Starts, stops or replaces the flow-log reporter when its settings changed; one change at a time. */
  private reconfigureFlowLogs(settings: FelixSettings): void {
    const make = this.opts.makeFlowLogs;
    if (!make) return;
    const key = (this.opts.flowLogsKey ?? ((s) => JSON.stringify(s)))(settings);
    if (this.flowLogs?.key === key) return;
    const old = this.flowLogs?.port;
    const port = make(settings, { policyState: () => this.policyState(), metrics: this.metrics });
    this.flowLogs = port ? { key, port } : undefined;
    this.flowLogsChain = this.flowLogsChain.then(async () => {
      await old?.stop();
      port?.start();
      if (port || old) this.opts.log.info(port ? 'flow logs on' : 'flow logs off');
    });
  }

  private policyState(): { version: number; state: DesiredPolicyState } {
    if (this.calcSnapshot?.version !== this.calcVersion) this.calcSnapshot = { version: this.calcVersion, state: this.graph!.snapshot() };
    return this.calcSnapshot;
  }

  health(): Health {
    const dp = this.dataplane?.status();
    const live = (this.stateValue === 'starting' || this.stateValue === 'running') && (dp?.healthy ?? true);
    const inSync = this.syncer?.inSync ?? false;
    const ready = live && this.stateValue === 'running' && inSync && (dp?.programmed ?? false);
    return { live, ready, detail: { state: this.stateValue, datastore: this.syncer?.status ?? 'not-started', inSync, dataplane: dp?.state ?? 'not-started', pendingFailures: dp?.pendingFailures ?? 0 } };
  }

  /** Prometheus text, refreshed from the components' counters. */
  renderMetrics(): string {
    const m = this.metrics;
    const counts = this.graph?.counts();
    if (counts) {
      m.set('felix_active_local_endpoints', counts.localEndpoints);
      m.set('felix_active_local_policies', counts.activePolicies);
      m.set('felix_cluster_num_endpoints', counts.endpoints);
      m.set('felix_cluster_num_policies', counts.policies);
      m.set('felix_ipsets_calico', counts.ipSets);
      m.set('felix_calc_graph_updates_processed', this.graph!.stats.updatesIn);
    }
    m.set('calico_node_datastore_in_sync', this.syncer?.inSync ? 1 : 0);
    m.set('felix_resyncs_started', this.syncer?.counters.resyncs ?? 0);
    const dm = this.dataplane?.status().metrics;
    if (dm) {
      if (dm.rounds !== this.roundsSeen) {
        this.roundsSeen = dm.rounds;
        this.pendingUpdates = 0;
      }
      // roundDurationsMs is a bounded window: observe only what is new since the last scrape.
      const fresh = Math.min(dm.rounds - this.durationsSeen, dm.roundDurationsMs.length);
      for (const ms of dm.roundDurationsMs.slice(dm.roundDurationsMs.length - fresh)) m.observe('felix_int_dataplane_apply_time_seconds', ms / 1000);
      this.durationsSeen = dm.rounds;
      for (const [kind, n] of Object.entries(dm.failures)) m.set('felix_int_dataplane_failures', n, { kind });
      m.set('calico_node_interface_refreshes_total', dm.interfaceRefreshes ?? 0);
      m.set('calico_node_route_refreshes_total', dm.routeRefreshes ?? 0);
      m.set('calico_node_backend_objects_removed_total', dm.retiredObjects ?? 0);
    }
    const xs = this.opts.xlat?.lastStats ?? [];
    xs.forEach((n, i) => m.set('calico_xlat_packets_total', n, { result: STAT_NAMES[i] ?? `counter-${i}` }));
    m.set('calico_node_dataplane_rebuilds_total', this.dataplane?.counters.rebuilds ?? 0);
    m.set('felix_int_dataplane_pending_updates', this.pendingUpdates);
    return m.render();
  }

  /** Graceful: stop watching and applying; the kernel state stays as it is. */
  async stop(): Promise<void> {
    if (this.stateValue === 'stopped' || this.stateValue === 'stopping') return;
    this.to('stopping');
    this.idleCollector?.stop();
    this.syncer?.stop();
    this.blockWatch?.stop();
    // The translator stays attached (like routes and rules): a restarted agent finds it and keeps it.
    this.opts.xlat?.stop();
    // BIRD is stopped with the agent (the supervisor owns it); routes it learnt age out as on any BGP restart.
    await this.bgpUpdater?.stop();
    await this.dataplane?.stop();
    const flowLogs = this.flowLogs?.port;
    this.flowLogs = undefined;
    await this.flowLogsChain;
    await flowLogs?.stop();
    this.to('stopped');
    this.opts.log.info('calico-node stopped; dataplane left in place');
  }
}

/** Issues for a log line: path and message, each message capped (an unknown-field message lists every valid field). */
function describeIssues(issues: FieldIssue[]): string[] {
  return issues.map((i) => `${i.path}: ${i.message.length > 200 ? i.message.slice(0, 200) + '...' : i.message}`);
}
