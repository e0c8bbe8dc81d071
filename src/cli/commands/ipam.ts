// calicoctl ipam show | check | release | configure. Parse flags -> IpamClient -> format.
import { invalidArgument, boolFlag, stringFlag } from '../args.js';
import { ipamConfigurationProblems } from '../../api/index.js';
import { CONFIG_FLAG, type Command, type CommandContext } from '../command.js';
import { renderTable } from '../output.js';
import { listAllocations, allocatedCount } from '../../ipam/block.js';
import { cidrSize } from '../../base/ip.js';
import { parseCidr, tryParseIp } from '../../ipam/cidr-math.js';
import { checkIpam, formatCheckReport, type IpamCheckReport } from '../../ipam/check.js';
import { datastoreOwnerSource, datastorePoolSource } from '../../ipam/datastore-sources.js';
import { IpamClient } from '../../ipam/ipam-client.js';
import { hostOfAffinity } from '../../ipam/model.js';
import { blockInPools } from '../../ipam/planner.js';

async function client(ctx: CommandContext): Promise<{ ipam: IpamClient; ds: Awaited<ReturnType<CommandContext['datastore']>> }> {
  const ds = await ctx.datastore();
  return { ipam: new IpamClient({ kv: ds.kv, pools: datastorePoolSource(ds) }), ds };
}

const showCommand: Command = {
  name: 'show',
  summary: 'Show IP address usage per pool, per block, borrowed addresses, or who owns one address.',
  usage: ['ipam show [--ip=<IP>] [--show-blocks] [--show-borrowed] [--show-configuration] [--config=<CONFIG>]'],
  examples: [
    { comment: 'Totals per pool.', command: 'calicoctl ipam show' },
    { comment: 'Who owns 10.0.0.5?', command: 'calicoctl ipam show --ip=10.0.0.5' },
  ],
  flags: [
    CONFIG_FLAG,
    { name: 'ip', type: 'string', placeholder: 'IP', description: 'Report whether this address is in use, and by whom.' },
    { name: 'show-blocks', type: 'boolean', description: 'Also list each block with its usage.' },
    { name: 'show-borrowed', type: 'boolean', description: 'List addresses used by a node other than the block owner.' },
    { name: 'show-configuration', type: 'boolean', description: 'Show the IPAM configuration.' },
  ],
  run: async (ctx) => {
    const { ipam } = await client(ctx);
    const ip = stringFlag(ctx.args, 'ip');
    if (ip !== undefined) {
      if (!tryParseIp(ip)) throw invalidArgument(`--ip: '${ip}' is not an IP address`);
      const o = await ipam.ownerOf(ip);
      if (!o.allocation) {
        ctx.out(o.pool ? `IP ${ip} is not assigned in IPPool ${o.pool.name} (${o.pool.cidr})` : `IP ${ip} is not in any IPPool`);
        return 0;
      }
      ctx.out(`IP ${ip} is in use`);
      ctx.out(`Handle: ${o.allocation.handleId ?? '-'}`);
      ctx.out(`Block: ${o.block!.cidr} (affinity ${o.block!.affinity ?? 'none'})`);
      for (const [k, v] of Object.entries(o.allocation.attrs).sort()) ctx.out(`Attribute ${k}: ${v}`);
      return 0;
    }
    const snap = await ipam.snapshot();
    if (boolFlag(ctx.args, 'show-configuration')) {
      ctx.out(renderTable(['PROPERTY', 'VALUE'], [['StrictAffinity', String(snap.config.strictAffinity)], ['AutoAllocateBlocks', String(snap.config.autoAllocateBlocks)], ['MaxBlocksPerHost', String(snap.config.maxBlocksPerHost)]]).trimEnd());
      return 0;
    }
    if (boolFlag(ctx.args, 'show-borrowed')) {
      const rows: string[][] = [];
      for (const { value: b } of snap.blocks) {
        for (const a of listAllocations(b)) {
          if (a.attrs['node'] !== undefined && a.attrs['node'] !== hostOfAffinity(b.affinity)) {
            rows.push([a.ip, a.attrs['node'], b.cidr, hostOfAffinity(b.affinity) ?? '(none)', a.attrs['type'] ?? 'workload', [a.attrs['namespace'], a.attrs['workload'] ?? a.attrs['pod']].filter(Boolean).join('/') || (a.handleId ?? '')]);
          }
        }
      }
      ctx.out(renderTable(['IP', 'BORROWING-NODE', 'BLOCK', 'BLOCK OWNER', 'TYPE', 'ALLOCATED-TO'], rows).trimEnd());
      return 0;
    }
    const rows: string[][] = [];
    for (const pool of snap.pools) {
      const blocks = snap.blocks.filter((b) => blockInPools(b.value.cidr, [pool]));
      const used = blocks.reduce((n, b) => n + allocatedCount(b.value), 0);
      const total = cidrSize(parseCidr(pool.cidr));
      rows.push(['IP Pool', pool.cidr, total.toString(), `${used} (${pct(used, total)})`, `${(total - BigInt(used)).toString()} (${pct(Number(total) - used, total)})`]);
      if (boolFlag(ctx.args, 'show-blocks')) {
        for (const { value: b } of blocks) {
          const size = BigInt(b.allocations.length);
          const n = allocatedCount(b);
          rows.push(['Block', b.cidr, size.toString(), `${n} (${pct(n, size)})`, `${size - BigInt(n)} (${pct(Number(size) - n, size)})`]);
        }
      }
    }
    ctx.out(renderTable(['GROUPING', 'CIDR', 'IPS TOTAL', 'IPS IN USE', 'IPS FREE'], rows).trimEnd());
    return 0;
  },
};

