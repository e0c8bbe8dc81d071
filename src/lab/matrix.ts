// The connectivity matrix: which probes to run, how to print the result, and
// how to compare it with an expectation file. Pure.
//
// Expectation file (YAML), rules read in order, the last matching one wins:
//   probes: [tcp/80, udp/5353, icmp]     # optional; default: all of PROBES
//   rules:
//     - allow * -> *                     # start from "everything allowed"
//     - deny  * -> db-1 *                # nobody reaches db-1 ...
//     - allow web-* -> db-1 tcp/5432     # ... except the web tier on 5432
// A side is a workload name, `internet`, or a glob with `*`.

export const PROBE_TCP_PORTS = [80, 5432];
export const PROBE_UDP_PORTS = [5353];
export const PROBES = ['tcp/80', 'tcp/5432', 'udp/5353', 'icmp'] as const;

export type Protocol = 'tcp' | 'udp' | 'icmp';

export interface ProbeTarget {
  to: string;
  address: string;
  protocol: Protocol;
  port?: number;
  /**
   * The probe server that must answer (its name). Set when another workload
   * has the same address (address spaces): reaching the address is then not
   * reaching `to`, so the answer must say who it is.
   */
  server?: string;
}

export interface ProbeOutcome extends ProbeTarget {
  ok: boolean;
}

export interface MatrixResult {
  probes: string[];
  sources: string[];
  destinations: string[];
  /** `${from} -> ${to} ${probe}` -> reached? */
  cells: Map<string, boolean>;
}

export const cellKey = (from: string, to: string, probe: string): string => `${from} -> ${to} ${probe}`;

export function parseProbe(spec: string): { protocol: Protocol; port?: number } {
  const [proto, port] = spec.split('/');
  if (proto === 'icmp' && port === undefined) return { protocol: 'icmp' };
  if ((proto === 'tcp' || proto === 'udp') && /^\d+$/.test(port ?? '')) {
    const n = Number(port);
    const served = proto === 'tcp' ? PROBE_TCP_PORTS : PROBE_UDP_PORTS;
    if (served.includes(n)) return { protocol: proto, port: n };
    throw new Error(`probe "${spec}": the probe servers answer ${proto} on ${served.join(', ')} only`);
  }
  throw new Error(`probe "${spec}" is not one of tcp/<port>, udp/<port>, icmp`);
}

export function targetsFor(probes: string[], destinations: { name: string; address: string; server?: string }[]): ProbeTarget[] {
  return destinations.flatMap((d) => probes.map((p) => ({ to: d.name, address: d.address, ...parseProbe(p), ...(d.server ? { server: d.server } : {}) })));
}

/** Addresses held by more than one destination (the same IPv4 in two address spaces). */
export function sharedAddresses(destinations: { name: string; address: string }[]): Set<string> {
  const seen = new Map<string, number>();
  for (const d of destinations) seen.set(d.address, (seen.get(d.address) ?? 0) + 1);
  return new Set([...seen].filter(([, n]) => n > 1).map(([a]) => a));
}

/** What a probe server answers: `calico-lab <port> <source it saw> [<its name>]`. */
export function probeReply(port: number, seenSource: string, server?: string): string {
  return `calico-lab ${port} ${seenSource}${server ? ` ${server}` : ''}\n`;
}

/** The name in a probe server's answer (undefined for an unnamed server or another reply). */
export function answeredBy(reply: string): string | undefined {
  const f = reply.trim().split(' ');
  return f[0] === 'calico-lab' ? f[3] : undefined;
}

/** Whether a reply counts: any answer, or with `server` set, that server's answer only. */
export const replyReaches = (t: Pick<ProbeTarget, 'server'>, reply: string): boolean => t.server === undefined || answeredBy(reply) === t.server;

/**
 * Echo requests a namespace has received, from its /proc/net/snmp (IPv4,
 * `Icmp: ... InEchos ...`) or /proc/net/snmp6 (`Icmp6InEchos N`). An echo
 * reply says nothing about who sent it; this counter does.
 */
