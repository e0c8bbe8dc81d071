// calicoctl explain: would this packet be allowed, and by what? Reads the
// datastore and asks the calc graph + reference interpreter (src/calc/explain.ts),
// the same model the agents compile their rules from. --trace also follows
// one real packet through this node's nftables ruleset (src/trace/).
import { stringify } from 'yaml';
import { CALC_KINDS } from '../../calc/graph.js';
import { ExplainError, explainFlow, nodeState, ruleLabel, type Explanation, type SideExplanation } from '../../calc/explain.js';
import { CalicoError } from '../../base/errors.js';
import type { Resource } from '../../api/resource.js';
import type { Exec } from '../../dataplane/ports.js';
import { LinuxExec } from '../../dataplane/linux/exec.js';
import { compareWithTrace, formatTrace } from '../../trace/trace-compare.js';
import { mapTrace } from '../../trace/trace-map.js';
import { tracedSourcePort } from '../../trace/trace-parse.js';
import { traceOnePacket, type TraceTimer } from '../../trace/trace-run.js';
import { boolFlag, stringFlag, type FlagSpec } from '../args.js';
import { CONFIG_FLAG, type Command, type CommandContext } from '../command.js';

/** Exit code when the kernel trace and the computed answer differ. */
export const EXIT_MISMATCH = 4;

const intFlag = (text: string | undefined, name: string, max: number): number | undefined => {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new CalicoError('invalid-argument', `--${name}=${text} must be a whole number 0-${max}`);
  return n;
};

function sideLines(s: SideExplanation): string[] {
  const lines = [`${s.direction === 'egress' ? 'Egress of' : 'Ingress of'} ${s.end.label} (node ${s.end.node}): ${s.verdict.action.toUpperCase()}`, `  ${s.because}`];
  for (const p of s.verdict.passed) lines.push(`  passed on: ${'index' in p ? ruleLabel(p, s.direction) : `end of tier ${p.tier} (default action Pass)`}`);
  for (const l of s.verdict.logged) lines.push(`  logged by: ${ruleLabel(l, s.direction)}`);
  return lines;
}

export interface ExplainDeps {
  /** Runs nft (in `netns` when given). Default: the real one. */
  exec?: (netns: string | undefined) => Exec;
  timer?: TraceTimer;
  /** Aborts a running trace (the real CLI: SIGINT/SIGTERM), which still removes the trace table. */
  abort?: AbortSignal;
}

const TRACE_FLAGS: FlagSpec[] = [
  { name: 'trace', type: 'boolean', description: "Also trace one real packet of the flow through this node's nftables ruleset (meta nftrace) and compare. Root on the node; nftables backend only." },
  { name: 'timeout', type: 'string', placeholder: 'SECONDS', description: 'How long --trace waits for the packet.', default: '10' },
  { name: 'node', type: 'string', placeholder: 'NODE', description: 'The node --trace runs on. [default: $NODENAME, else <run-dir>/nodename]' },
  { name: 'netns', type: 'string', placeholder: 'NETNS', description: "Run nft in this named network namespace (a lab host's), not the current one." },
  { name: 'run-dir', type: 'string', placeholder: 'DIR', description: "calico-node's run directory, for its nodename file. [default: $CALICO_RUN_DIR or /var/run/calico]" },
];

async function thisNode(ctx: CommandContext): Promise<string> {
  const given = stringFlag(ctx.args, 'node') ?? ctx.io.env.NODENAME;
  if (given) return given;
  const runDir = stringFlag(ctx.args, 'run-dir') ?? ctx.io.env.CALICO_RUN_DIR ?? '/var/run/calico';
  try {
    return (await ctx.io.readFile(`${runDir}/nodename`)).trim();
  } catch {
    throw new CalicoError('invalid-argument', `--trace: which node is this? Give --node, set NODENAME, or start calico-node (it writes ${runDir}/nodename)`);
  }
}