function pct(n: number, total: bigint): string {
  if (total === 0n) return '0%';
  return `${Math.round((n / Number(total)) * 100)}%`;
}

const checkCommand: Command = {
  name: 'check',
  summary: 'Report leaked addresses (owner gone), blocks without affinity and inconsistencies.',
  usage: ['ipam check [-o json] [--config=<CONFIG>]'],
  examples: [{ comment: 'Write a report that ipam release can act on.', command: 'calicoctl ipam check -o json > report.json' }],
  flags: [CONFIG_FLAG, { name: 'output', short: 'o', type: 'string', placeholder: 'FORMAT', description: "'json' for a machine-readable report (input of ipam release --from-report)." }],
  run: async (ctx) => {
    const { ipam, ds } = await client(ctx);
    const report = checkIpam(await ipam.snapshot(), await datastoreOwnerSource(ds).owners());
    const format = stringFlag(ctx.args, 'output');
    if (format !== undefined && format !== 'json') throw invalidArgument(`-o: '${format}' is not supported; use -o json or no -o`);
    if (format === 'json') ctx.out(JSON.stringify(report, null, 2));
    else ctx.io.stdout.write(formatCheckReport(report));
    return 0;
  },
};

const releaseCommand: Command = {
  name: 'release',
  summary: 'Release an address, or every leaked address of an ipam check report.',
  usage: ['ipam release --ip=<IP> [--config=<CONFIG>]', 'ipam release --from-report=<FILE> [--config=<CONFIG>]'],
  description: `With --from-report, each leaked address is released only if it still carries the
handle and sequence number the report saw: an address re-allocated since the
report was written is left alone.`,
  examples: [
    { comment: 'Release one address.', command: 'calicoctl ipam release --ip=10.0.0.5' },
    { comment: 'Release what a check found.', command: 'calicoctl ipam release --from-report=report.json' },
  ],
  flags: [
    CONFIG_FLAG,
    { name: 'ip', type: 'string', placeholder: 'IP', description: 'The address to release.' },
    { name: 'from-report', type: 'string', placeholder: 'FILE', description: "A report written by 'calicoctl ipam check -o json'." },
  ],
  run: async (ctx) => {
    const ip = stringFlag(ctx.args, 'ip');
    const file = stringFlag(ctx.args, 'from-report');
    if ((ip === undefined) === (file === undefined)) throw invalidArgument('give exactly one of --ip=<IP> or --from-report=<FILE>');
    const { ipam } = await client(ctx);
    if (ip !== undefined) {
      if (!tryParseIp(ip)) throw invalidArgument(`--ip: '${ip}' is not an IP address`);
      await ipam.releaseIps([{ ip }]);
      ctx.out(`Successfully released IP address ${ip}`);
      return 0;
    }
    let report: IpamCheckReport;
    try {
      report = JSON.parse(await ctx.io.readFile(file!)) as IpamCheckReport;
    } catch (err) {
      throw invalidArgument(`--from-report: ${file} is not a report from 'calicoctl ipam check -o json' (${err instanceof Error ? err.message : String(err)})`);
    }
    if (!Array.isArray(report.leakedAddresses)) throw invalidArgument(`--from-report: ${file} has no leakedAddresses list`);
    let released = 0;
    let skipped = 0;
    for (const leak of report.leakedAddresses) {
      try {
        await ipam.releaseIps([{ ip: leak.ip, ...(leak.handleId ? { handleId: leak.handleId } : {}), sequenceNumber: leak.sequenceNumber }]);
        released++;
      } catch (err) {
        ctx.err(`Skipped ${leak.ip}: ${err instanceof Error ? err.message : String(err)}`);
        skipped++;
      }
    }
    ctx.out(`Released ${released} address(es)${skipped ? `, skipped ${skipped}` : ''}`);
    return skipped ? 1 : 0;
  },
};

