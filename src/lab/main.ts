// calico-lab: a whole data center on one machine, from network namespaces.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { parse as parseYaml } from 'yaml';
import { join } from 'node:path';
import { parseTopology } from './topology.js';
import { DEFAULT_STATE_ROOT, PROJECT_ROOT, down, etcdControl, loadPlan, restartComponent, status, up, type LabContext } from './lab.js';
import { systemShell } from './shell.js';
import { PROBES, formatMatrix, mismatches, parseExpectation } from './matrix.js';
import { runProbes } from './probe.js';
import { renderGraph, sessionsFromBird } from './graph.js';
import { routerPaths } from './daemons.js';
import { loadWorkloads } from './workloads.js';

/** `--name value` / `--name=value` flags; anything else is left alone. */
function parseFlags(args: string[], names: string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (let i = 0; i < args.length; i++) {
    const m = /^--([a-z]+)(?:=(.*))?$/.exec(args[i]!);
    if (!m || !names.includes(m[1]!)) throw new Error(`unknown argument "${args[i]}"; flags: ${names.map((n) => `--${n}`).join(' ')}`);
    out[m[1]!] = m[2] ?? args[++i];
  }
  return out;
}
import { isCalicoError } from '../base/errors.js';

/**
 * The lab a command is about: CALICO_LAB_NAME, else the only lab that is up
 * (so `up examples/lab/address-spaces.yaml` then `probe` needs no name),
 * else "demo".
 */
function currentLab(ctx: LabContext): string {
  if (process.env.CALICO_LAB_NAME) return process.env.CALICO_LAB_NAME;
  const up = existsSync(ctx.stateRoot) ? readdirSync(ctx.stateRoot).filter((n) => existsSync(join(ctx.stateRoot, n, 'plan.json'))) : [];
  return up.length === 1 ? up[0]! : 'demo';
}

