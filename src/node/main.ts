// bin/calico-node entry point: process concerns only (flags, environment,
// signals, Linux drivers, HTTP). Everything it wires is in agent.ts; flags are
// cli.ts, the non-agent actions (help, version, probes, -startup) commands.ts.
//   NODENAME, IP/IP6 (address | autodetect | none), IP_AUTODETECTION_METHOD, AS,
//   CALICO_NETWORKING_BACKEND, CALICO_RUN_DIR, CALICO_IPV4POOL_* / CALICO_IPV6POOL_*,
//   NO_DEFAULT_POOLS, CLUSTER_TYPE, DATASTORE_TYPE / ETCD_*, FELIX_*.
// Exit codes: 0 graceful stop (or a passing probe), 1 dataplane failure that could leave
// traffic open (or a failing probe), 2 bad flags or configuration, 3 start-up failure.
import { hostname } from 'node:os';
import { loadDatastoreConfig, openDatastore } from '../datastore/open-datastore.js';
import { isCalicoError } from '../base/errors.js';
import { LinuxExec } from '../dataplane/linux/exec.js';
import { linuxPorts } from '../dataplane/linux/drivers.js';
import { systemClock } from '../dataplane/linux/clock.js';
import { linuxStartupHost, writeNodenameFile } from './host.js';
import { parseNodeArgs, usageText } from './cli.js';
import { runNodeCommand, runStartupOnly } from './commands.js';
import { CalicoNode } from './agent.js';
import { dataplaneConfigFrom, dataplaneKeyFrom, nodeConfigFromEnv, policyBackendFrom, refreshIntervalsFrom } from './config.js';
import type { FelixSettings } from './config.js';
import { ApplyLoopDataplane, type Dataplane } from './dataplane.js';
import { EndpointStatusReporter, endpointStatusDir, statusDirectory } from './endpoint-status.js';
import { startHttpEndpoints } from './health-server.js';
import type { HttpEndpoint } from './health-server.js';
import { createLogger, parseLogLevel } from './log.js';
import { flowLogsKeyFrom, makeLinuxFlowLogs } from './flow-logs.js';
import { join } from 'node:path';
import { BgpAgent } from '../bgp/agent.js';
import { LinuxXlatKernel } from '../xlat/linux.js';
import { XlatManager } from '../xlat/manager.js';
import { LinuxBirdProcess, nodeConfigFiles, systemClock as bgpClock } from '../bgp/bird-process.js';

const HTTP_FIELDS = new Set(['healthEnabled', 'healthHost', 'healthPort', 'prometheusMetricsEnabled', 'prometheusMetricsHost', 'prometheusMetricsPort']);

function httpEndpointsFrom(s: FelixSettings): HttpEndpoint[] {
  const endpoints: HttpEndpoint[] = [];
  if (s.healthEnabled) endpoints.push({ host: String(s.healthHost ?? 'localhost'), port: Number(s.healthPort), serveHealth: true, serveMetrics: false });
  if (s.prometheusMetricsEnabled) endpoints.push({ host: String(s.prometheusMetricsHost ?? '0.0.0.0') || '0.0.0.0', port: Number(s.prometheusMetricsPort), serveHealth: true, serveMetrics: true });
  return endpoints;
}

