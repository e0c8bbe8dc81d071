// The field-support table against the schemas, the tests it names, validation
// and docs/fields.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESOURCE_KINDS } from '../kinds.js';
import { fieldWarnings, specSchema, validateResource } from '../index.js';
import type { SchemaSections } from '../schema-fields.js';
import { collectFields } from '../schema-fields.js';
import { FIELD_SUPPORT } from './index.js';
import { renderFieldTable } from './table.js';

const root = new URL('../../../../', import.meta.url).pathname;

function allSections(): SchemaSections {
  const out: SchemaSections = { sections: new Map() };
  for (const kind of RESOURCE_KINDS) collectFields(kind, specSchema(kind), 'spec', out);
  return out;
}

test('every field of every kind has exactly one entry, and every entry is a field', () => {
  const sections = allSections();
  const missing: string[] = [];
  for (const [section, fields] of sections.sections) {
    for (const f of fields) if (!FIELD_SUPPORT[section]?.[f.path]) missing.push(`${section} ${f.path}`);
  }
  const stale: string[] = [];
  for (const [section, table] of Object.entries(FIELD_SUPPORT)) {
    const known = new Set((sections.sections.get(section) ?? []).map((f) => f.path));
    for (const path of Object.keys(table)) if (!known.has(path)) stale.push(`${section} ${path}`);
  }
  assert.deepEqual(missing, [], 'fields without a support entry: add them to src/api/field-support/');
  assert.deepEqual(stale, [], 'support entries for fields the schemas do not have');
});

test('every honoured field names a test that exists', () => {
  const bad: string[] = [];
  for (const [section, table] of Object.entries(FIELD_SUPPORT)) {
    for (const [path, s] of Object.entries(table)) {
      if (s.status !== 'honoured') continue;
      const [file, name] = s.test.split(' :: ') as [string, string];
      const full = join(root, file);
      if (!existsSync(full)) bad.push(`${section} ${path}: no file ${file}`);
      else if (!readFileSync(full, 'utf8').includes(name)) bad.push(`${section} ${path}: ${file} has no test "${name}"`);
    }
  }
  assert.deepEqual(bad, []);
});

/** A minimal valid document for a section, and where in it the section's fields live. */
const BASES: Record<string, { kind: string; spec: Record<string, unknown>; at: string; name?: string }> = {
  GlobalNetworkPolicy: { kind: 'GlobalNetworkPolicy', spec: {}, at: '' },
  Rule: { kind: 'GlobalNetworkPolicy', spec: { ingress: [{ action: 'Allow', protocol: 'TCP' }] }, at: 'ingress[0]' },
  EntityRule: { kind: 'GlobalNetworkPolicy', spec: { ingress: [{ action: 'Allow', source: {} }] }, at: 'ingress[0].source' },
  IPPool: { kind: 'IPPool', spec: { cidr: '198.18.0.0/24' }, at: '' },
  BGPPeer: { kind: 'BGPPeer', spec: { peerIP: '192.0.2.1', asNumber: 64512 }, at: '' },
  BGPConfiguration: { kind: 'BGPConfiguration', spec: {}, at: '' },
  BGPFilter: { kind: 'BGPFilter', spec: { importV4: [{ action: 'Accept' }] }, at: '' },
  FelixConfiguration: { kind: 'FelixConfiguration', spec: {}, at: '' },
  KubeControllersConfiguration: { kind: 'KubeControllersConfiguration', spec: {}, at: '' },
  IPAMConfiguration: { kind: 'IPAMConfiguration', spec: {}, at: '' },
};

function setAt(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.replace(/\[\]/g, '.0').replace(/\[(\d+)\]/g, '.$1').split('.').filter(Boolean);
  let at: Record<string, unknown> = obj;
  keys.forEach((k, i) => {
    if (i === keys.length - 1) at[k] = value;
    else {
      if (at[k] === undefined) at[k] = /^\d+$/.test(keys[i + 1]!) ? [] : {};
      at = at[k] as Record<string, unknown>;
    }
  });
}

test('every refused value is refused by validation, at its field, and an allowed value is accepted', () => {
  for (const [section, table] of Object.entries(FIELD_SUPPORT)) {
    for (const [path, s] of Object.entries(table)) {
      if (s.status !== 'refused') continue;
      const base = BASES[section];
      assert.ok(base, `no base document for section ${section}: add one to BASES`);
      const fieldPath = [base.at, path.replace(/^spec\./, '')].filter(Boolean).join('.');
      const doc = { apiVersion: 'projectcalico.org/v3', kind: base.kind, metadata: { name: 'default' }, spec: structuredClone(base.spec) };
      setAt(doc.spec, fieldPath, s.example);
      // Required companions of nested examples (a path item needs its sibling fields to be valid otherwise).
      let issues: Array<{ path: string; message: string }> = [];
      try {
        validateResource(doc);
      } catch (err) {
        issues = (err as { issues: typeof issues }).issues;
      }
      const want = `spec.${fieldPath}`.replace(/\[\]/g, '[0]');
      const prefix = want.replace(/\[0\]$/, '');
      assert.ok(
        issues.some((i) => want.startsWith(i.path) || i.path.startsWith(prefix)),
        `${section} ${path}: ${JSON.stringify(s.example)} was not refused at ${want}; issues: ${JSON.stringify(issues)}`,
      );
      if (s.allowed.length > 0 && !path.includes('[]')) {
        const ok = { ...doc, spec: structuredClone(base.spec) };
        setAt(ok.spec, fieldPath, s.allowed[0]);
        assert.doesNotThrow(() => validateResource(ok), `${section} ${path}: allowed value ${JSON.stringify(s.allowed[0])} was refused`);
      }
    }
  }
});

test('warned fields produce a warning naming the field, quiet at the value calico-ts uses anyway', () => {
  const felix = validateResource({ apiVersion: 'projectcalico.org/v3', kind: 'FelixConfiguration', metadata: { name: 'default' }, spec: { bpfEnabled: true, ipv6Support: true, logSeverityScreen: 'Debug' } });
  const warnings = fieldWarnings(felix);
  assert.deepEqual(warnings.map((w) => w.path), ['spec.bpfEnabled'], 'ipv6Support: true is what we do; logSeverityScreen is honoured');
  assert.match(warnings[0]!.message, /eBPF/);
  const wep = validateResource({
    apiVersion: 'projectcalico.org/v3',
    kind: 'WorkloadEndpoint',
    metadata: { name: 'n1-k8s-pod-eth0', namespace: 'default' },
    spec: { node: 'n1', orchestrator: 'k8s', pod: 'pod', endpoint: 'eth0', interfaceName: 'cali1', ipNetworks: ['198.18.0.5/32'], qosControls: { ingressBandwidth: 1000000 } },
  });
  assert.deepEqual(fieldWarnings(wep).map((w) => w.path), ['spec.qosControls.ingressBandwidth']);
});

test('docs/fields.md is the rendered table', () => {
  const text = renderFieldTable(allSections(), FIELD_SUPPORT);
  const path = join(root, 'docs/fields.md');
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(path, text);
  assert.ok(existsSync(path), 'docs/fields.md is missing; run with UPDATE_GOLDEN=1');
  assert.equal(readFileSync(path, 'utf8'), text, 'docs/fields.md is stale; run with UPDATE_GOLDEN=1');
});
