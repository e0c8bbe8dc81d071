// The trace driver: marks one flow for nftables tracing, waits for one
// packet of it, and hands back that packet's trace. Thin: all decisions are in
// trace-parse.ts / trace-map.ts / trace-compare.ts; this only talks to `nft` through the Exec port.
//
// "Know what is yours": the marking rule lives in a table of its own,
// `inet calico-trace`, never in the agent's `inet calico` (the agent's
// mark-and-sweep would remove it, and a trace must not change the ruleset it
// observes). It hooks prerouting and output at priority -350, before
// everything of ours (raw is -300), so the packet is traced through all our
// chains. The table is deleted when the trace ends, also on failure; a table
// left by a killed trace is replaced by the next one.
import { CalicoError } from '../base/errors.js';
import type { Exec } from '../dataplane/ports.js';
import type { PolicyPacket } from '../calc/verdict.js';
import { NFT_FAMILY, NFT_TABLE } from '../rules/names.js';
import { parseTraceLine } from './trace-parse.js';
import type { TraceEvent } from './trace-parse.js';

export const TRACE_TABLE = 'calico-trace';
/** How long to wait for the monitor to report the table before creating it again, and how often. */
const MONITOR_WAIT_MS = 250;
const MONITOR_ATTEMPTS = 40;

/** The nft match for the packet's flow (source port left out: the sender picks it). */
export function flowMatch(p: PolicyPacket): string {
  const ip = p.family === 4 ? 'ip' : 'ip6';
  const parts = [`${ip} saddr ${p.src}`, `${ip} daddr ${p.dst}`, `meta l4proto ${p.protocol}`];
  if (p.dstPort !== undefined) parts.push(`th dport ${p.dstPort}`);
  if (p.icmpType !== undefined) parts.push(`${p.family === 4 ? 'icmp' : 'icmpv6'} type ${p.icmpType}`);
  return parts.join(' ');
}

/** Creates (or replaces a stale) trace table marking the flow. One transaction. */
export function traceTableScript(p: PolicyPacket): string {
  const rule = `${flowMatch(p)} meta nftrace set 1`;
  return [
    `table ${NFT_FAMILY} ${TRACE_TABLE}`,
    `delete table ${NFT_FAMILY} ${TRACE_TABLE}`,
    `table ${NFT_FAMILY} ${TRACE_TABLE} {`,
    `\tcomment "calico-ts: calicoctl explain --trace, removed when the trace ends"`,
    `\tchain prerouting {`,
    `\t\ttype filter hook prerouting priority -350; policy accept;`,
    `\t\t${rule}`,
    `\t}`,
    `\tchain output {`,
    `\t\ttype filter hook output priority -350; policy accept;`,
    `\t\t${rule}`,
    `\t}`,
    `}`,
    '',
  ].join('\n');
}

/** Base chains whose accept ends the filter stage: the packet's fate is known. */
const FINAL_BASE_CHAINS = new Set(['base-forward', 'base-input', 'base-output']);

/**
 * True once the trace shows the packet's fate in our table: a drop anywhere,
 * or an accept after the filter stage began (an accept in an earlier base
 * chain only ends that hook; the packet goes on to the next).
 */
export function traceComplete(events: readonly TraceEvent[]): boolean {
  let filterStage = false;
  for (const e of events) {
    if (e.family !== NFT_FAMILY || e.table !== NFT_TABLE) continue;
    if (e.verdict === 'drop') return true;
    if (FINAL_BASE_CHAINS.has(e.chain)) filterStage = true;
    if (filterStage && e.verdict === 'accept') return true;
  }
  return false;
}

export interface TraceTimer {
  /** Calls `fn` after `ms`; returns a cancel function. */
  after(ms: number, fn: () => void): () => void;
}

