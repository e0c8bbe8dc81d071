// In-memory stand-ins for the kernel's nftables table, iptables tables and
// ipsets, for tests that compare what a sequence of incremental rounds leaves
// in the "kernel" with what one full render of the final state gives. They
// apply our scripts the way the tools do (an nft file is one transaction;
// iptables-restore --noflush declares and flushes only the chains it names)
// and refuse what the kernel refuses that matters for ordering: a rule naming
// a chain, set or map that does not exist, deleting a chain that still has
// rules or is referenced, deleting a set or map a rule still uses, deleting
// an element that is not there. Listings come back in the form our parsers read.

import { irSetName as ir } from '../render/nft/delta.js';
import { DataplaneError } from './errors.js';
import type { Ipset, IptablesFamily, IptablesRestore, Nft } from './ports.js';

interface NftState {
  exists: boolean;
  chains: Map<string, { spec: string; rules: string[] }>;
  sets: Map<string, { decl: string; elements: Set<string> }>;
  maps: Map<string, Set<string>>;
}

const clone = (s: NftState): NftState => ({
  exists: s.exists,
  chains: new Map([...s.chains].map(([k, v]) => [k, { spec: v.spec, rules: [...v.rules] }])),
  sets: new Map([...s.sets].map(([k, v]) => [k, { decl: v.decl, elements: new Set(v.elements) }])),
  maps: new Map([...s.maps].map(([k, v]) => [k, new Set(v)])),
});

const items = (inner: string) => inner.split(', ').map((e) => e.trim()).filter(Boolean);

export class SimNft implements Nft {
  private state: NftState = { exists: false, chains: new Map(), sets: new Map(), maps: new Map() };
  readonly scripts: string[] = [];
  /** A script this returns true for is refused as a whole (like a kernel error mid-transaction). */
  refuse: (script: string) => boolean = () => false;

  async listTable(): Promise<string> {
    const s = this.state;
    if (!s.exists) return '';
    const out = ['table inet calico {'];
    for (const [name, set] of s.sets) {
      out.push(`\tset ${name} {`, `\t\t${set.decl}`);
      if (set.elements.size) out.push(`\t\telements = { ${[...set.elements].join(', ')} }`);
      out.push('\t}');
    }
    for (const [name, map] of s.maps) {
      out.push(`\tmap ${name} {`, '\t\ttype ifname : verdict');
      if (map.size) out.push(`\t\telements = { ${[...map].join(', ')} }`);
      out.push('\t}');
    }
    for (const [name, chain] of s.chains) {
      out.push(`\tchain ${name} {`);
      if (chain.spec) out.push(`\t\t${chain.spec}`);
      for (const r of chain.rules) out.push(`\t\t${r}`);
      out.push('\t}');
    }
    out.push('}');
    return out.join('\n') + '\n';
  }

  async apply(script: string): Promise<void> {
    this.scripts.push(script);
    if (this.refuse(script)) throw new DataplaneError('nft', 'refused (injected)');
    const next = clone(this.state);
    try {
      if (script.startsWith('table inet calico {')) this.block(next, script);
      else for (const line of script.split('\n').filter(Boolean)) this.command(next, line);
    } catch (err) {
      throw new DataplaneError('nft', (err as Error).message);
    }
    this.state = next;
  }