const configureCommand: Command = {
  name: 'configure',
  summary: 'Change IPAM configuration (strict affinity, max blocks per host).',
  usage: ['ipam configure --strictaffinity=<true|false> [--max-blocks-per-host=<N>] [--config=<CONFIG>]'],
  examples: [{ comment: 'Forbid borrowing addresses from other hosts\' blocks.', command: 'calicoctl ipam configure --strictaffinity=true' }],
  flags: [
    CONFIG_FLAG,
    { name: 'strictaffinity', type: 'string', placeholder: 'true|false', description: 'When true, hosts never borrow addresses from blocks of other hosts.' },
    { name: 'max-blocks-per-host', type: 'string', placeholder: 'N', description: 'Blocks one host may claim (0 = unlimited).' },
  ],
  run: async (ctx) => {
    const strict = stringFlag(ctx.args, 'strictaffinity');
    const max = stringFlag(ctx.args, 'max-blocks-per-host');
    if (strict === undefined && max === undefined) throw invalidArgument('nothing to configure: give --strictaffinity=<true|false> and/or --max-blocks-per-host=<N>');
    if (strict !== undefined && strict !== 'true' && strict !== 'false') throw invalidArgument(`--strictaffinity: '${strict}' must be true or false`);
    if (max !== undefined && !/^\d+$/.test(max)) throw invalidArgument(`--max-blocks-per-host: '${max}' must be a whole number >= 0`);
    const { ipam } = await client(ctx);
    const patch = { ...(strict !== undefined ? { strictAffinity: strict === 'true' } : {}), ...(max !== undefined ? { maxBlocksPerHost: Number(max) } : {}) };
    // The same rules as the IPAMConfiguration resource, which is this same configuration.
    const problems = ipamConfigurationProblems({ ...(await ipam.getConfig()), ...patch });
    if (problems.length > 0) throw invalidArgument(problems.map((p) => `${p.field}: ${p.message}`).join('; '));
    const cfg = await ipam.setConfig(patch);
    ctx.out(`IPAM configuration: strictAffinity=${cfg.strictAffinity} maxBlocksPerHost=${cfg.maxBlocksPerHost}`);
    return 0;
  },
};

export const ipamCommand: Command = {
  name: 'ipam',
  summary: 'IP address management: show usage, check for leaks, release, configure.',
  usage: ['ipam <command> [<args>...]'],
  examples: [{ comment: 'Check for leaked addresses.', command: 'calicoctl ipam check' }],
  flags: [CONFIG_FLAG],
  subcommands: [showCommand, checkCommand, releaseCommand, configureCommand],
};
