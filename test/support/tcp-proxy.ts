// A loopback TCP proxy that a test can cut and heal: simulates a network
// partition between one client and a daemon while other clients still reach it.
import { createServer, connect, type Socket } from 'node:net';

export interface TcpProxy {
  /** 127.0.0.1 port the proxy listens on. */
  readonly port: number;
  /** Drop every open connection and refuse (reset) new ones until heal(). */
  cut(): void;
  /** Silently stop forwarding, keeping connections open (a black-holed network); new connections hang. */
  blackhole(): void;
  /** Back to normal; black-holed connections are closed (as a dead peer's eventually are). */
  heal(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const swallowed = new Set<Socket>();
  let down = false;
  let holed = false;
  const swallow = (s: Socket): void => {
    s.unpipe();
    s.removeAllListeners('data');
    s.on('data', () => undefined); // read and drop
    swallowed.add(s);
  };
  const server = createServer((client) => {
    if (down) {
      client.resetAndDestroy();
      return;
    }
    if (holed) {
      client.on('error', () => undefined);
      swallow(client);
      return;
    }
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    blackhole() {
      holed = true;
      for (const s of sockets) swallow(s);
    },
    heal() {
      down = false;
      holed = false;
      for (const s of swallowed) s.destroy();
      swallowed.clear();
    },
    async close() {
      for (const s of [...sockets, ...swallowed]) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
