// bin/calico-node's actions other than running the agent: help, version, the
// readiness/liveness probes, node status, and the start-up routine alone.
// Process concerns (real ports: fetch, birdc, the file system); the decisions
// are in cli.ts, probes.ts and startup.ts.
import { stat } from 'node:fs/promises';
import { CALICO_TS_VERSION } from '../base/version.js';
import { birdc } from '../bgp/bird-process.js';
import { formatNodeStatus, parseBirdProtocols } from '../bgp/status.js';
import { birdPaths } from '../bgp/supervisor.js';
import type { Datastore } from '../datastore/datastore.js';
import type { Exec } from '../dataplane/ports.js';
import { usageText } from './cli.js';
import type { NodeInvocation } from './cli.js';
import type { Env, NodeConfig } from './config.js';
import { linuxStartupHost, writeNodenameFile } from './host.js';
import type { Logger } from './log.js';
import { runHealthChecks } from './probes.js';
import type { ProbePorts } from './probes.js';
import { runStartup } from './startup.js';

export interface CommandIO {
  env: Env;
  out(line: string): void;
  err(line: string): void;
}

export const linuxProbePorts: ProbePorts = {
  async httpGet(url, timeoutMs) {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.status;
  },
  birdc: (socket, command) => birdc(socket, command),
  async mtime(path) {
    try {
      return (await stat(path)).mtime;
    } catch {
      return undefined;
    }
  },
  now: () => new Date(),
};

/** Runs help / version / health / show-status; returns the exit code. */
export async function runNodeCommand(inv: Exclude<NodeInvocation, { action: 'run' | 'startup' }>, io: CommandIO, ports: ProbePorts = linuxProbePorts): Promise<number> {
  const runDir = io.env.CALICO_RUN_DIR?.trim() || '/var/run/calico';
  switch (inv.action) {
    case 'help':
      io.out(usageText());
      return 0;
    case 'version':
      io.out(`Version:      ${CALICO_TS_VERSION}`);
      io.out(`Git commit:   ${io.env.CALICO_TS_GIT_COMMIT || 'unknown'}`);
      return 0;
    case 'health': {
      const r = await runHealthChecks(inv.checks, { env: io.env, runDir, thresholdMs: inv.thresholdMs, ports });
      io.out(r.line);
      return r.ok ? 0 : 1;
    }
    case 'show-status': {
      const socket = birdPaths(runDir).socket;
      const r = await ports.birdc(socket, ['show', 'protocols', 'all']);
      if (!r.ok) {
        io.err(`Calico process is not running: BIRD does not answer on ${socket} (CALICO_RUN_DIR=${runDir}).`);
        return 1;
      }
      io.out(formatNodeStatus(parseBirdProtocols(r.text), { today: ports.now().toISOString().slice(0, 10) }).replace(/\n+$/, ''));
      return 0;
    }
  }
}

/** `calico-node -startup`: the start-up routine (Node, default pools, ClusterInformation), then exit. */
export async function runStartupOnly(opts: { datastore: Datastore; config: NodeConfig; log: Logger; exec: Exec }): Promise<void> {
  const { config, log } = opts;
  log.info('calico-node start-up routine only (-startup)', { nodeName: config.nodeName });
  await runStartup({ datastore: opts.datastore, config, log, host: linuxStartupHost(opts.exec), calicoVersion: CALICO_TS_VERSION });
  await writeNodenameFile(config.runDir, config.nodeName);
  log.info('start-up routine done', { nodeName: config.nodeName });
}
