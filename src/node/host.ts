// The real StartupHost: what start-up reads from the host, through Exec so it
// runs in the agent's own network namespace. Thin: `ip -j addr show` (every
// interface with its index, as calico/node lists them through netlink) and
// `ip -j route get` (the kernel's source address for can-reach=; no packet is
// sent). Parsing is exported for tests on captured output.
import { lookup } from 'node:dns/promises';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tryParseIP } from '../base/ip.js';
import type { IPFamily } from '../base/ip.js';
import type { Exec } from '../dataplane/ports.js';
import type { HostAddress, ReachLookup } from './autodetect.js';
import type { StartupHost } from './startup.js';
import { nodenameFile } from './probes.js';

interface IpAddrJson {
  ifindex?: number;
  ifname?: string;
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number; scope?: string }>;
}

/** `ip -j addr show` -> addresses, kernel order kept. */
export function parseIpAddrJson(text: string): HostAddress[] {
  const out: HostAddress[] = [];
  for (const link of JSON.parse(text || '[]') as IpAddrJson[]) {
    if (!link.ifname) continue;
    for (const a of link.addr_info ?? []) {
      if ((a.family !== 'inet' && a.family !== 'inet6') || !a.local || typeof a.prefixlen !== 'number') continue;
      out.push({
        iface: link.ifname,
        ...(typeof link.ifindex === 'number' ? { ifindex: link.ifindex } : {}),
        address: a.local,
        prefixLength: a.prefixlen,
        family: a.family === 'inet' ? 4 : 6,
        internal: a.scope === 'host',
      });
    }
  }
  return out;
}

/** `ip -j route get <ip>` -> the preferred source address. */
export function parseRouteGetJson(text: string): string | undefined {
  const routes = JSON.parse(text || '[]') as Array<{ prefsrc?: string }>;
  return routes[0]?.prefsrc;
}

export class IpCommandError extends Error {}

export function linuxReachLookup(exec: Exec, resolve: (name: string, family: IPFamily) => Promise<string> = resolveName): ReachLookup {
  return {
    async sourceFor(destination, family) {
      const ip = tryParseIP(destination) ? destination : await resolve(destination, family);
      const r = await exec.run(['ip', '-j', `-${family}`, 'route', 'get', ip]);
      if (r.code !== 0) throw new IpCommandError(r.stderr.trim() || `ip route get ${ip} failed (exit ${r.code})`);
      const src = parseRouteGetJson(r.stdout);
      if (!src) throw new IpCommandError(`the route to ${ip} has no source address`);
      return src;
    },
  };
}

async function resolveName(name: string, family: IPFamily): Promise<string> {
  try {
    return (await lookup(name, { family })).address;
  } catch (err) {
    throw new IpCommandError(`cannot resolve ${name} to an IPv${family} address (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

export async function linuxHostAddresses(exec: Exec): Promise<HostAddress[]> {
  const r = await exec.run(['ip', '-j', 'addr', 'show']);
  if (r.code !== 0) throw new IpCommandError(`cannot list the host's addresses: ${r.stderr.trim()}`);
  return parseIpAddrJson(r.stdout);
}

export function linuxStartupHost(exec: Exec): StartupHost {
  return {
    addresses: () => linuxHostAddresses(exec),
    reach: linuxReachLookup(exec),
    // calico/node's check: a kernel built without IPv6 has no /proc/sys/net/ipv6.
    ipv6Supported: () => existsSync('/proc/sys/net/ipv6'),
    randomBytes: (n) => new Uint8Array(randomBytes(n)),
  };
}

/** `<runDir>/nodename`: written when start-up is done; its time is what -bird-ready measures the threshold from. */
export async function writeNodenameFile(runDir: string, nodeName: string): Promise<void> {
  await mkdir(runDir, { recursive: true });
  await writeFile(nodenameFile(runDir), nodeName);
}