async function main(): Promise<number> {
  const env = process.env;
  let invocation;
  try {
    invocation = parseNodeArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`calico-node: ${(err as Error).message}\n\n${usageText()}\n`);
    return 2;
  }
  const io = { env, out: (l: string) => process.stdout.write(l + '\n'), err: (l: string) => process.stderr.write(l + '\n') };
  if (invocation.action !== 'run' && invocation.action !== 'startup') return runNodeCommand(invocation, io);
  // The env level applies from the first line; the effective setting (env > node.<name> > default) once loaded.
  let level = parseLogLevel(env.FELIX_LOGSEVERITYSCREEN);
  const log = createLogger({ level: () => level, sink: (line) => process.stderr.write(line + '\n'), now: () => new Date() });
  let config;
  let datastoreConfig;
  try {
    config = nodeConfigFromEnv(env, hostname());
    datastoreConfig = loadDatastoreConfig({ env });
  } catch (err) {
    log.fatal('invalid configuration', { error: err as Error });
    return 2;
  }
  const datastore = openDatastore(datastoreConfig);
  if (invocation.action === 'startup') {
    try {
      await runStartupOnly({ datastore, config, log, exec: new LinuxExec() });
      return 0;
    } catch (err) {
      log.fatal('start-up routine failed', { error: err as Error });
      return isCalicoError(err, 'validation') ? 2 : 3;
    } finally {
      await datastore.close();
    }
  }
  let exitCode = 0;
  let stopping: Promise<void> | undefined;
  let http: { close(): Promise<void> } | undefined;
  const exec = new LinuxExec();
  // Addresses, can-reach route lookups, IPv6 availability, randomness: read in this network namespace.
  const host = linuxStartupHost(exec);
  const bgpLog = log.child({ component: 'bgp' });
  const bgpLogger = { info: bgpLog.info, warn: bgpLog.warning, error: bgpLog.error };
  const bgp =
    config.networkingBackend === 'bird'
      ? new BgpAgent({
          runDir: config.runDir,
          // BIRD runs in its own session with its log in the run dir, so it
          // outlives this process: a restarted agent adopts it and routing
          // never stops (like the dataplane, which a graceful stop leaves too).
          process: new LinuxBirdProcess({ logger: bgpLogger, logFile: join(config.runDir, 'bird', 'bird.log') }),
          files: nodeConfigFiles,
          clock: bgpClock,
          logger: bgpLogger,
        })
      : undefined;
  const bgpPort = bgp && { update: (inputs: Parameters<BgpAgent['update']>[0]) => bgp.update(inputs), stop: () => bgp.stop({ leaveRunning: true }) };
  // The 464-XLAT translator (docs/design/xlat.md): loaded only once an endpoint of this host is in an address space.
  const xlat = new XlatManager({
    kernel: new LinuxXlatKernel({
      exec,
      pinDir: env.CALICO_BPF_PIN_DIR || `/sys/fs/bpf/calico/xlat/${config.nodeName}`,
      object: env.CALICO_XLAT_OBJECT || new URL('../../bpf/xlat.o', import.meta.url).pathname,
    }),
    clock: systemClock,
    log: log.child({ component: 'xlat' }),
  });
  const node: CalicoNode = new CalicoNode({
    config,
    env,
    datastore,
    log,
    xlat,
    hostAddresses: host.addresses,
    startupHost: host,
    ...(bgpPort ? { bgp: bgpPort } : {}),
    clock: systemClock,
    // bin/calico-node runs node with --expose-gc: the young generation a burst grew goes back once quiet (idle-collector.ts).
    ...(typeof globalThis.gc === 'function' ? { collectYoungGeneration: () => void globalThis.gc!({ type: 'minor' }) } : {}),
    // FelixConfiguration is live: the log level and HTTP endpoints change at once, the dataplane is rebuilt in process.
    onSettings: (settings, changed) => {
      level = parseLogLevel(String(settings.logSeverityScreen));
      if (changed.length && changed.some((f) => HTTP_FIELDS.has(f))) void reconfigureHttp(settings);
    },
    dataplaneKey: dataplaneKeyFrom,
    flowLogsKey: flowLogsKeyFrom,
    makeFlowLogs: (settings, ctx) => makeLinuxFlowLogs(settings, ctx, { nodeName: config.nodeName, log }),
    makeDataplane: (settings) => {
      const dataplane: Dataplane = new ApplyLoopDataplane({
        ports: linuxPorts(exec),
        backend: policyBackendFrom(settings),
        config: dataplaneConfigFrom(settings),
        ...refreshIntervalsFrom(settings),
        clock: systemClock,
        log: (level, msg, fields) => log[level === 'warn' ? 'warning' : level](msg, fields),
        onFatal: (err) => {
          // Running open is worse than not running: stop loudly, the kernel state stays.
          log.fatal('dataplane failure that could leave traffic open; exiting', { error: err });
          exitCode = 1;
          void shutdown().then(() => done());
        },
      });
      // The CNI plugin's wait-for-policy: status files once an endpoint is programmed (endpoint-status.ts).
      const dir = endpointStatusDir(settings.endpointStatusPathPrefix, config.runDir);
      if (!dir) return dataplane;
      log.info('reporting programmed endpoints', { endpointStatusDir: dir });
      return new EndpointStatusReporter(dataplane, { files: statusDirectory(dir), clock: systemClock, log: (msg, fields) => log.warning(msg, fields) });
    },
  });
  // HTTP servers follow the settings; one reconfiguration at a time.
  let httpChain: Promise<void> = Promise.resolve();
  let httpKey = '';
  const reconfigureHttp = (settings: FelixSettings, opts: { initial?: boolean } = {}): Promise<void> =>
    (httpChain = httpChain.then(async () => {
      if (stopping) return;
      const endpoints = httpEndpointsFrom(settings);
      const key = JSON.stringify(endpoints);
      if (key === httpKey) return;
      await http?.close();
      http = undefined;
      httpKey = key;
      if (!endpoints.length) return opts.initial ? undefined : log.info('health and metrics endpoints disabled');
      try {
        http = await startHttpEndpoints(endpoints, node);
        log.info('serving health and metrics', { endpoints: endpoints.map((e) => `${e.host}:${e.port}`) });
      } catch (err) {
        if (opts.initial) throw err; // at start-up, as before: exit 3
        log.error('cannot serve health and metrics with the new settings', { endpoints: endpoints.map((e) => `${e.host}:${e.port}`), error: err as Error });
      }
    }));
  const shutdown = (): Promise<void> =>
    (stopping ??= (async () => {
      await node.stop();
      await httpChain;
      await http?.close();
      await datastore.close();
    })());
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  process.on('SIGUSR2', () => {
    log.info('SIGUSR2: reloading the address-space translator');
    node.reloadTranslator().catch((err: unknown) => log.error('translator reload failed', { error: err as Error }));
  });
  // SIGHUP: read the kernel back and reconcile all of it now (what the periodic full reconcile does).
  process.on('SIGHUP', () => node.reconcileDataplane());
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      log.info('signal received; stopping gracefully', { signal: sig });
      void shutdown().then(done);
    });
  }
  try {
    await node.start();
  } catch (err) {
    await shutdown().catch(() => undefined);
    return isCalicoError(err, 'validation') ? 2 : 3;
  }
  // Start-up is done: -bird-ready measures its threshold from this file's time.
  await writeNodenameFile(config.runDir, config.nodeName).catch((err) => log.error('cannot write the nodename file; -bird-ready will fail', { runDir: config.runDir, error: err as Error }));
  await reconfigureHttp(node.settings!, { initial: true });
  // Resolved by a signal or by a fatal dataplane error, after shutdown.
  await finished;
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`calico-node: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(3);
  },
);
