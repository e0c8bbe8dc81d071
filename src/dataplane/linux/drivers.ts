// Thin Linux drivers for every dataplane port, all over one Exec (which pins
// them to a network namespace). They parse and format, nothing else: every
// decision lives in the pure code that calls them.

import { DataplaneError } from '../errors.js';
import type { Conntrack, Exec, HostInterface, HostInterfaces, Ipset, IptablesFamily, IptablesRestore, Link, LinkNotice, Links, Neighbor, Neighbors, Route, RouteTable, Sysctl } from '../ports.js';
import { ROUTE_PROTOCOL } from '../../rules/names.js';
import { CommandSession, type SessionDialect } from './command-session.js';
import { IpBatch } from './ip-batch.js';
import { LinuxNft } from './nft.js';
import { canonicalCidr } from '../../rules/cidr.js';

async function must(exec: Exec, object: string, argv: string[], input?: string): Promise<string> {
  const r = await exec.run(argv, input === undefined ? {} : { input });
  if (r.code !== 0) throw new DataplaneError(object, `${argv.join(' ')} exited ${r.code}: ${r.stderr.trim().slice(0, 2000)}`);
  return r.stdout;
}

export class LinuxIptables implements IptablesRestore {
  constructor(private readonly exec: Exec) {}
  save(family: IptablesFamily): Promise<string> {
    return must(this.exec, `ip${family === 6 ? '6' : ''}tables`, [family === 4 ? 'iptables-save' : 'ip6tables-save']);
  }
  async restore(family: IptablesFamily, text: string): Promise<void> {
    await must(this.exec, `ip${family === 6 ? '6' : ''}tables`, [family === 4 ? 'iptables-restore' : 'ip6tables-restore', '--noflush'], text);
  }
}

export class LinuxIpset implements Ipset {
  constructor(private readonly exec: Exec) {}
  save(): Promise<string> {
    return must(this.exec, 'ipset', ['ipset', 'save']);
  }
  async restore(text: string): Promise<void> {
    await must(this.exec, 'ipset', ['ipset', 'restore'], text);
  }
}

export class LinuxRouteTable implements RouteTable {
  constructor(
    private readonly exec: Exec,
    private readonly ip: IpBatch = new IpBatch(exec),
  ) {}
  async list(family: 4 | 6): Promise<Route[]> {
    const out = await must(this.exec, 'routes', ['ip', `-${family}`, '-j', 'route', 'show', 'table', 'main', 'proto', String(ROUTE_PROTOCOL)]);
    const rows = (out.trim() ? JSON.parse(out) : []) as { dst: string; dev?: string }[];
    return rows.filter((r) => r.dev).map((r) => ({ dst: canonicalCidr(r.dst), dev: r.dev!, family }));
  }
  replace(routes: Route[]) {
    return this.batch(routes, (r) => `route replace ${r.dst} dev ${r.dev} scope link proto ${ROUTE_PROTOCOL}`);
  }
  remove(routes: Route[]) {
    return this.batch(routes, (r) => `route del ${r.dst} dev ${r.dev} proto ${ROUTE_PROTOCOL}`);
  }
  private async batch(routes: Route[], line: (r: Route) => string) {
    const errors = await this.ip.run(routes.map(line));
    // A route already gone is not a failure to delete it.
    return { failed: routes.flatMap((route, i) => (errors[i] !== undefined && !/No such process/.test(errors[i]!) ? [{ route, error: errors[i]! }] : [])) };
  }
}

export class LinuxNeighbors implements Neighbors {
  constructor(
    private readonly exec: Exec,
    private readonly ip: IpBatch = new IpBatch(exec),
  ) {}
  async list(family: 4 | 6): Promise<Neighbor[]> {
    const out = await must(this.exec, 'neighbors', ['ip', `-${family}`, '-j', 'neigh', 'show', 'nud', 'permanent', 'proto', String(ROUTE_PROTOCOL)]);
    const rows = (out.trim() ? JSON.parse(out) : []) as { dst: string; dev?: string; lladdr?: string; protocol?: string }[];
    // The protocol filter is checked again: an iproute2 that ignores it would hand us entries we do not own.
    return rows
      .filter((r) => r.dev && r.lladdr && r.protocol === String(ROUTE_PROTOCOL))
      .map((r) => ({ ip: canonicalCidr(r.dst), mac: r.lladdr!.toLowerCase(), dev: r.dev!, family }));
  }
  replace(entries: Neighbor[]) {
    return this.batch(entries, (n) => `neigh replace ${n.ip} lladdr ${n.mac} dev ${n.dev} nud permanent proto ${ROUTE_PROTOCOL}`);
  }
  remove(entries: Neighbor[]) {
    return this.batch(entries, (n) => `neigh del ${n.ip} dev ${n.dev}`);
  }
  private async batch(entries: Neighbor[], line: (n: Neighbor) => string) {
    const lines = entries.map(line);
    const errors = await this.ip.run(lines);
    // An entry already gone (or whose device is) is not a failure to delete it.
    const gone = (i: number) => lines[i]!.startsWith('neigh del') && /No such file or directory|Cannot find device/.test(errors[i]!);
    return { failed: entries.flatMap((entry, i) => (errors[i] !== undefined && !gone(i) ? [{ entry, error: errors[i]! }] : [])) };
  }
}

/** A shell that runs `sysctl` for us: forking a small shell costs far less than forking this (large) process. */
const SHELL_DIALECT: SessionDialect = { argv: ['sh'], marker: 'echo calico-session-done\n', markerOutput: /^calico-session-done\n/m };

