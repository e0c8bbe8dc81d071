import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Exec, ExecResult, InteractiveProcess } from '../ports.js';
import { CommandSession, SessionFailed } from './command-session.js';
import { IP_DIALECT, IpBatch } from './ip-batch.js';
import { LinuxNft } from './nft.js';
import { LinuxNeighbors, linuxPorts } from './drivers.js';

const LO = '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n';
const NFT_MARK = 'meta expression, datatype mark (packet mark) (basetype integer), 32 bits\n';

/**
 * An Exec whose interactive processes answer line by line, the way `ip -force -batch -`
 * and `nft -i` do: `line` returns what the tool prints for one input line
 * (its 1-based number in this process is given), or 'exit' to die there.
 */
class ScriptedExec implements Exec {
  readonly started: string[] = [];
  readonly runs: string[] = [];
  readonly holds: boolean[] = [];
  readonly stops: number[] = [];
  constructor(
    private readonly line: (text: string, n: number, argv: string[]) => string | 'exit',
    private readonly oneShot: (argv: string[], input?: string) => ExecResult = () => ({ code: 0, stdout: '', stderr: '' }),
  ) {}
  async run(argv: string[], opts: { input?: string } = {}): Promise<ExecResult> {
    this.runs.push(argv.join(' '));
    return this.oneShot(argv, opts.input);
  }
  interactive(argv: string[], handlers: { onOutput(chunk: string): void; onExit(code: number): void }): InteractiveProcess {
    const id = this.started.push(argv.join(' ')) - 1;
    let alive = true;
    let n = 0;
    return {
      write: (text) => {
        // Answers arrive later, in pieces, as from a pipe.
        setImmediate(() => {
          for (const l of text.split('\n').slice(0, -1)) {
            if (!alive) return;
            const out = this.line(l, ++n, argv);
            if (out === 'exit') {
              alive = false;
              handlers.onExit(2);
              return;
            }
            for (let i = 0; i < out.length; i += 7) handlers.onOutput(out.slice(i, i + 7));
          }
        });
      },
      hold: (on) => this.holds.push(on),
      stop: () => {
        this.stops.push(id);
        if (alive) (alive = false), handlers.onExit(0);
      },
    };
  }
}

/** `ip -force -batch -`: lines naming a device in `bad` fail with the line number; `die` ends the process. */
const ipTool = (bad: string[] = [], die = '') => (l: string, n: number) => {
  if (l === 'link show dev lo') return LO;
  if (die && l.includes(die)) return 'exit';
  return bad.some((d) => l.includes(` dev ${d}`)) ? `RTNETLINK answers: No such device\nCommand failed -:${n}\n` : '';
};

test('CommandSession: each request gets the output printed before its marker, in call order, with its first input line', async () => {
  const exec = new ScriptedExec(ipTool(['cali2']));
  const s = new CommandSession(exec, IP_DIALECT);
  const [a, b] = await Promise.all([s.request('route replace 198.18.0.1/32 dev cali1\n'), s.request('route replace 198.18.0.2/32 dev cali2\nroute replace 198.18.0.3/32 dev cali3\n')]);
  assert.deepEqual(a, { output: '', firstLine: 1 });
  // Line 1 was the first request, line 2 its marker.
  assert.deepEqual(b, { output: 'RTNETLINK answers: No such device\nCommand failed -:3\n', firstLine: 3 });
  assert.equal(exec.started.length, 1, 'one process for both');
  assert.deepEqual(exec.holds, [true, false, true, false], 'held only while a request waits');
});

test('CommandSession: a process that dies mid-request fails that request; the next one starts a new process and counts lines from 1', async () => {
  const exec = new ScriptedExec(ipTool([], 'cali9'));
  const s = new CommandSession(exec, IP_DIALECT);
  await s.request('neigh replace 198.18.0.1 lladdr 02:00:00:00:00:01 dev cali1\n');
  await assert.rejects(s.request('neigh del 198.18.0.9 dev cali9\n'), SessionFailed);
  assert.deepEqual(await s.request('neigh replace 198.18.0.2 lladdr 02:00:00:00:00:01 dev cali2\n'), { output: '', firstLine: 1 });
  assert.equal(exec.started.length, 2);
});

