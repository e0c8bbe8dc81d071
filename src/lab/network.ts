// Builds and removes the lab's network from a LabPlan: namespaces, bridges,
// veth pairs created directly between two namespaces, addresses and routes.
// Never touches the machine's own namespace: every `ip` call names a lab
// namespace (`ip -n`), and veths are born with one end already inside one.
import type { LabPlan } from './plan.js';
import { inNetns, type Shell } from './shell.js';

const ROUTER_SYSCTLS = ['net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1'];
// Addresses are usable at once (no duplicate address detection wait) and
// nothing is autoconfigured from stray router advertisements.
// No ICMP rate limit: traceroute's probes come back to back and every hop
// must answer each (the limit is per namespace, so the machine's stays).
const COMMON_SYSCTLS = ['net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.default.accept_ra=0', 'net.ipv4.icmp_ratelimit=0', 'net.ipv6.icmp.ratelimit=0'];

export async function createNetwork(shell: Shell, plan: LabPlan, progress: (msg: string) => void): Promise<void> {
  progress(`creating ${plan.namespaces.length} namespaces`);
  for (const ns of plan.namespaces) {
    await shell.run(['ip', 'netns', 'add', ns.name]);
    await shell.run(['ip', '-n', ns.name, 'link', 'set', 'lo', 'up']);
    const sysctls = ns.role === 'router' || ns.role === 'border' ? [...COMMON_SYSCTLS, ...ROUTER_SYSCTLS] : COMMON_SYSCTLS;
    await shell.run(inNetns(ns.name, ['sysctl', '-q', '-w', ...sysctls]));
  }
  progress(`creating ${plan.bridges.length} bridges and ${plan.links.length} links`);
  for (const br of plan.bridges) {
    await shell.run(['ip', '-n', br.ns, 'link', 'add', br.dev, 'type', 'bridge']);
    await addAddresses(shell, br.ns, br.dev, br.addresses);
    await shell.run(['ip', '-n', br.ns, 'link', 'set', br.dev, 'up']);
  }
  for (const link of plan.links) {
    await shell.run(['ip', '-n', link.a.ns, 'link', 'add', link.a.dev, 'type', 'veth', 'peer', 'name', link.b.dev, 'netns', link.b.ns]);
    if (link.b.bridge) await shell.run(['ip', '-n', link.b.ns, 'link', 'set', link.b.dev, 'master', link.b.bridge]);
    await addAddresses(shell, link.a.ns, link.a.dev, link.a.addresses);
    await addAddresses(shell, link.b.ns, link.b.dev, link.b.addresses);
    await shell.run(['ip', '-n', link.a.ns, 'link', 'set', link.a.dev, 'up']);
    await shell.run(['ip', '-n', link.b.ns, 'link', 'set', link.b.dev, 'up']);
  }
  progress(`adding ${plan.routes.length} static routes (hosts' default gateways)`);
  for (const r of plan.routes) {
    await shell.run(['ip', `-${r.family}`, '-n', r.ns, 'route', 'add', ...r.spec.split(' ')]);
  }
}

async function addAddresses(shell: Shell, ns: string, dev: string, addresses: string[]): Promise<void> {
  for (const a of addresses) await shell.run(['ip', '-n', ns, 'addr', 'add', a, 'dev', dev]);
}

/** Namespaces on this machine whose names start with the lab's prefix. */
export async function labNamespaces(shell: Shell, prefix: string): Promise<string[]> {
  const res = await shell.run(['ip', 'netns', 'list'], { allowFail: true });
  return res.stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n && n.startsWith(prefix));
}

/**
 * Removes every namespace with the prefix, after killing every process inside
 * it. Works from the kernel's state alone, so it also cleans up after a crash.
 */
export async function destroyNetwork(shell: Shell, prefix: string, progress: (msg: string) => void): Promise<number> {
  const namespaces = await labNamespaces(shell, prefix);
  if (namespaces.length === 0) return 0;
  progress(`stopping processes in ${namespaces.length} namespaces`);
  for (const signal of ['TERM', 'KILL']) {
    let any = false;
    for (const ns of namespaces) {
      const pids = (await shell.run(['ip', 'netns', 'pids', ns], { allowFail: true })).stdout.split('\n').filter(Boolean);
      if (pids.length) {
        any = true;
        await shell.run(['kill', `-${signal}`, ...pids], { allowFail: true });
      }
    }
    if (!any) break;
    if (signal === 'TERM') await new Promise((r) => setTimeout(r, 1500));
  }
  progress(`deleting ${namespaces.length} namespaces`);
  for (const ns of namespaces) await shell.run(['ip', 'netns', 'del', ns], { allowFail: true });
  return namespaces.length;
}
