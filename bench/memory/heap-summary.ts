// Where a V8 heap snapshot's memory is: self size by constructor, and the
// dominator tree's biggest subtrees (retained size: what freeing that one
// object would free), printed as an indented tree so the owner of each big
// structure (agent -> graph -> Map ...) is readable.
//   node dist/bench/memory/heap-summary.js FILE.heapsnapshot [--top N] [--min-mib X] [--sample CTOR]
// --sample CTOR: the whole dominator subtree of one CTOR object (what one endpoint or policy costs).
// The file is parsed by scanning its number arrays (a snapshot of a large heap
// is bigger than V8's maximum string, so JSON.parse of the whole is not an option).
import { readFileSync } from 'node:fs';
import { arg } from '../harness.js';

const file = process.argv[2];
if (!file) throw new Error('usage: heap-summary FILE.heapsnapshot [--top N] [--min-mib X]');
const TOP = Number(arg('top', '30'));
const MIN = Number(arg('min-mib', '1')) * 2 ** 20;

const buf = readFileSync(file);
const at = (needle: string, from = 0) => {
  const i = buf.indexOf(needle, from);
  if (i < 0) throw new Error(`${file}: no ${needle} section; is it a V8 heap snapshot?`);
  return i + needle.length;
};
const nodesAt = at('"nodes":[');
const head = JSON.parse(buf.subarray(0, nodesAt - '"nodes":['.length).toString().replace(/,\s*$/, '') + '}') as {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] }; node_count: number; edge_count: number };
};
const meta = head.snapshot.meta;

/** Reads the comma-separated unsigned integers of a JSON array starting at `start`. */
function numbers(start: number, count: number): Float64Array {
  const out = new Float64Array(count);
  let n = 0;
  let v = 0;
  let inNum = false;
  for (let i = start; n < count; i++) {
    const c = buf[i]!;
    if (c >= 48 && c <= 57) {
      v = v * 10 + (c - 48);
      inNum = true;
    } else if (inNum) {
      out[n++] = v;
      v = 0;
      inNum = false;
      if (c === 93) break; // ]
    } else if (c === 93) break;
  }
  if (n !== count) throw new Error(`${file}: expected ${count} numbers, read ${n}`);
  return out;
}
const NF = meta.node_fields.length;
const EF = meta.edge_fields.length;
const nodes = numbers(nodesAt, head.snapshot.node_count * NF);
const edges = numbers(at('"edges":[', nodesAt), head.snapshot.edge_count * EF);
const strings = JSON.parse('[' + buf.subarray(at('"strings":['), buf.lastIndexOf(']')).toString() + ']') as string[];

const N = head.snapshot.node_count;
const nType = meta.node_fields.indexOf('type');
const nName = meta.node_fields.indexOf('name');
const nSelf = meta.node_fields.indexOf('self_size');
const nEdges = meta.node_fields.indexOf('edge_count');
const eType = meta.edge_fields.indexOf('type');
const eName = meta.edge_fields.indexOf('name_or_index');
const eTo = meta.edge_fields.indexOf('to_node');
const nodeTypes = meta.node_types[0];
const edgeTypes = meta.edge_types[0];
const WEAK = edgeTypes.indexOf('weak');
const SHORTCUT = edgeTypes.indexOf('shortcut');

const firstEdge = new Uint32Array(N + 1);
for (let i = 0, e = 0; i < N; i++) {
  firstEdge[i] = e;
  e += nodes[i * NF + nEdges]!;
  firstEdge[i + 1] = e;
}
const followed = (e: number) => edges[e * EF + eType] !== WEAK && edges[e * EF + eType] !== SHORTCUT;
const target = (e: number) => edges[e * EF + eTo]! / NF;