async function runTrace(ctx: CommandContext, e: Explanation, resources: Resource[], deps: ExplainDeps): Promise<{ text: string; json: unknown; agrees: boolean }> {
  const node = await thisNode(ctx);
  const ends = [e.from, e.to].filter((x): x is Exclude<typeof x, { kind: 'external' }> => x.kind !== 'external');
  if (!ends.some((x) => x.node === node)) {
    throw new CalicoError('invalid-argument', `--trace: node '${node}' enforces neither end of this packet; run it on ${ends.length ? `node ${[...new Set(ends.map((x) => x.node))].join(' or ')}` : 'a node of one end'}`);
  }
  const timeoutText = stringFlag(ctx.args, 'timeout') ?? '10';
  const timeout = Number(timeoutText);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new CalicoError('invalid-argument', `--timeout: '${timeoutText}' is not a positive number of seconds`);
  const exec = (deps.exec ?? ((netns) => new LinuxExec(netns ? { netns } : {})))(stringFlag(ctx.args, 'netns'));
  const p = e.packet;
  // Ctrl-C must not leave the trace table behind: abort, and the driver removes it.
  const interrupt = deps.abort ? undefined : new AbortController();
  const onSignal = () => interrupt?.abort();
  if (interrupt) for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, onSignal);
  let events;
  try {
    events = await traceOnePacket({
      exec,
      packet: p,
      timeoutMs: timeout * 1000,
      ...(deps.timer ? { timer: deps.timer } : {}),
      abort: deps.abort ?? interrupt!.signal,
      onReady: () => ctx.err(`Tracing on node ${node}: send ${p.src} -> ${p.dst}${p.dstPort !== undefined ? `:${p.dstPort}` : ''} (protocol ${p.protocol}) now (waiting up to ${timeout}s)`),
    });
  } finally {
    if (interrupt) for (const sig of ['SIGINT', 'SIGTERM'] as const) process.off(sig, onSignal);
  }
  // The sender picks the source port: re-evaluate merged rules with the one the kernel saw.
  const sport = events ? tracedSourcePort(events) : undefined;
  const trace = events ? mapTrace(events, { state: nodeState(node, resources), packet: sport !== undefined ? { ...p, srcPort: sport } : p }) : undefined;
  const comparison = compareWithTrace(e, node, trace);
  return { text: formatTrace(node, trace, comparison), json: { node, trace: trace ?? null, agrees: comparison.agrees, comparison: comparison.lines }, agrees: comparison.agrees };
}

