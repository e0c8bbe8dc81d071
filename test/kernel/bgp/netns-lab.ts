// A tiny lab for the BGP kernel tests: one "switch" namespace with a bridge,
// host namespaces wired to it with veths, and a BIRD per host supervised by
// the real BgpAgent. Everything it creates carries its random prefix and is
// deleted by destroy(), which tests call from `after` even when they fail.
// Nothing here touches the machine's root namespace except creating and
// deleting namespaces.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BgpAgent } from '../../../src/bgp/agent.js';
import { LinuxBirdProcess, nodeConfigFiles, systemClock, birdc } from '../../../src/bgp/bird-process.js';
import type { BgpInputs } from '../../../src/bgp/model.js';
import type { Logger } from '../../../src/bgp/ports.js';

export const isRoot = process.getuid?.() === 0;
export const haveBird = (() => {
  try {
    execFileSync('bird', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
export const skipReason = !isRoot ? 'needs root' : !haveBird ? 'bird not installed' : false;

export function sh(cmd: string, args: string[], opts: { allowFail?: boolean } = {}): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 512 * 1024 * 1024 });
  } catch (err) {
    if (opts.allowFail) return '';
    const e = err as { stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr ?? String(err)}`);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes (then returns the last value). */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs: number, stepMs = 250): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > end) return v;
    await sleep(stepMs);
  }
}

export interface LabHost {
  name: string;
  ns: string;
  index: number;
  v4: string;
  v6: string;
  runDir: string;
  agent?: BgpAgent;
  logs: string[];
}

export class NetnsLab {
  readonly prefix = `cts-bgp-${randomBytes(2).toString('hex')}-`;
  readonly switchNs = `${this.prefix}sw`;
  readonly hosts = new Map<string, LabHost>();
  readonly dir = mkdtempSync(join(tmpdir(), 'cts-bgp-'));
  private readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];
  private nextIndex = 1;

  constructor() {
    this.addNs(this.switchNs);
    this.ipn(this.switchNs, ['link', 'add', 'br0', 'type', 'bridge']);
    this.ipn(this.switchNs, ['link', 'set', 'br0', 'up']);
  }

  private addNs(ns: string): void {
    sh('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    this.ipn(ns, ['link', 'set', 'lo', 'up']);
  }

  ipn(ns: string, args: string[]): string {
    return sh('ip', ['-n', ns, ...args]);
  }

  exec(ns: string, cmd: string[], opts: { allowFail?: boolean } = {}): string {
    return sh('ip', ['netns', 'exec', ns, ...cmd], opts);
  }

  /** Another L2 segment (a bridge in the switch namespace), e.g. one per rack. */
  addSegment(bridge: string): void {
    this.ipn(this.switchNs, ['link', 'add', bridge, 'type', 'bridge']);
    this.ipn(this.switchNs, ['link', 'set', bridge, 'up']);
  }

  /**
   * A host namespace with eth0 on a segment. Default: bridge br0, 192.0.2.<index>/24 and
   * 2001:db8::<index>/64; `v4`/`v6` give other addresses (with their prefix length).
   */
  addHost(name: string, opts: { index?: number; segment?: string; v4?: string; v6?: string } = {}): LabHost {
    const index = opts.index ?? this.nextIndex++;
    const ns = `${this.prefix}${name}`;
    this.addNs(ns);
    const v4 = opts.v4 ?? `192.0.2.${index}/24`;
    const v6 = opts.v6 ?? `2001:db8::${index.toString(16)}/64`;
    this.plug(ns, 'eth0', { segment: opts.segment ?? 'br0', addresses: [v4, v6], tag: index });
    this.exec(ns, ['sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
    const host: LabHost = { name, ns, index, v4: v4.split('/')[0]!, v6: v6.split('/')[0]!, runDir: join(this.dir, name), logs: [] };
    this.hosts.set(name, host);
    return host;
  }

  /** Connects `ns` to a segment with a new interface `ifname` carrying `addresses`. */
  plug(ns: string, ifname: string, opts: { segment: string; addresses: string[]; tag: number }): void {
    const peer = `v${opts.tag}${ifname.slice(-1)}-${this.prefix.slice(8, 12)}`;
    sh('ip', ['link', 'add', ifname, 'netns', ns, 'type', 'veth', 'peer', 'name', peer, 'netns', this.switchNs]);
    this.ipn(this.switchNs, ['link', 'set', peer, 'master', opts.segment, 'up']);
    for (const a of opts.addresses) {
      this.ipn(ns, ['addr', 'add', a, 'dev', ifname, ...(a.includes(':') ? ['nodad'] : [])]);
    }
    this.ipn(ns, ['link', 'set', ifname, 'up']);
  }

  host(name: string): LabHost {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  /** Starts (or updates) the host's BGP agent: the real supervisor and a real BIRD in the host namespace. */
  async runBgp(name: string, inputs: BgpInputs): Promise<void> {
    const h = this.host(name);
    if (!h.agent) {
      const logger: Logger = {
        info: (m) => h.logs.push(`info ${m}`),
        warn: (m, f) => h.logs.push(`warn ${m} ${JSON.stringify(f ?? {})}`),
        error: (m, f) => h.logs.push(`error ${m} ${JSON.stringify(f ?? {})}`),
      };
      h.agent = new BgpAgent({
        runDir: h.runDir,
        process: new LinuxBirdProcess({ commandPrefix: ['ip', 'netns', 'exec', h.ns], logger, onLogLine: (l) => h.logs.push(l) }),
        files: nodeConfigFiles,
        clock: systemClock,
        logger,
        render: { timers: { connectDelay: 1, connectRetry: 2, errorWait: [1, 5], scanTime: 2 } },
      });
    }
    const r = await h.agent.update(inputs);
    if (r.error) throw new Error(`BIRD on ${name}: ${r.error}`);
  }

  async birdc(name: string, command: string[]): Promise<string> {
    const h = this.host(name);
    return (await birdc(h.agent!.supervisor.paths.socket, command)).text;
  }

  /** IPv4 prefixes `name`'s BIRD exports on its session `protocol` (e.g. `Mesh_192_0_2_2`), sorted. */
  async exportedV4(name: string, protocol: string): Promise<string[]> {
    const text = await this.birdc(name, ['show', 'route', 'export', protocol]);
    return [...text.matchAll(/^(\d+\.\d+\.\d+\.\d+\/\d+)/gm)].map((m) => m[1]!).sort();
  }

  /** Kernel routes BIRD installed (proto bird), as `prefix -> gateway|type`. */
  birdRoutes(name: string, family: 4 | 6 = 4): Map<string, string> {
    const out = this.ipn(this.host(name).ns, [`-${family}`, '-j', 'route', 'show', 'proto', 'bird']);
    const routes = JSON.parse(out || '[]') as { dst: string; gateway?: string; type?: string; nexthops?: { gateway: string }[] }[];
    return new Map(
      routes.map((r) => [r.dst, r.gateway ?? (r.nexthops ? r.nexthops.map((n) => n.gateway).sort().join(',') : r.type ?? 'unicast')]),
    );
  }

  /** A workload namespace with a /32 behind a cali interface on `host`, routed the Calico way (no bridge, proxy ARP). */
  addWorkload(hostName: string, name: string, ip: string): string {
    const h = this.host(hostName);
    const ns = `${this.prefix}${name}`;
    this.addNs(ns);
    const cali = `cali${randomBytes(5).toString('hex').slice(0, 11)}`;
    sh('ip', ['link', 'add', cali, 'netns', h.ns, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    this.ipn(h.ns, ['link', 'set', cali, 'up']);
    this.exec(h.ns, ['sysctl', '-qw', `net.ipv4.conf.${cali}.proxy_arp=1`, `net.ipv4.neigh.${cali}.proxy_delay=0`]);
    this.ipn(h.ns, ['route', 'add', `${ip}/32`, 'dev', cali, 'scope', 'link']);
    this.ipn(ns, ['addr', 'add', `${ip}/32`, 'dev', 'eth0']);
    this.ipn(ns, ['link', 'set', 'eth0', 'up']);
    this.ipn(ns, ['route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
    this.ipn(ns, ['route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
    // Proxy ARP only answers for addresses the host routes elsewhere; these lab hosts have no
    // default route, so the workload learns its gateway's MAC statically instead.
    const mac = (JSON.parse(this.ipn(h.ns, ['-j', 'link', 'show', cali])) as { address: string }[])[0]!.address;
    this.ipn(ns, ['neigh', 'replace', '169.254.1.1', 'lladdr', mac, 'dev', 'eth0', 'nud', 'permanent']);
    return ns;
  }

  ping(fromNs: string, ip: string): boolean {
    return this.exec(fromNs, ['ping', '-c', '1', '-W', '1', ip], { allowFail: true }).includes('1 received');
  }

  /** A daemon the test owns (gobgpd ...) running in a namespace; killed by destroy(). */
  spawnIn(ns: string, cmd: string[], logFile?: string): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: string[] = [];
    child.stdout!.on('data', (d) => chunks.push(String(d)));
    child.stderr!.on('data', (d) => chunks.push(String(d)));
    (child as ChildProcess & { output: () => string }).output = () => chunks.join('');
    void logFile;
    this.children.push(child);
    return child;
  }

  async destroy(): Promise<void> {
    for (const h of this.hosts.values()) await h.agent?.stop().catch(() => undefined);
    for (const c of this.children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const ns of [...this.namespaces].reverse()) {
      // Kill anything still inside (a BIRD that outlived its supervisor), then the namespace.
      const pids = sh('ip', ['netns', 'pids', ns], { allowFail: true }).split('\n').filter(Boolean);
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      sh('ip', ['netns', 'del', ns], { allowFail: true });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
