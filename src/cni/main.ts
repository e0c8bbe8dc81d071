// Entry point of bin/calico and bin/calico-ipam: `node main.js calico|calico-ipam [-v|-t]`.
// Reads stdin and the CNI_* environment, opens etcd from the network
// configuration (fields, else ETCD_* variables), prints the result (or the
// spec's error JSON) on stdout. Logs go to stderr (and log_file_path).
//   -v  print the version
//   -t  test the datastore connection with the config on stdin (Calico's install check); code 100 on failure
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { openDatastore } from '../datastore/open-datastore.js';
import { parseNetConf, type NetConf } from './config.js';
import { datastoreCluster, datastoreEndpoints, datastoreIpam } from './drivers.js';
import { systemHost, systemPluginExec } from './host.js';
import { linuxNetwork } from './linux-network.js';
import { CNI_CODES, errorResult, CniError, toCniError } from './protocol.js';
import type { CniPorts, LogLevel } from './ports.js';
import { runPlugin, type Plugin } from './run.js';

const VERSION = 'calico-ts 0.1.0';
const LEVELS: LogLevel[] = ['debug', 'info', 'warning', 'error'];

function logger(conf: Pick<NetConf, 'logLevel' | 'logFilePath'>, plugin: Plugin): CniPorts['log'] {
  const min = LEVELS.indexOf(conf.logLevel);
  let fileOk = !!conf.logFilePath;
  if (conf.logFilePath) {
    try {
      mkdirSync(dirname(conf.logFilePath), { recursive: true });
    } catch {
      fileOk = false;
    }
  }
  return (level, msg) => {
    if (LEVELS.indexOf(level) < min) return;
    const line = `${new Date().toISOString()} ${level} ${plugin} [${process.env.CNI_CONTAINERID ?? '-'}]: ${msg}\n`;
    process.stderr.write(line);
    if (fileOk) {
      try {
        appendFileSync(conf.logFilePath!, line);
      } catch {
        fileOk = false;
      }
    }
  };
}

function openPorts(conf: NetConf, plugin: Plugin): CniPorts & { close: () => Promise<void> } {
  const ds = openDatastore(conf.datastore, { requestTimeoutMs: 10_000 });
  return {
    ipam: datastoreIpam(ds),
    endpoints: datastoreEndpoints(ds),
    cluster: datastoreCluster(ds),
    network: linuxNetwork(),
    plugins: systemPluginExec(),
    host: systemHost(),
    log: logger(conf, plugin),
    close: () => ds.close(),
  };
}

/** `-t`: can the datastore be read with this configuration? */
async function testConnection(plugin: Plugin, stdin: string): Promise<number> {
  try {
    const conf = parseNetConf(stdin, { plugin, env: process.env });
    const ports = openPorts(conf, plugin);
    try {
      if ((await ports.cluster.datastoreReady()) === false) throw new CniError(CNI_CODES.calicoGeneric, 'Calico is currently not ready to process requests');
    } finally {
      await ports.close();
    }
    return 0;
  } catch (err) {
    const e = toCniError(err);
    process.stdout.write(JSON.stringify({ code: CNI_CODES.calicoGeneric, msg: 'data store connection failed', details: e.message }) + '\n');
    return 1;
  }
}

const plugin = process.argv[2] as Plugin;
if (plugin !== 'calico' && plugin !== 'calico-ipam') {
  process.stderr.write('usage: main.js calico|calico-ipam [-v|-t] (run by a container runtime as a CNI plugin)\n');
  process.exit(2);
}
const flag = process.argv[3];
const readStdin = (): string => {
  try {
    return readFileSync(0, 'utf8');
  } catch {
    return '';
  }
};
if (flag === '-v') {
  process.stdout.write(`${VERSION}\n`);
} else if (flag === '-t') {
  process.exitCode = await testConnection(plugin, readStdin());
} else if (flag !== undefined) {
  process.stdout.write(JSON.stringify(errorResult('1.0.0', new CniError(CNI_CODES.calicoGeneric, 'failed to parse CLI flags', `unknown flag ${flag}; known: -v, -t`))) + '\n');
  process.exitCode = 1;
} else if (!process.env.CNI_COMMAND) {
  // Run by hand: say what this is, as the reference plugins do.
  process.stderr.write(`${plugin}: Calico CNI ${plugin === 'calico' ? 'plugin' : 'IPAM plugin'} (${VERSION})\nCNI protocol versions supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0\n`);
} else {
  const out = await runPlugin({ plugin, env: process.env, stdin: readStdin(), openPorts: (c) => openPorts(c, plugin) });
  if (out.stdout) process.stdout.write(out.stdout + '\n');
  process.exitCode = out.exitCode;
}
