// Test harness: a private etcd on 127.0.0.1 for tests that need the real thing.
// Each call starts its own etcd on free ports with a fresh temp data dir, waits
// until it answers, and is always cleaned up: stop() in the test, and a process
// exit/signal hook as a safety net so a crashed test leaves no daemon behind.
// Optional TLS (certs made with openssl at test time) and auth (root user).
//
//   const etcd = await startEtcd();            // or startEtcd({ tls: true, auth: true })
//   process.env.ETCD_ENDPOINTS = etcd.endpoint; // or spread etcd.env into a child's env
//   await etcd.restart();                       // same data dir and port
//   await etcd.stop();                          // kills it and removes the data dir
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, openSync, closeSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EtcdTlsFiles {
  /** CA that signed the server and client certificates. */
  caFile: string;
  /** Client certificate and key (the server requires one when TLS is on). */
  certFile: string;
  keyFile: string;
}

export interface EtcdAuth {
  username: string;
  password: string;
}

export interface StartEtcdOptions {
  /** Serve HTTPS with client-certificate auth; certificates are generated into the temp dir. */
  tls?: boolean;
  /** Enable etcd auth with this root user (true: root / 'calico-test-password'). */
  auth?: boolean | EtcdAuth;
  /** How long to wait for readiness (default 20 s). */
  readyTimeoutMs?: number;
  /** Extra etcd flags, e.g. ['--auto-compaction-retention=1']. */
  extraArgs?: string[];
}

export interface EtcdHandle {
  /** e.g. http://127.0.0.1:41234 (https with tls). */
  readonly endpoint: string;
  readonly clientPort: number;
  readonly dataDir: string;
  /** Temp dir holding data, certs and etcd.log (removed by stop()). */
  readonly baseDir: string;
  readonly logFile: string;
  readonly tls: EtcdTlsFiles | undefined;
  readonly auth: EtcdAuth | undefined;
  /** Calico-style env for clients: DATASTORE_TYPE, ETCD_ENDPOINTS and the TLS/auth variables. */
  readonly env: Record<string, string>;
  /** Whether the etcd process is up (false between kill() and start()). */
  readonly running: boolean;
  /** Graceful stop, then remove every file. Idempotent; the handle is dead afterwards. */
  stop(): Promise<void>;
  /** Kill the process (default SIGKILL), keeping its data, to simulate a crash; start() brings it back. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start again after kill(): same data dir, same port. */
  start(): Promise<void>;
  /** kill(signal, default SIGTERM) then start(), optionally staying down for downMs. */
  restart(opts?: { signal?: NodeJS.Signals; downMs?: number }): Promise<void>;
  /** Compact history up to `revision` (default: the current revision). Returns the revision compacted at. */
  compact(revision?: number): Promise<number>;
  /** Current store revision. */
  revision(): Promise<number>;
  /** Run etcdctl against this etcd (endpoint, TLS and auth flags added). Returns stdout. */
  etcdctl(args: string[]): Promise<string>;
}

const DEFAULT_PASSWORD = 'calico-test-password';
const live = new Set<() => void>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const cleanupAll = (): void => {
    for (const cleanup of [...live]) cleanup();
  };
  process.on('exit', cleanupAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanupAll();
      // Re-raise with the default disposition so the process still dies of the signal.
      process.kill(process.pid, signal);
    });
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A CA, a server cert for 127.0.0.1/localhost and a client cert, all ECDSA P-256, made with openssl. */
async function makeCerts(dir: string): Promise<EtcdTlsFiles & { serverCert: string; serverKey: string }> {
  const f = (name: string): string => join(dir, name);
  // The client cert has NO CommonName: with auth on, etcd 3.4 rejects gateway (JSON) requests whose
  // client cert carries a CN ("CommonName ... will be ignored"), since CN-based auth is gRPC-only.
  const subj = (cn: string): string[] => ['-subj', cn === 'client' ? '/O=calico-ts test client' : `/CN=${cn}`];
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', ...subj('calico-ts test CA')]);
  const leaf = async (name: string, ext: string): Promise<void> => {
    writeFileSync(f(`${name}.ext`), ext);
    await run('openssl', ['req', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), ...subj(name)]);
    await run('openssl', [
      'x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial',
      '-out', f(`${name}.crt`), '-days', '2', '-extfile', f(`${name}.ext`),
    ]);
  };
  await leaf('server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  await leaf('client', 'extendedKeyUsage=clientAuth\n');
  return { caFile: f('ca.crt'), certFile: f('client.crt'), keyFile: f('client.key'), serverCert: f('server.crt'), serverKey: f('server.key') };
}

