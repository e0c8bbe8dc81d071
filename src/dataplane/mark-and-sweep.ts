// One reconcile step for kernel objects we own and key by one field (routes by
// destination, static neighbours by address): read ours once into a view,
// delete ours that are no longer wanted (or sit on another device), write only
// the wanted entries that differ, and keep per-object failures with backoff.
// The apply loop owns the view and the failure book; this only decides and
// calls the port.
export interface FailureBook {
  inBackoff(key: string): boolean;
  record(key: string, err: unknown): void;
  clear(key: string): void;
  /** Keys currently failing (to forget objects no longer wanted). */
  keys(): string[];
}

export interface SweepPort<T> {
  /** Failure key prefix of one object, e.g. `route:`. */
  prefix: string;
  /** Failure key of reading the kernel's view, e.g. `routes-read`. */
  readKey: string;
  key(item: T): string;
  /** Whether `have` must go before `want` is written (absent from desired, or on another device). */
  stale(have: T, want: T | undefined): boolean;
  same(have: T | undefined, want: T): boolean;
  read(): Promise<T[]>;
  /** Keys that could not be removed. */
  remove(items: T[]): Promise<Set<string>>;
  /** Keys that could not be written, with the error. */
  replace(items: T[]): Promise<Map<string, unknown>>;
}

/** Returns the view (read on first use; undefined when the read failed and was recorded). */
export async function markAndSweep<T>(view: Map<string, T> | undefined, desiredList: T[], port: SweepPort<T>, failures: FailureBook): Promise<Map<string, T> | undefined> {
  if (!view) {
    try {
      view = new Map((await port.read()).map((x) => [port.key(x), x]));
      failures.clear(port.readKey);
    } catch (err) {
      failures.record(port.readKey, err);
      return undefined;
    }
  }
  const desired = new Map(desiredList.map((x) => [port.key(x), x]));
  const toRemove = [...view.values()].filter((x) => port.stale(x, desired.get(port.key(x))));
  const toReplace = [...desired.values()].filter((x) => !port.same(view!.get(port.key(x)), x) && !failures.inBackoff(port.prefix + port.key(x)));
  for (const key of failures.keys()) {
    if (key.startsWith(port.prefix) && !desired.has(key.slice(port.prefix.length))) failures.clear(key);
  }
  if (toRemove.length) {
    const bad = await port.remove(toRemove);
    for (const x of toRemove) if (!bad.has(port.key(x))) view.delete(port.key(x));
  }
  if (toReplace.length) {
    const bad = await port.replace(toReplace);
    for (const x of toReplace) {
      const k = port.key(x);
      if (bad.has(k)) failures.record(port.prefix + k, bad.get(k));
      else {
        view.set(k, x);
        failures.clear(port.prefix + k);
      }
    }
  }
  return view;
}