export class LinuxSysctl implements Sysctl {
  private readonly shell: CommandSession;
  constructor(private readonly exec: Exec) {
    this.shell = new CommandSession(exec, SHELL_DIALECT);
  }
  async write(values: Record<string, string>): Promise<{ failed: string[] }> {
    const entries = Object.entries(values);
    if (entries.length === 0) return { failed: [] };
    // /proc/sys/net belongs to the namespace of the process that opens it, so
    // the write runs inside the namespace (one process for the whole batch).
    const r = this.shell.available ? await this.viaShell(entries) : await this.exec.run(['sysctl', '-q', '-w', ...entries.map(([k, v]) => `${k}=${v}`)]);
    if (r.code === 0) return { failed: [] };
    const failed = entries.filter(([k]) => r.stderr.includes(k.replace(/\./g, '/')) || r.stderr.includes(k)).map(([k]) => k);
    return { failed: failed.length ? failed : entries.map(([k]) => k) };
  }
  close(): void {
    this.shell.close();
  }
  private async viaShell(entries: [string, string][]): Promise<{ code: number; stderr: string }> {
    const args = entries.map(([k, v]) => `'${`${k}=${v}`.replace(/'/g, `'\\''`)}'`).join(' ');
    try {
      const { output } = await this.shell.request(`sysctl -q -w ${args} </dev/null; echo "sysctl exited $?"\n`);
      const m = /^sysctl exited (\d+)$/m.exec(output);
      return { code: m ? Number(m[1]) : 1, stderr: m ? output.slice(0, m.index) : output };
    } catch (e) {
      return { code: 1, stderr: (e as Error).message };
    }
  }
  async read(key: string): Promise<string | undefined> {
    const r = await this.exec.run(['sysctl', '-n', key]);
    return r.code === 0 ? r.stdout.trim() : undefined;
  }
}

export class LinuxConntrack implements Conntrack {
  constructor(private readonly exec: Exec) {}
  async flushAddress(ip: string): Promise<void> {
    const family = ip.includes(':') ? 'ipv6' : 'ipv4';
    for (const flag of ['-s', '-d']) {
      const r = await this.exec.run(['conntrack', '-D', '-f', family, flag, ip]);
      // conntrack exits 1 when nothing matched; that is success for us.
      if (r.code !== 0 && !/0 flow entries/.test(r.stderr)) throw new DataplaneError(`conntrack ${ip}`, r.stderr.trim());
    }
  }
}

/** One `ip -o monitor link` line: `[Deleted ]<index>: <name>[@<peer>]: <FLAGS,...> ...`; undefined if it is not one. */
export function parseLinkNotice(line: string): LinkNotice | undefined {
  const m = /^(Deleted )?(\d+): ([^:@\s]+)(?:@[^:\s]*)?: <([^>]*)>/.exec(line.trim());
  if (!m) return undefined;
  return { name: m[3]!, index: Number(m[2]), up: m[4]!.split(',').includes('UP'), deleted: m[1] !== undefined };
}

export class LinuxLinks implements Links {
  constructor(private readonly exec: Exec) {}
  async list(): Promise<Link[]> {
    const out = await must(this.exec, 'links', ['ip', '-j', 'link', 'show']);
    return (JSON.parse(out) as { ifname: string; ifindex: number; flags: string[] }[]).map((l) => ({ name: l.ifname, index: l.ifindex, up: l.flags.includes('UP') }));
  }
  /** `ip -o monitor link`: one line per link notification. */
  subscribe(handlers: { onChange(notice?: LinkNotice): void; onFailed(error: string): void }): { stop(): void } {
    if (!this.exec.stream) {
      handlers.onFailed('link notifications need an Exec that can stream');
      return { stop: () => undefined };
    }
    let stopped = false;
    const sub = this.exec.stream(['ip', '-o', 'monitor', 'link'], {
      onLine: (line) => {
        if (!stopped) handlers.onChange(parseLinkNotice(line));
      },
      onExit: (code, stderr) => {
        if (!stopped) handlers.onFailed(`ip monitor link exited ${code}: ${stderr.trim().slice(0, 500)}`);
      },
    });
    return {
      stop: () => {
        stopped = true;
        sub.stop();
      },
    };
  }
}

export class LinuxHostInterfaces implements HostInterfaces {
  constructor(private readonly exec: Exec) {}
  async list(): Promise<HostInterface[]> {
    const out = await must(this.exec, 'addresses', ['ip', '-j', 'addr', 'show']);
    const rows = (out.trim() ? JSON.parse(out) : []) as { ifname: string; addr_info?: { local?: string }[] }[];
    return rows.map((r) => ({ name: r.ifname, addresses: (r.addr_info ?? []).map((a) => a.local).filter((a): a is string => !!a) }));
  }
}

/** All ports, pinned to one network namespace (or the current one when netns is undefined). */
export function linuxPorts(exec: Exec) {
  // Routes and neighbours have a session each: a round writes them concurrently.
  const routeBatch = new IpBatch(exec);
  const neighborBatch = new IpBatch(exec);
  const nft = new LinuxNft(exec);
  const sysctl = new LinuxSysctl(exec);
  return {
    nft,
    iptables: new LinuxIptables(exec),
    ipset: new LinuxIpset(exec),
    routes: new LinuxRouteTable(exec, routeBatch),
    neighbors: new LinuxNeighbors(exec, neighborBatch),
    sysctl,
    conntrack: new LinuxConntrack(exec),
    links: new LinuxLinks(exec),
    hostInterfaces: new LinuxHostInterfaces(exec),
    /** Ends the long-lived command processes (a later write starts them again). */
    close: () => {
      nft.close();
      routeBatch.close();
      neighborBatch.close();
      sysctl.close();
    },
  };
}
