// The good-document corpus: valid documents of every kind, in the shapes of
// Calico's documentation examples, each validated, applied, printed with
// `calicoctl get -o yaml` and re-applied (see corpus.test-support.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goodCorpus, type Good } from './corpus.test-support.js';
import { CONFIG_DOCUMENTS } from './good-documents-config.test-support.js';
import { NETWORK_DOCUMENTS } from './good-documents-network.test-support.js';
import { POLICY_DOCUMENTS } from './good-documents-policy.test-support.js';
import { KIND_INFO, RESOURCE_KINDS } from './kinds.js';

const ALL: Good[] = [...POLICY_DOCUMENTS, ...NETWORK_DOCUMENTS, ...CONFIG_DOCUMENTS];

goodCorpus('good policy', POLICY_DOCUMENTS);
goodCorpus('good network', NETWORK_DOCUMENTS);
goodCorpus('good config', CONFIG_DOCUMENTS);

test('the good corpus has documents of every writable kind', () => {
  const seen = new Set(ALL.map((c) => /^kind: (\w+)$/m.exec(c.yaml)?.[1]));
  for (const k of RESOURCE_KINDS) {
    if (KIND_INFO[k].readOnly) continue; // BlockAffinity: see ipam-resources.test.ts
    assert.ok(seen.has(k), `no good document of ${k}`);
  }
});
