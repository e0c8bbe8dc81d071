// Public API of the resource model: validate a projectcalico.org/v3 document
// (envelope, metadata, kind-specific spec) and fill in Calico's defaults.
// Everything here is pure; callers (CLI, datastore write path, agents) decide
// what to do with the result.
import { ValidationError, type DocumentLocation } from '../base/errors.js';
import { API_VERSION, isResourceKind, KIND_INFO, RESOURCE_KINDS, type ResourceKind } from './kinds.js';
import { describeKey, type ObjectMeta, type Resource } from './resource.js';
import { labelKey, labelValue, annotationValue, nameProblem, namespaceProblem } from './names.js';
import { Cursor, describe, int, isPlainObject, map, newIssues, obj, str, type Check, type KindSchema } from './validate.js';
import { addressSpaceSchema, type AddressSpaceSpec } from './kinds/address-space.js';
import { bgpFilterSchema, type BGPFilterSpec } from './kinds/bgp-filter.js';
import { bgpConfigurationSchema, bgpPeerSchema, type BGPConfigurationSpec, type BGPPeerSpec } from './kinds/bgp.js';
import { clusterInformationSchema, kubeControllersConfigurationSchema, type ClusterInformationSpec, type KubeControllersConfigurationSpec } from './kinds/cluster.js';
import { hostEndpointSchema, workloadEndpointSchema, type HostEndpointSpec, type WorkloadEndpointSpec } from './kinds/endpoint.js';
import { felixConfigurationSchema, type FelixConfigurationSpec } from './kinds/felix-configuration.js';
import { ipPoolSchema, ipReservationSchema, type IPPoolSpec, type IPReservationSpec } from './kinds/ip-pool.js';
import { globalNetworkSetSchema, networkSetSchema, type GlobalNetworkSetSpec, type NetworkSetSpec } from './kinds/network-set.js';
import { nodeSchema, type NodeSpec } from './kinds/node.js';
import { blockAffinitySchema, ipamConfigurationSchema, type BlockAffinitySpec, type IPAMConfigurationSpec } from './kinds/ipam.js';
import { calicoNodeStatusSchema, type CalicoNodeStatusSpec } from './kinds/node-status.js';
import {
  stagedGlobalNetworkPolicySchema,
  stagedKubernetesNetworkPolicySchema,
  stagedNetworkPolicySchema,
  type StagedGlobalNetworkPolicySpec,
  type StagedKubernetesNetworkPolicySpec,
  type StagedNetworkPolicySpec,
} from './kinds/staged-policy.js';
import { fieldsSetIn, refusedFieldIssues, schemaSections, warnedFields, type FieldWarning } from './field-support/index.js';
import {
  globalNetworkPolicySchema,
  networkPolicySchema,
  profileSchema,
  tierSchema,
  type GlobalNetworkPolicySpec,
  type NetworkPolicySpec,
  type ProfileSpec,
  type TierSpec,
} from './kinds/policy.js';

/** Kind -> spec type. `TypedResource<'IPPool'>` is an IPPool with its spec typed. */
export interface ResourceSpecTypes {
  NetworkPolicy: NetworkPolicySpec;
  GlobalNetworkPolicy: GlobalNetworkPolicySpec;
  Tier: TierSpec;
  NetworkSet: NetworkSetSpec;
  GlobalNetworkSet: GlobalNetworkSetSpec;
  Profile: ProfileSpec;
  WorkloadEndpoint: WorkloadEndpointSpec;
  HostEndpoint: HostEndpointSpec;
  IPPool: IPPoolSpec;
  IPReservation: IPReservationSpec;
  BGPConfiguration: BGPConfigurationSpec;
  BGPPeer: BGPPeerSpec;
  BGPFilter: BGPFilterSpec;
  FelixConfiguration: FelixConfigurationSpec;
  Node: NodeSpec;
  ClusterInformation: ClusterInformationSpec;
  KubeControllersConfiguration: KubeControllersConfigurationSpec;
  StagedNetworkPolicy: StagedNetworkPolicySpec;
  StagedGlobalNetworkPolicy: StagedGlobalNetworkPolicySpec;
  StagedKubernetesNetworkPolicy: StagedKubernetesNetworkPolicySpec;
  IPAMConfiguration: IPAMConfigurationSpec;
  BlockAffinity: BlockAffinitySpec;
  CalicoNodeStatus: CalicoNodeStatusSpec;
  AddressSpace: AddressSpaceSpec;
}
export type RESOURCE_SPEC_TYPES = ResourceSpecTypes;

