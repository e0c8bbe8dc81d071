// The readiness / liveness probes behind `calico-node -felix-ready` etc., as
// calico/node's health package runs them (node/pkg/health):
//   -felix-live / -felix-ready  GET /liveness or /readiness on
//                               FELIX_HEALTHHOST (localhost):FELIX_HEALTHPORT (9099);
//                               a 2xx/3xx answer is ok
//   -bird-live / -bird6-live    BIRD answers `show status` on its control socket
//   -bird-ready / -bird6-ready  that family's BGP sessions (mesh, global, node,
//                               route reflector): none configured is ready; within
//                               -threshold-time of calico-node's start-up every one
//                               must be Established and no graceful restart may be
//                               running; after it, one Established session is enough
// One BIRD 2 serves both families here, so the bird6 probes ask the same socket
// and look at the IPv6 sessions. Start-up time is the modification time of
// <CALICO_RUN_DIR>/nodename, which calico-node writes when it starts (calico/node
// uses /var/lib/calico/nodename the same way).
// Pure apart from the ProbePorts (commands.ts has the real ones).
import { join } from 'node:path';
import type { IPFamily } from '../base/ip.js';
import { parseBirdProtocols } from '../bgp/status.js';
import type { BgpSession } from '../bgp/status.js';
import { birdPaths } from '../bgp/supervisor.js';
import type { HealthCheck } from './cli.js';
import { UsageError } from './cli.js';

export interface ProbePorts {
  /** GET `url`: the HTTP status, or a rejection with the connection error. */
  httpGet(url: string, timeoutMs: number): Promise<number>;
  /** `birdc -s <socket> <command...>`; ok false when BIRD does not answer. */
  birdc(socket: string, command: string[]): Promise<{ ok: boolean; text: string }>;
  /** A file's modification time, or undefined when it does not exist. */
  mtime(path: string): Promise<Date | undefined>;
  now(): Date;
}

export interface ProbeResult {
  ok: boolean;
  /** One line: the first failure in flag order, or what was checked. */
  line: string;
}

export const nodenameFile = (runDir: string) => join(runDir, 'nodename');

