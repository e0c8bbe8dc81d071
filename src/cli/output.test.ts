import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import type { Resource } from '../api/resource.js';
import { parseOutputFormat, renderResources, renderTable, renderTables } from './output.js';

const pool = (name: string, cidr: string, extra: Record<string, unknown> = {}): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'IPPool',
  metadata: { name, resourceVersion: '7' },
  spec: { cidr, ...extra },
});
const wep = (ns: string, name: string): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'WorkloadEndpoint',
  metadata: { name, namespace: ns },
  spec: { workload: 'w1', node: 'node-1', ipNetworks: ['198.18.0.5/32', '2001:db8::5/128'], interfaceName: 'cali12345678901', profiles: ['kns.prod'] },
});

test('parseOutputFormat', () => {
  assert.deepEqual(parseOutputFormat('ps'), { type: 'ps' });
  assert.deepEqual(parseOutputFormat('yaml'), { type: 'yaml' });
  assert.deepEqual(parseOutputFormat('custom-columns=name,CIDR,Pool:.spec.cidr'), {
    type: 'custom-columns',
    columns: [{ heading: 'NAME' }, { heading: 'CIDR' }, { heading: 'Pool', path: 'spec.cidr' }],
  });
  assert.throws(() => parseOutputFormat('xml'), /unrecognized output format 'xml'/);
  assert.throws(() => parseOutputFormat('custom-columns='), /at least one column/);
});

test('renderTable pads like tabwriter (min 5, padding 3), last column unpadded', () => {
  assert.equal(renderTable(['NAME', 'CIDR'], [['a', '198.18.0.0/24']]), 'NAME   CIDR\na      198.18.0.0/24\n');
  assert.equal(renderTable(['AB', 'C'], [['x', 'y']]), 'AB   C\nx    y\n');
});

test('ps and wide tables use calicoctl columns per kind', () => {
  const pools = [pool('pool-a', '198.18.0.0/24', { natOutgoing: true, nodeSelector: 'all()' }), pool('pool-b', '2001:db8::/64')];
  const ps = renderTables(pools, { format: { type: 'ps' }, withNamespace: () => false });
  assert.equal(ps, 'NAME     CIDR            SELECTOR\npool-a   198.18.0.0/24   all()\npool-b   2001:db8::/64   \n');
  const wide = renderTables(pools, { format: { type: 'wide' }, withNamespace: () => false }).split('\n');
  assert.match(wide[0] as string, /^NAME +CIDR +NAT +IPIPMODE +VXLANMODE +DISABLED +DISABLEBGPEXPORT +SELECTOR$/);
  assert.match(wide[1] as string, /^pool-a +198\.18\.0\.0\/24 +true +Never +Never +false +false +all\(\)$/);
  assert.match(wide[2] as string, /^pool-b +2001:db8::\/64 +false +Never/);
});

test('namespaced kinds get a NAMESPACE column when asked', () => {
  const text = renderTables([wep('prod', 'w1-eth0')], { format: { type: 'ps' }, withNamespace: () => true });
  const [head, row] = text.split('\n');
  assert.match(head as string, /^NAMESPACE +WORKLOAD +NODE +NETWORKS +INTERFACE$/);
  assert.match(row as string, /^prod +w1 +node-1 +198\.18\.0\.5\/32,2001:db8::5\/128 +cali12345678901$/);
});

test('several kinds print one table each', () => {
  const text = renderTables([pool('p', '198.18.0.0/24'), wep('default', 'x')], { format: { type: 'ps' }, withNamespace: () => false });
  assert.equal(text.split('\n\n').length, 2);
});