// Post-order from the root (node 0), iteratively.
const post = new Int32Array(N).fill(-1);
const order: number[] = [];
{
  const stack = [0];
  const next = new Uint32Array(N);
  const seen = new Uint8Array(N);
  seen[0] = 1;
  for (let i = 0; i < N; i++) next[i] = firstEdge[i]!;
  while (stack.length) {
    const v = stack[stack.length - 1]!;
    if (next[v]! < firstEdge[v + 1]!) {
      const e = next[v]!++;
      if (!followed(e)) continue;
      const w = target(e);
      if (!seen[w]) {
        seen[w] = 1;
        stack.push(w);
      }
    } else {
      stack.pop();
      post[v] = order.length;
      order.push(v);
    }
  }
}
// Predecessors (reachable ones only), as CSR.
const predCount = new Uint32Array(N + 1);
for (let v = 0; v < N; v++) if (post[v]! >= 0) for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e++) if (followed(e)) predCount[target(e) + 1]!++;
for (let i = 0; i < N; i++) predCount[i + 1]! += predCount[i]!;
const preds = new Uint32Array(predCount[N]!);
{
  const fill = predCount.slice(0, N);
  for (let v = 0; v < N; v++) if (post[v]! >= 0) for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e++) if (followed(e)) preds[fill[target(e)]!++] = v;
}
// Cooper, Harvey & Kennedy: iterate immediate dominators in reverse post-order.
const idom = new Int32Array(N).fill(-1);
idom[0] = 0;
for (let changed = true; changed; ) {
  changed = false;
  for (let k = order.length - 2; k >= 0; k--) {
    const v = order[k]!;
    let d = -1;
    for (let p = predCount[v]!; p < predCount[v + 1]!; p++) {
      let u = preds[p]!;
      if (idom[u] === -1) continue;
      if (d === -1) {
        d = u;
        continue;
      }
      while (u !== d) {
        while (post[u]! < post[d]!) u = idom[u]!;
        while (post[d]! < post[u]!) d = idom[d]!;
      }
    }
    if (d !== idom[v]) {
      idom[v] = d;
      changed = true;
    }
  }
}
const retained = new Float64Array(N);
for (const v of order) retained[v]! += nodes[v * NF + nSelf]!;
for (const v of order) if (v !== 0 && idom[v]! >= 0) retained[idom[v]!]! += retained[v]!;

const label = (v: number) => {
  const t = nodeTypes[nodes[v * NF + nType]!]!;
  const name = strings[nodes[v * NF + nName]!]!;
  if (t === 'object' || t === 'closure' || t === 'native' || t === 'synthetic' || t === 'hidden') return `${name.slice(0, 60)}${t === 'object' ? '' : ` (${t})`}`;
  return `(${t})${t === 'string' || t.endsWith('string') ? ` ${JSON.stringify(name.slice(0, 40))}` : ''}`;
};
const mib = (b: number) => (b / 2 ** 20).toFixed(1).padStart(7);

// Self size by constructor.
const byCtor = new Map<string, { count: number; self: number }>();
let total = 0;
for (const v of order) {
  const t = nodeTypes[nodes[v * NF + nType]!]!;
  const key = t === 'object' || t === 'closure' || t === 'native' ? strings[nodes[v * NF + nName]!]!.slice(0, 60) : `(${t})`;
  const s = nodes[v * NF + nSelf]!;
  total += s;
  const r = byCtor.get(key) ?? { count: 0, self: 0 };
  r.count++;
  r.self += s;
  byCtor.set(key, r);
}
console.log(`heap snapshot ${file}: ${N} nodes, ${mib(total).trim()} MiB reachable`);
console.log(`\nself size by constructor (top ${TOP}):`);
console.log('      MiB     count  constructor');
for (const [k, r] of [...byCtor].sort((a, b) => b[1].self - a[1].self).slice(0, TOP)) console.log(`  ${mib(r.self)}  ${String(r.count).padStart(8)}  ${k}`);

