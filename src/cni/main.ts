// Entry point of bin/calico and bin/calico-ipam: `node main.js calico|calico-ipam`.
// Reads stdin and the CNI_* environment, opens etcd from the network
// configuration, prints the result (or the spec's error JSON) on stdout.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { openDatastore } from '../datastore/open-datastore.js';
import { datastoreEndpoints, datastoreIpam, linuxNetwork } from './drivers.js';
import type { NetConf } from './protocol.js';
import { runPlugin, type Plugin } from './run.js';

const LEVELS = ['debug', 'info', 'warning', 'error'] as const;

function openPorts(conf: NetConf, plugin: Plugin) {
  const ds = openDatastore(
    {
      datastoreType: 'etcdv3',
      etcdEndpoints: conf.etcdEndpoints,
      source: 'CNI network configuration',
      ...(conf.etcdCACertFile && { etcdCACertFile: conf.etcdCACertFile }),
      ...(conf.etcdCertFile && { etcdCertFile: conf.etcdCertFile }),
      ...(conf.etcdKeyFile && { etcdKeyFile: conf.etcdKeyFile }),
    },
    { requestTimeoutMs: 10_000 },
  );
  const min = conf.logLevel === 'none' ? LEVELS.length : Math.max(0, LEVELS.indexOf((conf.logLevel === 'warn' ? 'warning' : conf.logLevel) as (typeof LEVELS)[number]));
  return {
    ipam: datastoreIpam(ds),
    endpoints: datastoreEndpoints(ds),
    network: linuxNetwork(),
    log: (level: (typeof LEVELS)[number], msg: string) => {
      if (LEVELS.indexOf(level) >= min) process.stderr.write(`${new Date().toISOString()} ${level} ${plugin}: ${msg}\n`);
    },
    close: () => ds.close(),
  };
}

const plugin = process.argv[2] as Plugin;
if (plugin !== 'calico' && plugin !== 'calico-ipam') {
  process.stderr.write('usage: main.js calico|calico-ipam (run by a container runtime as a CNI plugin)\n');
  process.exit(2);
}
let stdin = '';
try {
  stdin = readFileSync(0, 'utf8');
} catch {
  stdin = '';
}
const out = await runPlugin({ plugin, env: process.env, stdin, openPorts: (c) => openPorts(c, plugin), hostname: hostname() });
if (out.stdout) process.stdout.write(out.stdout + '\n');
process.exitCode = out.exitCode;
