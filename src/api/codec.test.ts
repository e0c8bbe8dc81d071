import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatJson, formatYaml, parseDocuments, validateResource } from './index.js';
import type { Resource } from './resource.js';
import { ValidationError } from '../base/errors.js';

const pool = (name: string, cidr: string): Resource =>
  validateResource({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr } });

test('multi-document YAML with empty documents and comments', () => {
  const text = `# leading comment
---
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: a}
---
---
# only a comment
---
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: b}
`;
  const docs = parseDocuments(text, 'f.yaml');
  assert.deepEqual(docs.map((d) => (d.value as { metadata: { name: string } }).metadata.name), ['a', 'b']);
  assert.equal(docs[0]!.source, 'f.yaml');
  assert.equal(docs[0]!.line, 3);
  assert.equal(docs[1]!.line, 10);
  assert.ok(docs[1]!.index > docs[0]!.index);
});

test('kind: List and kind: <Kind>List are expanded, with item lines', () => {
  const text = `apiVersion: projectcalico.org/v3
kind: IPPoolList
metadata: {resourceVersion: "12"}
items:
- apiVersion: projectcalico.org/v3
  kind: IPPool
  metadata: {name: p1}
  spec: {cidr: 198.18.0.0/16}
- apiVersion: projectcalico.org/v3
  kind: IPPool
  metadata: {name: p2}
  spec: {cidr: 2001:db8:1::/48}
---
kind: List
apiVersion: v1
items: []
`;
  const docs = parseDocuments(text, 'pools.yaml');
  assert.equal(docs.length, 2);
  assert.deepEqual(docs.map((d) => [d.index, d.item, d.line]), [[0, 0, 5], [0, 1, 9]]);
  for (const d of docs) validateResource(d.value, d);
});

test('a List item error names the item', () => {
  const docs = parseDocuments('kind: List\nitems:\n- {apiVersion: projectcalico.org/v3, kind: Tier, metadata: {name: ok}}\n- {apiVersion: projectcalico.org/v3, kind: Tier, metadata: {name: Bad}}\n', 'l.yaml');
  assert.throws(() => docs.forEach((d) => validateResource(d.value, d)), /^ValidationError: l\.yaml:4 \(document 1, item 2\): Tier\(Bad\): metadata\.name/);
});

test('JSON input: a single object, a List, and a top-level array', () => {
  const one = parseDocuments('{"apiVersion":"projectcalico.org/v3","kind":"Tier","metadata":{"name":"a"}}', 'a.json');
  assert.equal(one.length, 1);
  const list = parseDocuments(JSON.stringify({ kind: 'TierList', items: [{ kind: 'Tier' }, { kind: 'Tier' }] }), 'b.json');
  assert.equal(list.length, 2);
  const arr = parseDocuments('[{"kind":"Tier"},{"kind":"Tier"},{"kind":"Tier"}]', 'c.json');
  assert.deepEqual(arr.map((d) => d.item), [0, 1, 2]);
  assert.deepEqual(parseDocuments('', 'empty.yaml'), []);
});

test('formatYaml: one resource as itself, sorted keys, calicoctl sequence indent', () => {
  const text = formatYaml([pool('p1', '198.18.0.0/16')]);
  assert.equal(
    text,
    `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: p1
spec:
  allowedUses:
  - Workload
  - Tunnel
  assignmentMode: Automatic
  blockSize: 26
  cidr: 198.18.0.0/16
  ipipMode: Never
  natOutgoing: false
  nodeSelector: all()
  vxlanMode: Never
`,
  );
});

test('formatYaml: several resources as a <Kind>List, mixed kinds as List', () => {
  const text = formatYaml([pool('p1', '198.18.0.0/16'), pool('p2', '2001:db8:1::/48')], { resourceVersion: '42' });
  assert.match(text, /^apiVersion: projectcalico.org\/v3\nitems:\n- apiVersion/);
  assert.match(text, /\nkind: IPPoolList\nmetadata:\n  resourceVersion: "42"\n$/);
  const tier = validateResource({ apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: { name: 't' } });
  assert.match(formatYaml([pool('p1', '198.18.0.0/16'), tier]), /\nkind: List\n/);
  assert.match(formatYaml([tier], { list: true }), /\nkind: TierList\n/);
});

test('formatJson keeps calicoctl field order', () => {
  const json = formatJson([pool('p1', '198.18.0.0/16')]);
  assert.deepEqual(Object.keys(JSON.parse(json)), ['kind', 'apiVersion', 'metadata', 'spec']);
  assert.ok(json.endsWith('}\n'));
  const list = JSON.parse(formatJson([pool('p1', '198.18.0.0/16'), pool('p2', '198.19.0.0/16')]));
  assert.deepEqual(Object.keys(list), ['kind', 'apiVersion', 'metadata', 'items']);
  assert.equal(list.kind, 'IPPoolList');
});

test('YAML and JSON output parse back to the same resources', () => {
  const resources = [pool('p1', '198.18.0.0/16'), pool('p2', '2001:db8:1::/48')];
  for (const text of [formatYaml(resources), formatJson(resources), formatYaml(resources.slice(0, 1))]) {
    const back = parseDocuments(text, 'out').map((d) => validateResource(d.value, d));
    assert.deepEqual(back, resources.slice(0, back.length));
  }
});

test('quoted numbers stay strings and port ranges survive a round trip', () => {
  const np = validateResource({
    apiVersion: 'projectcalico.org/v3',
    kind: 'NetworkPolicy',
    metadata: { name: 'n', namespace: 'ns', labels: { version: '1.10' } },
    spec: { ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['8080:8090', 22] } }] },
  });
  const back = validateResource(parseDocuments(formatYaml([np]), 'x')[0]!.value);
  assert.deepEqual(back, np);
});

test('malformed JSON is reported with its line', () => {
  assert.throws(
    () => parseDocuments('{\n  "kind": "Tier",\n  "metadata": {"name": "a",}\n  oops\n}', 'bad.json'),
    (err: unknown) => err instanceof ValidationError && /^bad\.json:\d+ \(document 1\): malformed YAML/.test(err.message),
  );
});
