// BIRD 2 configuration for the lab's fabric routers (ToRs, border, the
// "internet"). These are not Calico nodes: their configs are the data
// center's, so they are rendered here and not by src/render/bird. Pure.
import type { BgpNeighbor, RouterPlan } from './plan.js';

const V6 = (cidr: string) => cidr.includes(':');

function prefixSet(cidrs: string[]): string {
  return `[ ${cidrs.map((c) => `${c}+`).join(', ')} ]`;
}

function exportFilter(n: BgpNeighbor, family: 4 | 6): string {
  if (!n.exportOnly) return 'all';
  const wanted = n.exportOnly.filter((c) => V6(c) === (family === 6));
  return wanted.length ? `where net ~ ${prefixSet(wanted)}` : 'none';
}

function session(router: RouterPlan, n: BgpNeighbor, family: 4 | 6): string {
  const ibgp = n.asNumber === router.asNumber;
  const channel = family === 4 ? 'ipv4' : 'ipv6';
  const lines = [
    `protocol bgp ${n.name}${family === 6 ? '_v6' : ''} {`,
    `  description "${router.role} -> ${n.name}";`,
    `  local as ${router.asNumber};`,
    `  neighbor ${family === 4 ? n.address : n.address6} as ${n.asNumber};`,
    // Lab timers: sessions come up and notice loss within seconds.
    '  connect retry time 2; error wait time 1, 4; hold time 9; keepalive time 3;',
  ];
  // Keep a restarting peer's routes (a host's BIRD being restarted by
  // calico-node) instead of withdrawing them: forwarding goes on meanwhile.
  lines.push('  graceful restart on;');
  if (ibgp) lines.push('  direct;');
  if (n.rrClient) lines.push('  rr client;');
  lines.push(`  ${channel} {`, '    import all;', `    export ${exportFilter(n, family)};`);
  // Routes a ToR learned from the border have the border as next hop, which its
  // hosts cannot reach directly; rewrite those (and only those) to the ToR.
  if (n.rrClient) lines.push('    next hop self ebgp;');
  if (ibgp) lines.push('    gateway direct;');
  lines.push('  };', '}');
  return lines.join('\n');
}

export function renderRouterConfig(router: RouterPlan): string {
  const out: string[] = [
    `# ${router.role} router, rendered by calico-lab. Do not edit: 'calico-lab up' rewrites it.`,
    `router id ${router.routerId};`,
    'protocol device { scan time 5; }',
    'protocol direct { ipv4; ipv6; }',
  ];
  for (const family of [4, 6] as const) {
    const channel = family === 4 ? 'ipv4' : 'ipv6';
    // Connected routes are the kernel's already; BIRD only adds what it learned.
    out.push(
      `protocol kernel kernel${family} {`,
      '  merge paths on;',
      `  ${channel} { import none; export filter { if source = RTS_DEVICE then reject; accept; }; };`,
      '}',
    );
  }
  if (router.originateDefault) {
    out.push(
      'protocol static default4 { ipv4; route 0.0.0.0/0 via 203.0.113.10; }',
      'protocol static default6 { ipv6; route ::/0 via 2001:db8:203::10; }',
    );
  }
  for (const n of router.neighbors) {
    out.push(session(router, n, 4), session(router, n, 6));
  }
  return out.join('\n') + '\n';
}
