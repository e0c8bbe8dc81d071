// Tiny network probe run inside a namespace with `ip netns exec`. No nc/socat.
//   serve <tcpPort,...> <udpPort,...>   TCP: replies "<peer address>\n" and closes
//                                       UDP: replies "<peer address>"
//   sink <tcpPort>                      TCP: counts bytes, prints the total when the peer closes
//   tcp <host> <port> <timeoutMs> [localAddress]   prints the reply; exit 0, or 1 on failure
//   udp <host> <port> <timeoutMs>
//   stream <host> <port> <seconds>      sends continuously, prints bytes sent
//   connrate <host> <port> <seconds> <parallel>  prints "<connections> <errors>"
//   connlat <host> <port> <count>       sequential new connections; prints "<p50us> <p99us> <errors>",
//                                       each timed from connect() to the handshake's end (the first
//                                       packet's trip through the ruleset and back)
import { createServer, connect } from 'node:net';
import { createSocket } from 'node:dgram';

const [mode, ...args] = process.argv.slice(2);

function fail(why: string): never {
  process.stdout.write(`fail ${why}\n`);
  process.exit(1);
}

if (mode === 'serve') {
  const tcp = (args[0] ?? '').split(',').filter(Boolean).map(Number);
  const udp = (args[1] ?? '').split(',').filter(Boolean).map(Number);
  for (const port of tcp) {
    createServer((s) => {
      s.end(`${s.remoteAddress?.replace(/^::ffff:/, '')}\n`);
      s.on('error', () => undefined);
    }).listen(port, '::');
  }
  for (const port of udp) {
    for (const type of ['udp4', 'udp6'] as const) {
      const sock = createSocket({ type, ipv6Only: type === 'udp6' });
      sock.on('message', (_m, rinfo) => sock.send(rinfo.address, rinfo.port, rinfo.address));
      sock.bind(port);
    }
  }
  process.stdout.write('ready\n');
} else if (mode === 'sink') {
  createServer((s) => {
    let n = 0;
    s.on('data', (d) => (n += d.length));
    s.on('end', () => {
      process.stdout.write(`${n}\n`);
      s.end();
    });
    s.on('error', (e) => process.stdout.write(`error ${e.message}\n`));
  }).listen(Number(args[0]), '::');
  process.stdout.write('ready\n');
} else if (mode === 'tcp') {
  const [host, port, timeout, local] = args;
  const s = connect({ host: host!, port: Number(port), ...(local ? { localAddress: local } : {}) });
  const timer = setTimeout(() => fail('timeout'), Number(timeout));
  let data = '';
  s.on('data', (d) => (data += d));
  s.on('end', () => {
    clearTimeout(timer);
    process.stdout.write(`ok ${data.trim()}\n`);
    process.exit(0);
  });
  s.on('error', (e) => fail(e.message));
} else if (mode === 'udp') {
  const [host, port, timeout] = args;
  const sock = createSocket(host!.includes(':') ? 'udp6' : 'udp4');
  const timer = setTimeout(() => fail('timeout'), Number(timeout));
  sock.on('message', (m) => {
    clearTimeout(timer);
    process.stdout.write(`ok ${m.toString()}\n`);
    process.exit(0);
  });
  sock.send('probe', Number(port), host!);
} else if (mode === 'stream') {
  const [host, port, seconds] = args;
  const s = connect({ host: host!, port: Number(port) });
  // Paced (about 16 MB/s), so that a lost packet shows up as a retransmission, not as queue overflow.
  const chunk = Buffer.alloc(16 * 1024, 7);
  let sent = 0;
  const until = Date.now() + Number(seconds) * 1000;
  const pump = (): void => {
    if (Date.now() >= until) return void s.end();
    sent += chunk.length;
    if (s.write(chunk)) setTimeout(pump, 1);
    else s.once('drain', pump);
  };
  s.on('connect', pump);
  s.on('error', (e) => fail(e.message));
  s.on('close', () => {
    process.stdout.write(`${sent}\n`);
    process.exit(0);
  });
} else if (mode === 'connrate') {
  // New TCP connections per second: `parallel` loops of connect -> read reply -> close.
  const [host, port, seconds, parallel] = args;
  const until = Date.now() + Number(seconds) * 1000;
  let done = 0;
  let errors = 0;
  let running = Number(parallel ?? 4);
  const loop = (): void => {
    if (Date.now() >= until) {
      if (--running === 0) {
        process.stdout.write(`${done} ${errors}\n`);
        process.exit(0);
      }
      return;
    }
    const s = connect({ host: host!, port: Number(port) });
    s.on('data', () => undefined);
    s.on('end', () => {
      done++;
      s.destroy();
      loop();
    });
    s.on('error', () => {
      errors++;
      loop();
    });
  };
  for (let i = 0; i < running; i++) loop();
} else if (mode === 'connlat') {
  const [host, port, count] = args;
  const micros: number[] = [];
  let errors = 0;
  const next = (): void => {
    if (micros.length + errors >= Number(count)) {
      const sorted = micros.sort((a, b) => a - b);
      const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? -1;
      process.stdout.write(`${at(0.5)} ${at(0.99)} ${errors}\n`);
      process.exit(0);
    }
    const t0 = process.hrtime.bigint();
    const s = connect({ host: host!, port: Number(port) });
    s.on('connect', () => micros.push(Number(process.hrtime.bigint() - t0) / 1000));
    s.on('data', () => undefined);
    s.on('close', () => next());
    s.on('end', () => s.destroy());
    s.on('error', () => errors++);
  };
  next();
} else {
  fail(`unknown mode ${mode}`);
}
