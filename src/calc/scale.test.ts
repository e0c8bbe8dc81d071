// Scale: 100k endpoints cluster-wide, 1k policies, a few dozen local endpoints.
// Asserts work counters, not time: each update must touch only what could be
// affected (selector evaluations, items scanned, policy evaluations).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CalcGraph } from './graph.js';
import type { CalcStats } from './graph.js';
import { gnp, np, nsProfile, wep } from './fixtures.test-support.js';
import type { Resource } from '../api/resource.js';

const ENDPOINTS = 100_000;
const POLICIES = 1_000;
const LOCAL = 50;
const NAMESPACES = 50;
const APPS = 200;

function endpoint(i: number, labels?: Record<string, string>): Resource {
  return wep({
    name: `w${i}`,
    namespace: `ns${i % NAMESPACES}`,
    node: i < LOCAL ? 'node-a' : `node-${i % 500}`,
    ips: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`],
    labels: labels ?? { app: `app${i % APPS}`, role: `role${i % 7}` },
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
  });
}

function policy(j: number, extra = ''): Resource {
  const ns = `ns${j % NAMESPACES}`;
  const spec = {
    selector: `app == 'app${j % APPS}'`,
    order: j % 10,
    ingress: [
      { action: 'Allow', protocol: 'TCP', source: { selector: `app == 'app${(j * 7) % APPS}'${extra}` }, destination: { ports: [80, 'http'] } },
      { action: 'Deny', source: { namespaceSelector: `kubernetes.io/metadata.name == 'ns${j % NAMESPACES}'` } },
    ],
    egress: [{ action: 'Allow', destination: { selector: `role == 'role${j % 7}' && app == 'app${(j * 3) % APPS}'` } }],
  };
  return j % 2 ? gnp(`g${j}`, spec) : np(ns, `p${j}`, spec);
}

function delta(before: CalcStats, after: CalcStats): CalcStats {
  return {
    selectorEvaluations: after.selectorEvaluations - before.selectorEvaluations,
    itemsScanned: after.itemsScanned - before.itemsScanned,
    policyEvaluations: after.policyEvaluations - before.policyEvaluations,
    endpointRecomputations: after.endpointRecomputations - before.endpointRecomputations,
    updatesIn: after.updatesIn - before.updatesIn,
  };
}

test('100k endpoints, 1k policies: each update touches only what it can affect', () => {
  const g = new CalcGraph({ nodeName: 'node-a' });
  const profiles = Array.from({ length: NAMESPACES }, (_, n) => nsProfile(`ns${n}`, { 'kubernetes.io/metadata.name': `ns${n}` }));
  g.onEvents(profiles.map((resource) => ({ type: 'added', resource })));
  for (let i = 0; i < ENDPOINTS; i += 5000) {
    g.onEvents(Array.from({ length: 5000 }, (_, k) => ({ type: 'added' as const, resource: endpoint(i + k) })));
  }
  g.onEvents(Array.from({ length: POLICIES }, (_, j) => ({ type: 'added' as const, resource: policy(j) })));
  g.onInSync();
  g.flush();
  const counts = g.counts();
  assert.equal(counts.endpoints, ENDPOINTS);
  assert.equal(counts.localEndpoints, LOCAL);
  assert.ok(counts.activePolicies > 0 && counts.activePolicies < POLICIES, `active policies: ${counts.activePolicies}`);
  const snap = g.snapshot();
  assert.equal(snap.workloadEndpoints.size, LOCAL);
  // Local endpoint w0 (app0, ns0) is selected by the GNPs and ns0's NPs with app0.
  const w0 = snap.workloadEndpoints.get('ns0/w0')!;
  assert.ok(w0.policies.ingress.length === 1 && w0.policies.ingress[0]!.policies.length > 0);

  // 1. A remote endpoint's labels change (into the source set of g1's first rule):
  //    only sets hinted by its old/new labels are evaluated.
  let before = { ...g.stats };
  g.onEvents([{ type: 'modified', resource: endpoint(12_345, { app: 'app7', role: 'role1' }) }]);
  const b1 = g.flush();
  let d = delta(before, g.stats);
  assert.equal(d.policyEvaluations, 0, 'a remote endpoint never re-evaluates policy selectors');
  assert.equal(d.itemsScanned, 0);
  assert.ok(d.selectorEvaluations > 0 && d.selectorEvaluations < 60, `selector evaluations: ${d.selectorEvaluations}`);
  assert.ok(b1.every((u) => u.type === 'ipSetDelta'), 'only set deltas');
  assert.ok(b1.length > 0);

  // 2. A remote endpoint's address changes without a label change: no selector work at all.
  before = { ...g.stats };
  g.onEvents([{ type: 'modified', resource: { ...endpoint(12_346), spec: { ...endpoint(12_346).spec, ipNetworks: ['10.200.0.1/32'] } } }]);
  g.flush();
  d = delta(before, g.stats);
  assert.equal(d.selectorEvaluations, 0);

  // 3. A policy's rules change but not its selector: no policy evaluations; the new
  //    rule set scans only the endpoints carrying the hinted label, not all 100k.
  before = { ...g.stats };
  g.onEvents([{ type: 'modified', resource: policy(1, " && role == 'role3'") }]);
  g.flush();
  d = delta(before, g.stats);
  assert.equal(d.policyEvaluations, 0);
  assert.ok(d.itemsScanned <= ENDPOINTS / APPS + 10, `items scanned: ${d.itemsScanned}`);

  // 4. A policy's selector changes: evaluated against the local endpoints only.
  before = { ...g.stats };
  g.onEvents([{ type: 'modified', resource: gnp('g1', { selector: "app == 'app2'", ingress: [{ action: 'Allow' }] }) }]);
  g.flush();
  d = delta(before, g.stats);
  assert.equal(d.policyEvaluations, LOCAL);

  // 5. A local endpoint's labels change: only the policies its labels can match are evaluated.
  before = { ...g.stats };
  g.onEvents([{ type: 'modified', resource: endpoint(3, { app: 'app77', role: 'role0' }) }]);
  g.flush();
  d = delta(before, g.stats);
  // Candidates: the NPs of its namespace (hinted by namespace) plus the GNPs hinted by app77.
  assert.ok(d.policyEvaluations > 0 && d.policyEvaluations <= POLICIES / NAMESPACES + POLICIES / APPS, `policy evaluations: ${d.policyEvaluations}`);
  assert.equal(d.endpointRecomputations, 1);
});