function healthy(endpoint: string, tls: EtcdTlsFiles | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const url = new URL('/health', endpoint);
    const options = tls
      ? { ca: readFileSync(tls.caFile), cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile), timeout: 1000 }
      : { timeout: 1000 };
    const req = (tls ? httpsRequest : httpRequest)(url, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(res.statusCode === 200 && /"health"\s*:\s*"true"/.test(body)));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export async function startEtcd(opts: StartEtcdOptions = {}): Promise<EtcdHandle> {
  installExitHooks();
  const baseDir = mkdtempSync(join(tmpdir(), 'calico-ts-etcd-'));
  const dataDir = join(baseDir, 'data');
  const logFile = join(baseDir, 'etcd.log');
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const scheme = opts.tls ? 'https' : 'http';
  const endpoint = `${scheme}://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const certs = opts.tls ? await makeCerts(baseDir) : undefined;
  const tls: EtcdTlsFiles | undefined = certs && { caFile: certs.caFile, certFile: certs.certFile, keyFile: certs.keyFile };
  const auth: EtcdAuth | undefined =
    opts.auth === true ? { username: 'root', password: DEFAULT_PASSWORD } : opts.auth ? opts.auth : undefined;
  const args = [
    '--name', 'calico-ts-test',
    '--data-dir', dataDir,
    '--listen-client-urls', endpoint,
    '--advertise-client-urls', endpoint,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `calico-ts-test=${peerUrl}`,
    '--initial-cluster-state', 'new',
    '--logger', 'zap',
    '--log-level', 'warn',
    ...(certs ? ['--cert-file', certs.serverCert, '--key-file', certs.serverKey, '--trusted-ca-file', certs.caFile, '--client-cert-auth'] : []),
    ...(opts.extraArgs ?? []),
  ];

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stopped = false;

  const killSync = (): void => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const cleanupSync = (): void => {
    killSync();
    rmSync(baseDir, { recursive: true, force: true });
  };
  live.add(cleanupSync);

  let authEnabled = false;
  const etcdctl = (extra: string[]): Promise<string> =>
    run('etcdctl', [
      `--endpoints=${endpoint}`,
      '--command-timeout=10s',
      ...(tls ? [`--cacert=${tls.caFile}`, `--cert=${tls.certFile}`, `--key=${tls.keyFile}`] : []),
      ...(auth && authEnabled ? [`--user=${auth.username}:${auth.password}`] : []),
      ...extra,
    ], { env: { ...process.env, ETCDCTL_API: '3' } });

  const spawnEtcd = async (): Promise<void> => {
    if (stopped) throw new Error('etcd harness: start() after stop()');
    const log = openSync(logFile, 'a');
    const proc = spawn('etcd', args, { stdio: ['ignore', log, log] });
    closeSync(log);
    child = proc;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);
    while (!(await healthy(endpoint, tls))) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '';
        throw new Error(`etcd exited during startup (code ${proc.exitCode}, signal ${proc.signalCode}):\n${tail}`);
      }
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`etcd at ${endpoint} not ready after ${opts.readyTimeoutMs ?? 20_000} ms; log: ${logFile}`);
      }
      await sleep(50);
    }
  };

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const proc = child;
      proc.kill(signal);
      // An etcd that does not stop within 10 s on a polite signal is killed: a test must never hang here.
      const force = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(force);
    }
  };

  try {
    await spawnEtcd();
    if (auth) {
      await etcdctl(['user', 'add', `${auth.username}:${auth.password}`, '--interactive=false']);
      if (auth.username !== 'root') {
        await etcdctl(['user', 'add', `root:${auth.password}`, '--interactive=false']);
        await etcdctl(['role', 'add', 'calico']);
        await etcdctl(['role', 'grant-permission', 'calico', '--prefix=true', 'readwrite', '/']);
        await etcdctl(['user', 'grant-role', auth.username, 'calico']);
      }
      await etcdctl(['user', 'grant-role', 'root', 'root']);
      await etcdctl(['auth', 'enable']);
      authEnabled = true;
    }
  } catch (err) {
    live.delete(cleanupSync);
    cleanupSync();
    throw err;
  }

  const env: Record<string, string> = { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: endpoint };
  if (tls) Object.assign(env, { ETCD_CA_CERT_FILE: tls.caFile, ETCD_CERT_FILE: tls.certFile, ETCD_KEY_FILE: tls.keyFile });
  if (auth) Object.assign(env, { ETCD_USERNAME: auth.username, ETCD_PASSWORD: auth.password });

  const revision = async (): Promise<number> => {
    const out = JSON.parse(await etcdctl(['get', '/', '--prefix', '--keys-only', '--limit=1', '-w', 'json'])) as {
      header: { revision: number | string };
    };
    return Number(out.header.revision);
  };

  return {
    endpoint,
    clientPort,
    dataDir,
    baseDir,
    logFile,
    tls,
    auth,
    env,
    get running() {
      return !!child && child.exitCode === null && child.signalCode === null;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await kill('SIGTERM');
      live.delete(cleanupSync);
      rmSync(baseDir, { recursive: true, force: true });
    },
    kill,
    start: spawnEtcd,
    async restart(restartOpts = {}) {
      await kill(restartOpts.signal ?? 'SIGTERM');
      if (restartOpts.downMs) await sleep(restartOpts.downMs);
      await spawnEtcd();
    },
    async compact(rev?: number) {
      const at = rev ?? (await revision());
      await etcdctl(['compaction', String(at), '--physical']);
      return at;
    },
    revision,
    etcdctl,
  };
}
