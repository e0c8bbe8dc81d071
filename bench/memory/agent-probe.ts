// Preloaded into calico-node by `bench/node.ts --heap-snapshot DIR` (NODE_OPTIONS=--import):
// on SIGPWR (SIGUSR2 is the agent's translator reload) it writes where the
// agent's memory is (process.memoryUsage, V8 heap spaces) to DIR/memory.json,
// then a heap snapshot to DIR/agent.heapsnapshot, then DIR/done.
// Bench-only: the agent itself never loads this.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import v8 from 'node:v8';

const KINDS: Record<number, string> = { [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor', [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major', [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb' };
/** The last collections (kind, ms since start, duration): shows whether and when the heap was collected while idle. */
const gcs: Array<{ kind: string; at: number; ms: number; forced: boolean }> = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const d = (e as unknown as { detail: { kind: number; flags: number } }).detail;
    gcs.push({ kind: KINDS[d.kind] ?? String(d.kind), at: Math.round(e.startTime), ms: Number(e.duration.toFixed(1)), forced: (d.flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) !== 0 });
    if (gcs.length > 40) gcs.shift();
  }
}).observe({ entryTypes: ['gc'] });

const dir = process.env.CTS_BENCH_HEAP_DIR;
if (dir) {
  process.on('SIGPWR', () => {
    const memory = {
      memoryUsage: process.memoryUsage(),
      heap: v8.getHeapStatistics(),
      spaces: v8.getHeapSpaceStatistics(),
      flags: process.execArgv,
      uptimeMs: Math.round(performance.now()),
      gcs,
      mappings: residentMappings(),
    };
    writeFileSync(join(dir, 'memory.json'), JSON.stringify(memory, null, 2) + '\n');
    v8.writeHeapSnapshot(join(dir, 'agent.heapsnapshot'));
    writeFileSync(join(dir, 'done'), '');
  });
}

/** Mappings with >= 1 MiB resident (from /proc/self/smaps): what of the RSS is not the V8 heap. */
function residentMappings(): Array<{ range: string; name: string; rssKb: number; anonKb: number }> {
  const out: Array<{ range: string; name: string; rssKb: number; anonKb: number }> = [];
  let cur: { range: string; name: string; rssKb: number; anonKb: number } | undefined;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const head = /^([0-9a-f]+-[0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      if (cur && cur.rssKb >= 1024) out.push(cur);
      cur = { range: head[1]!, name: head[2] ?? '', rssKb: 0, anonKb: 0 };
      continue;
    }
    const kv = /^(Rss|Anonymous):\s+(\d+) kB/.exec(line);
    if (kv && cur) cur[kv[1] === 'Rss' ? 'rssKb' : 'anonKb'] = Number(kv[2]);
  }
  if (cur && cur.rssKb >= 1024) out.push(cur);
  return out.sort((a, b) => b.rssKb - a.rssKb);
}
