// `calicoctl node ...`: commands that run on a node, against its BIRD, kernel
// and logs: status, diags, checksystem. Each takes its ports in `deps` so
// tests run them in-process with fakes.
import type { Command } from '../command.js';
import type { DiagnosticsHost } from '../node-diagnostics/collect.js';
import type { SystemProbe } from '../system-check/evaluate.js';
import { nodeChecksystemCommand } from './node-checksystem.js';
import { nodeDiagsCommand } from './node-diags.js';
import { nodeStatusCommand, type NodeStatusDeps } from './node-status.js';

export interface NodeCommandDeps extends NodeStatusDeps {
  diagnosticsHost?: DiagnosticsHost;
  systemProbe?: SystemProbe;
}

export function nodeCommand(deps: NodeCommandDeps = {}): Command {
  return {
    name: 'node',
    summary: 'Calico node management (status, diags, checksystem).',
    usage: ['node <command> [<args>...]'],
    examples: [
      { comment: 'Show BGP sessions of this host.', command: 'calicoctl node status' },
      { comment: 'Gather a diagnostics bundle on this host.', command: 'calicoctl node diags' },
      { comment: 'Check this host can run calico-node.', command: 'calicoctl node checksystem' },
    ],
    flags: [],
    subcommands: [
      nodeStatusCommand(deps),
      nodeDiagsCommand({ ...(deps.diagnosticsHost ? { host: deps.diagnosticsHost } : {}), ...(deps.now ? { now: deps.now } : {}) }),
      nodeChecksystemCommand(deps.systemProbe ? { probe: deps.systemProbe } : {}),
    ],
  };
}
