// Polling for kernel and e2e tests: the kernel, BIRD and calico-node settle
// asynchronously, so a test waits for a condition instead of sleeping a guess.

/**
 * Polls `fn` until it returns something other than undefined or false (a
 * throw counts as "not yet") and returns that; fails naming `what` after
 * `timeoutMs`.
 */
export async function eventually<T>(what: string, fn: () => T | undefined | false, timeoutMs = 30_000, intervalMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    let v: T | undefined | false;
    try {
      v = fn();
    } catch {
      v = undefined;
    }
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
