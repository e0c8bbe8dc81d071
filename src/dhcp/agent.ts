// calico-dhcp-agent's core: this node's VM endpoints from the datastore watch
// -> dnsmasq configuration (dnsmasq-config.ts, pure) -> the DHCP interface and
// dnsmasq through their ports. Nothing is written before the watch is in sync
// (a partial list would restart dnsmasq without VMs it still serves). Updates
// are coalesced: one apply at a time, and one more after it if anything
// changed meanwhile. A failed apply is retried after `retryMs`, from scratch.
//
// States: new -> running -> stopped (no way back: a stopped agent is dropped).

import type { Datastore, WatchEvent } from '../datastore/datastore.js';
import type { Resource } from '../api/resource.js';
import type { WorkloadEndpointSpec } from '../api/kinds/endpoint.js';
import type { Logger } from '../node/log.js';
import { gatewayAddresses, renderDnsmasqConf, servedEndpoints } from './dnsmasq-config.js';
import type { DhcpInterface, Dnsmasq, Timers } from './ports.js';

export interface DhcpAgentOptions {
  datastore: Pick<Datastore, 'watch'>;
  nodeName: string;
  /** WorkloadEndpoint orchestrators served (Calico's DHCP agent: openstack). */
  orchestrators: string[];
  dhcpInterface: string;
  leaseSeconds: number;
  leaseFile: string;
  ports: { iface: DhcpInterface; dnsmasq: Dnsmasq; timers: Timers };
  log: Logger;
  /** Wait before retrying a failed apply (default 5 s). */
  retryMs?: number;
}

type State = 'new' | 'running' | 'stopped';

const keyOf = (namespace: string | undefined, name: string) => (namespace ? `${namespace}/${name}` : name);

export class DhcpAgent {
  private state: State = 'new';
  private readonly endpoints = new Map<string, Resource<WorkloadEndpointSpec>>();
  private inSync = false;
  /** What the kernel and dnsmasq have now; undefined = unknown (start, failure): everything is written again. */
  private applied: { conf: string; gateways: string } | undefined;
  private applying: Promise<void> | undefined;
  private dirty = false;
  private retry: { cancel(): void } | undefined;
  private watch: { stop(): void } | undefined;
  private lastSkipped = '';
  /** Applies that failed (for tests and logs). */
  failures = 0;

  constructor(private readonly opts: DhcpAgentOptions) {}

  start(): void {
    if (this.state !== 'new') throw new Error(`calico-dhcp-agent: start in state ${this.state}`);
    this.state = 'running';
    this.opts.ports.dnsmasq.onUnexpectedExit((detail) => {
      if (this.state !== 'running') return;
      this.opts.log.error('dnsmasq exited; starting it again', { detail });
      this.applied = undefined;
      this.kick();
    });
    this.watch = this.opts.datastore.watch(
      { kinds: ['WorkloadEndpoint'] },
      {
        onEvents: (events) => this.onEvents(events),
        onInSync: () => {
          this.inSync = true;
          this.kick();
        },
        onStatus: (s) => this.opts.log.info('datastore watch', { status: s }),
      },
    );
  }

  private onEvents(events: WatchEvent[]): void {
    for (const e of events) {
      if (e.type === 'deleted') this.endpoints.delete(keyOf(e.key.namespace, e.key.name));
      else this.endpoints.set(keyOf(e.resource.metadata.namespace, e.resource.metadata.name), e.resource as Resource<WorkloadEndpointSpec>);
    }
    if (this.inSync) this.kick();
  }

  /** Asks for an apply; coalesced with one that runs. */
  private kick(): void {
    if (this.state !== 'running') return;
    this.dirty = true;
    if (!this.applying) this.applying = this.loop().finally(() => (this.applying = undefined));
  }

  private async loop(): Promise<void> {
    while (this.dirty && this.state === 'running') {
      this.dirty = false;
      try {
        await this.applyOnce();
      } catch (err) {
        this.failures++;
        this.applied = undefined;
        const ms = this.opts.retryMs ?? 5000;
        this.opts.log.error('DHCP service not updated; retrying', { error: err as Error, retryMs: ms });
        this.retry?.cancel();
        this.retry = this.opts.ports.timers.setTimeout(() => {
          this.retry = undefined;
          this.kick();
        }, ms);
        return;
      }
    }
  }

  private async applyOnce(): Promise<void> {
    const o = this.opts;
    const { endpoints, skipped } = servedEndpoints(this.endpoints.values(), { nodeName: o.nodeName, orchestrators: o.orchestrators });
    const skippedText = JSON.stringify(skipped);
    if (skippedText !== this.lastSkipped) {
      this.lastSkipped = skippedText;
      for (const s of skipped) o.log.warning('VM endpoint not fully served by DHCP', { endpoint: s.id, reason: s.reason });
    }
    if (endpoints.length === 0) {
      if (this.applied?.conf === '') return;
      // No VM here: no dnsmasq and no gateway addresses on this host.
      await o.ports.dnsmasq.stop();
      await o.ports.iface.remove(o.dhcpInterface);
      this.applied = { conf: '', gateways: '' };
      o.log.info('no VM endpoints on this node; DHCP service stopped');
      return;
    }
    const gateways = gatewayAddresses(endpoints);
    const conf = renderDnsmasqConf(endpoints, { dhcpInterface: o.dhcpInterface, leaseSeconds: o.leaseSeconds, leaseFile: o.leaseFile, nodeName: o.nodeName });
    const before = this.applied;
    this.applied = undefined;
    if (before?.gateways !== gateways.join(',')) await o.ports.iface.ensure(o.dhcpInterface, gateways);
    if (before?.conf !== conf) {
      await o.ports.dnsmasq.restart(conf);
      o.log.info('DHCP service updated', { endpoints: endpoints.map((e) => ({ endpoint: e.id, interface: e.interfaceName, ip: e.ipv4 })) });
    }
    this.applied = { conf, gateways: gateways.join(',') };
  }

  /** Resolves once no apply runs (tests, and stop). */
  async settled(): Promise<void> {
    while (this.applying) await this.applying;
  }

  /** Stops watching and stops dnsmasq; the DHCP interface stays (leases stay valid, the gateway keeps answering ARP). */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.retry?.cancel();
    this.watch?.stop();
    await this.settled();
    await this.opts.ports.dnsmasq.stop();
  }
}