export type TypedResource<K extends ResourceKind> = Omit<Resource<ResourceSpecTypes[K]>, 'kind' | 'spec'> & {
  kind: K;
  spec: ResourceSpecTypes[K];
};

/** Narrows a validated resource to its kind's typed form. */
export function isKind<K extends ResourceKind>(r: Resource, kind: K): r is Resource & TypedResource<K> {
  return r.kind === kind;
}

const SCHEMAS: { [K in ResourceKind]: KindSchema<ResourceSpecTypes[K]> } = {
  NetworkPolicy: networkPolicySchema,
  GlobalNetworkPolicy: globalNetworkPolicySchema,
  Tier: tierSchema,
  NetworkSet: networkSetSchema,
  GlobalNetworkSet: globalNetworkSetSchema,
  Profile: profileSchema,
  WorkloadEndpoint: workloadEndpointSchema,
  HostEndpoint: hostEndpointSchema,
  IPPool: ipPoolSchema,
  IPReservation: ipReservationSchema,
  BGPConfiguration: bgpConfigurationSchema,
  BGPPeer: bgpPeerSchema,
  BGPFilter: bgpFilterSchema,
  FelixConfiguration: felixConfigurationSchema,
  Node: nodeSchema,
  ClusterInformation: clusterInformationSchema,
  KubeControllersConfiguration: kubeControllersConfigurationSchema,
  StagedNetworkPolicy: stagedNetworkPolicySchema,
  StagedGlobalNetworkPolicy: stagedGlobalNetworkPolicySchema,
  StagedKubernetesNetworkPolicy: stagedKubernetesNetworkPolicySchema,
  IPAMConfiguration: ipamConfigurationSchema,
  BlockAffinity: blockAffinitySchema,
  CalicoNodeStatus: calicoNodeStatusSchema,
  AddressSpace: addressSpaceSchema,
};

const ANNOTATIONS_MAX_BYTES = 256 * 1024;

const specChecks = new Map<ResourceKind, Check>();

/**
 * The spec check of a kind for a resource name. A kind whose check does not
 * depend on the name (its `spec` takes no argument) builds it once: checks
 * are closures, and validation runs for every resource written or read.
 */
export function specSchema(kind: ResourceKind, name = 'default'): Check {
  const schema = SCHEMAS[kind] as KindSchema<unknown>;
  if (schema.spec.length > 0) return schema.spec(name);
  let check = specChecks.get(kind);
  if (!check) specChecks.set(kind, (check = schema.spec(name)));
  return check;
}

/**
 * Fields set in a valid resource that calico-ts accepts but does not act on
 * (docs/fields.md "warned"); writers and agents print these.
 */
export function fieldWarnings(resource: Resource): FieldWarning[] {
  if (!isResourceKind(resource.kind)) return [];
  return warnedFields(fieldsSetIn(resource.kind, resource, schemaSections(resource.kind, specSchema(resource.kind, resource.metadata.name)), ['warned']));
}

/** Namespaced resources without one land in "default", as calicoctl does. */
export const DEFAULT_NAMESPACE = 'default';

/** `crd.projectcalico.org/v1` is Calico's internal Kubernetes storage form (different names, no defaults); we only take v3. */
const CRD_API_VERSION = 'crd.projectcalico.org/v1';

export interface ValidateContext extends DocumentLocation {}

const metadataCheck = obj<ObjectMeta>({
  name: str(),
  namespace: str(),
  labels: map(labelKey, labelValue),
  annotations: map(labelKey, annotationValue),
  resourceVersion: str(),
  uid: str(),
  creationTimestamp: (v, at) => {
    // YAML parses an unquoted timestamp into a Date; store the RFC 3339 text.
    if (v instanceof Date) return v.toISOString().replace(/\.000Z$/, 'Z');
    return str()(v, at);
  },
  generation: int({ min: 0 }),
}, {
  refine: (m, at) => {
    // Kubernetes' (and Calico's) limit on all annotations of one object together.
    const size = Object.entries(m.annotations ?? {}).reduce((n, [k, v]) => n + k.length + (typeof v === 'string' ? v.length : 0), 0);
    if (size > ANNOTATIONS_MAX_BYTES) at.field('annotations').add(`total size ${size} is too large: annotations are at most ${ANNOTATIONS_MAX_BYTES} bytes together`);
  },
});

function resourceLabel(doc: unknown): string | undefined {
  if (!isPlainObject(doc)) return undefined;
  const kind = typeof doc.kind === 'string' ? doc.kind : undefined;
  const meta = isPlainObject(doc.metadata) ? doc.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '<no name>';
  const ns = typeof meta.namespace === 'string' ? meta.namespace : undefined;
  if (!kind) return undefined;
  return ns ? `${kind}(${ns}/${name})` : `${kind}(${name})`;
}

