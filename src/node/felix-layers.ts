// The layers the effective Felix settings are made of (highest first):
// FELIX_* environment > FelixConfiguration `node.<nodename>` > `default` >
// built-in values. Stored resources are validated here, because the datastore
// may hold one written around calicoctl (etcdctl, an older or newer client):
//   - at start-up an invalid field is dropped (the rest of the resource
//     applies) and named in the log: the agent must come up;
//   - after start an invalid version is refused as a whole and the previous
//     version of that resource stays in force: a bad edit never replaces
//     working settings.
// Pure: the caller hands in resources and watch events.
import { isCalicoError, type FieldIssue, ValidationError } from '../base/errors.js';
import { fieldWarnings, validateResource, type FieldWarning } from '../api/index.js';
import type { Resource } from '../api/resource.js';
import type { WatchEvent } from '../datastore/datastore.js';
import { effectiveFelixSettings, type FelixSettings } from './config.js';

type Spec = Record<string, unknown>;

export interface FelixResourceCheck {
  /** The spec to use (validated, normalised; invalid fields removed when `dropInvalid`), or undefined when refused. */
  spec: Spec | undefined;
  issues: FieldIssue[];
  /** Fields set that calico-ts accepts but does not act on (docs/fields.md). */
  warnings: FieldWarning[];
}

const fieldOf = (path: string): string | undefined => /^spec\.([A-Za-z0-9_]+)/.exec(path)?.[1];

/** Validates a stored FelixConfiguration. */
export function checkFelixConfiguration(resource: Resource, opts: { dropInvalid: boolean }): FelixResourceCheck {
  const accepted = (valid: Resource, issues: FieldIssue[]): FelixResourceCheck => ({ spec: (valid.spec ?? {}) as Spec, issues, warnings: fieldWarnings(valid) });
  try {
    return accepted(validateResource(resource), []);
  } catch (err) {
    if (!isCalicoError(err, 'validation')) throw err;
    const issues = (err as ValidationError).issues;
    if (!opts.dropInvalid) return { spec: undefined, issues, warnings: [] };
    const bad = new Set(issues.map((i) => fieldOf(i.path)).filter((f): f is string => f !== undefined));
    const spec = { ...((resource.spec ?? {}) as Spec) };
    for (const f of bad) delete spec[f];
    try {
      return accepted(validateResource({ ...resource, spec }), issues);
    } catch {
      // Not a field problem (e.g. the envelope): nothing of it can be trusted.
      return { spec: {}, issues, warnings: [] };
    }
  }
}

export interface FelixRejection {
  name: string;
  issues: FieldIssue[];
}

/** An accepted version's fields that calico-ts does not act on, to be logged by name. */
export interface FelixWarnings {
  name: string;
  warnings: FieldWarning[];
}

/** Names of the settings whose values differ (deep), sorted. */
export function changedSettings(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}

export class FelixLayers {
  private global: Spec | undefined;
  private node: Spec | undefined;
  readonly nodeResourceName: string;

  constructor(private readonly opts: { nodeName: string; env: Spec }) {
    this.nodeResourceName = `node.${opts.nodeName}`;
  }

  /** Start-up: the resources as read (undefined: not stored). Returns the problems found (their fields were dropped). */
  load(resources: { global?: Resource; node?: Resource }): { rejected: FelixRejection[]; warned: FelixWarnings[] } {
    const rejected: FelixRejection[] = [];
    const warned: FelixWarnings[] = [];
    const use = (r: Resource | undefined): Spec | undefined => {
      if (!r) return undefined;
      const c = checkFelixConfiguration(r, { dropInvalid: true });
      if (c.issues.length) rejected.push({ name: r.metadata.name, issues: c.issues });
      if (c.warnings.length) warned.push({ name: r.metadata.name, warnings: c.warnings });
      return c.spec;
    };
    this.global = use(resources.global);
    this.node = use(resources.node);
    return { rejected, warned };
  }

  /**
   * Watch events for FelixConfiguration. `touched`: one of our two resources
   * was created, changed or deleted (and accepted); `rejected`: versions
   * refused, their previous version kept.
   */
  onEvents(events: WatchEvent[]): { touched: boolean; rejected: FelixRejection[]; warned: FelixWarnings[] } {
    let touched = false;
    const rejected: FelixRejection[] = [];
    const warned: FelixWarnings[] = [];
    for (const ev of events) {
      const name = ev.type === 'deleted' ? ev.key.name : ev.resource.metadata.name;
      if (name !== 'default' && name !== this.nodeResourceName) continue;
      let spec: Spec | undefined;
      if (ev.type !== 'deleted') {
        const c = checkFelixConfiguration(ev.resource, { dropInvalid: false });
        if (!c.spec) {
          rejected.push({ name, issues: c.issues });
          continue;
        }
        spec = c.spec;
        if (c.warnings.length) warned.push({ name, warnings: c.warnings });
      }
      touched = true;
      if (name === 'default') this.global = spec;
      else this.node = spec;
    }
    return { touched, rejected, warned };
  }

  effective(): FelixSettings {
    return effectiveFelixSettings({ global: this.global, node: this.node, env: this.opts.env });
  }
}
