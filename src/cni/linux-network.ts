// The kernel side of the CNI plugin, through `ip` and `sysctl`. The plugin
// runs in the host's network namespace (where the runtime runs it); commands
// for the container run inside CNI_NETNS through nsenter, which takes the
// path runtimes give (/var/run/netns/x, /proc/<pid>/ns/net). Thin: reads
// back, writes what the plan says, nothing decided here.
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { HOST_SIDE_MAC } from './names.js';
import type { ContainerPlan } from './plan.js';
import type { CniNetwork, LinkState } from './ports.js';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function run(argv: string[], input?: string): Promise<Ran> {
  return new Promise((resolve) => {
    const child = execFile(argv[0]!, argv.slice(1), { encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 127) : 0;
      resolve({ code, stdout, stderr: stderr || (err && code === 127 ? err.message : '') });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

async function must(argv: string[], input?: string): Promise<string> {
  const r = await run(argv, input);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return r.stdout;
}

const NO_DEVICE = /Cannot find device|does not exist|No such device/;
/** nsenter could not enter the namespace: the path is no longer a network namespace. */
const NS_GONE = /nsenter: (reassociate|cannot open|failed to open)/;

const inNs = (netns: string, argv: string[]): string[] => ['nsenter', `--net=${netns}`, ...argv];

interface IpLink {
  ifindex: number;
  link_index?: number;
  address: string;
  mtu: number;
  flags?: string[];
  addr_info?: { local: string; prefixlen: number; scope: string }[];
}

function linkState(json: string): LinkState | undefined {
  const l = (JSON.parse(json) as IpLink[])[0];
  if (!l) return undefined;
  const state: LinkState = {
    ifindex: l.ifindex,
    mac: l.address,
    mtu: l.mtu,
    up: (l.flags ?? []).includes('UP'),
    addresses: (l.addr_info ?? []).filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`),
  };
  if (l.link_index !== undefined) state.peerIfindex = l.link_index;
  return state;
}

async function readLink(argv: string[]): Promise<LinkState | undefined> {
  const r = await run(argv);
  if (r.code !== 0) {
    if (NO_DEVICE.test(r.stderr) || NS_GONE.test(r.stderr)) return undefined;
    throw new Error(`${argv.join(' ')}: ${r.stderr.trim()}`);
  }
  return linkState(r.stdout);
}

export function linuxNetwork(): CniNetwork {
  return {
    netnsExists: async (netns) => netns !== '' && existsSync(netns),
    hostLink: (name) => readLink(['ip', '-j', 'addr', 'show', 'dev', name]),
    containerLink: (netns, ifName) => readLink(inNs(netns, ['ip', '-j', 'addr', 'show', 'dev', ifName])),
    containerRoutes: async (netns, ifName) => {
      const out: { dst: string; gw?: string }[] = [];
      for (const family of ['-4', '-6'] as const) {
        const r = await run(inNs(netns, ['ip', '-j', family, 'route', 'show', 'dev', ifName]));
        if (r.code !== 0) continue;
        for (const rt of JSON.parse(r.stdout || '[]') as { dst: string; gateway?: string }[]) {
          const dst = rt.dst === 'default' ? (family === '-4' ? '0.0.0.0/0' : '::/0') : rt.dst;
          out.push({ dst, ...(rt.gateway ? { gw: rt.gateway } : {}) });
        }
      }
      return out;
    },
    createVeth: async (p: ContainerPlan) => {
      // Made inside the container with the host end sent to our own namespace (by our pid):
      // the container's interface name never exists, even briefly, next to the host's own.
      const opts = [...(p.mtu ? ['mtu', String(p.mtu)] : []), 'numtxqueues', String(p.numQueues), 'numrxqueues', String(p.numQueues)];
      await must(inNs(p.netns, ['ip', 'link', 'add', p.ifName, ...opts, 'type', 'veth', 'peer', 'name', p.hostIf, ...opts, 'netns', String(process.pid)]));
    },
    configureHostSide: async (p) => {
      if (p.gateway6) {
        // Our link-local (the workload's IPv6 gateway) must be usable at once, not after DAD.
        try {
          writeFileSync(`/proc/sys/net/ipv6/conf/${p.hostIf}/accept_dad`, '0');
        } catch {
          // IPv6 disabled on the host: nothing to wait for.
        }
      }
      await must(['ip', 'link', 'set', 'dev', p.hostIf, 'address', HOST_SIDE_MAC, 'up']);
    },
    configureContainerSide: async (p) => {
      const fwd = p.allowIpForwarding ? '1' : '0';
      const sysctls = [
        ...(p.gateway4 ? [`net/ipv4/ip_forward=${fwd}`] : []),
        ...(p.gateway6 ? [`net/ipv6/conf/all/forwarding=${fwd}`, `net/ipv6/conf/${p.ifName}/accept_dad=0`] : []),
      ];
      if (sysctls.length) await must(inNs(p.netns, ['sysctl', '-q', '-w', ...sysctls]));
      const batch = [
        ...p.addresses.map((a) => `addr add ${a} dev ${p.ifName}${a.includes(':') ? ' nodad' : ''}`),
        `link set dev ${p.ifName} up`,
        ...(p.gateway4 ? [`route add ${p.gateway4}/32 dev ${p.ifName} scope link`] : []),
        ...(p.gateway4 && p.gateway4Mac ? [`neigh replace ${p.gateway4} lladdr ${p.gateway4Mac} dev ${p.ifName} nud permanent`] : []),
        ...p.routes.map((r) => `route add ${r.dst} via ${r.gw} dev ${p.ifName}${r.dst.includes(':') ? '' : ' onlink'}`),
      ];
      await must(inNs(p.netns, ['ip', '-batch', '-']), batch.join('\n') + '\n');
      const link = linkState(await must(inNs(p.netns, ['ip', '-j', 'link', 'show', 'dev', p.ifName])));
      if (!link) throw new Error(`${p.ifName} vanished from ${p.netns}`);
      return link.mac;
    },
    deleteHostLink: async (name) => {
      const r = await run(['ip', 'link', 'del', 'dev', name]);
      if (r.code !== 0 && !NO_DEVICE.test(r.stderr)) throw new Error(`ip link del ${name}: ${r.stderr.trim()}`);
    },
    deleteContainerLink: async (netns, ifName) => {
      if (!existsSync(netns)) return;
      const r = await run(inNs(netns, ['ip', 'link', 'del', 'dev', ifName]));
      if (r.code !== 0 && !NO_DEVICE.test(r.stderr) && !NS_GONE.test(r.stderr)) throw new Error(`ip link del ${ifName} in ${netns}: ${r.stderr.trim()}`);
    },
  };
}
