// calicoctl node status: this host's BGP sessions, read from the BIRD control
// socket that calico-node's supervisor runs under CALICO_RUN_DIR. Parsing and
// formatting are pure (src/bgp/status.ts); reaching BIRD goes through the
// BirdStatusReader port so the command runs in-process in tests.
import { birdc } from '../../bgp/bird-process.js';
import { formatNodeStatus, parseBirdProtocols } from '../../bgp/status.js';
import { birdPaths } from '../../bgp/supervisor.js';
import { stringFlag } from '../args.js';
import type { Command } from '../command.js';

export interface BirdStatusReader {
  /** `show protocols all` text, or undefined when nothing answers on the socket. */
  showProtocolsAll(socketPath: string): Promise<string | undefined>;
}

export const birdcStatusReader: BirdStatusReader = {
  async showProtocolsAll(socketPath) {
    const r = await birdc(socketPath, ['show', 'protocols', 'all']);
    return r.ok ? r.text : undefined;
  },
};

export interface NodeStatusDeps {
  reader?: BirdStatusReader;
  now?: () => Date;
}

export function nodeStatusCommand(deps: NodeStatusDeps = {}): Command {
  const reader = deps.reader ?? birdcStatusReader;
  const now = deps.now ?? (() => new Date());
  return {
    name: 'status',
    summary: "Show this node's BGP sessions (from BIRD).",
    usage: ['node status [--run-dir=<DIR>]'],
    description: `Reads the BGP sessions of the BIRD daemon that calico-node runs on this host
through its control socket <run-dir>/bird/bird.ctl, and prints one table per
address family: peer address, peer type (node-to-node mesh, global, node
specific, route reflector), BIRD's state, since when, and BIRD's info (BGP
state and last error). Run it on the node, as root.`,
    examples: [
      { comment: 'Show BGP sessions of this host.', command: 'calicoctl node status' },
      { comment: 'A node started with CALICO_RUN_DIR=/run/lab/h1.', command: 'calicoctl node status --run-dir=/run/lab/h1' },
    ],
    flags: [
      {
        name: 'run-dir',
        type: 'string',
        placeholder: 'DIR',
        description: "calico-node's run directory. [default: $CALICO_RUN_DIR or /var/run/calico]",
      },
    ],
    run: async (ctx) => {
      const runDir = stringFlag(ctx.args, 'run-dir') ?? ctx.io.env.CALICO_RUN_DIR ?? '/var/run/calico';
      const socket = birdPaths(runDir).socket;
      const text = await reader.showProtocolsAll(socket);
      if (text === undefined) {
        ctx.err(`Calico process is not running: BIRD does not answer on ${socket}.`);
        ctx.err('Start calico-node on this host (CALICO_NETWORKING_BACKEND=bird), or give its run directory with --run-dir / CALICO_RUN_DIR.');
        return 1;
      }
      const today = now().toISOString().slice(0, 10);
      ctx.out(formatNodeStatus(parseBirdProtocols(text), { today }).replace(/\n+$/, ''));
      return 0;
    },
  };
}
