// The one place the CLI asks the API layer whether a document is a valid
// resource. Every write command validates all documents through this before
// writing any (bad input changes nothing).
import { API_VERSION, isResourceKind } from '../api/kinds.js';
import type { Resource } from '../api/resource.js';
import { ValidationError, type FieldIssue } from '../base/errors.js';
import { validateResource } from '../api/index.js';
import type { ResourceValidator } from './resource-input.js';

/** Envelope checks only (apiVersion, kind, metadata.name): enough to address a resource, as delete -f needs. */
export const validateEnvelope: ResourceValidator = (doc) => {
  const issues: FieldIssue[] = [];
  const d = doc as Partial<Resource> | null;
  if (typeof d !== 'object' || d === null || Array.isArray(d)) return { issues: [{ path: '', message: 'a resource must be a mapping' }] };
  if (d.apiVersion !== API_VERSION) issues.push({ path: 'apiVersion', message: `must be "${API_VERSION}"` });
  if (typeof d.kind !== 'string' || !isResourceKind(d.kind)) issues.push({ path: 'kind', message: `unknown kind '${String(d.kind)}'` });
  if (typeof d.metadata?.name !== 'string' || d.metadata.name === '') issues.push({ path: 'metadata.name', message: 'is required' });
  return issues.length > 0 ? { issues } : { resource: d as Resource };
};

/** Full validation (schema, CIDRs, selectors, ports, names) with Calico's defaults filled in. */
export const validateDocument: ResourceValidator = (doc) => {
  try {
    return { resource: validateResource(doc) };
  } catch (err) {
    if (err instanceof ValidationError) return { issues: err.issues };
    throw err;
  }
};
