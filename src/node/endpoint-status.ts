// calico-node's half of the endpoint-status contract with the CNI plugin
// (Felix's endpoint status files): once a local WorkloadEndpoint's policy,
// routes and the rest are in the kernel, a file named after the endpoint
// (src/cni/names.ts endpointStatusFilename) appears in
// <endpointStatusPathPrefix>/endpoint-status; it goes when the endpoint does.
// The plugin's ADD waits for it (policy_setup_timeout_seconds), so no workload
// starts before its policy exists.
//
// A decorator of the Dataplane port: it sees the calc updates going in and
// the apply loop's round counter coming out. An update recorded while no
// round runs is in the kernel once one more round has finished; one recorded
// during a round (which compiled its input before) needs the round after.
// Only a healthy dataplane with no pending failures reports anything.
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CalcUpdate, WorkloadEndpointState } from '../calc/output.js';
import { endpointStatusFilename } from '../cni/names.js';
import type { Clock } from '../dataplane/ports.js';
import type { Dataplane, DataplaneStatus } from './dataplane.js';

/** The status directory as a port: write (atomically), remove, list. */
export interface StatusFiles {
  write(name: string, content: string): void;
  remove(name: string): void;
  list(): string[];
}

interface Pending {
  endpoint?: WorkloadEndpointState;
  /** Rounds the loop must have finished before this is in the kernel. */
  doneAfter: number;
}

export class EndpointStatusReporter implements Dataplane {
  private readonly pending = new Map<string, Pending>();
  /** Endpoint id -> file name, for every local endpoint that exists now. */
  private readonly known = new Map<string, string>();
  private timer: unknown;
  private resynced = false;
  private stopped = false;

  constructor(
    private readonly inner: Dataplane,
    private readonly opts: { files: StatusFiles; clock: Clock; pollMs?: number; log?: (msg: string, fields?: Record<string, unknown>) => void },
  ) {}

  apply(updates: CalcUpdate[]): void {
    const before = this.inner.status();
    // The round running now compiled its input already: it does not carry these updates.
    const doneAfter = (before.metrics?.rounds ?? 0) + (before.state === 'applying' ? 2 : 1);
    this.inner.apply(updates);
    for (const u of updates) {
      if (u.type === 'workloadEndpointUpserted') {
        const file = endpointStatusFilename({ namespace: u.endpoint.namespace, name: u.endpoint.name });
        if (!file) continue;
        this.known.set(u.endpoint.id, file);
        this.pending.set(u.endpoint.id, { endpoint: u.endpoint, doneAfter });
      } else if (u.type === 'workloadEndpointRemoved') {
        if (!this.known.has(u.id)) continue;
        this.pending.set(u.id, { doneAfter });
      }
    }
    this.schedule();
  }

  status(): DataplaneStatus {
    return this.inner.status();
  }

  reconcileNow(): void {
    this.inner.reconcileNow?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.opts.clock.clearTimer(this.timer);
    this.timer = undefined;
    await this.inner.stop();
  }

  private schedule(): void {
    if (this.stopped || this.timer !== undefined || this.pending.size === 0) return;
    this.timer = this.opts.clock.setTimer(this.opts.pollMs ?? 50, () => {
      this.timer = undefined;
      this.report();
      this.schedule();
    });
  }

  /** Writes and removes the files whose endpoints the kernel now reflects. Exposed for tests with a fake clock. */
  report(): void {
    const s = this.inner.status();
    if (!s.healthy || !s.programmed || s.pendingFailures > 0) return;
    const rounds = s.metrics?.rounds ?? 0;
    if (!this.resynced) {
      // Files from an earlier run for endpoints that are gone now.
      const wanted = new Set(this.known.values());
      for (const f of this.opts.files.list()) if (!wanted.has(f)) this.tryRemove(f);
      this.resynced = true;
    }
    for (const [id, p] of this.pending) {
      if (rounds < p.doneAfter) continue;
      const file = this.known.get(id)!;
      if (p.endpoint) {
        const e = p.endpoint;
        try {
          this.opts.files.write(file, JSON.stringify({ ifaceName: e.interfaceName, mac: e.mac ?? '', ipv4Nets: e.ipv4Nets, ipv6Nets: e.ipv6Nets, profiles: e.profileIds }) + '\n');
        } catch (err) {
          this.opts.log?.('cannot write endpoint status file; will retry', { file, error: (err as Error).message });
          continue;
        }
      } else {
        this.tryRemove(file);
        this.known.delete(id);
      }
      this.pending.delete(id);
    }
  }

  private tryRemove(file: string): void {
    try {
      this.opts.files.remove(file);
    } catch {
      // already gone
    }
  }
}

/** The real status directory; a file is written whole (temp + rename), so a reader never sees half of it. */
export function statusDirectory(dir: string): StatusFiles {
  return {
    write: (name, content) => {
      mkdirSync(dir, { recursive: true });
      const tmp = join(dir, `.${name}.tmp`);
      writeFileSync(tmp, content);
      renameSync(tmp, join(dir, name));
    },
    remove: (name) => rmSync(join(dir, name), { force: true }),
    list: () => {
      try {
        return readdirSync(dir).filter((f) => !f.startsWith('.'));
      } catch {
        return [];
      }
    },
  };
}

/**
 * Where status files go: FelixConfiguration endpointStatusPathPrefix (empty
 * turns them off), by default CALICO_RUN_DIR (so each node of the lab has
 * its own), plus `endpoint-status`.
 */
export function endpointStatusDir(prefix: unknown, runDir: string): string | undefined {
  if (prefix === '') return undefined;
  return join(typeof prefix === 'string' ? prefix : runDir, 'endpoint-status');
}
