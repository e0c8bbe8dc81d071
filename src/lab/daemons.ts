// Starts the lab's long-running processes inside its namespaces: etcd in the
// management namespace, BIRD in every router. Each is detached, logs to the
// lab's state directory and is stopped by `down` (which kills everything in
// the lab's namespaces, so a crashed `up` leaves nothing running either).
import { spawn } from 'node:child_process';
import { openSync, closeSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabPlan, RouterPlan } from './plan.js';
import { renderRouterConfig } from './router-config.js';
import { inNetns, type Shell } from './shell.js';

export interface StartOptions {
  stateDir: string;
  env?: Record<string, string>;
}

/** Runs argv inside `ns`, detached, stdout+stderr appended to `<stateDir>/logs/<name>.log`. */
export function startDetached(ns: string, name: string, argv: string[], opts: StartOptions): number {
  const logs = join(opts.stateDir, 'logs');
  mkdirSync(logs, { recursive: true });
  return spawnLogged(['ip', 'netns', 'exec', ns, ...argv], join(logs, `${name}.log`), opts.env);
}

/**
 * Runs argv detached from this process (it outlives `calico-lab up`),
 * stdout+stderr appended to `logFile`. Returns its pid.
 */
export function spawnLogged(argv: string[], logFile: string, env: Record<string, string> = {}): number {
  const fd = openSync(logFile, 'a');
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
  closeSync(fd);
  child.unref();
  return child.pid ?? -1;
}

/** Whether a process is still there (a zombie of ours counts as gone). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopPid(pid: number, graceMs = 10_000): Promise<void> {
  if (pid <= 0 || !alive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  try {
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
  while (alive(pid)) await new Promise((r) => setTimeout(r, 50));
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function startEtcd(shell: Shell, plan: LabPlan, stateDir: string): Promise<void> {
  const dataDir = join(stateDir, 'etcd');
  mkdirSync(dataDir, { recursive: true });
  startDetached(
    plan.etcd.ns,
    'etcd',
    [
      'etcd',
      '--name', 'lab',
      '--data-dir', dataDir,
      '--listen-client-urls', plan.etcd.clientURL,
      '--advertise-client-urls', plan.etcd.clientURL,
      '--listen-peer-urls', plan.etcd.peerURL,
      '--initial-advertise-peer-urls', plan.etcd.peerURL,
      '--initial-cluster', `lab=${plan.etcd.peerURL}`,
      '--log-level', 'warn',
    ],
    { stateDir },
  );
  await waitFor(
    'etcd',
    async () => (await shell.run(inNetns(plan.etcd.ns, ['etcdctl', '--endpoints', plan.etcd.clientURL, 'endpoint', 'health']), { allowFail: true })).code === 0,
    30_000,
  );
}

export function routerPaths(stateDir: string, router: RouterPlan): { config: string; socket: string; pid: string } {
  const dir = join(stateDir, 'routers', router.ns);
  return { config: join(dir, 'bird.conf'), socket: join(dir, 'bird.ctl'), pid: join(dir, 'bird.pid') };
}

export async function startRouter(shell: Shell, router: RouterPlan, stateDir: string): Promise<void> {
  const paths = routerPaths(stateDir, router);
  mkdirSync(join(paths.config, '..'), { recursive: true });
  writeFileSync(paths.config, renderRouterConfig(router));
  await shell.run(['bird', '-p', '-c', paths.config]);
  startDetached(router.ns, `bird-${router.ns}`, ['bird', '-f', '-c', paths.config, '-s', paths.socket, '-P', paths.pid], { stateDir });
  await waitFor(`BIRD in ${router.ns}`, async () => (await shell.run(['birdc', '-s', paths.socket, 'show', 'status'], { allowFail: true })).code === 0, 15_000);
}