test('IpBatch: a failing line is pinned to its command and run again alone (a fresh process knows re-created links); the session is replaced', async () => {
  const exec = new ScriptedExec(ipTool(['caliB']), (argv) => (argv.includes('caliB') ? { code: 2, stdout: '', stderr: 'Cannot find device "caliB"' } : { code: 0, stdout: '', stderr: '' }));
  const ip = new IpBatch(exec);
  const errors = await ip.run(['route replace 198.18.0.1 dev caliA', 'route replace 198.18.0.2 dev caliB', 'route replace 198.18.0.3 dev caliC']);
  assert.deepEqual(errors, [undefined, 'Cannot find device "caliB"', undefined]);
  assert.deepEqual(exec.runs, ['ip route replace 198.18.0.2 dev caliB'], 'only the failed line again');
  assert.deepEqual(exec.stops, [0], 'the session that failed is ended');
  assert.deepEqual(await ip.run(['route replace 198.18.0.4 dev caliD']), [undefined]);
  assert.equal(exec.started.length, 2);
});

test('IpBatch: when the session dies, every line runs again alone (any prefix may have run; replace and del are idempotent)', async () => {
  const exec = new ScriptedExec(ipTool([], 'caliGone'), (argv) => (argv.includes('caliGone') ? { code: 2, stdout: '', stderr: 'RTNETLINK answers: No such file or directory' } : { code: 0, stdout: '', stderr: '' }));
  const nb = new LinuxNeighbors(exec, new IpBatch(exec));
  const a = { ip: '198.18.1.1', mac: 'ee:ee:ee:ee:ee:01', dev: 'cali1', family: 4 as const };
  const b = { ip: '198.18.1.2', mac: 'ee:ee:ee:ee:ee:01', dev: 'caliGone', family: 4 as const };
  assert.deepEqual((await nb.remove([a, b])).failed, [], 'an entry already gone is not a failure to delete');
  assert.deepEqual(exec.runs, ['ip neigh del 198.18.1.1 dev cali1', 'ip neigh del 198.18.1.2 dev caliGone']);
});

test('LinuxNft: a transaction is one include of a private file in the nft -i session; an error is a DataplaneError carrying what nft printed', async () => {
  const included: string[] = [];
  const files: string[] = [];
  const exec = new ScriptedExec((l) => {
    if (l === 'describe meta mark') return NFT_MARK;
    const m = /^include "(.+)"$/.exec(l);
    if (!m) return `Error: syntax error, unexpected ${l}\n`;
    files.push(m[1]!);
    const script = readFileSync(m[1]!, 'utf8');
    included.push(script);
    return script.includes('bogus') ? `In file included from <cmdline>:1:1-40:\n${m[1]}:1:1-5: Error: syntax error, unexpected bogus\n` : '';
  });
  const nft = new LinuxNft(exec);
  await nft.apply('add table inet calico\n');
  await nft.apply('add chain inet calico c\n');
  await assert.rejects(nft.apply('bogus\n'), /nft -i: .*Error: syntax error/s);
  assert.deepEqual(included, ['add table inet calico\n', 'add chain inet calico c\n', 'bogus\n']);
  assert.deepEqual(exec.started, ['nft -i'], 'one process for every transaction');
  assert.deepEqual(exec.runs, [], 'no nft -f');
  assert.ok(files.every((f) => !existsSync(dirname(f))), 'each transaction file goes with its transaction');
  nft.close();
  assert.deepEqual(exec.stops, [0]);
});

test('LinuxNft: an nft without the interactive CLI gets nft -f - per transaction', async () => {
  const exec = new ScriptedExec(() => 'exit', (argv, input) => (argv.join(' ') === 'nft -f -' && input === 'add table inet calico\n' ? { code: 0, stdout: '', stderr: '' } : { code: 1, stdout: '', stderr: 'Error: unexpected' }));
  const nft = new LinuxNft(exec);
  await nft.apply('add table inet calico\n');
  await assert.rejects(nft.apply('bogus\n'), /nft -f - exited 1: Error: unexpected/);
  assert.equal(exec.started.length, 1, 'tried once');
  assert.deepEqual(exec.runs, ['nft -f -', 'nft -f -']);
});

test('linuxPorts.close ends every session; the next write starts one again', async () => {
  const exec = new ScriptedExec((l) => (l === 'describe meta mark' ? NFT_MARK : l === 'link show dev lo' ? LO : ''));
  const ports = linuxPorts(exec);
  await ports.nft.apply('add table inet calico\n');
  await ports.routes.replace([{ dst: '198.18.0.1/32', dev: 'cali1', family: 4 }]);
  await ports.neighbors.replace([{ ip: '198.18.0.1', mac: '02:00:00:00:00:01', dev: 'cali1', family: 4 }]);
  assert.equal(exec.started.length, 3);
  ports.close();
  assert.deepEqual([...exec.stops].sort(), [0, 1, 2]);
  await ports.routes.replace([{ dst: '198.18.0.2/32', dev: 'cali2', family: 4 }]);
  assert.equal(exec.started.length, 4);
});
