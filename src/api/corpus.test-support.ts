// Shared by the document corpora (invalid-corpus*.test.ts, good-corpus*.test.ts):
// builders for small documents and the two checks every corpus entry gets.
//   invalid: validateResource names the exact field path and says what is wrong,
//            the input is not mutated, and `calicoctl apply` of the document
//            (the real write path, over an in-memory etcd) writes no key at all;
//   good:    the document validates, `calicoctl apply` stores it, `calicoctl get
//            -o yaml` prints it back, and that output validates to the same
//            resource and re-applies (a fixed point).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCalicoError, ValidationError } from '../base/errors.js';
import { FakeIO } from '../cli/fake-io.js';
import { parseDocuments, validateResource } from './index.js';
import { KIND_INFO, isResourceKind } from './kinds.js';
import type { Resource } from './resource.js';

export interface Bad {
  name: string;
  doc: unknown;
  /** The exact path of the issue that must be reported. */
  path: string;
  /** A fragment the message at that path must contain. */
  message: string;
}

export const V3 = 'projectcalico.org/v3';

export const mk = (kind: string, spec: unknown, metadata: Record<string, unknown> = {}): unknown => ({
  apiVersion: V3,
  kind,
  metadata: { name: 'x', ...(isResourceKind(kind) && KIND_INFO[kind].namespaced ? { namespace: 'ns' } : {}), ...metadata },
  spec,
});
export const np = (rule: unknown, dir: 'ingress' | 'egress' = 'ingress'): unknown => mk('NetworkPolicy', { [dir]: [rule] });
export const gnp = (spec: unknown, metadata: Record<string, unknown> = {}): unknown => mk('GlobalNetworkPolicy', spec, metadata);
export const pool = (spec: unknown): unknown => mk('IPPool', spec);
export const peer = (spec: unknown): unknown => mk('BGPPeer', spec);
export const felix = (spec: unknown): unknown => mk('FelixConfiguration', spec, { name: 'default' });
export const wep = (spec: Record<string, unknown>, name = 'n1-k8s-pod-eth0'): unknown =>
  mk('WorkloadEndpoint', { node: 'n1', orchestrator: 'k8s', pod: 'pod', endpoint: 'eth0', interfaceName: 'cali1', ...spec }, { name });

/** A FakeIO whose datastore validates like calicoctl's (NodeIO) does. */
export function corpusIO(files: Record<string, string> = {}): FakeIO {
  return new FakeIO({ files, validate: (r) => validateResource(r) });
}

/** Every key in the fake etcd: resources and IPAM keys alike. */
export async function allKeys(io: FakeIO): Promise<string[]> {
  return (await io.datastoreImpl.kv.list('')).pairs.map((p) => p.key);
}

/** Registers one test per invalid document. */
export function invalidCorpus(title: string, cases: Bad[]): void {
  for (const c of cases) {
    test(`${title}: ${c.name}`, async () => {
      const before = JSON.stringify(c.doc);
      let caught: unknown;
      try {
        validateResource(c.doc, { source: 'corpus.yaml', index: 0 });
      } catch (err) {
        caught = err;
      }
      assert.ok(caught instanceof ValidationError, `expected a ValidationError, got ${String(caught)}`);
      assert.ok(isCalicoError(caught, 'validation'));
      const hit = caught.issues.find((i) => i.path === c.path);
      assert.ok(hit, `no issue at ${c.path}; issues: ${JSON.stringify(caught.issues)}`);
      assert.ok(hit.message.includes(c.message), `message at ${c.path} was: ${hit.message}`);
      assert.ok(caught.message.startsWith('corpus.yaml (document 1)'), caught.message);
      assert.equal(JSON.stringify(c.doc), before, 'input was mutated');

      // The write path: apply refuses and nothing at all lands in the store.
      const io = corpusIO({ 'bad.json': JSON.stringify(c.doc) });
      const r = await io.run('apply -f bad.json');
      assert.equal(r.code, 1, `apply accepted it: ${r.stdout}`);
      // (The CLI words a few envelope problems itself; it still names the field.)
      assert.ok(r.stderr.includes(c.message) || (c.path !== '' && r.stderr.includes(`${c.path}:`)), `apply's error names neither "${c.message}" nor ${c.path}: ${r.stderr}`);
      assert.deepEqual(await allKeys(io), [], 'an invalid document was written');
    });
  }
}

export interface Good {
  name: string;
  yaml: string;
  /** Checks on the stored resource (defaults, normalization). */
  check?: (stored: Resource) => void;
  /** Documents applied first (e.g. the Tier a policy lives in). */
  needs?: string;
}

/** Strips what the datastore owns so stored and re-validated forms compare. */
function withoutServerFields(r: Resource): Resource {
  const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, ...metadata } = r.metadata;
  return { ...r, metadata };
}

/** Registers one test per valid document: validate, apply, get -o yaml, re-validate, re-apply. */
export function goodCorpus(title: string, cases: Good[]): void {
  for (const c of cases) {
    test(`${title}: ${c.name}`, async () => {
      const docs = parseDocuments(c.yaml, 'good.yaml');
      assert.equal(docs.length, 1, 'one document per case');
      const valid = validateResource(docs[0]!.value, docs[0]!);
      const io = corpusIO({ 'good.yaml': c.yaml, 'needs.yaml': c.needs ?? '' });
      let r: { code: number; stdout: string; stderr: string };
      if (c.needs) {
        r = await io.run('apply -f needs.yaml');
        assert.equal(r.code, 0, r.stderr);
      }
      r = await io.run('apply -f good.yaml');
      assert.equal(r.code, 0, r.stderr);
      const key = { kind: valid.kind, name: valid.metadata.name, ...(valid.metadata.namespace ? { namespace: valid.metadata.namespace } : {}) };
      const stored = await io.datastore.get(key);
      assert.deepEqual(withoutServerFields(stored), valid, 'stored form differs from the validated form');
      c.check?.(stored);

      const ns = valid.metadata.namespace ? ` -n ${valid.metadata.namespace}` : '';
      r = await io.run(`get ${KIND_INFO[valid.kind].plural} ${valid.metadata.name}${ns} -o yaml`);
      assert.equal(r.code, 0, r.stderr);
      const printed = parseDocuments(r.stdout, 'get.yaml');
      assert.equal(printed.length, 1, r.stdout);
      const again = validateResource(printed[0]!.value, printed[0]!);
      assert.deepEqual(withoutServerFields(again), valid, 'get -o yaml does not validate back to the same resource');

      io.files.set('again.yaml', r.stdout);
      r = await io.run('apply -f again.yaml');
      assert.equal(r.code, 0, `the printed form does not re-apply: ${r.stderr}`);
      assert.deepEqual(withoutServerFields(await io.datastore.get(key)), valid);
    });
  }
}