test('custom-columns by heading and by path; unknown heading is an error', () => {
  const text = renderTables([pool('p', '198.18.0.0/24', { blockSize: 26 })], { format: parseOutputFormat('custom-columns=NAME,BLOCKSIZE,Labels:.metadata.labels'), withNamespace: () => false });
  assert.equal(text, 'NAME   BLOCKSIZE   Labels\np      26          \n');
  const labelled = { ...pool('q', 'x'), metadata: { name: 'q', labels: { a: '1', b: '2' } } };
  assert.equal(renderTables([labelled], { format: parseOutputFormat('custom-columns=L:.metadata.labels'), withNamespace: () => false }), 'L\na=1,b=2\n');
  assert.throws(() => renderTables([pool('p', 'x')], { format: parseOutputFormat('custom-columns=NOPE'), withNamespace: () => false }), /unknown column 'NOPE' for IPPool; known columns: NAMESPACE, NAME, CIDR/);
});

test('BGPPeer NODE column: node, else selector, else (global)', () => {
  const peer = (spec: Record<string, unknown>): Resource => ({ apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: { name: 'p' }, spec });
  const rows = renderTables([peer({ node: 'n1' }), peer({ nodeSelector: 'rack == "a"' }), peer({ peerIP: '192.0.2.1', asNumber: 64513 })], { format: { type: 'ps' }, withNamespace: () => false }).split('\n');
  assert.match(rows[1] as string, / n1 /);
  assert.match(rows[2] as string, /rack == "a"/);
  assert.match(rows[3] as string, /^p +192\.0\.2\.1 +\(global\) +64513$/);
});

test('BGPFilter columns count each rule list, as calicoctl (0 for an absent list)', () => {
  const filter: Resource = { apiVersion: 'projectcalico.org/v3', kind: 'BGPFilter', metadata: { name: 'edge' }, spec: { exportV4: [{ action: 'Reject' }, { action: 'Accept' }], importV6: [{ action: 'Reject' }] } };
  const text = renderTables([filter], { format: { type: 'ps' }, withNamespace: () => false });
  assert.equal(text, 'NAME   NUMEXPORTV4   NUMIMPORTV4   NUMEXPORTV6   NUMIMPORTV6\nedge   2             0             0             1\n');
});

test('yaml: one named resource alone; several as a <Kind>List with the revision', () => {
  const one = parse(renderResources([pool('a', '198.18.0.0/24')], { type: 'yaml', single: true }));
  assert.equal(one.kind, 'IPPool');
  assert.equal(one.metadata.name, 'a');
  const text = renderResources([pool('a', '198.18.0.0/24'), pool('b', '198.18.1.0/24')], { type: 'yaml', single: false, revision: '42' });
  assert.match(text, /^apiVersion: projectcalico.org\/v3\nitems:\n/, 'keys sorted, as calicoctl prints YAML');
  const many = parse(text);
  assert.equal(many.kind, 'IPPoolList');
  assert.equal(many.metadata.resourceVersion, '42');
  assert.deepEqual(many.items.map((i: Resource) => i.metadata.name), ['a', 'b']);
  const listOfOne = parse(renderResources([pool('a', 'x')], { type: 'yaml', single: false }));
  assert.equal(listOfOne.kind, 'IPPoolList', 'get <kind> without a name always prints a list');
  const empty = JSON.parse(renderResources([], { type: 'json', single: false, kind: 'IPPool', revision: '3' }));
  assert.equal(empty.kind, 'IPPoolList');
  assert.deepEqual(empty.items, []);
  assert.equal(empty.metadata.resourceVersion, '3');
  const mixed = JSON.parse(renderResources([pool('a', 'x'), wep('d', 'w')], { type: 'json', single: false }));
  assert.equal(mixed.kind, 'List');
});

test('json keeps calicoctl field order: kind, apiVersion, metadata, spec', () => {
  const r = { spec: { cidr: 'x' }, metadata: { name: 'a' }, kind: 'IPPool', apiVersion: 'projectcalico.org/v3' } as Resource;
  assert.deepEqual(Object.keys(JSON.parse(renderResources([r], { type: 'json', single: true }))), ['kind', 'apiVersion', 'metadata', 'spec']);
});
