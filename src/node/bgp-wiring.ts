// Feeds the BGP subsystem (src/bgp BgpAgent) from the agent's one datastore
// connection: the resources it needs ride on the calc syncer's watch (tap), the
// host's IPAM block affinities come from a KV watch. Updates are coalesced:
// at most one BgpAgent.update runs at a time, the latest inputs win.
import type { Resource } from '../api/resource.js';
import type { WatchEvent } from '../datastore/datastore.js';
import type { KVStore, KVWatch } from '../datastore/kv.js';
import { bgpInputsFromResources } from '../bgp/inputs.js';
import type { BgpInputs } from '../bgp/model.js';
import type { Logger } from './log.js';

/** What calico-node needs from the BGP subsystem. */
export interface BgpPort {
  update(inputs: BgpInputs): Promise<unknown>;
  stop(): Promise<void>;
}

export const BGP_KINDS = ['Node', 'BGPConfiguration', 'BGPPeer', 'BGPFilter'] as const;
const TRACKED = new Set<string>([...BGP_KINDS, 'IPPool', 'WorkloadEndpoint', 'AddressSpace']);

/** Pure: the current resources the BGP plan is computed from. */
export class BgpInputsTracker {
  private readonly byKind = new Map<string, Map<string, Resource>>();
  private blocks: string[] = [];

  constructor(private readonly nodeName: string) {}

  /** Records the relevant events; true if anything BGP cares about changed. */
  onEvents(events: WatchEvent[]): boolean {
    let changed = false;
    for (const ev of events) {
      const kind = ev.type === 'deleted' ? ev.key.kind : ev.resource.kind;
      if (!TRACKED.has(kind)) continue;
      let m = this.byKind.get(kind);
      if (!m) this.byKind.set(kind, (m = new Map()));
      const id = ev.type === 'deleted' ? `${ev.key.namespace ?? ''}/${ev.key.name}` : `${ev.resource.metadata.namespace ?? ''}/${ev.resource.metadata.name}`;
      if (ev.type === 'deleted') changed = m.delete(id) || changed;
      else {
        m.set(id, ev.resource);
        changed = true;
      }
    }
    return changed;
  }

  setBlocks(cidrs: string[]): boolean {
    const next = [...cidrs].sort();
    if (JSON.stringify(next) === JSON.stringify(this.blocks)) return false;
    this.blocks = next;
    return true;
  }

  inputs(): BgpInputs {
    const list = <T>(kind: string) => [...(this.byKind.get(kind)?.values() ?? [])].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1)) as Resource<T>[];
    const local = list<{ node?: string; ipNetworks?: string[] }>('WorkloadEndpoint').filter((w) => w.spec?.node === this.nodeName);
    return bgpInputsFromResources({
      nodeName: this.nodeName,
      nodes: list('Node'),
      bgpConfigurations: list('BGPConfiguration'),
      bgpPeers: list('BGPPeer'),
      bgpFilters: list('BGPFilter'),
      ipPools: list('IPPool'),
      blocks: this.blocks,
      localEndpointAddresses: local.flatMap((w) => (w.spec?.ipNetworks ?? []).map((n) => n.split('/')[0]!)).sort(),
      addressSpacePrefixes: list<{ prefix?: string }>('AddressSpace').flatMap((s) => (s.spec?.prefix ? [s.spec.prefix] : [])),
    });
  }
}

/** Runs BgpAgent.update one at a time with the newest inputs. */
export class BgpUpdater {
  private running: Promise<void> | undefined;
  private dirty = false;
  private stopped = false;
  updates = 0;
  failures = 0;

  constructor(private readonly opts: { port: BgpPort; inputs: () => BgpInputs; log: Logger }) {}

  kick(): void {
    if (this.stopped) return;
    this.dirty = true;
    if (!this.running) this.running = this.loop().finally(() => (this.running = undefined));
  }

  private async loop(): Promise<void> {
    while (this.dirty && !this.stopped) {
      this.dirty = false;
      try {
        await this.opts.port.update(this.opts.inputs());
        this.updates++;
      } catch (err) {
        // The supervisor keeps the last good config running; log and wait for the next change.
        this.failures++;
        this.opts.log.error('BGP update failed; the previous BIRD config stays in place', { error: err as Error });
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
    await this.opts.port.stop();
  }
}

/** `/calico/ipam/v2/host/<node>/ipv4/block/10.0.0.0-26` -> `10.0.0.0/26` (confirmed affinities only). */
export function blockFromAffinity(key: string, value: string): string | undefined {
  const m = /\/block\/([^/]+)-(\d+)$/.exec(key);
  if (!m) return undefined;
  try {
    const state = (JSON.parse(value) as { state?: string }).state ?? 'confirmed';
    if (state !== 'confirmed') return undefined;
  } catch {
    return undefined;
  }
  return `${m[1]}/${m[2]}`;
}

/** Driver: list + watch this host's block affinities; re-lists after the watch ends. */
export function watchHostBlocks(kv: KVStore, opts: { nodeName: string; onBlocks(cidrs: string[]): void; log: Logger }): { stop(): void } {
  const prefix = `/calico/ipam/v2/host/${opts.nodeName}/`;
  const current = new Map<string, string>();
  let watch: KVWatch | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const publish = () => opts.onBlocks([...current.values()]);
  const start = async (): Promise<void> => {
    try {
      const listed = await kv.list(prefix);
      current.clear();
      for (const p of listed.pairs) {
        const b = blockFromAffinity(p.key, p.value);
        if (b) current.set(p.key, b);
      }
      publish();
      if (stopped) return;
      watch = kv.watch(prefix, listed.revision + 1, {
        onEvents: (events) => {
          for (const e of events) {
            const b = e.type === 'put' ? blockFromAffinity(e.kv.key, e.kv.value) : undefined;
            const key = e.type === 'put' ? e.kv.key : e.key;
            if (b) current.set(key, b);
            else current.delete(key);
          }
          publish();
        },
        onError: (err) => {
          opts.log.warning('IPAM block watch ended; re-listing', { error: err });
          again();
        },
      });
    } catch (err) {
      opts.log.warning('IPAM block list failed; retrying', { error: err as Error });
      again();
    }
  };
  const again = () => {
    if (stopped) return;
    retry = setTimeout(() => void start(), 1000);
  };
  void start();
  return {
    stop: () => {
      stopped = true;
      if (retry) clearTimeout(retry);
      watch?.cancel();
    },
  };
}
