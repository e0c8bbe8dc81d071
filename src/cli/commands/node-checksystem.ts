// calicoctl node checksystem: can this host run calico-node? Checks the kernel
// features and programs the chosen policy backend and BGP need (system-check/),
// prints one table, and exits 1 naming what is missing with the fix.
import { effectiveFelixSettings, felixOverridesFromEnv, policyBackendFrom } from '../../node/config.js';
import { invalidArgument, stringFlag } from '../args.js';
import type { Command } from '../command.js';
import { formatCheckReport, systemChecks, type CheckTarget } from '../system-check/checks.js';
import { evaluateChecks, type SystemProbe } from '../system-check/evaluate.js';
import { LinuxSystemProbe } from '../system-check/linux-probe.js';

export const ROOT_REQUIRED = 'This command must be run as root.';

/** Flags first, then calico-node's own variables, then calico-node's defaults. */
export function checkTargetFrom(flags: { dataplane?: string; networkingBackend?: string }, env: Record<string, string | undefined>): CheckTarget {
  // The same reading of FELIX_* as calico-node's (FelixConfiguration in the datastore is not consulted: this runs without it).
  const dataplane = flags.dataplane ?? policyBackendFrom(effectiveFelixSettings({ env: felixOverridesFromEnv(env).overrides }));
  if (dataplane !== 'nftables' && dataplane !== 'iptables') throw invalidArgument(`--dataplane must be nftables or iptables (got '${dataplane}')`);
  const networking = (flags.networkingBackend ?? env.CALICO_NETWORKING_BACKEND ?? 'bird').trim().toLowerCase();
  if (networking !== 'bird' && networking !== 'none') throw invalidArgument(`--networking-backend must be bird or none (got '${networking}')`);
  return { backend: dataplane, bgp: networking === 'bird' };
}

export function nodeChecksystemCommand(deps: { probe?: SystemProbe } = {}): Command {
  return {
    name: 'checksystem',
    summary: 'Verify the compute host is able to run a Calico node instance.',
    usage: ['node checksystem [--dataplane=<nftables|iptables>] [--networking-backend=<bird|none>]'],
    description: `Checks the kernel features and programs calico-node needs on this host and
prints one line per check: OK, FAIL (required and missing), WARN (optional,
e.g. IPv6) or SKIP (not needed for this configuration). Exits 1 when a
required check fails, naming each missing feature and how to fix it.

Kernel features are tried, not looked up in module lists: each probe (veth,
policy routing, forwarding and per-interface sysctls, nftables or iptables +
ipset rules) runs in a private network namespace made for it with
'unshare --net', which disappears when the probe exits. Nothing is written in
this host's network namespace. Run it on the node, as root; in the lab, run
it inside the host's namespace (ip netns exec <host> calicoctl node checksystem).

The backend checked defaults to what calico-node would use with this
environment: FELIX_NFTABLESMODE=Disabled or FELIX_DATAPLANEDRIVER=iptables
select iptables, anything else nftables; CALICO_NETWORKING_BACKEND=none skips
the BIRD checks.`,
    examples: [
      { comment: 'Check this host for the nftables backend with BGP.', command: 'calicoctl node checksystem' },
      { comment: 'Check for the iptables + ipset backend without BGP.', command: 'calicoctl node checksystem --dataplane=iptables --networking-backend=none' },
    ],
    flags: [
      { name: 'dataplane', type: 'string', placeholder: 'nftables|iptables', description: 'Policy backend to check for. [default: from FELIX_NFTABLESMODE / FELIX_DATAPLANEDRIVER, else nftables]' },
      { name: 'networking-backend', type: 'string', placeholder: 'bird|none', description: 'bird also checks for BIRD 2. [default: $CALICO_NETWORKING_BACKEND or bird]' },
    ],
    run: async (ctx) => {
      const dataplane = stringFlag(ctx.args, 'dataplane');
      const networkingBackend = stringFlag(ctx.args, 'networking-backend');
      const target = checkTargetFrom({ ...(dataplane !== undefined ? { dataplane } : {}), ...(networkingBackend !== undefined ? { networkingBackend } : {}) }, ctx.io.env);
      const probe = deps.probe ?? new LinuxSystemProbe(ctx.io.env);
      if (!probe.isRoot()) {
        ctx.err(ROOT_REQUIRED);
        return 1;
      }
      const report = formatCheckReport(await evaluateChecks(systemChecks(target), probe), target);
      ctx.out(report.text);
      return report.ok ? 0 : 1;
    },
  };
}
