// Summarises a V8 CPU profile (`node --cpu-prof`, a .cpuprofile JSON file)
// into the functions that used the most CPU themselves: the profile the
// report shows for agent-side numbers. Pure: the caller reads the file.

import { CalicoError } from '../base/errors.js';
import type { CpuHotspot } from './run-record.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Top `limit` functions by self time; idle time is not CPU use and is left out of the total. */
export function summariseCpuProfile(profile: CpuProfile, limit = 10): { totalMs: number; top: CpuHotspot[] } {
  if (!Array.isArray(profile?.nodes) || !Array.isArray(profile.samples) || !Array.isArray(profile.timeDeltas) || profile.samples.length !== profile.timeDeltas.length) {
    throw new CalicoError('invalid-argument', 'cpu profile: expected a .cpuprofile document (nodes, samples and timeDeltas of equal length), as written by node --cpu-prof');
  }
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, { function: string; where: string; us: number }>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)') return;
    // timeDeltas[i] is the time since the previous sample: the time this sample stands for.
    const us = Math.max(0, profile.timeDeltas[i]!);
    const fn = node.callFrame.functionName || '(anonymous)';
    const file = node.callFrame.url.replace(/^file:\/\//, '').split('/').slice(-2).join('/');
    const where = file ? `${file}:${node.callFrame.lineNumber + 1}` : '(native)';
    const key = `${fn}@${where}`;
    const entry = self.get(key) ?? { function: fn, where, us: 0 };
    entry.us += us;
    self.set(key, entry);
    totalUs += us;
  });
  const top = [...self.values()]
    .sort((a, b) => b.us - a.us || (a.function < b.function ? -1 : 1))
    .slice(0, limit)
    .map((e) => ({ function: e.function, where: e.where, selfMs: e.us / 1000, share: totalUs ? e.us / totalUs : 0 }));
  return { totalMs: totalUs / 1000, top };
}
