// Comments on the kernel rules of tier and profile chains, saying which
// user rules each one stands for, so `nft list`, `iptables-save` and a packet
// trace (src/trace/) map a kernel rule back to tier / policy / rule. Pure.
//
//   gnp/web[0]                          one rule: policy (or profile) id, rule number
//   run 2: gnp/a[0-2,5] np/prod/b[1]    a merged set lookup: run 2 of the chain, its rules
//   run 2 (40 rules)                    the same when the list does not fit
//
// Rule numbers count from 0 in the policy's ingress or egress list, as in the
// resource. A "run" is a maximal stretch of same-action rules in the chain's
// rule list (compile-tier.ts), numbered from 0; the trace recomputes the runs
// of a chain from the node's calc state (programSegments), so "run 2" resolves
// to its rules without them being written. Comments are never relied on by the
// agent itself (only by people and the trace tool).

/** Where a rule of a tier or profile chain came from. */
export interface RuleSource {
  /** Policy id (`gnp/<name>`, `np/<ns>/<name>`) or profile id. */
  owner: string;
  /** The user's rule number in the owner's list for the chain's direction. */
  index: number;
}

/**
 * nft keeps 128 bytes of a rule comment, iptables' comment match 256; one IR
 * serves both, and a few bytes are left for the renderer's quoting.
 */
export const MAX_RULE_COMMENT = 120;

/** `a[0,1] b[2]`: consecutive sources of one owner share its brackets. */
function sourceList(sources: readonly RuleSource[]): string {
  const parts: { owner: string; indexes: number[] }[] = [];
  for (const s of sources) {
    const last = parts[parts.length - 1];
    if (last && last.owner === s.owner) last.indexes.push(s.index);
    else parts.push({ owner: s.owner, indexes: [s.index] });
  }
  return parts.map((p) => `${p.owner}[${ranges(p.indexes)}]`).join(' ');
}

/** 0,1,2,5 -> "0-2,5". */
function ranges(indexes: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < indexes.length; ) {
    let j = i;
    while (j + 1 < indexes.length && indexes[j + 1] === indexes[j]! + 1) j++;
    out.push(j > i + 1 ? `${indexes[i]}-${indexes[j]}` : j === i + 1 ? `${indexes[i]},${indexes[j]}` : String(indexes[i]));
    i = j + 1;
  }
  return out.join(',');
}

/** The comment of a kernel rule standing for `sources` (one rule, or a merged lookup) of run `run` (none for a Log rule). */
export function sourceComment(run: number | undefined, sources: readonly RuleSource[]): string {
  const list = sourceList(sources);
  const text = sources.length === 1 || run === undefined ? list : `run ${run}: ${list}`;
  if (text.length <= MAX_RULE_COMMENT) return text;
  if (run === undefined) return fitComment(text);
  return `run ${run} (${sources.length} ${sources.length === 1 ? 'rule' : 'rules'})`;
}

/** What a comment says: the sources it lists, and/or the run it names (then the run's rules are the candidates). */
export interface ParsedSourceComment {
  run?: number;
  sources?: RuleSource[];
}

const OWNER_LIST = /^(\S+?)\[(\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*)\]$/;

/** Inverse of sourceComment; undefined for any other comment. */
export function parseSourceComment(comment: string): ParsedSourceComment | undefined {
  let m = /^run (\d+) \(\d+ rules?\)$/.exec(comment);
  if (m) return { run: Number(m[1]) };
  let run: number | undefined;
  let rest = comment;
  m = /^run (\d+): (.+)$/.exec(comment);
  if (m) [run, rest] = [Number(m[1]), m[2]!];
  const sources: RuleSource[] = [];
  for (const part of rest.split(' ')) {
    const p = OWNER_LIST.exec(part);
    if (!p) return undefined;
    for (const r of p[2]!.split(',')) {
      const [a, b = a] = r.split('-').map(Number) as [number, number?];
      for (let i = a; i <= b; i++) sources.push({ owner: p[1]!, index: i });
    }
  }
  return { ...(run !== undefined ? { run } : {}), sources };
}

/** A free-text comment (tier, profile, missing policy names) cut to what the kernel keeps. */
export function fitComment(text: string): string {
  return text.length <= MAX_RULE_COMMENT ? text : `${text.slice(0, MAX_RULE_COMMENT - 3)}...`;
}
