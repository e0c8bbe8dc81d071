// A fake XlatKernel: interfaces, filters and maps in memory, an operation log,
// and a way to make the next call of a method fail.
import type { MapContents, MapDiff } from './maps.js';
import type { Attachment, Hook, XlatKernel } from './ports.js';

export class FakeXlatKernel implements XlatKernel {
  readonly log: string[] = [];
  readonly interfaces = new Map<string, number>();
  readonly filters = new Map<string, number>(); // `${if}/${hook}` -> program id
  readonly maps: MapContents = { xlat_ifaces: new Map(), xlat_eam4: new Map(), xlat_eam6: new Map() };
  private nextProgram = 100;
  programs: Record<Hook, number> | undefined;
  failNext: string | undefined;

  private check(op: string): void {
    if (this.failNext === op) {
      this.failNext = undefined;
      throw new Error(`fake ${op} failure`);
    }
  }

  async load(opts: { fresh?: boolean } = {}): Promise<Record<Hook, number>> {
    this.check('load');
    if (!this.programs || opts.fresh) {
      this.programs = { ingress: this.nextProgram++, egress: this.nextProgram++ };
      this.log.push(`load ${this.programs.ingress},${this.programs.egress}`);
    }
    return this.programs;
  }
  async ifindex(name: string): Promise<number | undefined> {
    return this.interfaces.get(name);
  }
  async attachments(names?: string[]): Promise<Attachment[]> {
    const out: Attachment[] = [];
    for (const [k, programId] of [...this.filters].sort()) {
      const [interfaceName, hook] = k.split('/') as [string, Hook];
      if (!names || names.includes(interfaceName)) out.push({ interfaceName, hook, programId });
    }
    return out;
  }
  async attach(name: string, hook: Hook): Promise<void> {
    this.check('attach');
    if (!this.interfaces.has(name)) throw new Error(`no interface ${name}`);
    this.filters.set(`${name}/${hook}`, this.programs![hook]);
    this.log.push(`attach ${name} ${hook} ${this.programs![hook]}`);
  }
  async detach(name: string, hook: Hook): Promise<void> {
    this.filters.delete(`${name}/${hook}`);
    this.log.push(`detach ${name} ${hook}`);
  }
  async readMaps(): Promise<MapContents> {
    return { xlat_ifaces: new Map(this.maps.xlat_ifaces), xlat_eam4: new Map(this.maps.xlat_eam4), xlat_eam6: new Map(this.maps.xlat_eam6) };
  }
  async writeMaps(diffs: MapDiff[]): Promise<void> {
    this.check('writeMaps');
    for (const d of diffs) {
      for (const [k, v] of d.upserts) {
        this.maps[d.map].set(k, v);
        this.log.push(`update ${d.map} ${k}=${v}`);
      }
      for (const k of d.deletes) {
        this.maps[d.map].delete(k);
        this.log.push(`delete ${d.map} ${k}`);
      }
    }
  }
  async sweep(): Promise<void> {
    this.log.push('sweep');
  }
  counters: number[] = [];
  async stats(): Promise<number[]> {
    return [...this.counters];
  }
  /** The interface disappears with its filters (as the kernel does). */
  removeInterface(name: string): void {
    this.interfaces.delete(name);
    for (const k of [...this.filters.keys()]) if (k.startsWith(`${name}/`)) this.filters.delete(k);
  }
}
