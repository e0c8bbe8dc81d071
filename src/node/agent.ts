// The calico-node composition root, without process concerns (main.ts adds
// env, signals, HTTP and the Linux drivers). Flow, in order:
//   addresses (given or detected, reason logged) -> Node registration ->
//   FelixConfiguration (default, node.<name>, FELIX_*) -> dataplane ->
//   one datastore watch -> syncer -> calc graph -> dataplane.apply
// A lifecycle state machine makes illegal transitions throw.
import type { Datastore, WatchEvent } from '../datastore/datastore.js';
import { isCalicoError } from '../base/errors.js';
import type { Resource } from '../api/resource.js';
import { fieldWarnings } from '../api/index.js';
import { CalcGraph } from '../calc/graph.js';
import { CalcSyncer } from '../calc/syncer.js';
import type { CalcUpdate } from '../calc/output.js';
import { chooseNodeAddress } from './autodetect.js';
import type { HostAddress } from './autodetect.js';
import { effectiveFelixSettings, felixOverridesFromEnv } from './config.js';
import type { AddressSetting, Env, FelixSettings, NodeConfig } from './config.js';
import type { Dataplane } from './dataplane.js';
import type { Logger } from './log.js';
import { MetricsRegistry } from './metrics.js';
import { registerNode } from './registration.js';
import { BGP_KINDS, BgpInputsTracker, BgpUpdater, watchHostBlocks } from './bgp-wiring.js';
import type { BgpPort } from './bgp-wiring.js';

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
  /** Builds the dataplane once the effective settings are known. */
  makeDataplane(settings: FelixSettings): Dataplane;
  /** This host's addresses (in the agent's network namespace), for autodetection. */
  hostAddresses(): HostAddress[];
  log: Logger;
  /** BGP (CALICO_NETWORKING_BACKEND=bird): fed from the same datastore connection once in sync. */
  bgp?: BgpPort;
  /** Called when FelixConfiguration changes after start: settings only apply on restart, like Felix. */
  onRestartNeeded?(reason: string): void;
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
  private dataplane: Dataplane | undefined;
  private settingsJson = '';
  private felixLayers: { global?: Record<string, unknown>; node?: Record<string, unknown>; env?: Record<string, unknown> } = {};
  private pendingUpdates = 0;
  private bgpTracker: BgpInputsTracker | undefined;
  private bgpUpdater: BgpUpdater | undefined;
  private blockWatch: { stop(): void } | undefined;
  private roundsSeen = 0;
  private durationsSeen = 0;
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
      const ipv4 = this.resolveAddress(config.ipv4, 4);
      const ipv6 = this.resolveAddress(config.ipv6, 6);
      if (ipv4) this.addresses.ipv4 = ipv4;
      if (ipv6) this.addresses.ipv6 = ipv6;
      const reg: Parameters<typeof registerNode>[1] = { nodeName: config.nodeName };
      if (ipv4) reg.ipv4 = ipv4;
      if (ipv6) reg.ipv6 = ipv6;
      if (config.asNumber !== undefined) reg.asNumber = config.asNumber;
      const { action } = await registerNode(datastore, reg);
      log.info(`Node resource ${action}`, { node: config.nodeName, ipv4: ipv4 ?? null, ipv6: ipv6 ?? null, asNumber: config.asNumber ?? null });

      const { overrides, unknown } = felixOverridesFromEnv(this.opts.env);
      if (unknown.length) log.warning('ignoring unknown FELIX_* settings', { variables: unknown });
      this.felixLayers = {
        global: await this.felixSpec('default'),
        node: await this.felixSpec(`node.${config.nodeName}`),
        env: overrides,
      };
      this.settings = effectiveFelixSettings(this.felixLayers);
      this.settingsJson = JSON.stringify(this.settings);
      log.info('effective FelixConfiguration', { settings: this.settings });

      this.dataplane = this.opts.makeDataplane(this.settings);
      this.graph = new CalcGraph({ nodeName: config.nodeName });
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
        otherKinds: bgp ? ['FelixConfiguration', ...BGP_KINDS] : ['FelixConfiguration'],
        onOtherEvents: (events) => this.felixChanged(events),
        tap: (events) => {
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

  private resolveAddress(setting: AddressSetting, family: 4 | 6): string | undefined {
    const log = this.opts.log;
    const name = family === 4 ? 'IP' : 'IP6';
    if (setting.mode === 'none') {
      log.info(`IPv${family} address not used`, { reason: `${name}=none${family === 6 ? ' (the default for IPv6)' : ''}` });
      return undefined;
    }
    if (setting.mode === 'static') {
      log.info(`using IPv${family} address from ${name}`, { address: setting.cidr, reason: `${name} is set` });
      return setting.cidr;
    }
    const choice = chooseNodeAddress(this.opts.hostAddresses(), { family, method: setting.method });
    if (!choice.ok) {
      // Never guess: the BGP mesh and routes would silently use a wrong address.
      throw new Error(`cannot autodetect the node's IPv${family} address: ${choice.reason}; set ${name}=<address> or ${name}=none`);
    }
    log.info(`autodetected IPv${family} address`, { address: choice.cidr, reason: choice.reason });
    return choice.cidr;
  }

  private async felixSpec(name: string): Promise<Record<string, unknown> | undefined> {
    try {
      const resource = await this.opts.datastore.get({ kind: 'FelixConfiguration', name });
      // Settings Felix has and calico-ts does not act on (docs/fields.md): say so once, by name.
      for (const w of fieldWarnings(resource)) this.opts.log.warning(`FelixConfiguration(${name}): ${w.path} ${w.message}`);
      return (resource.spec ?? {}) as Record<string, unknown>;
    } catch (err) {
      if (isCalicoError(err, 'not-found')) return undefined;
      throw err;
    }
  }

  private toDataplane(updates: CalcUpdate[]): void {
    if (!this.dataplane || this.stateValue === 'stopping' || this.stateValue === 'stopped') return;
    this.pendingUpdates += updates.length;
    this.dataplane.apply(updates);
    if (updates.some((u) => u.type === 'inSync')) {
      this.opts.log.info('datastore in sync; dataplane may now be programmed', { counts: this.graph?.counts() });
      this.bgpUpdater?.kick();
    }
  }

  private felixChanged(events: WatchEvent[]): void {
    const names = new Set(['default', `node.${this.opts.config.nodeName}`]);
    let touched = false;
    for (const ev of events) {
      const name = ev.type === 'deleted' ? ev.key.name : ev.resource.metadata.name;
      if (!names.has(name)) continue;
      touched = true;
      const spec = ev.type === 'deleted' ? undefined : (((ev.resource as Resource).spec ?? {}) as Record<string, unknown>);
      if (name === 'default') this.felixLayers.global = spec;
      else this.felixLayers.node = spec;
    }
    if (!touched) return;
    const next = JSON.stringify(effectiveFelixSettings(this.felixLayers));
    if (next === this.settingsJson) return;
    this.opts.log.warning('FelixConfiguration changed; the new settings apply after a restart');
    this.opts.onRestartNeeded?.('FelixConfiguration changed');
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
    }
    m.set('felix_int_dataplane_pending_updates', this.pendingUpdates);
    return m.render();
  }

  /** Graceful: stop watching and applying; the kernel state stays as it is. */
  async stop(): Promise<void> {
    if (this.stateValue === 'stopped' || this.stateValue === 'stopping') return;
    this.to('stopping');
    this.syncer?.stop();
    this.blockWatch?.stop();
    // BIRD is stopped with the agent (the supervisor owns it); routes it learnt age out as on any BGP restart.
    await this.bgpUpdater?.stop();
    await this.dataplane?.stop();
    this.to('stopped');
    this.opts.log.info('calico-node stopped; dataplane left in place');
  }
}
