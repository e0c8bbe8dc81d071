// The envelope every v3 resource shares. Per-kind `spec` types live in
// src/api/kinds/*.ts; this file is what the datastore and CLI need to move a
// resource around without knowing its kind.
import type { ResourceKind } from './kinds.js';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Set by the datastore: etcd mod revision as a decimal string. An update carrying it is a compare-and-swap. */
  resourceVersion?: string;
  /** Set by the datastore on create. */
  uid?: string;
  /** Set by the datastore on create (RFC 3339). */
  creationTimestamp?: string;
  generation?: number;
}

export interface Resource<Spec = Record<string, unknown>> {
  apiVersion: string;
  kind: ResourceKind;
  metadata: ObjectMeta;
  spec?: Spec;
  /** Only some kinds have status (none that users write). */
  status?: Record<string, unknown>;
}

/** How a resource is addressed: kind, name and, for namespaced kinds, namespace. */
export interface ResourceKey {
  kind: ResourceKind;
  name: string;
  namespace?: string;
}

export function keyOf(resource: Resource): ResourceKey {
  const key: ResourceKey = { kind: resource.kind, name: resource.metadata.name };
  if (resource.metadata.namespace !== undefined) key.namespace = resource.metadata.namespace;
  return key;
}

/** `Kind(namespace/name)` or `Kind(name)`: how errors and CLI output name a resource. */
export function describeKey(key: ResourceKey): string {
  return key.namespace ? `${key.kind}(${key.namespace}/${key.name})` : `${key.kind}(${key.name})`;
}
