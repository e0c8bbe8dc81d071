// calicoctl xlat decode | encode | endpoints: reading address spaces off the
// wire. Any IPv6 address seen in a capture decodes to its space and IPv4
// address; encode prints the IPv6 form (for rules and capture filters);
// endpoints lists a space's endpoints with both forms. Reads AddressSpaces
// and WorkloadEndpoints; writes nothing.
import { CalicoError } from '../../base/errors.js';
import { tryParseCIDR, tryParseIP } from '../../base/ip.js';
import { decode, encodeText, type SpacePrefix } from '../../xlat/address.js';
import { invalidArgument } from '../args.js';
import { CONFIG_FLAG, type Command, type CommandContext } from '../command.js';
import { renderTable } from '../output.js';

async function spacePrefixes(ctx: CommandContext): Promise<SpacePrefix[]> {
  const ds = await ctx.datastore();
  const list = await ds.list({ kind: 'AddressSpace' });
  return list.items.map((r) => ({ name: r.metadata.name, prefix: String((r.spec as { prefix?: string } | undefined)?.prefix ?? '') }));
}

const decodeCommand: Command = {
  name: 'decode',
  summary: 'Decode IPv6 addresses (e.g. from a fabric capture) into address space and IPv4 address.',
  usage: ['xlat decode <IPV6>... [--config=<CONFIG>]'],
  examples: [{ comment: 'Who is 2001:db8:64:1::c612:501?', command: 'calicoctl xlat decode 2001:db8:64:1::c612:501' }],
  flags: [CONFIG_FLAG],
  run: async (ctx) => {
    const addrs = ctx.args.positionals;
    if (addrs.length === 0) throw invalidArgument('give one or more IPv6 addresses to decode');
    for (const a of addrs) if (tryParseIP(a)?.family !== 6) throw invalidArgument(`'${a}' is not an IPv6 address`);
    const spaces = await spacePrefixes(ctx);
    let unknown = 0;
    const rows = addrs.map((a) => {
      const d = decode(spaces, a);
      if (!d) unknown++;
      return [a, d?.space ?? '(no address space)', d?.ipv4 ?? '-'];
    });
    ctx.out(renderTable(['IPV6', 'ADDRESS SPACE', 'IPV4'], rows).trimEnd());
    return unknown ? 1 : 0;
  },
};

const encodeCommand: Command = {
  name: 'encode',
  summary: "Print the IPv6 form of an IPv4 address or CIDR in an address space (for rules and captures).",
  usage: ['xlat encode <SPACE> <IPV4[/LEN]>... [--config=<CONFIG>]'],
  examples: [{ comment: "Tenant A's 198.18.5.0/24 as it appears on the fabric.", command: 'calicoctl xlat encode tenant-a 198.18.5.0/24' }],
  flags: [CONFIG_FLAG],
  run: async (ctx) => {
    const [name, ...addrs] = ctx.args.positionals;
    if (!name || addrs.length === 0) throw invalidArgument('usage: calicoctl xlat encode <SPACE> <IPV4[/LEN]>...');
    for (const a of addrs) {
      const c = a.includes('/') ? tryParseCIDR(a) : tryParseIP(a);
      if (!c || c.family !== 4) throw invalidArgument(`'${a}' is not an IPv4 address or CIDR`);
    }
    const space = (await spacePrefixes(ctx)).find((s) => s.name === name);
    if (!space) throw new CalicoError('not-found', `AddressSpace(${name}) does not exist (calicoctl get addressspaces lists them)`);
    for (const a of addrs) ctx.out(encodeText(space.prefix, a));
    return 0;
  },
};

const endpointsCommand: Command = {
  name: 'endpoints',
  summary: "List an address space's workload endpoints with their IPv4 and translated IPv6 addresses.",
  usage: ['xlat endpoints <SPACE> [--config=<CONFIG>]'],
  examples: [{ comment: "Tenant A's endpoints.", command: 'calicoctl xlat endpoints tenant-a' }],
  flags: [CONFIG_FLAG],
  run: async (ctx) => {
    const [name] = ctx.args.positionals;
    if (!name) throw invalidArgument('usage: calicoctl xlat endpoints <SPACE>');
    const space = (await spacePrefixes(ctx)).find((s) => s.name === name);
    if (!space) throw new CalicoError('not-found', `AddressSpace(${name}) does not exist (calicoctl get addressspaces lists them)`);
    const ds = await ctx.datastore();
    const weps = (await ds.list({ kind: 'WorkloadEndpoint' })).items.filter((w) => (w.spec as { addressSpace?: string } | undefined)?.addressSpace === name);
    const rows = weps.map((w) => {
      const s = w.spec as { node?: string; interfaceName?: string; ipNetworks?: string[] };
      const v4 = (s.ipNetworks ?? []).filter((n) => !n.includes(':')).map((n) => n.split('/')[0]!);
      return [w.metadata.namespace ?? '', w.metadata.name, s.node ?? '', s.interfaceName ?? '', v4.join(','), v4.map((a) => encodeText(space.prefix, a)).join(',')];
    });
    ctx.out(renderTable(['NAMESPACE', 'NAME', 'NODE', 'INTERFACE', 'IPV4', 'IPV6 (ON THE FABRIC)'], rows).trimEnd());
    return 0;
  },
};

export const xlatCommand: Command = {
  name: 'xlat',
  summary: 'Address spaces (overlapping IPv4, 464-XLAT): decode, encode, list endpoints.',
  usage: ['xlat decode <IPV6>...', 'xlat encode <SPACE> <IPV4[/LEN]>...', 'xlat endpoints <SPACE>'],
  description: `Address spaces translate a tenant's IPv4 into IPv6 inside the space's /96 prefix
(RFC 6052: the IPv4 address is the last 32 bits). These commands read the
AddressSpace resources to map between the two forms.`,
  examples: [{ comment: 'Decode an address from a capture.', command: 'calicoctl xlat decode 2001:db8:64:1::c612:501' }],
  flags: [],
  subcommands: [decodeCommand, encodeCommand, endpointsCommand],
};
