// The translator's Linux driver: bpftool loads and pins, tc attaches, bpftool
// reads and writes the pinned maps. Thin: no decisions beyond parsing.
//
// Pin directory layout (ours by path; nothing else is written there):
//   <pinDir>/maps/xlat_{ifaces,eam4,eam6,stats}   created once, reused by every load
//   <pinDir>/prog-<object hash>[-r<n>]/xlat_{from,to}_wl   one directory per loaded copy
// Filters: `pref 1 handle 1 bpf` on clsact ingress/egress, program named xlat_*.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import type { Exec } from '../dataplane/ports.js';
import { DataplaneError } from '../dataplane/errors.js';
import { hexArgs, MAP_NAMES, type MapContents, type MapDiff } from './maps.js';
import { PROGRAM_OF, type Attachment, type Hook, type XlatKernel } from './ports.js';

export const XLAT_PREF = 1;
const HOOKS: Hook[] = ['ingress', 'egress'];

export interface LinuxXlatOptions {
  exec: Exec;
  /** Under a mounted bpffs; created if missing. */
  pinDir: string;
  /** The compiled translator (dist/bpf/xlat.o). */
  object: string;
}

export class LinuxXlatKernel implements XlatKernel {
  private progDir: string | undefined;
  private reloads = 0;

  constructor(private readonly opts: LinuxXlatOptions) {}

  private get mapsDir(): string {
    return `${this.opts.pinDir}/maps`;
  }

  private async run(argv: string[], input?: string): Promise<string> {
    const r = await this.opts.exec.run(argv, input === undefined ? {} : { input });
    if (r.code !== 0) throw new DataplaneError('xlat', `${argv.join(' ')} failed (${r.code}): ${r.stderr.trim() || r.stdout.trim()}`, { retryable: true });
    return r.stdout;
  }

  async load(opts: { fresh?: boolean } = {}): Promise<Record<Hook, number>> {
    if (!existsSync(this.opts.object)) throw new DataplaneError('xlat object', `the translator object ${this.opts.object} does not exist: build it with bpf/xlat/build.sh (needs clang, libbpf-dev)`, { retryable: false });
    const hash = createHash('sha256').update(readFileSync(this.opts.object)).digest('hex').slice(0, 12);
    const base = `${this.opts.pinDir}/prog-${hash}`;
    // A restarted agent keeps the copy it finds (possibly one a reload made): no swap without a reason.
    const existing = existsSync(this.opts.pinDir) ? readdirSync(this.opts.pinDir).filter((d) => `${this.opts.pinDir}/${d}`.startsWith(base)).sort() : [];
    const found = existing.length ? `${this.opts.pinDir}/${existing[existing.length - 1]}` : base;
    const dir = opts.fresh ? `${base}-r${Date.now().toString(36)}${++this.reloads}` : this.progDir?.startsWith(base) ? this.progDir : found;
    if (!existsSync(`${dir}/xlat_from_wl`) || !existsSync(`${dir}/xlat_to_wl`)) {
      const have = MAP_NAMES.filter((m) => existsSync(`${this.mapsDir}/${m}`));
      // No map set, or a half-written one (an interrupted first load): pin a fresh set.
      if (have.length !== MAP_NAMES.length) await this.run(['rm', '-rf', this.mapsDir]);
      mkdirSync(this.opts.pinDir, { recursive: true });
      const reuse = have.length === MAP_NAMES.length ? MAP_NAMES.flatMap((m) => ['map', 'name', m, 'pinned', `${this.mapsDir}/${m}`]) : ['pinmaps', this.mapsDir];
      await this.run(['rm', '-rf', dir]);
      await this.run(['bpftool', 'prog', 'loadall', this.opts.object, dir, 'type', 'classifier', ...reuse]);
    }
    this.progDir = dir;
    const ids = {} as Record<Hook, number>;
    for (const hook of HOOKS) {
      const info = JSON.parse(await this.run(['bpftool', '-j', 'prog', 'show', 'pinned', `${dir}/${PROGRAM_OF[hook]}`])) as { id: number };
      ids[hook] = info.id;
    }
    return ids;
  }

  /** Removes program copies other than the current one (called once every interface uses the current one). */
  async sweep(): Promise<string[]> {
    if (!this.progDir || !existsSync(this.opts.pinDir)) return [];
    const current = this.progDir.slice(this.opts.pinDir.length + 1);
    const old = readdirSync(this.opts.pinDir).filter((d) => d.startsWith('prog-') && d !== current);
    for (const d of old) await this.run(['rm', '-rf', `${this.opts.pinDir}/${d}`]);
    return old;
  }

  async ifindex(interfaceName: string): Promise<number | undefined> {
    const r = await this.opts.exec.run(['ip', '-j', 'link', 'show', 'dev', interfaceName]);
    if (r.code !== 0) return undefined;
    const links = JSON.parse(r.stdout) as { ifindex: number }[];
    return links[0]?.ifindex;
  }