// Dominator tree, edges named by how the dominator reaches each child when it does directly.
const children = new Map<number, number[]>();
for (const v of order) if (v !== 0 && idom[v]! >= 0 && retained[v]! >= MIN) (children.get(idom[v]!) ?? children.set(idom[v]!, []).get(idom[v]!)!).push(v);
const edgeName = (from: number, to: number) => {
  for (let e = firstEdge[from]!; e < firstEdge[from + 1]!; e++)
    if (target(e) === to) {
      const t = edgeTypes[edges[e * EF + eType]!];
      const n = edges[e * EF + eName]!;
      return t === 'element' || t === 'hidden' ? `[${n}]` : strings[n]!;
    }
  return '…';
};
console.log(`\ndominator tree (retained MiB; subtrees >= ${mib(MIN).trim()} MiB):`);
const walk = (v: number, depth: number) => {
  const kids = (children.get(v) ?? []).sort((a, b) => retained[b]! - retained[a]!);
  for (const c of kids) {
    console.log(`  ${mib(retained[c]!)}  ${'  '.repeat(depth)}${edgeName(v, c)}: ${label(c)}`);
    if (depth < 14) walk(c, depth + 1);
  }
};
walk(0, 0);

const sample = arg('sample', '');
if (sample) {
  const [ctor, ...path] = sample.split('.');
  const found = order.find((n) => strings[nodes[n * NF + nName]!] === ctor && nodeTypes[nodes[n * NF + nType]!] === 'object');
  if (found === undefined) throw new Error(`no ${ctor} object in ${file}`);
  let v: number = found;
  const all = new Map<number, number[]>();
  for (const w of order) if (w !== 0 && idom[w]! >= 0) (all.get(idom[w]!) ?? all.set(idom[w]!, []).get(idom[w]!)!).push(w);
  // Property steps; a Map or Set step goes on to its median entry (by retained size).
  for (const prop of path) {
    const from = v;
    const next = (all.get(from) ?? []).find((c) => edgeName(from, c) === prop);
    if (next === undefined) throw new Error(`${sample}: no ${prop} dominated by ${label(v)}`);
    v = next;
    const table = (all.get(next) ?? []).find((c) => edgeName(next, c) === 'table');
    if (table !== undefined) {
      const entries: number[] = (all.get(table) ?? []).sort((a, b) => retained[b]! - retained[a]!);
      console.log(`\n${sample}: ${entries.length} entries own ${mib(retained[v]!).trim()} MiB; the median one:`);
      v = entries[entries.length >> 1]!;
    }
  }
  console.log(`\none ${sample} (retained bytes, self bytes):`);
  const show = (n: number, depth: number) => {
    console.log(`  ${String(retained[n]).padStart(7)} ${String(nodes[n * NF + nSelf]).padStart(6)}  ${'  '.repeat(depth)}${label(n)}`);
    for (const c of (all.get(n) ?? []).sort((a, b) => retained[b]! - retained[a]!)) {
      process.stdout.write(`  ${' '.repeat(16)}${'  '.repeat(depth + 1)}.${edgeName(n, c)}\n`);
      show(c, depth + 1);
    }
  };
  show(v, 0);
}

// --owners: self size by (top-level owner, constructor): where each kind of object lives.
if (process.argv.includes('--owners')) {
  const owner = new Array<string>(N);
  owner[0] = '';
  // idom[v] precedes v in reverse post-order, so owners are known before their children.
  for (let k = order.length - 2; k >= 0; k--) {
    const v = order[k]!;
    const d = idom[v]!;
    if (d < 0) continue;
    const up = owner[d] ?? '';
    const depth = up ? up.split(' > ').length : 0;
    owner[v] = depth >= 2 ? up : up ? `${up} > ${edgeName(d, v)}` : label(v);
  }
  const rows = new Map<string, number>();
  for (const v of order) {
    const t = nodeTypes[nodes[v * NF + nType]!]!;
    const key = `${owner[v] ?? '?'} | ${t === 'object' ? strings[nodes[v * NF + nName]!]!.slice(0, 30) : `(${t})`}`;
    rows.set(key, (rows.get(key) ?? 0) + nodes[v * NF + nSelf]!);
  }
  console.log('\nself size by owner | constructor:');
  for (const [k, b] of [...rows].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`  ${mib(b)}  ${k}`);
}
