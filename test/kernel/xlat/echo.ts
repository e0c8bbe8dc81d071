// A named echo server for the address-space scenario, run inside a workload
// namespace: TCP and UDP reply "<name> <peer address>", so a client sees
// which workload (of which space) answered and the server's view of it.
//   echo.js <name> <port>
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';

const [name, portText] = process.argv.slice(2);
const port = Number(portText);
createServer((s) => {
  s.end(`${name} ${s.remoteAddress?.replace(/^::ffff:/, '')}\n`);
  s.on('error', () => undefined);
}).listen(port, '::');
for (const type of ['udp4', 'udp6'] as const) {
  const sock = createSocket({ type, ipv6Only: type === 'udp6' });
  sock.on('message', (_m, r) => sock.send(`${name} ${r.address}`, r.port, r.address));
  sock.bind(port);
}
process.stdout.write('ready\n');
