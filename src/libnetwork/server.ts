// Docker's plugin protocol: POST /<Interface>.<Method> with a JSON body,
// answered with JSON; a failure is {"Err": "..."} (HTTP 500), which Docker
// shows the user. One server, two sockets: `calico` (network driver) and
// `calico-ipam` (IPAM driver), both implementing both, as Calico's plugin.
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { isCalicoError } from '../base/errors.js';
import { LibnetworkError, type LibnetworkDriver } from './driver.js';

export const CONTENT_TYPE = 'application/vnd.docker.plugins.v1.2+json';
export const SOCKET_NAMES = ['calico', 'calico-ipam'] as const;

type Log = (level: 'info' | 'warning' | 'error', msg: string) => void;

/** Answers one request (pure over the driver): status and body. */
export async function handle(driver: LibnetworkDriver, path: string, body: string, log: Log): Promise<{ status: number; body: unknown }> {
  const route = driver.routes[path];
  if (!route) return { status: 404, body: { Err: `calico-libnetwork does not implement ${path}` } };
  let req: Record<string, unknown>;
  try {
    req = body.trim() ? (JSON.parse(body) as Record<string, unknown>) : {};
  } catch {
    return { status: 400, body: { Err: `${path}: the request is not JSON` } };
  }
  try {
    const res = await route(req);
    log('info', `${path} ok`);
    return { status: 200, body: res };
  } catch (err) {
    const msg = err instanceof LibnetworkError || isCalicoError(err) ? (err as Error).message : `internal error: ${(err as Error).message ?? String(err)}`;
    log('error', `${path} failed: ${msg}`);
    return { status: 500, body: { Err: msg } };
  }
}

export async function serve(driver: LibnetworkDriver, opts: { dir: string; log: Log }): Promise<Server[]> {
  mkdirSync(opts.dir, { recursive: true });
  const servers: Server[] = [];
  for (const name of SOCKET_NAMES) {
    const path = join(opts.dir, `${name}.sock`);
    // A socket left by a killed plugin would refuse the bind.
    if (existsSync(path)) unlinkSync(path);
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        void handle(driver, req.url ?? '', body, opts.log).then((r) => {
          res.writeHead(r.status, { 'Content-Type': CONTENT_TYPE });
          res.end(JSON.stringify(r.body));
        });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, resolve);
    });
    opts.log('info', `listening on ${path}`);
    servers.push(server);
  }
  return servers;
}