/**
 * Checks one document and returns a NEW resource with defaults filled in (the
 * input is never mutated). Throws a ValidationError listing every problem
 * found, each with its field path and what would be valid.
 */
export function validateResource(doc: unknown, ctx: ValidateContext = {}): Resource {
  const issues = newIssues();
  const fail = (label?: string): never => {
    throw new ValidationError(issues.list, label ?? resourceLabel(doc), locationOf(ctx));
  };
  if (!isPlainObject(doc)) {
    issues.add('', `a resource must be an object with apiVersion, kind, metadata and spec; got ${describe(doc)}`);
    return fail();
  }

  for (const key of Object.keys(doc)) {
    if (!['apiVersion', 'kind', 'metadata', 'spec', 'status'].includes(key)) {
      issues.add(key, `unknown field "${key}"; valid fields here: apiVersion, kind, metadata, spec`);
    }
  }
  if (doc.apiVersion === undefined) issues.add('apiVersion', `is required: use "${API_VERSION}"`);
  else if (doc.apiVersion === CRD_API_VERSION) {
    issues.add('apiVersion', `"${CRD_API_VERSION}" is Calico's internal storage form and is not accepted: use "${API_VERSION}"`);
  } else if (doc.apiVersion !== API_VERSION) issues.add('apiVersion', `${describe(doc.apiVersion)} is not supported: use "${API_VERSION}"`);

  const kind = doc.kind;
  if (kind === undefined) {
    issues.add('kind', `is required: one of ${RESOURCE_KINDS.join(', ')}`);
    return fail();
  }
  if (typeof kind !== 'string' || !isResourceKind(kind)) {
    const hint = typeof kind === 'string' ? RESOURCE_KINDS.find((k) => k.toLowerCase() === kind.toLowerCase()) : undefined;
    issues.add('kind', `${describe(kind)} is not a known kind${hint ? ` (did you mean "${hint}"?)` : ''}: one of ${RESOURCE_KINDS.join(', ')}`);
    return fail();
  }
  const schema = SCHEMAS[kind] as KindSchema<unknown>;
  const info = KIND_INFO[kind];

  // Metadata.
  let metadata: ObjectMeta = { name: '' };
  if (doc.metadata === undefined) issues.add('metadata', 'is required (at least metadata.name)');
  else {
    metadata = metadataCheck(doc.metadata, new Cursor('metadata', issues));
    if (metadata.name === undefined && schema.nameFromSpec) {
      // Checked after the spec: the name comes from it.
    } else if (metadata.name === undefined) {
      if (!issues.list.some((i) => i.path.startsWith('metadata'))) issues.add('metadata.name', 'is required');
    } else if (typeof metadata.name === 'string') {
      const problem = nameProblem(kind, metadata.name) ?? schema.name?.(metadata.name);
      if (problem) issues.add('metadata.name', problem);
    }
    schema.metadata?.(metadata, new Cursor('metadata', issues));
    if (info.namespaced) {
      if (metadata.namespace === undefined || metadata.namespace === '') metadata = { ...metadata, namespace: DEFAULT_NAMESPACE };
      else if (typeof metadata.namespace === 'string') {
        const problem = namespaceProblem(metadata.namespace);
        if (problem) issues.add('metadata.namespace', problem);
      }
    } else if (metadata.namespace !== undefined && metadata.namespace !== '') {
      issues.add('metadata.namespace', `${kind} is not namespaced: remove metadata.namespace`);
    } else if (metadata.namespace === '') {
      const { namespace: _drop, ...rest } = metadata;
      metadata = rest as ObjectMeta;
    }
  }

  // Spec: absent means empty (calicoctl shows `spec: {}` for such resources).
  const specIn = doc.spec === undefined || doc.spec === null ? {} : doc.spec;
  const given = typeof metadata.name === 'string' ? metadata.name : '';
  const specCheck = specSchema(kind, given);
  const spec = specCheck(specIn, new Cursor('spec', issues));
  // Values the field-support table refuses (features we do not have), unless
  // the schema already said something about that field.
  if (isPlainObject(specIn)) {
    const related = (a: string, b: string) => a === b || a.startsWith(`${b}.`) || a.startsWith(`${b}[`) || b.startsWith(`${a}.`) || b.startsWith(`${a}[`);
    const refusedIssues = refusedFieldIssues(fieldsSetIn(kind, { spec: specIn }, schemaSections(kind, specCheck), ['refused']));
    for (const i of refusedIssues) if (!issues.list.some((x) => related(x.path, i.path))) issues.add(i.path, i.message);
  }
  let name = given;
  if (doc.metadata !== undefined && metadata.name === undefined && schema.nameFromSpec) {
    const computed = issues.list.length === 0 ? schema.nameFromSpec(spec) : undefined;
    if (computed !== undefined) {
      const problem = nameProblem(kind, computed);
      if (problem) issues.add('metadata.name', `computed from the spec as "${computed}": ${problem}`);
      name = computed;
      metadata = { ...metadata, name };
    } else if (!issues.list.some((i) => i.path.startsWith('metadata') || i.path.startsWith('spec'))) {
      issues.add('metadata.name', 'is required');
    }
  }

  if (doc.status !== undefined && doc.status !== null) {
    if (!schema.hasStatus) issues.add('status', `${kind} has no status: remove it`);
    else if (!isPlainObject(doc.status)) issues.add('status', `must be an object, got ${describe(doc.status)}`);
  }

  const label = describeKey({ kind, name: name || '<no name>', ...(metadata.namespace ? { namespace: metadata.namespace } : {}) });
  if (issues.list.length > 0) fail(label);

  const out: Resource = {
    apiVersion: API_VERSION,
    kind,
    metadata: cloneJSON(metadata),
    spec: cloneJSON(schema.defaults ? schema.defaults(spec, name) : spec) as Record<string, unknown>,
  };
  if (isPlainObject(doc.status) && schema.hasStatus) out.status = cloneJSON(doc.status) as Record<string, unknown>;
  return out;
}

