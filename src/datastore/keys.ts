// Where resources live in etcd, as Calico lays them out (so existing tooling and
// etcdctl users find them): /calico/resources/v3/projectcalico.org/<plural>/[<namespace>/]<name>.
// The mapping is one-to-one: parseResourceKey(resourceKeyPath(k)) deep-equals k.
import { KIND_INFO, RESOURCE_KINDS, type ResourceKind } from '../api/kinds.js';
import type { ResourceKey } from '../api/resource.js';
import { ValidationError, type FieldIssue } from '../base/errors.js';

export const RESOURCES_PREFIX = '/calico/resources/v3/projectcalico.org/';

const kindByPlural = new Map<string, ResourceKind>(RESOURCE_KINDS.map((k) => [KIND_INFO[k].plural, k]));

/** Problems that make a key unstorable: names and namespaces are single path segments. */
export function keyIssues(key: ResourceKey): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const segment = (value: string | undefined, path: string): void => {
    if (!value) issues.push({ path, message: 'must be set' });
    else if (value.includes('/')) issues.push({ path, message: `must not contain '/' (got '${value}')` });
    else if (value === '.' || value === '..') issues.push({ path, message: `must not be '${value}'` });
  };
  segment(key.name, 'metadata.name');
  if (KIND_INFO[key.kind].namespaced) segment(key.namespace, 'metadata.namespace');
  else if (key.namespace) issues.push({ path: 'metadata.namespace', message: `${key.kind} is not namespaced; remove the namespace` });
  return issues;
}

/** The etcd key of a resource. Throws ValidationError when name/namespace cannot form a key. */
export function resourceKeyPath(key: ResourceKey): string {
  const issues = keyIssues(key);
  if (issues.length) throw new ValidationError(issues, key.namespace ? `${key.kind}(${key.namespace}/${key.name})` : `${key.kind}(${key.name})`);
  const plural = KIND_INFO[key.kind].plural;
  return KIND_INFO[key.kind].namespaced ? `${RESOURCES_PREFIX}${plural}/${key.namespace}/${key.name}` : `${RESOURCES_PREFIX}${plural}/${key.name}`;
}

/**
 * Prefix covering a kind, optionally one namespace of it, optionally names
 * starting with `namePrefix` (only within one namespace, or for global kinds:
 * otherwise the namespace segment comes first and the caller filters names).
 */
export function kindPrefix(kind: ResourceKind, opts: { namespace?: string; namePrefix?: string } = {}): string {
  const info = KIND_INFO[kind];
  const base = `${RESOURCES_PREFIX}${info.plural}/`;
  if (!info.namespaced) return base + (opts.namePrefix ?? '');
  if (opts.namespace === undefined) return base;
  return `${base}${opts.namespace}/${opts.namePrefix ?? ''}`;
}

/** The resource a key names, or undefined if the key is not a v3 resource key this project knows. */
export function parseResourceKey(path: string): ResourceKey | undefined {
  if (!path.startsWith(RESOURCES_PREFIX)) return undefined;
  const parts = path.slice(RESOURCES_PREFIX.length).split('/');
  const kind = kindByPlural.get(parts[0] ?? '');
  if (!kind) return undefined;
  if (KIND_INFO[kind].namespaced) {
    if (parts.length !== 3 || !parts[1] || !parts[2]) return undefined;
    return { kind, namespace: parts[1], name: parts[2] };
  }
  if (parts.length !== 2 || !parts[1]) return undefined;
  return { kind, name: parts[1] };
}
