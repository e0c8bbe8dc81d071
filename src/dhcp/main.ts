// bin/calico-dhcp-agent: process concerns only (environment, signals, Linux
// drivers). The agent is agent.ts; configuration config.ts.
// Exit codes: 0 stopped by a signal, 2 bad configuration.
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { loadDatastoreConfig, openDatastore } from '../datastore/open-datastore.js';
import { LinuxExec } from '../dataplane/linux/exec.js';
import { createLogger, parseLogLevel } from '../node/log.js';
import { DhcpAgent } from './agent.js';
import { dhcpAgentConfigFromEnv } from './config.js';
import { LinuxDhcpInterface, LinuxDnsmasq, realTimers } from './linux.js';

async function main(): Promise<number> {
  const env = process.env;
  const log = createLogger({ level: parseLogLevel(env.LOG_LEVEL ?? env.FELIX_LOGSEVERITYSCREEN), sink: (l) => process.stderr.write(l + '\n'), now: () => new Date(), fields: { component: 'calico-dhcp-agent' } });
  let config;
  let datastoreConfig;
  try {
    config = dhcpAgentConfigFromEnv(env, { hostname: hostname(), nodenameFile: (dir) => (existsSync(join(dir, 'nodename')) ? readFileSync(join(dir, 'nodename'), 'utf8') : undefined) });
    datastoreConfig = loadDatastoreConfig({ env });
  } catch (err) {
    log.fatal('invalid configuration', { error: err as Error });
    return 2;
  }
  const datastore = openDatastore(datastoreConfig);
  const exec = new LinuxExec();
  const agent = new DhcpAgent({
    datastore,
    nodeName: config.nodeName,
    orchestrators: config.orchestrators,
    dhcpInterface: config.dhcpInterface,
    leaseSeconds: config.leaseSeconds,
    leaseFile: config.leaseFile,
    ports: { iface: new LinuxDhcpInterface(exec), dnsmasq: new LinuxDnsmasq({ stateDir: config.stateDir, exec, log: log.child({ component: 'dnsmasq' }), binary: config.dnsmasq }), timers: realTimers },
    log,
  });
  log.info('calico-dhcp-agent starting', { nodeName: config.nodeName, orchestrators: config.orchestrators, dhcpInterface: config.dhcpInterface, stateDir: config.stateDir });
  agent.start();
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => resolve());
  });
  log.info('calico-dhcp-agent stopping');
  await agent.stop();
  await datastore.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`calico-dhcp-agent: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