/**
 * Fills Calico's defaults into an already valid resource (e.g. one read back
 * from the datastore that was written before a default existed). Returns a new
 * object; unknown kinds are returned as a copy.
 */
export function applyDefaults<R extends Resource>(resource: R): R {
  const copy = cloneJSON(resource);
  if (!isResourceKind(copy.kind)) return copy;
  const schema = SCHEMAS[copy.kind] as KindSchema<unknown>;
  if (schema.defaults) copy.spec = schema.defaults(copy.spec ?? {}, copy.metadata.name) as Record<string, unknown>;
  return copy;
}

// Only the location fields: callers often pass a whole ParsedDocument as the context.
function locationOf(ctx: ValidateContext): DocumentLocation | undefined {
  const loc: DocumentLocation = {};
  if (ctx.source !== undefined) loc.source = ctx.source;
  if (ctx.index !== undefined) loc.index = ctx.index;
  if (ctx.item !== undefined) loc.item = ctx.item;
  if (ctx.line !== undefined) loc.line = ctx.line;
  return Object.keys(loc).length > 0 ? loc : undefined;
}

// Validated values are plain JSON (strings, numbers, booleans, arrays, objects),
// so a plain recursive copy guarantees the result shares nothing with the input.
function cloneJSON<T>(v: T): T {
  if (Array.isArray(v)) return v.map(cloneJSON) as T;
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = cloneJSON(x);
    return out as T;
  }
  return v;
}

// Re-exports: the pieces other subsystems use.
export type { FieldWarning } from './field-support/index.js';
export { parseDocuments, formatYaml, formatJson, type ParsedDocument, type FormatOptions } from './codec.js';
export { workloadEndpointName } from './kinds/endpoint.js';
export { inferPolicyTypes, DEFAULT_TIER, DEFAULT_TIER_ORDER } from './kinds/policy.js';
export { FELIX_CONFIGURATION_DEFAULTS, FELIX_CONFIGURATION_FIELDS } from './kinds/felix-configuration.js';
export { DEFAULT_AS_NUMBER, parsePeerIP } from './kinds/bgp.js';
export { DEFAULT_BLOCK_SIZE, BLOCK_SIZE_RANGE } from './kinds/ip-pool.js';
export { parseDuration, protocolNumber, isNamedPort, type Port, type Protocol } from './values.js';
export type * from './kinds/policy.js';
export type * from './kinds/network-set.js';
export type * from './kinds/endpoint.js';
export type * from './kinds/ip-pool.js';
export type * from './kinds/bgp.js';
export type * from './kinds/felix-configuration.js';
export type * from './kinds/node.js';
export type * from './kinds/cluster.js';
export type * from './kinds/staged-policy.js';
export type * from './kinds/ipam.js';
export type * from './kinds/node-status.js';
export { blockAffinityName, ipamConfigurationProblems, IPAM_CONFIGURATION_DEFAULTS, BLOCK_AFFINITY_READ_ONLY } from './kinds/ipam.js';
export { labelSelectorText } from './kinds/staged-policy.js';
export type * from './rule.js';