const HELP = `calico-lab: a data center on one machine, built from network namespaces.

Usage:
  calico-lab up [TOPOLOGY.yaml]     build it (default: examples/lab/default.yaml)
  calico-lab down [NAME]            remove every namespace, process and mount of lab NAME (default: the lab
                                    that is up, else demo);
                                    safe to run twice and after a crash
  calico-lab status [NAME]          routers and their BGP sessions, hosts and their routes
  calico-lab exec NAME -- CMD ...   run CMD inside a host, router or workload namespace
  calico-lab probe [--probes tcp/80,udp/5353,icmp] [--family 4|6] [--expect FILE]
                                    connectivity matrix: every workload to every workload and the
                                    internet host; with --expect, exit 1 when a cell differs
  calico-lab restart HOST [calico-node|bird]
                                    restart a host's agent (SIGTERM: dataplane stays) or kill its BIRD
  calico-lab etcd stop|start        take the datastore away and bring it back
  calico-lab calicoctl ARGS...      calicoctl against the lab's etcd (e.g. calico-lab calicoctl get weps -A)
  calico-lab graph [--out FILE]     the topology and BGP sessions as an HTML page (SVG)
  calico-lab plan [TOPOLOGY.yaml]   print the addressing plan without building anything

Environment:
  CALICO_LAB_DIR   where the lab keeps its state, logs and router configs (default /run/calico-lab)
  CALICO_LAB_NAME  the lab probe, exec, status ... act on (default: the only lab that is up, else demo)

Examples:
  calico-lab up
  calico-lab up examples/lab/address-spaces.yaml   (two tenants with the same IPv4 /24, docs/xlat.md)
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
      await down(ctx, rest[0] ?? currentLab(ctx));
      return 0;
    case 'status':
      console.log(await status(ctx, rest[0] ?? currentLab(ctx)));
      return 0;
    case 'probe': {
      const name = currentLab(ctx);
      const plan = loadPlan(ctx, name);
      if (!plan) {
        console.error('no lab is up (run: calico-lab up)');
        return 1;
      }
      const flags = parseFlags(rest, ['expect', 'probes', 'family']);
      const expectation = flags.expect ? parseExpectation(parseYaml(readFileSync(flags.expect, 'utf8')), flags.expect) : undefined;
      const probes = flags.probes ? flags.probes.split(',') : expectation?.probes ?? [...PROBES];
      const family = flags.family === '6' ? 6 : 4;
      const result = await runProbes(ctx.shell, plan, loadWorkloads(join(ctx.stateRoot, name)), { probes, family });
      console.log(formatMatrix(result));
      if (!expectation) return 0;
      const wrong = mismatches(result, expectation);
      console.log(wrong.length ? `${wrong.length} cell(s) differ from ${flags.expect}:\n  ${wrong.join('\n  ')}` : `matrix matches ${flags.expect}`);
      return wrong.length ? 1 : 0;
    }
    case 'restart':
    case 'etcd': {
      const plan = loadPlan(ctx, currentLab(ctx));
      if (!plan) {
        console.error('no lab is up (run: calico-lab up)');
        return 1;
      }
      if (verb === 'etcd') {
        if (rest[0] !== 'stop' && rest[0] !== 'start') {
          console.error('usage: calico-lab etcd stop|start');
          return 2;
        }
        await etcdControl(ctx, plan, rest[0]);
        return 0;
      }
      const [host, component = 'calico-node'] = rest;
      if (!host || (component !== 'calico-node' && component !== 'bird')) {
        console.error('usage: calico-lab restart <host> [calico-node|bird]');
        return 2;
      }
      await restartComponent(ctx, plan, host, component);
      return 0;
    }
    case 'calicoctl': {
      const plan = loadPlan(ctx, currentLab(ctx));
      if (!plan) {
        console.error('no lab is up (run: calico-lab up)');
        return 1;
      }
      // etcd lives on the lab's management network: run calicoctl there.
      const res = spawnSync('ip', ['netns', 'exec', plan.etcd.ns, 'env', `ETCD_ENDPOINTS=${plan.etcd.clientURL}`, 'DATASTORE_TYPE=etcdv3', join(PROJECT_ROOT, 'bin/calicoctl'), ...rest], { stdio: 'inherit' });
      return res.status ?? 1;
    }
    case 'graph': {
      const name = currentLab(ctx);
      const plan = loadPlan(ctx, name);
      if (!plan) {
        console.error('no lab is up (run: calico-lab up)');
        return 1;
      }
      const flags = parseFlags(rest, ['out']);
      const out = flags.out ?? join(ctx.stateRoot, name, 'graph.html');
      const sessions = [];
      for (const r of plan.routers) {
        const res = await ctx.shell.run(['birdc', '-s', routerPaths(join(ctx.stateRoot, name), r).socket, 'show', 'protocols'], { allowFail: true });
        sessions.push(...sessionsFromBird(r.ns, r.neighbors, res.stdout));
      }
      writeFileSync(out, renderGraph(plan, loadWorkloads(join(ctx.stateRoot, name)), sessions));
      console.log(`wrote ${out} (open it in a browser)`);
      return 0;
    }
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
      const plan = loadPlan(ctx, currentLab(ctx));
      if (!plan) {
        console.error('no lab is up (run: calico-lab up)');
        return 1;
      }
      const known = [
        ...plan.namespaces.map((n) => ({ label: n.label, name: n.name })),
        ...loadWorkloads(join(ctx.stateRoot, plan.topology.name)).map((w) => ({ label: w.name, name: w.ns })),
      ];
      const ns = known.find((n) => n.label === target || n.name === target);
      if (!ns) {
        console.error(`no host, router or workload named "${target}"; known: ${known.map((n) => n.label).join(', ')}`);
        return 1;
      }
      // Inherit the terminal so interactive commands (a shell, tcpdump) work.
      const res = spawnSync('ip', ['netns', 'exec', ns.name, ...rest.slice(sep + 1)], { stdio: 'inherit' });
      return res.status ?? 1;
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
