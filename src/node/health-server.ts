// Driver: the HTTP endpoints of the agent. /liveness and /readiness answer 200
// or 503 with a JSON body; /metrics serves Prometheus text. One server per
// distinct host:port (health and metrics may share one). Binding happens in
// the process's network namespace, so several agents (one per namespace) can
// use the same port on one machine.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { Health } from './agent.js';

export interface HttpEndpoint {
  host: string;
  port: number;
  serveHealth: boolean;
  serveMetrics: boolean;
}

export interface HealthSource {
  health(): Health;
  renderMetrics(): string;
}

export async function startHttpEndpoints(endpoints: HttpEndpoint[], source: HealthSource): Promise<{ close(): Promise<void>; ports: number[] }> {
  // Merge endpoints on the same host:port.
  const merged = new Map<string, HttpEndpoint>();
  for (const e of endpoints) {
    const key = `${e.host}:${e.port}`;
    const m = merged.get(key);
    if (m) {
      m.serveHealth ||= e.serveHealth;
      m.serveMetrics ||= e.serveMetrics;
    } else {
      merged.set(key, { ...e });
    }
  }
  const servers: Server[] = [];
  const ports: number[] = [];
  for (const e of merged.values()) {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (e.serveHealth && (path === '/liveness' || path === '/readiness')) {
        const h = source.health();
        const ok = path === '/liveness' ? h.live : h.ready;
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ live: h.live, ready: h.ready, ...h.detail }) + '\n');
        return;
      }
      if (e.serveMetrics && path === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        res.end(source.renderMetrics());
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(e.port, e.host, () => resolve());
    });
    const addr = server.address();
    ports.push(typeof addr === 'object' && addr ? addr.port : e.port);
    servers.push(server);
  }
  return {
    ports,
    close: async () => {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
