// bin/calico-libnetwork: Calico's Docker network and IPAM driver (a libnetwork
// remote plugin). Runs on each Docker host, next to calico-node, in the host's
// network namespace. Configuration from the environment, as calico/node's:
//   NODENAME (else <CALICO_RUN_DIR>/nodename, else the hostname)
//   DATASTORE_TYPE=etcdv3, ETCD_ENDPOINTS, ETCD_* TLS files (or calicoctl.cfg)
//   CALICO_LIBNETWORK_PLUGIN_DIR  where the sockets go (default /run/docker/plugins)
//   DOCKER_HOST=unix:///...       Docker's API, to name each network's profile
//   CALICO_LIBNETWORK_VETH_MTU    MTU of the veths (default: the kernel's)
//   LOG_LEVEL                     debug, info (default), warning, error
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { loadDatastoreConfig, openDatastore } from '../datastore/open-datastore.js';
import { createLogger, parseLogLevel } from '../node/log.js';
import { LibnetworkDriver } from './driver.js';
import { datastorePorts } from './drivers.js';
import { serve } from './server.js';

const VERSION = 'calico-ts 0.1.0';
const HELP = `calico-libnetwork: Calico's Docker network driver ("calico") and IPAM driver ("calico-ipam").

Usage: calico-libnetwork [-h|--help] [-v|--version]

Listens on <CALICO_LIBNETWORK_PLUGIN_DIR>/calico.sock and calico-ipam.sock
(default dir /run/docker/plugins, where dockerd finds plugins). Then:
  docker network create -d calico --ipam-driver calico-ipam NET
  docker run --network NET ...

Environment:
  NODENAME                      this node's name (else <CALICO_RUN_DIR>/nodename, else the hostname)
  CALICO_RUN_DIR                default /var/run/calico
  DATASTORE_TYPE, ETCD_ENDPOINTS, ETCD_CA_CERT_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE   the datastore
  CALICO_LIBNETWORK_PLUGIN_DIR  where the sockets go
  DOCKER_HOST                   unix:///path/docker.sock: Docker's API, so each network's profile
                                carries the network's name (else its ID)
  CALICO_LIBNETWORK_VETH_MTU    veth MTU
  LOG_LEVEL                     debug | info | warning | error
See docs/libnetwork.md.`;

function nodeName(env: NodeJS.ProcessEnv): string {
  if (env.NODENAME?.trim()) return env.NODENAME.trim();
  try {
    const fromFile = readFileSync(join(env.CALICO_RUN_DIR?.trim() || '/var/run/calico', 'nodename'), 'utf8').trim();
    if (fromFile) return fromFile;
  } catch {
    // calico-node has not written it: the hostname, as Calico's plugin.
  }
  return hostname();
}

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv.some((a) => a === '-h' || a === '--help' || a === '-help')) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (argv.some((a) => a === '-v' || a === '--version' || a === '-version')) {
    process.stdout.write(VERSION + '\n');
    return 0;
  }
  if (argv.length) {
    process.stderr.write(`calico-libnetwork: unknown argument ${argv[0]} (see --help)\n`);
    return 2;
  }
  const log = createLogger({ level: parseLogLevel(env.LOG_LEVEL), sink: (l) => process.stderr.write(l + '\n'), now: () => new Date(), fields: { component: 'calico-libnetwork' } });
  const mtuText = env.CALICO_LIBNETWORK_VETH_MTU?.trim();
  const mtu = mtuText ? Number(mtuText) : undefined;
  if (mtu !== undefined && !(Number.isInteger(mtu) && mtu >= 68 && mtu <= 65535)) {
    log.error(`CALICO_LIBNETWORK_VETH_MTU=${mtuText} is not an MTU (68..65535)`);
    return 2;
  }
  const dockerHost = env.DOCKER_HOST?.trim();
  if (dockerHost && !dockerHost.startsWith('unix://')) {
    log.error(`DOCKER_HOST=${dockerHost}: only unix:// sockets are supported`);
    return 2;
  }
  const node = nodeName(env);
  const ds = openDatastore(loadDatastoreConfig({ env }), { requestTimeoutMs: 10_000 });
  const driver = new LibnetworkDriver(
    datastorePorts(ds, { node, ...(dockerHost ? { dockerSocket: dockerHost.slice('unix://'.length) } : {}), ...(mtu ? { mtu } : {}), log: (level, msg) => log[level](msg) }),
  );
  const dir = env.CALICO_LIBNETWORK_PLUGIN_DIR?.trim() || '/run/docker/plugins';
  const servers = await serve(driver, { dir, log: (level, msg) => log[level](msg) });
  log.info(`calico-libnetwork ready for node ${node}`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  for (const s of servers) s.close();
  await ds.close();
  return 0;
}

main(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`calico-libnetwork: ${(err as Error).message ?? String(err)}\n`);
    process.exit(1);
  },
);
