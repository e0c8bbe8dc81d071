// calicoctl node diags: one .tar.gz with what is needed to debug this node
// (node-diagnostics/: the plan, the collection, the summary). Runs on the node,
// as root, in the node's network namespace.
import { felixHealthURL } from '../../node/probes.js';
import { stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { collectDiagnostics, type DiagnosticsHost } from '../node-diagnostics/collect.js';
import { LinuxDiagnosticsHost } from '../node-diagnostics/linux-host.js';
import { CONFIG_FLAG } from '../command.js';
import { ROOT_REQUIRED } from './node-checksystem.js';

export const DEFAULT_LOG_DIR = '/var/log/calico';

/** calico-node's metrics URL as calicoctl's environment describes it (FELIX_PROMETHEUSMETRICSHOST / PORT). */
export function felixMetricsURL(env: Record<string, string | undefined>): string {
  const host = env.FELIX_PROMETHEUSMETRICSHOST || 'localhost';
  const port = env.FELIX_PROMETHEUSMETRICSPORT || '9091';
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`;
}

export function nodeDiagsCommand(deps: { host?: DiagnosticsHost; now?: () => Date } = {}): Command {
  return {
    name: 'diags',
    summary: 'Gather a diagnostics bundle for a Calico node.',
    usage: ['node diags [--log-dir=<LOG_DIR>] [--run-dir=<DIR>] [--config=<CONFIG>]'],
    description: `This command is used to gather diagnostic information from a Calico node.
This is usually used when trying to diagnose an issue that may be related to
your Calico network. It must be run on the node you are gathering diagnostics
for, as root (in the lab: inside the host's network namespace).

It creates a temporary directory (under $TMPDIR or /tmp), collects into its
diagnostics/ folder, and packs that into diags-<YYYYMMDD_HHMMSS>.tar.gz
(UTC), whose path it prints at the end:
  summary.txt, summary.json  every item below: ok, failed (and why) or skipped
  versions/      calicoctl, kernel, iproute2, BIRD, nft, iptables, ipset, conntrack
  network/       ip -4/-6 addr, route (all tables), rule, neigh; links; sockets;
                 sysctls Calico depends on (forwarding, rp_filter, proxy_arp,
                 proxy_ndp, ... per interface)
  dataplane/     nft ruleset, or iptables-save -c / ip6tables-save -c and
                 ipset list: the policy backend in use on this host
  conntrack/     entry count and statistics
  bird/          birdc show status / protocols all / route / interfaces,
                 bird.conf and bird.log from <run-dir>/bird
  calico-node/   nodename, node status (BGP sessions), liveness, readiness
                 and metrics from calico-node's HTTP endpoints
  datastore/     this Node, FelixConfigurations, BGPConfigurations, IPPools,
                 ClusterInformation
  logs/          a copy of --log-dir

An item that cannot be collected (program missing, BIRD or etcd down, health
endpoint disabled) is noted in the summary and on the screen; the others are
still collected and the command still succeeds. The health and metrics URLs
follow FELIX_HEALTHHOST / FELIX_HEALTHPORT (localhost:9099) and
FELIX_PROMETHEUSMETRICSHOST / FELIX_PROMETHEUSMETRICSPORT (localhost:9091), as
calico-node's own -felix-ready probe does.`,
    examples: [
      { comment: 'Gather diagnostics on this node.', command: 'calicoctl node diags' },
      {
        comment: 'In the lab: calico-node of host1 runs with CALICO_RUN_DIR=<state>/nodes/host1 and logs to <state>/logs.',
        command: 'ip netns exec <host1-ns> env CALICO_RUN_DIR=<state>/nodes/host1 calicoctl node diags --log-dir=<state>/logs',
      },
    ],
    flags: [
      { name: 'log-dir', type: 'string', placeholder: 'LOG_DIR', description: 'The directory containing Calico logs.', default: DEFAULT_LOG_DIR },
      { name: 'run-dir', type: 'string', placeholder: 'DIR', description: "calico-node's run directory (BIRD socket, config and log). [default: $CALICO_RUN_DIR or /var/run/calico]" },
      CONFIG_FLAG,
    ],
    run: async (ctx) => {
      const host = deps.host ?? new LinuxDiagnosticsHost(ctx.io.env);
      if (!host.isRoot()) {
        ctx.err(ROOT_REQUIRED);
        return 1;
      }
      const env = ctx.io.env;
      const version = ctx.io.version ?? { client: 'unknown', gitCommit: 'unknown' };
      const result = await collectDiagnostics(host, {
        runDir: stringFlag(ctx.args, 'run-dir') ?? env.CALICO_RUN_DIR ?? '/var/run/calico',
        logDir: stringFlag(ctx.args, 'log-dir') ?? DEFAULT_LOG_DIR,
        env,
        healthURLs: { liveness: felixHealthURL(env, 'liveness'), readiness: felixHealthURL(env, 'readiness') },
        metricsURL: felixMetricsURL(env),
        clientVersion: `Client Version:    ${version.client}\nGit commit:        ${version.gitCommit}\n`,
        now: deps.now ?? (() => new Date()),
        datastore: () => ctx.datastore(),
        progress: (line) => ctx.out(line),
      });
      const failed = result.outcomes.filter((o) => o.result === 'failed').length;
      if (!result.archive) {
        ctx.err(`Diagnostics are in ${result.dir} (not archived).`);
        return 1;
      }
      ctx.out('');
      if (failed) ctx.out(`${failed} item(s) could not be collected; see diagnostics/summary.txt in the archive.`);
      ctx.out(`Diags saved to ${result.archive}`);
      return 0;
    },
  };
}