export function echoRequestsReceived(text: string, family: 4 | 6): number | undefined {
  if (family === 6) {
    const m = /^Icmp6InEchos\s+(\d+)$/m.exec(text);
    return m ? Number(m[1]) : undefined;
  }
  const lines = text.split('\n').filter((l) => l.startsWith('Icmp: '));
  if (lines.length < 2) return undefined;
  const names = lines[0]!.split(/\s+/);
  const values = lines[1]!.split(/\s+/);
  const at = names.indexOf('InEchos');
  return at > 0 && values[at] !== undefined ? Number(values[at]) : undefined;
}

export const probeName = (t: ProbeTarget): string => (t.protocol === 'icmp' ? 'icmp' : `${t.protocol}/${t.port}`);

/** One table per probe: rows are sources, columns destinations; "ok" reached, "--" did not. */
export function formatMatrix(m: MatrixResult): string {
  const out: string[] = [];
  const w = Math.max(8, ...m.sources.map((s) => s.length), ...m.destinations.map((d) => d.length)) + 2;
  for (const probe of m.probes) {
    out.push(`${probe}  (rows: from, columns: to)`);
    out.push(''.padEnd(w) + m.destinations.map((d) => d.padEnd(w)).join(''));
    for (const s of m.sources) {
      const cells = m.destinations.map((d) => {
        if (d === s) return '.'.padEnd(w);
        const v = m.cells.get(cellKey(s, d, probe));
        return (v === undefined ? '?' : v ? 'ok' : '--').padEnd(w);
      });
      out.push(s.padEnd(w) + cells.join(''));
    }
    out.push('');
  }
  return out.join('\n');
}

export interface Expectation {
  probes?: string[];
  rules: { allow: boolean; from: RegExp; to: RegExp; probe: RegExp; text: string }[];
}

const glob = (s: string): RegExp => new RegExp(`^${s.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('.*')}$`);

export function parseExpectation(doc: unknown, source: string): Expectation {
  const d = (doc ?? {}) as { probes?: unknown; rules?: unknown };
  if (!Array.isArray(d.rules)) throw new Error(`${source}: "rules" must be a list like ["allow * -> *", "deny * -> db-1 tcp/80"]`);
  const probes = d.probes === undefined ? undefined : (d.probes as unknown[]).map(String);
  probes?.forEach((p) => parseProbe(p));
  const rules = d.rules.map((r: unknown, i: number) => {
    const m = /^\s*(allow|deny)\s+(\S+)\s*->\s*(\S+)(?:\s+(\S+))?\s*$/.exec(String(r));
    if (!m) throw new Error(`${source}: rules[${i}] "${String(r)}" is not "allow|deny <from> -> <to> [probe]"`);
    return { allow: m[1] === 'allow', from: glob(m[2]!), to: glob(m[3]!), probe: glob(m[4] ?? '*'), text: String(r) };
  });
  return { ...(probes && { probes }), rules };
}

export function expected(e: Expectation, from: string, to: string, probe: string): boolean | undefined {
  let verdict: boolean | undefined;
  for (const r of e.rules) if (r.from.test(from) && r.to.test(to) && r.probe.test(probe)) verdict = r.allow;
  return verdict;
}

/** Cells whose result differs from the expectation (cells no rule covers are not compared). */
export function mismatches(m: MatrixResult, e: Expectation): string[] {
  const out: string[] = [];
  for (const [key, ok] of m.cells) {
    const [from, rest] = key.split(' -> ') as [string, string];
    const [to, probe] = rest.split(' ') as [string, string];
    const want = expected(e, from, to, probe);
    if (want !== undefined && want !== ok) out.push(`${key}: expected ${want ? 'allowed' : 'denied'}, got ${ok ? 'allowed' : 'denied'}`);
  }
  return out.sort();
}