export function explainCommand(deps: ExplainDeps = {}): Command {
  return {
  name: 'explain',
  summary: 'Say whether a packet between two endpoints is allowed, and which tier, policy and rule decide.',
  usage: ['explain --from=<FROM> --to=<TO> [--protocol=<PROTOCOL>] [--port=<PORT>] [--icmp-type=<TYPE>] [--trace [--timeout=<SECONDS>] [--node=<NODE>] [--netns=<NETNS>] [--run-dir=<DIR>]] [-o human|json|yaml] [--config=<CONFIG>]'],
  examples: [
    { comment: 'May prod/web-1 open TCP 5432 on prod/db-1?', command: 'calicoctl explain --from prod/web-1 --to prod/db-1 --protocol TCP --port 5432' },
    { comment: 'A ping from an address outside the cluster to a workload.', command: 'calicoctl explain --from 203.0.113.10 --to 198.19.0.5 --protocol ICMP' },
    { comment: "On db-1's node, as root: trace the next such packet through the kernel and compare.", command: 'calicoctl explain --from prod/web-1 --to prod/db-1 --port 5432 --trace --timeout 30' },
  ],
  description: `Computes, from the datastore, what calico-node would decide for one packet:
the egress policy of the source endpoint (on its node) and the ingress policy
of the destination endpoint (on its node), tiers in order, then profiles. For
each side it prints the tier, policy and rule (egress[i] / ingress[i], as in
the resource) that decide, or the end of a tier, a missing policy or profile,
or the default deny. An end given as an address that belongs to no endpoint
is outside calico-ts's policing: only the other side is evaluated.

<FROM> and <TO>: <namespace>/<pod or workload> (or WorkloadEndpoint name), a
HostEndpoint name, or an IP address. <PROTOCOL>: TCP (default), UDP, SCTP,
ICMP, ICMPv6 or a number; TCP, UDP and SCTP need --port. Exit code: 0 when
allowed, 3 when denied, 1 on an error.

--trace (root, on the node of one end; --netns for a lab host's namespace):
adds a table of its own (inet calico-trace) marking this flow with meta
nftrace, waits for one packet of it (send it yourself), removes the table
(also on timeout, error or Ctrl-C), and prints the rules of inet calico the
packet met, mapped to tier, policy and rule, next to the computed answer:
AGREE, or MISMATCH and exit code 4. nftables backend only:
the iptables backend is not traced.`,
  flags: [
    { name: 'from', type: 'string', placeholder: 'FROM', description: 'The source: <namespace>/<workload>, a HostEndpoint name or an IP address.' },
    { name: 'to', type: 'string', placeholder: 'TO', description: 'The destination, in the same forms.' },
    { name: 'protocol', type: 'string', placeholder: 'PROTOCOL', description: 'TCP, UDP, SCTP, ICMP, ICMPv6 or a number.', default: 'TCP' },
    { name: 'port', type: 'string', placeholder: 'PORT', description: 'Destination port (TCP, UDP, SCTP).' },
    { name: 'source-port', type: 'string', placeholder: 'PORT', description: 'Source port (default 40000).' },
    { name: 'icmp-type', type: 'string', placeholder: 'TYPE', description: 'ICMP type (default: echo request).' },
    { name: 'icmp-code', type: 'string', placeholder: 'CODE', description: 'ICMP code (default 0).' },
    ...TRACE_FLAGS,
    { name: 'output', short: 'o', type: 'string', placeholder: 'OUTPUT', description: 'human, json or yaml.', default: 'human' },
    CONFIG_FLAG,
  ],
  run: async (ctx) => {
    const from = stringFlag(ctx.args, 'from');
    const to = stringFlag(ctx.args, 'to');
    if (!from || !to) throw new CalicoError('invalid-argument', 'give both --from and --to (see calicoctl explain --help)');
    const output = stringFlag(ctx.args, 'output') ?? 'human';
    if (!['human', 'json', 'yaml'].includes(output)) throw new CalicoError('invalid-argument', `-o ${output}: use human, json or yaml`);
    const flow = {
      from,
      to,
      protocol: stringFlag(ctx.args, 'protocol') ?? 'TCP',
      ...optional('dstPort', intFlag(stringFlag(ctx.args, 'port'), 'port', 65535)),
      ...optional('srcPort', intFlag(stringFlag(ctx.args, 'source-port'), 'source-port', 65535)),
      ...optional('icmpType', intFlag(stringFlag(ctx.args, 'icmp-type'), 'icmp-type', 255)),
      ...optional('icmpCode', intFlag(stringFlag(ctx.args, 'icmp-code'), 'icmp-code', 255)),
    };
    const ds = await ctx.datastore();
    const resources: Resource[] = [];
    for (const kind of CALC_KINDS) resources.push(...(await ds.list({ kind })).items);
    let result;
    try {
      result = explainFlow(resources, flow);
    } catch (err) {
      if (err instanceof ExplainError) throw new CalicoError('invalid-argument', err.message);
      throw err;
    }
    const traced = boolFlag(ctx.args, 'trace') ? await runTrace(ctx, result, resources, deps) : undefined;
    const whole = traced ? { ...result, kernelTrace: traced.json } : result;
    if (output === 'json') ctx.out(JSON.stringify(whole, null, 2));
    else if (output === 'yaml') ctx.out(stringify(whole).trimEnd());
    else {
      const p = result.packet;
      const what = p.dstPort !== undefined ? `${flow.protocol.toUpperCase()} ${p.src}:${p.srcPort} -> ${p.dst}:${p.dstPort}` : `${flow.protocol.toUpperCase()} ${p.src} -> ${p.dst}${p.icmpType !== undefined ? ` (type ${p.icmpType} code ${p.icmpCode})` : ''}`;
      ctx.out(`Packet: ${what}`);
      ctx.out(`From:   ${result.from.label}${result.from.kind === 'external' ? ' (not an endpoint of this cluster: no egress policy)' : ''}`);
      ctx.out(`To:     ${result.to.label}${result.to.kind === 'external' ? ' (not an endpoint of this cluster: no ingress policy)' : ''}`);
      ctx.out('');
      for (const s of [result.egress, result.ingress]) if (s) for (const l of sideLines(s)) ctx.out(l);
      ctx.out('');
      ctx.out(`Verdict: ${result.summary}`);
      if (traced) ctx.out(traced.text);
    }
    if (traced && !traced.agrees) {
      ctx.err('calicoctl explain: MISMATCH between the computed answer and the kernel trace (see above)');
      return EXIT_MISMATCH;
    }
    return result.action === 'allow' ? 0 : 3;
  },
  };
}

function optional<K extends string>(key: K, value: number | undefined): { [P in K]?: number } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: number };
}