/** calico/node's probe URL: FELIX_HEALTHHOST / FELIX_HEALTHPORT from the environment, not the datastore. */
export function felixHealthURL(env: Record<string, string | undefined>, kind: 'liveness' | 'readiness'): string {
  const port = env.FELIX_HEALTHPORT || '9099';
  if (!/^[0-9]+$/.test(port) || Number(port) > 65535) throw new UsageError(`FELIX_HEALTHPORT="${port}" is not a port number`);
  const host = env.FELIX_HEALTHHOST || 'localhost';
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/${kind}`;
}

/** BGP sessions calico-node configured (not other BGP protocols) of one family. */
const peersOf = (sessions: BgpSession[], family: IPFamily) => sessions.filter((s) => s.type !== 'other' && s.family === family);
const established = (s: BgpSession) => s.bgpState === 'Established' || /^Established\b/.test(s.info);

/** calico/node's checkBIRDReady decision. Pure. */
export function birdReadiness(sessions: BgpSession[], opts: { family: IPFamily; sinceStartMs: number; thresholdMs: number; gracefulRestart: boolean }): { ready: boolean; reason: string } {
  const peers = peersOf(sessions, opts.family);
  const down = peers.filter((s) => !established(s)).map((s) => s.peerAddress);
  const up = peers.length - down.length;
  if (peers.length === 0) return { ready: true, reason: 'no BGP peers' };
  if (opts.sinceStartMs < opts.thresholdMs) {
    // Just started: all sessions up, so a rolling restart waits for BGP.
    if (down.length) return { ready: false, reason: `BGP not established with ${down.join(',')}` };
    if (opts.gracefulRestart) return { ready: false, reason: 'graceful restart in progress' };
    return { ready: true, reason: `${up} BGP session(s) established` };
  }
  // Later: one session is enough, so nodes going down elsewhere do not make the whole mesh unready.
  if (up > 0) return { ready: true, reason: `${up} of ${peers.length} BGP session(s) established` };
  return { ready: false, reason: `BGP not established with ${down.join(',')}` };
}

const refusedHint = (err: Error) =>
  /ECONNREFUSED|fetch failed/.test(`${err.message} ${String((err as { cause?: unknown }).cause ?? '')}`) ? ' (is calico-node running with FELIX_HEALTHENABLED=true?)' : '';

function errorText(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message;
}

async function felixCheck(ports: ProbePorts, url: string, kind: 'liveness' | 'readiness', timeoutMs: number): Promise<string | undefined> {
  try {
    const status = await ports.httpGet(url, timeoutMs);
    return status >= 200 && status < 400 ? undefined : `${kind} probe reporting ${status}`;
  } catch (err) {
    return `GET ${url}: ${errorText(err)}${refusedHint(err as Error)}`;
  }
}

async function birdLive(ports: ProbePorts, socket: string): Promise<string | undefined> {
  const r = await ports.birdc(socket, ['show', 'status']);
  if (!r.ok) return `BIRD does not answer on ${socket}: ${r.text.trim().split('\n')[0] ?? ''}`.trim();
  return /^(\d{4}[- ])?BIRD\b/.test(r.text.trimStart()) ? undefined : `bad response from BIRD: ${r.text.trim().split('\n')[0]}`;
}

async function birdReady(ports: ProbePorts, opts: { socket: string; runDir: string; family: IPFamily; thresholdMs: number }): Promise<{ error?: string; reason?: string }> {
  const file = nodenameFile(opts.runDir);
  const started = await ports.mtime(file);
  if (!started) return { error: `failed to stat() nodename file ${file} (calico-node writes it at start-up: is it running with this CALICO_RUN_DIR?)` };
  const protocols = await ports.birdc(opts.socket, ['show', 'protocols', 'all']);
  if (!protocols.ok) return { error: `error querying BIRD: unable to connect to BIRDv${opts.family} socket ${opts.socket}` };
  const status = await ports.birdc(opts.socket, ['show', 'status']);
  if (!status.ok) return { error: `error querying BIRD: unable to connect to BIRDv${opts.family} socket ${opts.socket}` };
  const d = birdReadiness(parseBirdProtocols(protocols.text), {
    family: opts.family,
    sinceStartMs: ports.now().getTime() - started.getTime(),
    thresholdMs: opts.thresholdMs,
    gracefulRestart: /Graceful restart recovery in progress/.test(status.text),
  });
  return d.ready ? { reason: d.reason } : { error: d.reason };
}

/** Runs the checks in flag order; the first failure is the answer (calico/node reports the first error too). */
export async function runHealthChecks(checks: HealthCheck[], opts: { env: Record<string, string | undefined>; runDir: string; thresholdMs: number; ports: ProbePorts }): Promise<ProbeResult> {
  const socket = birdPaths(opts.runDir).socket;
  const oks: string[] = [];
  const timeoutMs = Math.max(opts.thresholdMs, 1000);
  for (const check of checks) {
    let error: string | undefined;
    let label: string;
    switch (check) {
      case 'felix-live':
        label = 'Felix is live';
        error = await felixCheck(opts.ports, felixHealthURL(opts.env, 'liveness'), 'liveness', timeoutMs);
        if (error) error = `Felix is not live: ${error}`;
        break;
      case 'felix-ready':
        label = 'Felix is ready';
        error = await felixCheck(opts.ports, felixHealthURL(opts.env, 'readiness'), 'readiness', timeoutMs);
        if (error) error = `felix is not ready: ${error}`;
        break;
      case 'bird-live':
      case 'bird6-live': {
        const name = check === 'bird-live' ? 'bird' : 'bird6';
        label = `${name} is live`;
        error = await birdLive(opts.ports, socket);
        if (error) error = `${name} is not live: ${error}`;
        break;
      }
      case 'bird-ready':
      case 'bird6-ready': {
        const family = check === 'bird-ready' ? 4 : 6;
        const name = family === 4 ? 'BIRD' : 'BIRD6';
        const r = await birdReady(opts.ports, { socket, runDir: opts.runDir, family, thresholdMs: opts.thresholdMs });
        label = `${name} is ready (${r.reason ?? ''})`;
        if (r.error) error = `${name} is not ready: ${r.error}`;
        break;
      }
    }
    if (error) return { ok: false, line: `calico/node is not ready: ${error}` };
    oks.push(label);
  }
  return { ok: true, line: `calico/node is ${checks.some((c) => c.endsWith('-ready')) ? 'ready' : 'live'}: ${oks.join('; ')}` };
}
