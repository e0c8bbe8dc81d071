// Runs bin/calico-lab (the real CLI) for the end-to-end suite, with its state
// in a temporary directory so the suite never meets a lab a person started.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = new URL('../../../', import.meta.url).pathname;
export const STATE = mkdtempSync(join(tmpdir(), 'calico-lab-e2e-'));
export const LAB = 'e2e';
export const PREFIX = 'cts-e2e-';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function lab(args: string[], opts: { timeoutMs?: number } = {}): Run {
  const r = spawnSync(join(ROOT, 'bin/calico-lab'), args, {
    encoding: 'utf8',
    env: { ...process.env, CALICO_LAB_DIR: STATE, CALICO_LAB_NAME: LAB },
    timeout: opts.timeoutMs ?? 240_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** A command inside one of the lab's namespaces (host, router or workload by its topology name). */
export function inLab(target: string, argv: string[], timeoutMs = 30_000): Run {
  return lab(['exec', target, '--', ...argv], { timeoutMs });
}

export function calicoctl(args: string[], input?: string): Run {
  const r = spawnSync('ip', ['netns', 'exec', `${PREFIX}mgmt`, join(ROOT, 'bin/calicoctl'), ...args], {
    encoding: 'utf8',
    input,
    env: { ...process.env, ETCD_ENDPOINTS: 'http://198.18.255.1:2379', DATASTORE_TYPE: 'etcdv3' },
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export function labNamespaces(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return (r.stdout ?? '').split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(PREFIX));
}

export function workloads(): { name: string; addresses: string[]; host: string; interfaceName: string }[] {
  return JSON.parse(readFileSync(join(STATE, LAB, 'workloads.json'), 'utf8'));
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns the last result. */
export async function eventually(check: () => boolean, timeoutMs: number, stepMs = 500): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Mount lines (/proc/self/mounts) under a lab's state directory. */
export function mountsUnder(state: string): string[] {
  return readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.includes(state));
}

/** What `calico-lab down` must leave: no namespace with the lab's prefix, no process naming its state directory, no mount under it. */
export function assertLabGone(state: string, namespacePrefix: string): void {
  const namespaces = (spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '').split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(namespacePrefix));
  if (namespaces.length) throw new Error(`down leaves no namespace; left: ${namespaces.join(', ')}`);
  const left = spawnSync('pgrep', ['-af', state], { encoding: 'utf8' }).stdout.trim();
  if (left) throw new Error(`down leaves no process of the lab; left:\n${left}`);
  const mounts = mountsUnder(state);
  if (mounts.length) throw new Error(`down leaves no mount; left:\n${mounts.join('\n')}`);
}
