// calico-lab: a whole data center on one machine, from network namespaces.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { join } from 'node:path';
import { parseTopology } from './topology.js';
import { DEFAULT_STATE_ROOT, PROJECT_ROOT, down, loadPlan, status, up, type LabContext } from './lab.js';
import { systemShell } from './shell.js';
import { isCalicoError } from '../base/errors.js';

const HELP = `calico-lab: a data center on one machine, built from network namespaces.

Usage:
  calico-lab up [TOPOLOGY.yaml]     build it (default: examples/lab/default.yaml)
  calico-lab down [NAME]            remove every namespace and process of lab NAME (default: demo);
                                    safe to run twice and after a crash
  calico-lab status [NAME]          routers and their BGP sessions, hosts and their routes
  calico-lab exec NAME -- CMD ...   run CMD inside a host, router or workload namespace
  calico-lab plan [TOPOLOGY.yaml]   print the addressing plan without building anything

Environment:
  CALICO_LAB_DIR   where the lab keeps its state, logs and router configs (default /run/calico-lab)

Examples:
  calico-lab up
  calico-lab exec host1 -- ip route
  calico-lab exec web-1 -- ping -c1 203.0.113.10
  calico-lab down
`;

export async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  const ctx: LabContext = { shell: systemShell, stateRoot: DEFAULT_STATE_ROOT, progress: (m) => console.log(m) };
  const readTopology = (file?: string) => {
    const path = file ?? join(PROJECT_ROOT, 'examples/lab/default.yaml');
    return parseTopology(parseYaml(readFileSync(path, 'utf8')), path);
  };
  switch (verb) {
    case 'up':
      await up(ctx, readTopology(rest[0]));
      return 0;
    case 'down':
      await down(ctx, rest[0] ?? 'demo');
      return 0;
    case 'status':
      console.log(await status(ctx, rest[0] ?? 'demo'));
      return 0;
    case 'plan':
      console.log(JSON.stringify(await import('./plan.js').then((m) => m.planLab(readTopology(rest[0]))), null, 2));
      return 0;
    case 'exec': {
      const sep = rest.indexOf('--');
      const target = rest[0];
      if (!target || sep < 1 || sep === rest.length - 1) {
        console.error('usage: calico-lab exec <host|router|workload> -- <command> [args...]');
        return 2;
      }
      const plan = loadPlan(ctx, process.env.CALICO_LAB_NAME ?? 'demo');
      if (!plan) {
        console.error('no lab is up (run: calico-lab up)');
        return 1;
      }
      const ns = plan.namespaces.find((n) => n.label === target || n.name === target);
      if (!ns) {
        console.error(`no host, router or workload named "${target}"; known: ${plan.namespaces.map((n) => n.label).join(', ')}`);
        return 1;
      }
      const res = await ctx.shell.run(['ip', 'netns', 'exec', ns.name, ...rest.slice(sep + 1)], { allowFail: true });
      process.stdout.write(res.stdout);
      process.stderr.write(res.stderr);
      return res.code;
    }
    case undefined:
    case 'help':
    case '-h':
    case '--help':
      console.log(HELP);
      return verb === undefined ? 2 : 0;
    default:
      console.error(`unknown command "${verb}"\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`calico-lab: ${isCalicoError(err) ? err.message : err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
