// `nft monitor trace` lines -> events. Pure. The format (nft 1.0.x):
//   trace id <id> <family> <table> <chain> packet: <headers>
//   trace id <id> <family> <table> <chain> rule <rule text> (verdict <verdict>)
//   trace id <id> <family> <table> <chain> verdict <verdict>
//   trace id <id> <family> <table> <chain> policy <accept|drop> [meta mark ...]
// Only rules that matched are printed, in the order the packet met them.

export interface TraceEvent {
  id: string;
  family: string;
  table: string;
  chain: string;
  type: 'packet' | 'rule' | 'verdict' | 'policy';
  /** Rule text without the trailing `(verdict ...)`; the header text for `packet`. */
  text: string;
  /** The rule's comment, if any. */
  comment?: string;
  /** `accept`, `drop`, `continue`, `return`, `jump <chain>`, `goto <chain>`. */
  verdict?: string;
}

const LINE = /^trace id (\S+) (\S+) (\S+) (\S+) (packet|rule|verdict|policy):? ?(.*)$/;

export function parseTraceLine(line: string): TraceEvent | undefined {
  const m = LINE.exec(line.trim());
  if (!m) return undefined;
  const [, id, family, table, chain, type, restRaw] = m as unknown as [string, string, string, string, string, TraceEvent['type'], string];
  const rest = restRaw.trim();
  const ev: TraceEvent = { id, family, table, chain, type, text: rest };
  if (type === 'rule') {
    const v = /^(.*) \(verdict ([^)]+)\)$/.exec(rest);
    if (v) {
      ev.text = v[1]!;
      ev.verdict = v[2]!;
    }
    const c = /comment "([^"]*)"/.exec(ev.text);
    if (c) ev.comment = c[1]!;
  } else if (type === 'verdict' || type === 'policy') {
    ev.verdict = rest.split(' ')[0]!;
  }
  return ev;
}

/** The source port the kernel saw (from a `packet:` line), when the header shows one. */
export function tracedSourcePort(events: readonly TraceEvent[]): number | undefined {
  for (const e of events) {
    if (e.type !== 'packet') continue;
    const m = /\b(?:tcp|udp|sctp|udplite) sport (\d+)/.exec(e.text);
    if (m) return Number(m[1]);
  }
  return undefined;
}
