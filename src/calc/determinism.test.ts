// No hysteresis: the graph's output for a state must not depend on the path that
// led there. Random states are visited forwards, backwards and shuffled, with
// each transition delivered as shuffled events split into random batches; at
// every visit the folded output must equal a fresh graph loaded with that state
// in one batch (squashed), and the graph's own snapshot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../api/resource.js';
import type { WatchEvent } from '../datastore/datastore.js';
import { CalcGraph } from './graph.js';
import { canonicalState, fold, gnp, load, np, res, wep } from './fixtures.test-support.js';
import { seededRandom } from '../base/prng.js';
import type { CalcUpdate } from './output.js';

/** A seeded generator so a failure reproduces. */
const rng = seededRandom;

type State = Map<string, Resource>;
const keyOf = (r: Resource) => `${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`;

function randomState(rand: () => number): State {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const maybe = (p: number) => rand() < p;
  const apps = ['web', 'db', 'api', 'cache'];
  const selectors = ["app == 'web'", "app == 'db'", 'has(app)', "app in {'api','cache'}", 'all()', "!has(app)", "app != 'db'", "tier == 'fe' || app == 'db'"];
  const nsSelectors = ["team == 'red'", 'all()', "team != 'red'"];
  const out: Resource[] = [];
  for (const ns of ['a', 'b']) {
    if (maybe(0.8)) out.push(res('Profile', `kns.${ns}`, { labelsToApply: maybe(0.5) ? { 'pcns.team': pick(['red', 'blue']) } : {}, ingress: [{ action: pick(['Allow', 'Deny']) }] }));
  }
  if (maybe(0.7)) out.push(res('Tier', 'sec', { order: pick([1, 5_000_000]), defaultAction: pick(['Deny', 'Pass']) }));
  for (let i = 0; i < 8; i++) {
    if (!maybe(0.7)) continue;
    const labels: Record<string, string> = {};
    if (maybe(0.8)) labels.app = pick(apps);
    if (maybe(0.3)) labels.tier = 'fe';
    const ports = maybe(0.5) ? [{ name: 'http', protocol: pick(['TCP', 'UDP']), port: pick([80, 8080]) }] : undefined;
    const w: Parameters<typeof wep>[0] = { name: `w${i}`, namespace: pick(['a', 'b']), node: i < 3 ? 'node-a' : pick(['node-a', 'node-b']), ips: [`10.0.0.${i + 1}`, ...(maybe(0.3) ? [`2001:db8::${i + 1}`] : [])], labels };
    if (ports) w.ports = ports;
    if (maybe(0.3)) w.profiles = ['kns.a', 'kns.b'];
    if (maybe(0.3)) w.serviceAccount = pick(['sa1', 'sa2']);
    out.push(wep(w));
  }
  if (maybe(0.6)) out.push(res('GlobalNetworkSet', 'gns', { nets: [pick(['198.51.100.0/24', '10.0.0.1/32'])] }, { labels: { app: pick(apps) } }));
  if (maybe(0.6)) out.push(res('NetworkSet', 'nset', { nets: ['203.0.113.0/24'] }, { namespace: 'a', labels: { app: pick(apps) } }));
  if (maybe(0.5)) out.push(res('HostEndpoint', 'h', { node: 'node-a', interfaceName: 'eth0', expectedIPs: ['192.0.2.1'] }, { labels: { app: pick(apps) } }));
  if (maybe(0.5)) out.push(res('IPPool', 'pool', { cidr: '10.0.0.0/16', natOutgoing: maybe(0.5) }));
  const rule = () => {
    const side: Record<string, unknown> = {};
    if (maybe(0.6)) side.selector = pick(selectors);
    if (maybe(0.3)) side.namespaceSelector = pick(nsSelectors);
    if (maybe(0.2)) side.notSelector = pick(selectors);
    if (maybe(0.4)) side.ports = [pick([80, 'http', '1000:2000'])];
    if (maybe(0.1)) side.notPorts = [pick([81, 'http'])];
    if (maybe(0.15)) side.serviceAccounts = maybe(0.5) ? { names: [pick(['sa1', 'sa2'])] } : { selector: 'all()' };
    return { action: pick(['Allow', 'Deny', 'Pass', 'Log']), protocol: pick(['TCP', 'UDP']), destination: side, source: maybe(0.3) ? { nets: ['192.0.2.0/24'] } : {} };
  };
  for (let i = 0; i < 6; i++) {
    if (!maybe(0.7)) continue;
    const spec: Record<string, unknown> = { selector: pick(selectors), ingress: [rule(), rule()], egress: maybe(0.5) ? [rule()] : [] };
    if (maybe(0.5)) spec.order = pick([1, 2, 100]);
    if (maybe(0.3)) spec.tier = 'sec';
    if (maybe(0.3)) spec.types = pick([['Ingress'], ['Egress'], ['Ingress', 'Egress']]);
    if (i % 2 && maybe(0.3)) Object.assign(spec, pick([{ doNotTrack: true, applyOnForward: true }, { preDNAT: true, applyOnForward: true }, { applyOnForward: true }]));
    out.push(i % 2 ? gnp(`${spec.tier === 'sec' ? 'sec.' : ''}g${i}`, spec) : np(pick(['a', 'b']), `n${i}`, spec));
  }
  return new Map(out.map((r) => [keyOf(r), r]));
}

