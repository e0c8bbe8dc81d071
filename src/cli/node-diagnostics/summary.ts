// The bundle's summary (summary.txt for people, summary.json for scripts) and
// its archive name. Pure.
import { renderTable } from '../output.js';

export interface CollectorOutcome {
  /** Path inside `diagnostics/`. */
  file: string;
  result: 'ok' | 'failed' | 'skipped';
  /** Size or source when ok; the reason when failed or skipped. */
  detail: string;
}

export interface SummaryInput {
  started: Date;
  node: string;
  hostname: string;
  runDir: string;
  logDir: string;
  /** describeBackends() text. */
  backends: string;
  outcomes: CollectorOutcome[];
}

/** `diags-20260123_140501.tar.gz`, like calicoctl's (UTC here, so bundles from different zones sort together). */
export function archiveName(at: Date): string {
  const iso = at.toISOString(); // 2026-01-23T14:05:01.123Z
  return `diags-${iso.slice(0, 10).replace(/-/g, '')}_${iso.slice(11, 19).replace(/:/g, '')}.tar.gz`;
}

export function formatSummary(input: SummaryInput): { text: string; json: unknown } {
  const count = (r: CollectorOutcome['result']) => input.outcomes.filter((o) => o.result === r).length;
  const header = [
    'calicoctl node diags',
    `Collected:      ${input.started.toISOString()}`,
    `Node:           ${input.node}`,
    `Hostname:       ${input.hostname}`,
    `Run dir:        ${input.runDir}`,
    `Log dir:        ${input.logDir}`,
    `Policy backend: ${input.backends}`,
    `Collectors:     ${count('ok')} ok, ${count('failed')} failed, ${count('skipped')} skipped`,
    '',
  ];
  const table = renderTable(
    ['FILE', 'RESULT', 'DETAIL'],
    input.outcomes.map((o) => [o.file, o.result, o.detail.replace(/\s*\n\s*/g, ' ')]),
  );
  return {
    text: header.join('\n') + '\n' + table,
    json: {
      collected: input.started.toISOString(),
      node: input.node,
      hostname: input.hostname,
      runDir: input.runDir,
      logDir: input.logDir,
      policyBackend: input.backends,
      collectors: input.outcomes,
    },
  };
}
