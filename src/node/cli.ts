// bin/calico-node's command line, parsed the way calico/node's Go flag set
// parses it (node/cmd/calico-node/main.go): `-flag` or `--flag`, booleans as
// `-flag` or `-flag=false`, values as `-flag=value` or `-flag value`. Pure.
// Without an action flag the agent runs (configured by environment, as
// calico/node is). The readiness/liveness flags run the probes a Kubernetes
// manifest gives calico/node and exit 0 (ok) or 1 (not), printing one line.
import { CalicoError } from '../base/errors.js';
import { parseDuration } from '../api/values.js';

export type HealthCheck = 'felix-live' | 'felix-ready' | 'bird-live' | 'bird-ready' | 'bird6-live' | 'bird6-ready';

export type NodeInvocation =
  | { action: 'run' }
  | { action: 'help' }
  | { action: 'version' }
  | { action: 'startup' }
  | { action: 'show-status' }
  | { action: 'health'; checks: HealthCheck[]; thresholdMs: number };

export class UsageError extends CalicoError {
  constructor(message: string) {
    super('invalid-argument', message);
    this.name = 'UsageError';
  }
}

interface FlagDef {
  names: string[];
  kind: 'bool' | 'duration';
  help: string;
}

const HEALTH: Record<HealthCheck, string> = {
  'felix-live': 'Run felix liveness checks (GET /liveness on FELIX_HEALTHHOST:FELIX_HEALTHPORT)',
  'felix-ready': 'Run felix readiness checks (GET /readiness on FELIX_HEALTHHOST:FELIX_HEALTHPORT)',
  'bird-live': "Run BIRD liveness checks (BIRD answers on $CALICO_RUN_DIR/bird/bird.ctl)",
  'bird-ready': 'Run BIRD readiness checks (IPv4 BGP sessions established; see -threshold-time)',
  'bird6-live': 'Run BIRD6 liveness checks (one BIRD serves both families here: same as -bird-live)',
  'bird6-ready': 'Run BIRD6 readiness checks (IPv6 BGP sessions established)',
};

export const FLAGS: FlagDef[] = [
  { names: ['h', 'help'], kind: 'bool', help: 'Print this help and exit' },
  { names: ['v', 'version'], kind: 'bool', help: 'Display version' },
  { names: ['startup'], kind: 'bool', help: 'Do the start-up routine only (Node, default IP pools, ClusterInformation), then exit' },
  { names: ['show-status'], kind: 'bool', help: "Print out node status (this host's BGP sessions)" },
  ...(Object.keys(HEALTH) as HealthCheck[]).map((n): FlagDef => ({ names: [n], kind: 'bool', help: HEALTH[n] })),
  { names: ['threshold-time'], kind: 'duration', help: 'Threshold time for bird readiness (default 30s): within it of start-up every session must be up, after it one is enough' },
];

const BOOL_WORDS: Record<string, boolean> = { '1': true, t: true, T: true, true: true, TRUE: true, True: true, '0': false, f: false, F: false, false: false, FALSE: false, False: false };

/** The usage text (`-h`, and after a usage error). */
export function usageText(): string {
  const lines = ['Usage: calico-node [flag]', '', 'Without a flag: run the agent (Felix dataplane, BIRD, start-up duties), configured by environment', '(NODENAME, IP, IP6, CALICO_IPV4POOL_CIDR, ...: see the README, "calico-node configuration").', '', 'Flags (write them -flag or --flag; booleans also -flag=false, values -flag=value or -flag value):'];
  for (const f of FLAGS) {
    lines.push(`  ${f.names.map((n) => `-${n}`).join(', ')}${f.kind === 'duration' ? ' <duration>' : ''}`);
    lines.push(`        ${f.help}`);
  }
  lines.push('', 'Exit codes: 0 ok, 1 a probe failed (or the agent stopped on a dataplane failure), 2 bad flags or configuration, 3 start-up failure.');
  return lines.join('\n');
}

function lookupFlag(name: string): FlagDef | undefined {
  return FLAGS.find((f) => f.names.includes(name));
}

/** Parses argv (without node and the script). Throws UsageError naming the bad argument. */
export function parseNodeArgs(argv: string[]): NodeInvocation {
  const set = new Map<string, boolean | number>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      if (i + 1 < argv.length) throw new UsageError(`unexpected argument "${argv[i + 1]}": calico-node takes flags only`);
      break;
    }
    if (!arg.startsWith('-') || arg === '-') throw new UsageError(`unexpected argument "${arg}": calico-node takes flags only`);
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    if (body === '' || body.startsWith('-') || body.startsWith('=')) throw new UsageError(`bad flag syntax: ${arg}`);
    const eq = body.indexOf('=');
    const name = eq === -1 ? body : body.slice(0, eq);
    const def = lookupFlag(name);
    if (!def) throw new UsageError(`flag provided but not defined: -${name}`);
    const key = def.names[def.names.length - 1]!;
    if (def.kind === 'bool') {
      if (eq === -1) set.set(key, true);
      else {
        const v = BOOL_WORDS[body.slice(eq + 1)];
        if (v === undefined) throw new UsageError(`invalid boolean value "${body.slice(eq + 1)}" for -${name}: use true or false`);
        set.set(key, v);
      }
      continue;
    }
    let value: string;
    if (eq !== -1) value = body.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: -${name}`);
      value = argv[++i]!;
    }
    const ms = parseDuration(value);
    if (ms === undefined) throw new UsageError(`invalid value "${value}" for -${name}: give a duration such as 30s, 1m or 1m30s`);
    set.set(key, ms);
  }
  if (set.get('help') === true) return { action: 'help' };
  const checks = (Object.keys(HEALTH) as HealthCheck[]).filter((c) => set.get(c) === true);
  const actions = ['version', 'startup', 'show-status'].filter((a) => set.get(a) === true);
  const threshold = set.get('threshold-time') as number | undefined;
  if (checks.length) {
    if (actions.length) throw new UsageError(`-${actions[0]} cannot be combined with the health checks (${checks.map((c) => `-${c}`).join(', ')})`);
    return { action: 'health', checks, thresholdMs: threshold ?? 30_000 };
  }
  if (threshold !== undefined) throw new UsageError('-threshold-time applies only to -bird-ready / -bird6-ready');
  if (actions.length > 1) throw new UsageError(`More than one incompatible argument provided: ${actions.map((a) => `-${a}`).join(' and ')}`);
  if (actions.length === 1) return { action: actions[0] as 'version' | 'startup' | 'show-status' };
  return { action: 'run' };
}
