// `calico-lab graph`: the topology and its BGP sessions as one self-contained
// HTML page (inline SVG) a person can open. Pure: data in, text out.
import type { LabPlan } from './plan.js';
import type { WorkloadState } from './workloads.js';

export interface SessionState {
  /** Namespace of the router whose BIRD reported it. */
  router: string;
  /** Neighbor address. */
  neighbor: string;
  established: boolean;
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
  label: string[];
  kind: 'internet' | 'border' | 'router' | 'host' | 'workload' | 'mgmt';
}

const COLORS: Record<Box['kind'], string> = {
  internet: '#d9e7ff',
  border: '#ffe2b8',
  router: '#ffe2b8',
  host: '#d8f0d2',
  workload: '#f4f4f4',
  mgmt: '#eadcf5',
};

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderGraph(plan: LabPlan, workloads: WorkloadState[], sessions: SessionState[]): string {
  const t = plan.topology;
  const hostW = 150;
  const gap = 30;
  const hostsPerRack = t.racks.map((r) => r.hosts.length);
  const width = Math.max(900, hostsPerRack.reduce((a, n) => a + n * (hostW + gap) + 40, 40));
  const boxes = new Map<string, Box>();
  const put = (id: string, b: Box) => boxes.set(id, b);
  put('internet', { x: width / 2 - 90, y: 20, w: 180, h: 44, label: ['internet', `${plan.internetAddress.ipv4} · AS 64496`], kind: 'internet' });
  put('border', { x: width / 2 - 90, y: 110, w: 180, h: 44, label: ['border', `AS ${t.borderAS}`], kind: 'border' });
  let x = 40;
  for (const rack of t.racks) {
    const rackW = rack.hosts.length * (hostW + gap) - gap;
    const router = plan.routers.find((r) => r.ns.endsWith(`r-${rack.name}`))!;
    put(`rack:${rack.name}`, { x: x + rackW / 2 - 80, y: 210, w: 160, h: 44, label: [`ToR ${rack.name}`, `${router.routerId} · AS ${router.asNumber}`], kind: 'router' });
    rack.hosts.forEach((h, i) => {
      const hp = plan.hosts.find((p) => p.host.name === h.name)!;
      put(`host:${h.name}`, { x: x + i * (hostW + gap), y: 320, w: hostW, h: 44, label: [h.name, `${hp.ipv4} · AS ${hp.asNumber}`], kind: 'host' });
      workloads
        .filter((w) => w.host === h.name)
        .forEach((w, j) => {
          put(`wl:${w.name}`, { x: x + i * (hostW + gap), y: 400 + j * 54, w: hostW, h: 44, label: [`${w.namespace}/${w.name}`, w.addresses.find((a) => !a.includes(':')) ?? w.addresses[0] ?? ''], kind: 'workload' });
        });
    });
    x += rackW + gap + 40;
  }
  const maxY = Math.max(...[...boxes.values()].map((b) => b.y + b.h)) + 60;
  put('mgmt', { x: 40, y: maxY - 50, w: 440, h: 36, label: [`etcd ${plan.etcd.clientURL} (management network)`], kind: 'mgmt' });

  const center = (b: Box, side: 'top' | 'bottom') => ({ x: b.x + b.w / 2, y: side === 'top' ? b.y : b.y + b.h });
  const lines: string[] = [];
  const link = (a: string, b: string, state: 'up' | 'down' | 'plain', title: string) => {
    const p = center(boxes.get(a)!, 'bottom');
    const q = center(boxes.get(b)!, 'top');
    const color = state === 'up' ? '#2a9d3c' : state === 'down' ? '#d2302c' : '#999';
    const dash = state === 'plain' ? ' stroke-dasharray="4 3"' : '';
    lines.push(`<line x1="${p.x}" y1="${p.y}" x2="${q.x}" y2="${q.y}" stroke="${color}" stroke-width="${state === 'plain' ? 1.5 : 3}"${dash}><title>${esc(title)}</title></line>`);
  };
  const sessionUp = (routerNs: string, neighbor: string) => sessions.some((s) => s.router === routerNs && s.neighbor === neighbor && s.established);
  const border = plan.routers.find((r) => r.role === 'border')!;
  link('internet', 'border', sessionUp(border.ns, plan.internetAddress.ipv4) ? 'up' : 'down', 'eBGP border <-> internet');
  for (const rack of t.racks) {
    const router = plan.routers.find((r) => r.ns.endsWith(`r-${rack.name}`))!;
    const upAddr = router.neighbors.find((n) => n.name === 'border')!.address;
    link('border', `rack:${rack.name}`, sessionUp(router.ns, upAddr) ? 'up' : 'down', `eBGP ${rack.name} ToR <-> border`);
    for (const h of rack.hosts) {
      const hp = plan.hosts.find((p) => p.host.name === h.name)!;
      link(`rack:${rack.name}`, `host:${h.name}`, sessionUp(router.ns, hp.ipv4) ? 'up' : 'down', `iBGP (route reflector client) ${h.name} <-> ToR`);
    }
  }
  for (const w of workloads) link(`host:${w.host}`, `wl:${w.name}`, 'plain', `veth ${w.interfaceName} (routed /32, no bridge)`);

  const rects = [...boxes.values()].map(
    (b) =>
      `<g><rect x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="6" fill="${COLORS[b.kind]}" stroke="#555"/>` +
      b.label.map((l, i) => `<text x="${b.x + b.w / 2}" y="${b.y + 18 + i * 16}" text-anchor="middle" font-size="${i === 0 ? 13 : 11}"${i === 0 ? ' font-weight="bold"' : ''}>${esc(l)}</text>`).join('') +
      '</g>',
  );
  const up = sessions.filter((s) => s.established).length;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${maxY}" font-family="sans-serif">${lines.join('')}${rects.join('')}</svg>`;
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>calico-lab ${esc(t.name)}</title>
<style>body{font-family:sans-serif;margin:20px} .k span{display:inline-block;width:28px;height:4px;margin:0 6px 3px 12px;vertical-align:middle}</style></head>
<body><h2>calico-lab "${esc(t.name)}": ${t.racks.length} racks, ${t.hosts.length} hosts, ${workloads.length} workloads</h2>
<p class="k">BGP sessions (IPv4): ${up}/${sessions.length} established <span style="background:#2a9d3c"></span>established <span style="background:#d2302c"></span>not established <span style="background:#999"></span>workload veth. Hover a line for details.</p>
${svg}
</body></html>
`;
}

/** Reads `birdc show protocols` text into sessions (IPv4 neighbours only: one line per session pair). */
export function sessionsFromBird(router: string, neighbors: { name: string; address: string }[], birdOutput: string): SessionState[] {
  const lines = birdOutput.split('\n');
  return neighbors.map((n) => ({
    router,
    neighbor: n.address,
    established: lines.some((l) => l.startsWith(`${n.name} `) && /\sBGP\s/.test(l) && /Established/.test(l)),
  }));
}