function transition(from: State, to: State, rand: () => number): WatchEvent[][] {
  const events: WatchEvent[] = [];
  for (const [k, r] of to) {
    const old = from.get(k);
    if (!old) events.push({ type: 'added', resource: r });
    else if (JSON.stringify(old) !== JSON.stringify(r)) events.push({ type: 'modified', resource: r });
  }
  for (const [k, r] of from) {
    if (to.has(k)) continue;
    const key: WatchEvent & { type: 'deleted' } = { type: 'deleted', key: { kind: r.kind, name: r.metadata.name } };
    if (r.metadata.namespace !== undefined) key.key.namespace = r.metadata.namespace;
    events.push(key);
  }
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [events[i], events[j]] = [events[j]!, events[i]!];
  }
  const batches: WatchEvent[][] = [];
  while (events.length) batches.push(events.splice(0, 1 + Math.floor(rand() * 4)));
  return batches;
}

function squashed(state: State): unknown {
  const g = new CalcGraph({ nodeName: 'node-a' });
  load(g, [...state.values()]);
  return canonicalState(g.snapshot());
}

for (const seed of (process.env.SEEDS ? Array.from({ length: Number(process.env.SEEDS) }, (_, i) => i + 1) : [1, 2, 3, 4, 5, 6])) {
  test(`replaying random states forwards, backwards and shuffled gives the squashed output (seed ${seed})`, () => {
    const rand = rng(seed);
    const states = Array.from({ length: 12 }, () => randomState(rand));
    const expected = states.map(squashed);
    const order = states.map((_, i) => i);
    const shuffled = [...order].sort(() => rand() - 0.5);
    for (const [name, path] of [
      ['forwards', order],
      ['backwards', [...order].reverse()],
      ['shuffled', shuffled],
    ] as const) {
      const g = new CalcGraph({ nodeName: 'node-a' });
      const batches: CalcUpdate[][] = [];
      let current: State = new Map();
      for (const i of path) {
        for (const b of transition(current, states[i]!, rand)) {
          g.onEvents(b);
          if (rand() < 0.5) batches.push(g.flush());
        }
        batches.push(g.flush());
        current = states[i]!;
        assert.deepEqual(canonicalState(g.snapshot()), expected[i], `${name}: snapshot at state ${i}`);
        assert.deepEqual(canonicalState(fold(batches)), expected[i], `${name}: folded updates at state ${i}`);
      }
    }
  });
}
