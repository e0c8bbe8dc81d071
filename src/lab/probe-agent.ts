// Runs inside a lab namespace (a workload or the internet host), started with
// `ip netns exec`. Two modes:
//   serve                    answer TCP on every probe port and UDP echo (for `calico-lab probe`)
//   connect <json targets>   try every target at once, print one JSON result line
// It is a driver (sockets, timers); the matrix logic that uses it is pure.
import { createServer, connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { execFile } from 'node:child_process';
import { PROBE_TCP_PORTS, PROBE_UDP_PORTS, probeReply, replyReaches, type ProbeTarget, type ProbeOutcome } from './matrix.js';

/** `name`: said in every answer, so a prober can tell this server from another with the same address. */
function serve(name?: string): void {
  for (const port of PROBE_TCP_PORTS) {
    for (const host of ['0.0.0.0', '::']) {
      const server = createServer((sock) => {
        sock.on('error', () => undefined);
        // The reply says who the server saw, so tests can tell masqueraded traffic from routed.
        sock.end(probeReply(port, sock.remoteAddress ?? '?', name));
      });
      server.on('error', (err) => console.error(`tcp ${host} ${port}: ${err.message}`));
      server.listen({ port, host, ipv6Only: host === '::' });
    }
  }
  for (const port of PROBE_UDP_PORTS) {
    for (const type of ['udp4', 'udp6'] as const) {
      const sock = createSocket({ type, ipv6Only: type === 'udp6' });
      sock.on('message', (_msg, rinfo) => sock.send(probeReply(port, rinfo.address, name), rinfo.port, rinfo.address));
      sock.on('error', (err) => console.error(`${type} ${port}: ${err.message}`));
      sock.bind(port);
    }
  }
}

function probeTcp(t: ProbeTarget, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: t.address, port: t.port! });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    let text = '';
    sock.on('data', (d) => (text += d.toString()));
    // The server ends the connection after its one line.
    sock.on('end', () => done(replyReaches(t, text)));
    sock.on('error', () => done(false));
  });
}

function probeUdp(t: ProbeTarget, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket(t.address.includes(':') ? 'udp6' : 'udp4');
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('message', (msg) => done(replyReaches(t, msg.toString())));
    sock.on('error', () => done(false));
    sock.send('probe', t.port!, t.address);
  });
}

function probeIcmp(t: ProbeTarget, timeoutMs: number): Promise<boolean> {
  const wait = String(Math.max(1, Math.round(timeoutMs / 1000)));
  return new Promise((resolve) => execFile('ping', ['-c', '1', '-W', wait, t.address], (err) => resolve(!err)));
}

async function connectAll(targets: ProbeTarget[], timeoutMs: number): Promise<ProbeOutcome[]> {
  return Promise.all(
    targets.map(async (t) => {
      const ok = t.protocol === 'tcp' ? await probeTcp(t, timeoutMs) : t.protocol === 'udp' ? await probeUdp(t, timeoutMs) : await probeIcmp(t, timeoutMs);
      return { ...t, ok };
    }),
  );
}

/** Connects to a probe server and prints the source address it saw (or nothing on failure). */
function whoami(address: string, port: number): void {
  const sock = connect({ host: address, port });
  let text = '';
  sock.setTimeout(3000, () => sock.destroy());
  sock.on('data', (d) => (text += d.toString()));
  sock.on('close', () => console.log(text.trim().split(' ')[2] ?? ''));
  sock.on('error', () => undefined);
}

const [mode, arg, timeout] = process.argv.slice(2);
if (mode === 'serve') serve(arg);
else if (mode === 'whoami' && arg) whoami(arg, Number(timeout ?? 80));
else if (mode === 'connect' && arg) {
  connectAll(JSON.parse(arg) as ProbeTarget[], Number(timeout ?? 1500)).then((r) => console.log(JSON.stringify(r)));
} else {
  console.error('usage: probe-agent serve | connect <json targets> [timeout-ms] | whoami <address> [port]');
  process.exit(2);
}
