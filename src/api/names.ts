// Names and labels, as Calico applies Kubernetes' DNS-1123 rules per kind.
// Most names are DNS-1123 subdomains (dots allowed); tier names are labels
// (no dots) because they are used as a prefix inside other names; policy
// names follow Calico's own narrower pattern (label, or label.label for the
// legacy "<tier>.<name>" form, or the reserved knp.default.* names).
import type { ResourceKind } from './kinds.js';
import { describe, scalarAsString, str, type Check } from './validate.js';

const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const SUBDOMAIN = `${LABEL}(\\.${LABEL})*`;

export const DNS1123_LABEL = new RegExp(`^${LABEL}$`);
export const DNS1123_SUBDOMAIN = new RegExp(`^${SUBDOMAIN}$`);
export const DNS1123_LABEL_MAX = 63;
export const DNS1123_SUBDOMAIN_MAX = 253;

const NETWORK_POLICY_NAME = new RegExp(`^((${LABEL})(\\.${LABEL})?|((knp|ossg)\\.default\\.${SUBDOMAIN}))$`);
const GLOBAL_NETWORK_POLICY_NAME = new RegExp(`^(${LABEL}\\.)?${LABEL}$`);

const SUBDOMAIN_HINT = "lower case alphanumeric characters, '-' or '.', starting and ending with an alphanumeric character (e.g. 'my-name.example')";
const LABEL_HINT = "lower case alphanumeric characters or '-', starting and ending with an alphanumeric character (e.g. 'my-name')";

/** Why `name` is not a valid metadata.name for `kind`, or undefined when it is. */
export function nameProblem(kind: ResourceKind, name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (name.length > DNS1123_SUBDOMAIN_MAX) {
    return `is too long by ${name.length - DNS1123_SUBDOMAIN_MAX} characters (at most ${DNS1123_SUBDOMAIN_MAX})`;
  }
  switch (kind) {
    case 'Tier':
      if (name.length > DNS1123_LABEL_MAX) return `is too long: tier names are at most ${DNS1123_LABEL_MAX} characters`;
      return DNS1123_LABEL.test(name) ? undefined : `"${name}" is not a valid tier name: must consist of ${LABEL_HINT} (no dots)`;
    case 'NetworkPolicy':
    case 'StagedNetworkPolicy':
      return NETWORK_POLICY_NAME.test(name)
        ? undefined
        : `"${name}" is not a valid policy name: must consist of ${LABEL_HINT}, optionally prefixed by "<tier>."`;
    case 'GlobalNetworkPolicy':
    case 'StagedGlobalNetworkPolicy':
      return GLOBAL_NETWORK_POLICY_NAME.test(name)
        ? undefined
        : `"${name}" is not a valid policy name: must consist of ${LABEL_HINT}, optionally prefixed by "<tier>."`;
    default:
      return DNS1123_SUBDOMAIN.test(name) ? undefined : `"${name}" is not a valid name: must consist of ${SUBDOMAIN_HINT}`;
  }
}

export function namespaceProblem(ns: string): string | undefined {
  if (ns.length > DNS1123_LABEL_MAX) return `is too long: namespaces are at most ${DNS1123_LABEL_MAX} characters`;
  return DNS1123_LABEL.test(ns) ? undefined : `"${ns}" is not a valid namespace: must consist of ${LABEL_HINT}`;
}

/** A reference to another resource by name (node, profile, tier, filter ...): a DNS-1123 subdomain. */
export const resourceName = (what = 'name'): Check<string> =>
  str({
    allowEmpty: false,
    maxLength: DNS1123_SUBDOMAIN_MAX,
    pattern: DNS1123_SUBDOMAIN,
    patternHint: `a valid ${what}: ${SUBDOMAIN_HINT}`,
  });

// Kubernetes label syntax: [prefix/]name, prefix a DNS subdomain (<= 253),
// name <= 63 of [A-Za-z0-9_.-] starting and ending alphanumeric; values the
// same as names, or empty.
const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;

export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined) {
    if (prefix === '' || prefix.length > DNS1123_SUBDOMAIN_MAX || !DNS1123_SUBDOMAIN.test(prefix)) {
      return `label key "${key}" has an invalid prefix: the part before "/" must be a DNS subdomain such as "example.com"`;
    }
  }
  if (name === '' || name.length > 63 || !LABEL_NAME.test(name)) {
    return `label key "${key}" is invalid: the name must be at most 63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit, with an optional "prefix/"`;
  }
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !LABEL_NAME.test(value)) {
    return `label value "${value}" is invalid: must be empty or at most 63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

export const labelKey: Check<string> = (v, at) => {
  const problem = labelKeyProblem(v as string);
  if (problem) at.add(problem);
  return v as string;
};

export const labelValue: Check<string> = (raw, at) => {
  const v = scalarAsString(raw);
  if (typeof v !== 'string') {
    at.add(`label values must be strings, got ${describe(v)}`);
    return v as string;
  }
  const problem = labelValueProblem(v);
  if (problem) at.add(problem);
  return v;
};

/** Annotation keys use label-key syntax; values are free text. */
export const annotationValue: Check<string> = (raw, at) => {
  const v = scalarAsString(raw);
  if (typeof v !== 'string') at.add(`annotation values must be strings, got ${describe(v)}`);
  return v as string;
};

// IANA service name syntax for named ports (Kubernetes' IsValidPortName):
// at most 15 of [a-z0-9-], at least one letter, no leading/trailing/double '-'.
export function portNameProblem(name: string): string | undefined {
  if (
    name.length === 0 ||
    name.length > 15 ||
    !/^[a-z0-9-]+$/.test(name) ||
    !/[a-z]/.test(name) ||
    name.startsWith('-') ||
    name.endsWith('-') ||
    name.includes('--')
  ) {
    return `"${name}" is not a valid port name: must be 1-15 lower case letters, digits or '-', with at least one letter and no leading, trailing or double '-' (e.g. "http", "dns-tcp")`;
  }
  return undefined;
}

// Linux interface names: at most 15 characters (IFNAMSIZ - 1).
export const INTERFACE_NAME = /^[a-zA-Z0-9_.-]{1,15}$/;
