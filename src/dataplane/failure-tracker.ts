// The apply loop's per-object status: every kernel object that failed to
// apply (a chain, set or verdict map, a route, a neighbour entry, an
// interface's sysctls, a conntrack flush, the read-backs, the other backend's
// cleanup) has its own entry, named by a typed reference, with its attempts,
// last error, since when it fails and when it is retried (exponential
// backoff), while the other objects go on (STYLE.md: small blast radius; the
// shape follows cilium/statedb's reconciler, whose objects carry a status).
// Every failure is counted per kind and logged. A policy object that keeps
// failing is fatal: a chain or set we cannot write may be the one that should
// deny, and running on would be running open.

import { DataplaneFatalError } from './errors.js';
import type { Clock } from './ports.js';

export type FailureKind = 'policy' | 'route' | 'neighbor' | 'sysctl' | 'conntrack' | 'cleanup';

/** What a dataplane object is; a reference is a kind and a name (empty for the one-of-a-kind objects). */
export type ObjectKind = 'chain' | 'set' | 'map' | 'kernel-read' | 'route' | 'routes-read' | 'neighbor' | 'neighbors-read' | 'sysctl' | 'conntrack' | 'cleanup';
export interface ObjectRef {
  readonly kind: ObjectKind;
  /** Chain/set/map name, route destination, neighbour address, interface ('host' for the host-wide sysctls), conntrack address. */
  readonly name: string;
}

const FAILURE_KIND: Record<ObjectKind, FailureKind> = {
  chain: 'policy', set: 'policy', map: 'policy', 'kernel-read': 'policy',
  route: 'route', 'routes-read': 'route', neighbor: 'neighbor', 'neighbors-read': 'neighbor',
  sysctl: 'sysctl', conntrack: 'conntrack', cleanup: 'cleanup',
};

export const objectRef = (kind: ObjectKind, name = ''): ObjectRef => ({ kind, name });

/** A policy backend's object name (what PolicyBackend.diff returns) as a reference. */
export function policyObject(name: string, isSet: (name: string) => boolean): ObjectRef {
  return { kind: isSet(name) ? 'set' : /-map\d*$/.test(name) ? 'map' : 'chain', name };
}

/**
 * How a reference reads in logs and in ApplyLoop.failing(): policy objects
 * by their kernel name, one-of-a-kind objects by their kind, the others as
 * `<kind>:<name>` (e.g. `route:198.18.1.2`).
 */
export function objectLabel(ref: ObjectRef): string {
  if (ref.kind === 'chain' || ref.kind === 'set' || ref.kind === 'map') return ref.name;
  return ref.name ? `${ref.kind}:${ref.name}` : ref.kind;
}

/** One failing object's status. */
export interface ObjectStatus {
  ref: ObjectRef;
  kind: FailureKind;
  attempts: number;
  error: string;
  /** Clock time of the first failure in this run of failures. */
  since: number;
  retryAt: number;
}
export type LogFn = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface Backoff {
  initialMs: number;
  maxMs: number;
  /** Failures of one policy object after which the loop gives up (fatal). */
  maxPolicyAttempts: number;
}

export interface FailureTrackerOptions {
  clock: Clock;
  backoff: Backoff;
  /** Counted into `metrics.failures[kind]` (the apply loop's metrics object). */
  metrics: { failures: Record<FailureKind, number> };
  log: LogFn;
  /** Names the policy backend in the fatal error. */
  backendName: string;
}

const keyOf = (ref: ObjectRef) => `${ref.kind}\u0000${ref.name}`;

export class FailureTracker {
  private readonly failures = new Map<string, ObjectStatus>();

  constructor(private readonly opts: FailureTrackerOptions) {}

  /** The object failed and its retry time has not come yet: leave it alone this round. */
  inBackoff(ref: ObjectRef): boolean {
    const f = this.failures.get(keyOf(ref));
    return f !== undefined && f.retryAt > this.opts.clock.now();
  }

  /** Counts, logs and backs off the object; throws DataplaneFatalError when a policy object has failed too often. */
  recordFailure(ref: ObjectRef, err: unknown): void {
    const key = keyOf(ref);
    const prev = this.failures.get(key);
    const kind = FAILURE_KIND[ref.kind];
    const attempts = (prev?.attempts ?? 0) + 1;
    const { initialMs, maxMs, maxPolicyAttempts } = this.opts.backoff;
    const delay = Math.min(initialMs * 2 ** (attempts - 1), maxMs);
    const error = err instanceof Error ? err.message : String(err);
    const now = this.opts.clock.now();
    this.failures.set(key, { ref, kind, attempts, error, since: prev?.since ?? now, retryAt: now + delay });
    this.opts.metrics.failures[kind]++;
    const object = objectLabel(ref);
    this.opts.log('warn', 'dataplane object failed; will retry', { object, objectKind: ref.kind, kind, attempts, retryInMs: delay, error });
    if (kind === 'policy' && attempts >= maxPolicyAttempts) {
      throw new DataplaneFatalError(`${this.opts.backendName} object ${object} failed ${attempts} times: ${error}`, err);
    }
  }

  /** The object is right now (or no longer wanted): forget its failures and backoff. */
  clear(ref: ObjectRef): void {
    this.failures.delete(keyOf(ref));
  }

  /** The failing objects of these kinds (all when omitted); a copy, so entries may be cleared while walking it. */
  refs(kinds?: readonly ObjectKind[]): ObjectRef[] {
    return [...this.failures.values()].filter((f) => kinds === undefined || kinds.includes(f.ref.kind)).map((f) => f.ref);
  }

  has(kind: FailureKind): boolean {
    return [...this.failures.values()].some((f) => f.kind === kind);
  }

  /** When the earliest backoff ends (undefined: nothing is failing). */
  nextRetryAt(): number | undefined {
    return this.failures.size ? Math.min(...[...this.failures.values()].map((f) => f.retryAt)) : undefined;
  }

  /** Every failing object's status, oldest failure first. */
  statuses(): ObjectStatus[] {
    return [...this.failures.values()].map((f) => ({ ...f })).sort((a, b) => a.since - b.since);
  }

  /** Failing objects (label -> kind, attempts), for status and tests. */
  snapshot(): Map<string, { kind: FailureKind; attempts: number }> {
    return new Map([...this.failures.values()].map((f) => [objectLabel(f.ref), { kind: f.kind, attempts: f.attempts }]));
  }
}
