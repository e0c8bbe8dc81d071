// calicoctl explain: would this packet be allowed, and by what? Reads the
// datastore and asks the calc graph + reference interpreter (src/calc/explain.ts),
// the same model the agents compile their rules from.
import { stringify } from 'yaml';
import { CALC_KINDS } from '../../calc/graph.js';
import { ExplainError, explainFlow, ruleLabel, type SideExplanation } from '../../calc/explain.js';
import { CalicoError } from '../../base/errors.js';
import type { Resource } from '../../api/resource.js';
import { stringFlag } from '../args.js';
import { CONFIG_FLAG, type Command } from '../command.js';

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

export const explainCommand: Command = {
  name: 'explain',
  summary: 'Say whether a packet between two endpoints is allowed, and which tier, policy and rule decide.',
  usage: ['explain --from=<FROM> --to=<TO> [--protocol=<PROTOCOL>] [--port=<PORT>] [--icmp-type=<TYPE>] [-o human|json|yaml] [--config=<CONFIG>]'],
  examples: [
    { comment: 'May prod/web-1 open TCP 5432 on prod/db-1?', command: 'calicoctl explain --from prod/web-1 --to prod/db-1 --protocol TCP --port 5432' },
    { comment: 'A ping from an address outside the cluster to a workload.', command: 'calicoctl explain --from 203.0.113.10 --to 198.19.0.5 --protocol ICMP' },
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
allowed, 3 when denied, 1 on an error.`,
  flags: [
    { name: 'from', type: 'string', placeholder: 'FROM', description: 'The source: <namespace>/<workload>, a HostEndpoint name or an IP address.' },
    { name: 'to', type: 'string', placeholder: 'TO', description: 'The destination, in the same forms.' },
    { name: 'protocol', type: 'string', placeholder: 'PROTOCOL', description: 'TCP, UDP, SCTP, ICMP, ICMPv6 or a number.', default: 'TCP' },
    { name: 'port', type: 'string', placeholder: 'PORT', description: 'Destination port (TCP, UDP, SCTP).' },
    { name: 'source-port', type: 'string', placeholder: 'PORT', description: 'Source port (default 40000).' },
    { name: 'icmp-type', type: 'string', placeholder: 'TYPE', description: 'ICMP type (default: echo request).' },
    { name: 'icmp-code', type: 'string', placeholder: 'CODE', description: 'ICMP code (default 0).' },
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
    if (output === 'json') ctx.out(JSON.stringify(result, null, 2));
    else if (output === 'yaml') ctx.out(stringify(result).trimEnd());
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
    }
    return result.action === 'allow' ? 0 : 3;
  },
};

function optional<K extends string>(key: K, value: number | undefined): { [P in K]?: number } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: number };
}