export const realTimer: TraceTimer = {
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

export interface TraceOptions {
  exec: Exec;
  packet: PolicyPacket;
  timeoutMs: number;
  timer?: TraceTimer;
  /** Called once the marking rule is in place and the monitor listens: send the packet now. */
  onReady?: () => void;
  /** Ends the trace early (Ctrl-C); the trace table is still removed. */
  abort?: AbortSignal;
}

/**
 * Runs one trace: monitor, mark, wait for the first marked packet's complete
 * trace (or the timeout), unmark. Returns that packet's events, or undefined
 * when none came in time.
 */
export async function traceOnePacket(opts: TraceOptions): Promise<TraceEvent[] | undefined> {
  const { exec, packet } = opts;
  const timer = opts.timer ?? realTimer;
  if (!exec.stream) throw new CalicoError('internal', 'tracing needs an Exec that can stream a command (nft monitor)');
  // Tracing reads our nftables table; the iptables backend has none (it is not traced).
  const tables = await exec.run(['nft', 'list', 'tables']);
  if (tables.code !== 0) throw new CalicoError('unavailable', `nft list tables failed: ${tables.stderr.trim() || `exit ${tables.code}`} (is nft installed, and are you root in the node's network namespace?)`);
  if (!tables.stdout.split('\n').some((l) => l.trim() === `table ${NFT_FAMILY} ${NFT_TABLE}`)) {
    throw new CalicoError('unavailable', `no table ${NFT_FAMILY} ${NFT_TABLE} here: --trace follows packets through calico-node's nftables ruleset only; the iptables backend is not traced (its rules carry the same comments: iptables-save | grep -- '-A cali-t'), or calico-node is not running in this network namespace`);
  }
  const events: TraceEvent[] = [];
  let finish!: (v: TraceEvent[] | undefined) => void;
  let fail!: (e: Error) => void;
  const done = new Promise<TraceEvent[] | undefined>((resolve, reject) => ((finish = resolve), (fail = reject)));
  // Awaited below; this only keeps an early monitor failure from counting as unhandled meanwhile.
  done.catch(() => undefined);
  let marked = false;
  let listening: () => void = () => undefined;
  const heard = new Promise<void>((resolve) => (listening = resolve));
  let settled = false;
  const settle = (v: TraceEvent[] | undefined) => {
    if (!settled) (settled = true), finish(v);
  };
  let firstId: string | undefined;
  // `nft monitor` (not only `trace`): its "add table" line proves it listens before the first packet can be marked.
  const monitor = exec.stream(['nft', 'monitor'], {
    onLine: (line) => {
      if (!marked && line.startsWith(`add table ${NFT_FAMILY} ${TRACE_TABLE}`)) {
        marked = true;
        listening();
        opts.onReady?.();
        return;
      }
      const ev = parseTraceLine(line);
      if (!ev) return;
      // The first packet of the flow that our marking rule met is the one we follow.
      if (firstId === undefined && ev.table === TRACE_TABLE) firstId = ev.id;
      if (ev.id !== firstId) return;
      events.push(ev);
      if (traceComplete(events)) settle(events);
    },
    onExit: (code, stderr) => {
      if (!settled) (settled = true), fail(new CalicoError('unavailable', `nft monitor exited (${code}) before the trace finished: ${stderr.trim() || 'no message'} (is nft installed, and are you root in the node's network namespace?)`));
    },
  });
  let cancelTimeout: () => void = () => undefined;
  const onAbort = () => {
    if (!settled) (settled = true), fail(new CalicoError('unavailable', 'trace interrupted; the trace table is removed'));
  };
  opts.abort?.addEventListener('abort', onAbort, { once: true });
  try {
    // The monitor subscribes some time after it is spawned; until it reports our
    // table, (re)create it, so the ready signal never precedes a listening monitor.
    for (let attempt = 0; !marked; attempt++) {
      if (attempt === MONITOR_ATTEMPTS) throw new CalicoError('unavailable', `nft monitor never reported the trace table ${NFT_FAMILY} ${TRACE_TABLE}`);
      const r = await exec.run(['nft', '-f', '-'], { input: traceTableScript(packet) });
      if (r.code !== 0) throw new CalicoError('unavailable', `could not add the trace table ${NFT_FAMILY} ${TRACE_TABLE}: ${r.stderr.trim()}`);
      let cancelWait: () => void = () => undefined;
      // `done` in the race: a monitor that dies meanwhile ends the wait with its error.
      await Promise.race([heard, done, new Promise<void>((resolve) => (cancelWait = timer.after(MONITOR_WAIT_MS, resolve)))]);
      cancelWait();
    }
    cancelTimeout = timer.after(opts.timeoutMs, () => settle(events.length ? events : undefined));
    return await done;
  } finally {
    opts.abort?.removeEventListener('abort', onAbort);
    cancelTimeout();
    monitor.stop();
    await exec.run(['nft', 'delete', 'table', NFT_FAMILY, TRACE_TABLE]);
  }
}