  async attachments(interfaceNames?: string[]): Promise<Attachment[]> {
    let names = interfaceNames;
    if (!names) {
      const links = JSON.parse(await this.run(['ip', '-j', 'link', 'show'])) as { ifname: string }[];
      names = links.map((l) => l.ifname).filter((n) => n.startsWith('cali'));
    }
    const out: Attachment[] = [];
    for (const name of names) {
      for (const hook of HOOKS) {
        const r = await this.opts.exec.run(['tc', 'filter', 'show', 'dev', name, hook]);
        if (r.code !== 0) continue; // interface gone, or no clsact
        out.push(...parseFilters(r.stdout, name, hook));
      }
    }
    return out;
  }

  async attach(interfaceName: string, hook: Hook): Promise<void> {
    if (!this.progDir) throw new DataplaneError('xlat', 'xlat: attach before load', { retryable: true });
    const q = await this.opts.exec.run(['tc', 'qdisc', 'add', 'dev', interfaceName, 'clsact']);
    if (q.code !== 0 && !/File exists|Exclusivity flag on/.test(q.stderr)) {
      throw new DataplaneError('xlat', `tc qdisc add dev ${interfaceName} clsact failed: ${q.stderr.trim()}`, { retryable: true });
    }
    // replace: one atomic swap when a filter is there (reload keeps the flow).
    await this.run(['tc', 'filter', 'replace', 'dev', interfaceName, hook, 'pref', String(XLAT_PREF), 'handle', '1', 'bpf', 'da', 'object-pinned', `${this.progDir}/${PROGRAM_OF[hook]}`]);
  }

  async detach(interfaceName: string, hook: Hook): Promise<void> {
    const r = await this.opts.exec.run(['tc', 'filter', 'del', 'dev', interfaceName, hook, 'pref', String(XLAT_PREF), 'handle', '1', 'bpf']);
    if (r.code !== 0 && !/Cannot find device|No such file|Cannot find specified filter/.test(r.stderr)) {
      throw new DataplaneError('xlat', `tc filter del dev ${interfaceName} ${hook} failed: ${r.stderr.trim()}`, { retryable: true });
    }
  }

  async readMaps(): Promise<MapContents> {
    const out: MapContents = { xlat_ifaces: new Map(), xlat_eam4: new Map(), xlat_eam6: new Map() };
    for (const map of ['xlat_ifaces', 'xlat_eam4', 'xlat_eam6'] as const) {
      if (!existsSync(`${this.mapsDir}/${map}`)) continue;
      const entries = JSON.parse(await this.run(['bpftool', '-j', 'map', 'dump', 'pinned', `${this.mapsDir}/${map}`])) as { key: string[]; value: string[] }[];
      for (const e of entries) out[map].set(bytesHex(e.key), bytesHex(e.value));
    }
    return out;
  }

  async writeMaps(diffs: MapDiff[]): Promise<void> {
    const lines: string[] = [];
    for (const d of diffs) {
      const path = `${this.mapsDir}/${d.map}`;
      for (const [k, v] of d.upserts) lines.push(`map update pinned ${path} key hex ${hexArgs(k).join(' ')} value hex ${hexArgs(v).join(' ')}`);
      for (const k of d.deletes) lines.push(`map delete pinned ${path} key hex ${hexArgs(k).join(' ')}`);
    }
    if (lines.length) await this.run(['bpftool', 'batch', 'file', '-'], lines.join('\n') + '\n');
  }

  async stats(): Promise<number[]> {
    const path = `${this.mapsDir}/xlat_stats`;
    if (!existsSync(path)) return [];
    const entries = JSON.parse(await this.run(['bpftool', '-j', 'map', 'dump', 'pinned', path])) as { key: string[]; values: { value: string[] }[] }[];
    return entries.map((e) => e.values.reduce((sum, v) => sum + Number(Buffer.from(bytesHex(v.value), 'hex').readBigUInt64LE()), 0));
  }
}

/** bpftool's ["0x01", "0x02"] -> "0102". */
const bytesHex = (bytes: string[]): string => bytes.map((b) => b.replace(/^0x/, '').padStart(2, '0')).join('');

/** `filter protocol all pref 1 bpf chain 0 handle 0x1 xlat_from_wl direct-action not_in_hw id 42 tag ...` */
export function parseFilters(text: string, interfaceName: string, hook: Hook): Attachment[] {
  const out: Attachment[] = [];
  for (const line of text.split('\n')) {
    const m = /\bpref (\d+) bpf\b.*?\b(xlat_\w+)\b.*?\bid (\d+)/.exec(line);
    if (m && Number(m[1]) === XLAT_PREF) out.push({ interfaceName, hook, programId: Number(m[3]) });
  }
  return out;
}
