// Runs frames through the real xlat.o with BPF_PROG_TEST_RUN, via the small
// libbpf runner bpf/xlat/test-run.c, inside a fresh network namespace (the
// frame is run on that namespace's loopback, ifindex 1). No bpffs, nothing
// attached anywhere. Each batch is its own process: maps start empty.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hex, unhex } from './packets.js';

const ROOT = new URL('../../../../', import.meta.url).pathname;
export const XLAT_OBJECT = `${ROOT}dist/bpf/xlat.o`;
const RUNNER = `${ROOT}dist/bpf/xlat-test-run`;

/** Why the BPF tests cannot run here, or undefined. Builds the object if clang is there. */
export function xlatUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (BPF_PROG_TEST_RUN)';
  if (!existsSync(XLAT_OBJECT) || !existsSync(RUNNER)) spawnSync('bash', [`${ROOT}bpf/xlat/build.sh`], { stdio: 'inherit' });
  if (!existsSync(XLAT_OBJECT)) return 'dist/bpf/xlat.o not built (needs clang, llvm, libbpf-dev: scripts/install-deps.sh)';
  return undefined;
}

export interface Space {
  ifindex: number;
  /** 24 hex digits: the /96. */
  prefixHex: string;
  id: number;
  eam?: { ipv4Hex: string; ipv6Hex: string }[];
}
export type Program = 'xlat_from_wl' | 'xlat_to_wl';
export interface Verdict {
  /** tc verdict: 0 TC_ACT_OK, 2 TC_ACT_SHOT. */
  verdict: number;
  frame: Uint8Array;
}

export class XlatRunner {
  private readonly ns = `cts-xlat-${randomBytes(3).toString('hex')}`;
  constructor() {
    const r = spawnSync('ip', ['netns', 'add', this.ns]);
    if (r.status !== 0) throw new Error(`ip netns add ${this.ns}: ${r.stderr}`);
    spawnSync('ip', ['-n', this.ns, 'link', 'set', 'lo', 'up']);
  }

  /** Runs each [program, frame] with the given spaces in the maps; returns one verdict per frame. */
  run(spaces: Space[], frames: [Program, Uint8Array][], opts: { stats?: boolean } = {}): { results: Verdict[]; stats?: number[] } {
    const lines: string[] = [];
    for (const s of spaces) {
      lines.push(`iface ${s.ifindex} ${s.prefixHex} ${s.id}`);
      for (const e of s.eam ?? []) lines.push(`eam ${s.id} ${e.ipv4Hex} ${e.ipv6Hex}`);
    }
    const setup = lines.length;
    for (const [p, f] of frames) lines.push(`run ${p} ${hex(f)}`);
    if (opts.stats) lines.push('stats');
    const r = spawnSync('ip', ['netns', 'exec', this.ns, RUNNER, XLAT_OBJECT], { input: lines.join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(`xlat-test-run failed (${r.status}): ${r.stderr}`);
    const out = r.stdout.trimEnd().split('\n');
    for (let i = 0; i < setup; i++) if (out[i] !== 'ok') throw new Error(`map setup '${lines[i]}' -> ${out[i]}`);
    const results = frames.map((_, i) => {
      const line = out[setup + i] ?? '';
      const [v, h] = line.split(' ');
      if (v === 'error' || v === undefined) throw new Error(`run failed: ${line}`);
      return { verdict: Number(v), frame: unhex(h ?? '') };
    });
    const stats = opts.stats ? out[setup + frames.length]!.split(' ').map(Number) : undefined;
    return stats ? { results, stats } : { results };
  }

  one(spaces: Space[], program: Program, frame: Uint8Array): Verdict {
    return this.run(spaces, [[program, frame]]).results[0]!;
  }

  close(): void {
    spawnSync('ip', ['netns', 'del', this.ns]);
  }
}
