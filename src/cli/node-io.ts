// The real side of the CliIO port: process streams, the file system, and the
// etcd datastore configured by --config / calicoctl.cfg / environment.
import { readFile, readdir, stat } from 'node:fs/promises';
import { validateResource } from '../api/index.js';
import { isCalicoError, UnavailableError } from '../base/errors.js';
import { loadDatastoreConfig, openDatastore } from '../datastore/open-datastore.js';
import { guardPoolWrites } from '../ipam/pool-guard.js';
import type { CliIO, ConnectRequest, DatastoreConnection } from './command.js';
import { CLIENT_VERSION } from './commands/version.js';

/**
 * calicoctl is interactive: a dead or black-holed etcd must fail within
 * seconds, not after the agent-sized default timeout. CALICOCTL_TIMEOUT_MS overrides.
 */
const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

export class NodeIO implements CliIO {
  readonly stdout = { write: (t: string): void => void process.stdout.write(t) };
  readonly stderr = { write: (t: string): void => void process.stderr.write(t) };
  readonly env: Record<string, string | undefined> = process.env;
  readonly version = { client: CLIENT_VERSION, gitCommit: process.env.CALICO_TS_GIT_COMMIT ?? 'unknown' };

  async readStdin(): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  async readFile(path: string): Promise<string> {
    return readFile(path, 'utf8');
  }

  async statPath(path: string): Promise<'file' | 'directory' | undefined> {
    try {
      const s = await stat(path);
      return s.isDirectory() ? 'directory' : 'file';
    } catch {
      return undefined;
    }
  }

  async listDirectory(path: string): Promise<string[]> {
    return readdir(path);
  }

  async connect(request: ConnectRequest): Promise<DatastoreConnection> {
    const config = loadDatastoreConfig({ env: request.env, ...(request.configFile !== undefined ? { configFile: request.configFile } : {}) });
    const timeout = Number(request.env.CALICOCTL_TIMEOUT_MS ?? DEFAULT_REQUEST_TIMEOUT_MS);
    // The store validates every write too: nothing invalid is stored, whoever calls.
    const datastore = openDatastore(config, { validate: (r) => validateResource(r), requestTimeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULT_REQUEST_TIMEOUT_MS });
    const endpoint = `${config.datastoreType} at ${config.etcdEndpoints.join(',')} (from ${config.source})`;
    try {
      // One cheap round trip now, so an unreachable etcd is reported once, up front.
      await datastore.kv.revision();
    } catch (err) {
      await datastore.close().catch(() => undefined);
      if (isCalicoError(err, 'unavailable')) throw new UnavailableError(`${endpoint}: ${err.message}`, err);
      throw err;
    }
    // IPPool writes are checked against the other pools and the blocks in use (no overlap, no CIDR change in use).
    return { datastore: guardPoolWrites(datastore), endpoint };
  }
}