  /** What the table holds, order-free, for deepEqual. */
  content(): unknown {
    const s = this.state;
    const sorted = <T>(m: Map<string, T>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
    // A set under its other name (`<name>.b`, render/nft/delta.ts) is the same set: named here by its IR name.
    const irRule = (rule: string) => rule.replace(/@(\S+)/g, (_, n: string) => `@${ir(n)}`);
    return {
      exists: s.exists,
      chains: sorted(s.chains).map(([n, c]) => [n, c.spec, c.rules.map(irRule)]),
      // A set's comment is for humans (which rules a merged set came from); reconcile never compares or rewrites it.
      sets: sorted(new Map([...s.sets].map(([n, x]) => [ir(n), x]))).map(([n, x]) => [n, x.decl.replace(/ comment "[^"]*";/, ''), [...x.elements].sort()]),
      maps: sorted(s.maps).map(([n, m]) => [n, [...m].sort()]),
    };
  }

  private block(s: NftState, script: string): void {
    if (s.exists) throw new Error('table block over an existing table');
    s.exists = true;
    const rules: [string, string][] = [];
    let current: { kind: string; name: string } | undefined;
    for (const raw of script.split('\n').slice(1)) {
      const line = raw.trim();
      const open = /^(set|map|chain) (\S+) \{$/.exec(line);
      if (open) {
        current = { kind: open[1]!, name: open[2]! };
        if (current.kind === 'set') s.sets.set(current.name, { decl: '', elements: new Set() });
        else if (current.kind === 'map') s.maps.set(current.name, new Set());
        else s.chains.set(current.name, { spec: '', rules: [] });
        continue;
      }
      if (line === '}' || !current || line === '' || line.startsWith('comment ')) {
        if (line === '}') current = undefined;
        continue;
      }
      const elems = /^elements = \{ (.*) \}$/.exec(line);
      if (current.kind === 'set') {
        if (elems) for (const e of items(elems[1]!)) s.sets.get(current.name)!.elements.add(e);
        else s.sets.get(current.name)!.decl = line;
      } else if (current.kind === 'map') {
        if (elems) for (const e of items(elems[1]!)) s.maps.get(current.name)!.add(e);
      } else if (line.startsWith('type ')) s.chains.get(current.name)!.spec = line;
      else rules.push([current.name, line]);
    }
    // The whole block is resolved at once: references are checked after every declaration.
    for (const [chain, rule] of rules) {
      this.checkRefs(s, rule);
      s.chains.get(chain)!.rules.push(rule);
    }
    for (const [name, map] of s.maps) for (const e of map) this.checkTarget(s, name, e);
  }

  private checkRefs(s: NftState, rule: string): void {
    for (const m of rule.matchAll(/\b(?:jump|goto) (\S+)/g)) if (!s.chains.has(m[1]!)) throw new Error(`rule names missing chain ${m[1]}: ${rule}`);
    for (const m of rule.matchAll(/@(\S+)/g)) if (!s.sets.has(m[1]!) && !s.maps.has(m[1]!)) throw new Error(`rule names missing set ${m[1]}: ${rule}`);
  }

  private checkTarget(s: NftState, map: string, element: string): void {
    const target = /goto (\S+)$/.exec(element)?.[1];
    if (!target || !s.chains.has(target)) throw new Error(`map ${map} element names missing chain: ${element}`);
  }

  private addElements(s: NftState, name: string, elements: string[]): void {
    const target = s.sets.get(name)?.elements ?? s.maps.get(name);
    if (!target) throw new Error(`element of missing set ${name}`);
    for (const e of elements) {
      if (s.maps.has(name)) this.checkTarget(s, name, e);
      target.add(e);
    }
  }

  private command(s: NftState, line: string): void {
    const m = /^(add|delete|flush) (chain|rule|set|map|element) inet calico (\S+)(?: (.*))?$/.exec(line);
    if (!m) throw new Error(`unknown command: ${line}`);
    const [, verb, kind, name, rest = ''] = m as unknown as [string, string, string, string, string | undefined];
    const chain = s.chains.get(name);
    const referenced = (n: string) =>
      [...s.chains.values()].some((c) => c.rules.some((r) => new RegExp(`(?:jump|goto) ${n}$|(?:jump|goto) ${n} |@${n}(?:\\s|$)`).test(r))) ||
      [...s.maps.values()].some((mp) => [...mp].some((e) => e.endsWith(`goto ${n}`)));
    switch (`${verb} ${kind}`) {
      case 'add chain':
        if (!chain) s.chains.set(name, { spec: /^\{ (.*) \}$/.exec(rest)?.[1] ?? '', rules: [] });
        return;
      case 'flush chain':
        if (!chain) throw new Error(`flush of missing chain ${name}`);
        chain.rules = [];
        return;
      case 'delete chain':
        if (!chain) throw new Error(`delete of missing chain ${name}`);
        if (chain.rules.length) throw new Error(`delete of non-empty chain ${name}`);
        if (referenced(name)) throw new Error(`delete of referenced chain ${name}`);
        s.chains.delete(name);
        return;
      case 'add rule':
        if (!chain) throw new Error(`rule for missing chain ${name}`);
        this.checkRefs(s, rest);
        chain.rules.push(rest);
        return;
      case 'flush set':
        if (!s.sets.has(name)) throw new Error(`flush of missing set ${name}`);
        s.sets.get(name)!.elements.clear();
        return;
      case 'add set':
      case 'add map': {
        // A declaration, with the elements to add when it has any (`{ <decl> elements = { a, b } }`).
        const d = /^\{ (.*?)(?: elements = \{ (.*) \})? \}$/.exec(rest)!;
        if (kind === 'set' && !s.sets.has(name)) s.sets.set(name, { decl: d[1]!, elements: new Set() });
        if (kind === 'map' && !s.maps.has(name)) s.maps.set(name, new Set());
        if (d[2] !== undefined) this.addElements(s, name, items(d[2]));
        return;
      }
      case 'delete set':
      case 'delete map':
        if (!(kind === 'set' ? s.sets : s.maps).has(name)) throw new Error(`delete of missing ${kind} ${name}`);
        if (referenced(name)) throw new Error(`delete of ${kind} ${name} still in use`);
        (kind === 'set' ? s.sets : s.maps).delete(name);
        return;
      case 'add element':
      case 'delete element': {
        const target = s.sets.get(name)?.elements ?? s.maps.get(name);
        if (!target) throw new Error(`element of missing set ${name}`);
        const elements = items(/^\{ (.*) \}$/.exec(rest)![1]!);
        if (verb === 'add') return this.addElements(s, name, elements);
        for (const e of elements) if (!target.delete(e)) throw new Error(`delete of missing element ${e} in ${name}`);
        return;
      }
    }
    throw new Error(`unsupported command: ${line}`);
  }
}

/** iptables-restore --noflush and iptables-save, per family, of our chains and hook rules. */
export class SimIptables implements IptablesRestore {
  /** family -> table -> chain -> rules (built-in chains hold only our hook rules). */
  private tables: Record<IptablesFamily, Map<string, Map<string, string[]>>> = { 4: new Map(), 6: new Map() };

  async save(family: IptablesFamily): Promise<string> {
    const out: string[] = [];
    for (const [table, chains] of this.tables[family]) {
      out.push(`*${table}`, ...[...chains.keys()].map((c) => `:${c} - [0:0]`));
      for (const [c, rules] of chains) for (const r of rules) out.push(`-A ${c} ${r}`);
      out.push('COMMIT');
    }
    return out.join('\n') + '\n';
  }

  async restore(family: IptablesFamily, text: string): Promise<void> {
    const next = new Map([...this.tables[family]].map(([t, cs]) => [t, new Map([...cs].map(([c, r]) => [c, [...r]]))]));
    let table: Map<string, string[]> | undefined;
    for (const line of text.split('\n').filter(Boolean)) {
      const fail = (why: string) => {
        throw new DataplaneError(`iptables${family}`, `${why}: ${line}`);
      };
      if (line.startsWith('*')) {
        if (!next.has(line.slice(1))) next.set(line.slice(1), new Map());
        table = next.get(line.slice(1))!;
      } else if (line === 'COMMIT') table = undefined;
      else if (!table) fail('outside a table');
      else if (line.startsWith(':')) table.set(line.slice(1).split(' ')[0]!, []);
      else if (line.startsWith('-X ')) {
        const c = line.slice(3);
        if (!table.has(c)) fail('delete of missing chain');
        if ([...table.values()].some((rs) => rs.some((r) => r.endsWith(` ${c}`) || r.includes(` ${c} `)))) fail('delete of referenced chain');
        table.delete(c);
      } else {
        const m = /^-([AI]) (\S+) (?:1 )?(.*)$/.exec(line);
        if (!m) return fail('unknown line');
        const target = /-[jg] (\S+)/.exec(m[3]!)?.[1];
        if (target?.startsWith('cali-') && !table.has(target)) fail('jump to missing chain');
        if (!table.has(m[2]!)) table.set(m[2]!, []);
        if (m[1] === 'A') table.get(m[2]!)!.push(m[3]!);
        else table.get(m[2]!)!.unshift(m[3]!);
      }
    }
    this.tables[family] = next;
  }

  content(): unknown {
    return ([4, 6] as const).map((f) => [...this.tables[f]].sort(([a], [b]) => (a < b ? -1 : 1)).map(([t, cs]) => [t, [...cs].sort(([a], [b]) => (a < b ? -1 : 1))]));
  }
}

/** `ipset restore` / `ipset save` of our sets. */
export class SimIpset implements Ipset {
  private sets = new Map<string, { create: string; members: Set<string> }>();

  async save(): Promise<string> {
    const out: string[] = [];
    for (const [name, s] of this.sets) out.push(s.create, ...[...s.members].map((m) => `add ${name} ${m}`));
    return out.join('\n') + '\n';
  }

  async restore(text: string): Promise<void> {
    const next = new Map([...this.sets].map(([n, s]) => [n, { create: s.create, members: new Set(s.members) }]));
    for (const line of text.split('\n').filter(Boolean)) {
      const [verb, name, member] = line.split(' ') as [string, string, string | undefined];
      const set = next.get(name);
      if (verb === 'create') {
        if (set) throw new DataplaneError('ipset', `set exists: ${line}`);
        next.set(name, { create: line, members: new Set() });
      } else if (!set) throw new DataplaneError('ipset', `missing set: ${line}`);
      else if (verb === 'add') set.members.add(member!);
      else if (verb === 'del' && !set.members.delete(member!)) throw new DataplaneError('ipset', `missing element: ${line}`);
      else if (verb === 'destroy') next.delete(name);
    }
    this.sets = next;
  }

  content(): unknown {
    return [...this.sets].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, s]) => [n, s.create, [...s.members].sort()]);
  }
}
