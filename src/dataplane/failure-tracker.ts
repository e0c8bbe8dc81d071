// The apply loop's bookkeeping of objects that failed to apply: one entry per
// object key (a chain or set name, `route:<dst>`, `neighbor:<ip>`,
// `sysctl:<iface>`, `conntrack:<ip>`, `cleanup`, ...), retried with
// exponential backoff while the other objects go on (STYLE.md: small blast
// radius). Every failure is counted per kind and logged. A policy object that
// keeps failing is fatal: a chain or set we cannot write may be the one that
// should deny, and running on would be running open.

import { DataplaneFatalError } from './errors.js';
import type { Clock } from './ports.js';

export type FailureKind = 'policy' | 'route' | 'neighbor' | 'sysctl' | 'conntrack' | 'cleanup';
export type LogFn = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface Backoff {
  initialMs: number;
  maxMs: number;
  /** Failures of one policy object after which the loop gives up (fatal). */
  maxPolicyAttempts: number;
}

interface Failure {
  kind: FailureKind;
  attempts: number;
  retryAt: number;
  error: string;
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

export class FailureTracker {
  private readonly failures = new Map<string, Failure>();

  constructor(private readonly opts: FailureTrackerOptions) {}

  /** The object failed and its retry time has not come yet: leave it alone this round. */
  inBackoff(key: string): boolean {
    const f = this.failures.get(key);
    return f !== undefined && f.retryAt > this.opts.clock.now();
  }

  /** Counts, logs and backs off the object; throws DataplaneFatalError when a policy object has failed too often. */
  recordFailure(key: string, kind: FailureKind, err: unknown): void {
    const prev = this.failures.get(key);
    const attempts = (prev?.attempts ?? 0) + 1;
    const { initialMs, maxMs, maxPolicyAttempts } = this.opts.backoff;
    const delay = Math.min(initialMs * 2 ** (attempts - 1), maxMs);
    const error = err instanceof Error ? err.message : String(err);
    this.failures.set(key, { kind, attempts, retryAt: this.opts.clock.now() + delay, error });
    this.opts.metrics.failures[kind]++;
    this.opts.log('warn', 'dataplane object failed; will retry', { object: key, kind, attempts, retryInMs: delay, error });
    if (kind === 'policy' && attempts >= maxPolicyAttempts) {
      throw new DataplaneFatalError(`${this.opts.backendName} object ${key} failed ${attempts} times: ${error}`, err);
    }
  }

  /** The object is right now (or no longer wanted): forget its failures and backoff. */
  clear(key: string): void {
    this.failures.delete(key);
  }

  /** Keys of the failing objects (of one kind, if given); a copy, so entries may be cleared while walking it. */
  keys(kind?: FailureKind): string[] {
    return [...this.failures].filter(([, f]) => kind === undefined || f.kind === kind).map(([k]) => k);
  }

  has(kind: FailureKind): boolean {
    return [...this.failures.values()].some((f) => f.kind === kind);
  }

  /** When the earliest backoff ends (undefined: nothing is failing). */
  nextRetryAt(): number | undefined {
    return this.failures.size ? Math.min(...[...this.failures.values()].map((f) => f.retryAt)) : undefined;
  }

  /** Failing objects (key -> kind, attempts), for status and tests. */
  snapshot(): Map<string, { kind: FailureKind; attempts: number }> {
    return new Map([...this.failures].map(([k, f]) => [k, { kind: f.kind, attempts: f.attempts }]));
  }
}
