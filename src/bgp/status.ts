// Reading BGP session state back from BIRD: parse `birdc show protocols all`
// (pure; tested on captured text) and format it the way `calicoctl node
// status` prints it. The session type comes from the protocol name prefix the
// renderer chose (Mesh_/Global_/Node_/RR_), so no side file is needed.

import type { PeeringType } from './model.js';
import { tryParseIP, type IPFamily as Family } from '../base/ip.js';

export interface BgpSession {
  protocolName: string;
  type: PeeringType | 'other';
  family: Family;
  peerAddress: string;
  peerAs?: number;
  localAs?: number;
  /** BIRD's protocol state: up, start, down, ... */
  state: string;
  /** As BIRD prints it (`timeformat protocol iso long`: `2026-11-23 06:09:57`). */
  since: string;
  /** BIRD's info column (Established, Active, Connect, Passive, ...). */
  info: string;
  /** The BGP FSM state line (`BGP state:`). */
  bgpState: string;
  lastError?: string;
  routesImported?: number;
  routesExported?: number;
}

const TYPE_BY_PREFIX: Record<string, PeeringType> = { Mesh: 'mesh', Global: 'global', Node: 'node', RR: 'rr' };
const HEADER = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?|\S+)\s*(.*?)\s*$/;

/** Parses `show protocols all`; returns only BGP protocols, sorted by family then address. */
export function parseBirdProtocols(text: string): BgpSession[] {
  const sessions: BgpSession[] = [];
  let cur: BgpSession | undefined;
  for (const raw of text.split('\n')) {
    // birdc may prefix lines with reply codes (`1002-`) when run non-interactively on some builds.
    const line = raw.replace(/^\d{4}[- ]/, '');
    if (line.trim() === '' || /^BIRD .* ready\.$/.test(line) || /^Name\s+Proto\s+Table/.test(line)) continue;
    if (!/^\s/.test(line)) {
      cur = undefined;
      const m = HEADER.exec(line);
      if (!m || m[2] !== 'BGP') continue;
      const prefix = m[1]!.split('_')[0]!;
      cur = {
        protocolName: m[1]!,
        type: TYPE_BY_PREFIX[prefix] ?? 'other',
        family: 4,
        peerAddress: '',
        state: m[4]!,
        since: m[5]!,
        info: m[6] ?? '',
        bgpState: '',
      };
      sessions.push(cur);
      continue;
    }
    if (!cur) continue;
    const kv = /^\s+([^:]+):\s*(.*?)\s*$/.exec(line);
    if (!kv) continue;
    const [, key, value] = kv as unknown as [string, string, string];
    switch (key) {
      case 'BGP state':
        cur.bgpState = value;
        break;
      case 'Neighbor address': {
        cur.peerAddress = value.split('%')[0]!;
        cur.family = tryParseIP(cur.peerAddress)?.family ?? 4;
        break;
      }
      case 'Neighbor AS':
        cur.peerAs = Number(value);
        break;
      case 'Local AS':
        cur.localAs = Number(value);
        break;
      case 'Last error':
        cur.lastError = value;
        break;
      case 'Routes': {
        const r = /(\d+) imported, (?:\d+ filtered, )?(\d+) exported/.exec(value);
        if (r) {
          cur.routesImported = (cur.routesImported ?? 0) + Number(r[1]);
          cur.routesExported = (cur.routesExported ?? 0) + Number(r[2]);
        }
        break;
      }
    }
  }
  const key = (s: BgpSession) => tryParseIP(s.peerAddress)?.value ?? 0n;
  return sessions.sort((a, b) => a.family - b.family || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

const TYPE_TEXT: Record<BgpSession['type'], string> = {
  mesh: 'node-to-node mesh',
  global: 'global',
  node: 'node specific',
  rr: 'route reflector',
  other: 'other',
};

/** Today's sessions show the time, older ones the date (as calicoctl does). `today` is `YYYY-MM-DD`. */
function sinceText(since: string, today: string): string {
  const [date, time] = since.split(' ');
  if (time === undefined) return since;
  return date === today ? time.split('.')[0]! : date!;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const line = (r: string[], center: boolean) =>
    `|${r
      .map((c, i) => {
        const pad = widths[i]! - c.length;
        return center ? ` ${' '.repeat(Math.floor(pad / 2))}${c}${' '.repeat(Math.ceil(pad / 2))} ` : ` ${c}${' '.repeat(pad)} `;
      })
      .join('|')}|`;
  return [rule, line(rows[0]!, true), rule, ...rows.slice(1).map((r) => line(r, false)), rule];
}

/** The body of `calicoctl node status` for sessions read from BIRD. */
export function formatNodeStatus(sessions: BgpSession[], opts: { today: string }): string {
  const out: string[] = ['Calico process is running.', ''];
  for (const family of [4, 6] as const) {
    out.push(`IPv${family} BGP status`);
    const mine = sessions.filter((s) => s.family === family);
    if (mine.length === 0) {
      out.push(`No IPv${family} peers found.`, '');
      continue;
    }
    const rows = [['PEER ADDRESS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO']];
    for (const s of mine) {
      let info = s.info.replace(/\s+/g, ' ');
      if (s.lastError && s.bgpState !== 'Established' && !info.includes(s.lastError)) info = `${info} ${s.lastError}`.trim();
      rows.push([s.peerAddress, TYPE_TEXT[s.type], s.state, sinceText(s.since, opts.today), info]);
    }
    out.push(...table(rows), '');
  }
  return out.join('\n');
}
