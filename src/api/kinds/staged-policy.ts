// StagedNetworkPolicy, StagedGlobalNetworkPolicy and StagedKubernetesNetworkPolicy:
// a policy change proposed but not in force. They are stored and validated like
// the policies they stage, plus `stagedAction`:
//   Set    - the policy as it would be created or replaced (the default; "" too),
//   Delete - the named policy would be removed: the spec holds nothing else
//            (a tier for the Calico kinds),
//   Learn / Ignore - kept for Calico's policy recommendation tooling.
// Nothing here is ever enforced: the calc graph consumes only NetworkPolicy and
// GlobalNetworkPolicy (see CALC_KINDS), so staged kinds never reach a dataplane.
import { tryParseCIDR, cidrContains } from '../../base/ip.js';
import { labelKey, labelValue, portNameProblem } from '../names.js';
import { POLICY_TYPES, type PolicyType } from '../rule.js';
import { describe, int, isPlainObject, list, map, obj, oneOf, type Check, type Cursor, type KindSchema } from '../validate.js';
import { cidr } from '../values.js';
import {
  checkGlobalPolicy,
  checkTierRef,
  DEFAULT_TIER,
  globalPolicyFields,
  policyDefaults,
  policyFields,
  type GlobalNetworkPolicySpec,
  type NetworkPolicySpec,
} from './policy.js';

export const STAGED_ACTIONS = ['Set', 'Delete', 'Learn', 'Ignore'] as const;
export type StagedAction = (typeof STAGED_ACTIONS)[number];

export interface StagedNetworkPolicySpec extends NetworkPolicySpec {
  stagedAction?: StagedAction;
}

export interface StagedGlobalNetworkPolicySpec extends GlobalNetworkPolicySpec {
  stagedAction?: StagedAction;
}

/** Calico's enum; "" is what Go omits, so the schema default (Set) applies to it too. */
const stagedAction: Check<StagedAction> = (v, at) => (v === '' ? 'Set' : oneOf(STAGED_ACTIONS)(v, at));

const DELETE_ONLY = 'must be empty when stagedAction is Delete: a staged delete names the policy to remove (metadata.name';

/** A field Go would omit: false, "", an empty list or object, or absent. */
function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === '' || v === 0) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isPlainObject(v)) return Object.values(v).every(isZero);
  return false;
}

/** Calico: with stagedAction Delete every spec field but `keep` is zero. */
function checkDeleteOnly(spec: Record<string, unknown>, at: Cursor, keep: string[]): void {
  for (const [k, v] of Object.entries(spec)) {
    if (k === 'stagedAction' || keep.includes(k) || isZero(v)) continue;
    at.field(k).add(`${DELETE_ONLY}${keep.includes('tier') ? ' and tier' : ''}) and nothing else`);
  }
}

/** Set/Learn/Ignore get the staged policy's defaults (tier, inferred types); Delete only its tier. */
function stagedDefaults<S extends NetworkPolicySpec & { stagedAction?: StagedAction }>(s: S): S {
  const action = s.stagedAction ?? 'Set';
  if (action === 'Delete') {
    const { types: _types, ...rest } = s;
    return { ...rest, stagedAction: action, tier: s.tier ?? DEFAULT_TIER } as S;
  }
  return { ...policyDefaults(s), stagedAction: action };
}

export const stagedNetworkPolicySchema: KindSchema<StagedNetworkPolicySpec> = {
  spec: () =>
    obj<StagedNetworkPolicySpec>(
      { stagedAction, ...policyFields(false) },
      {
        refine: (s, at) => {
          checkTierRef(s, at);
          if (s.stagedAction === 'Delete') checkDeleteOnly(s as Record<string, unknown>, at, ['tier']);
        },
      },
    ),
  defaults: stagedDefaults,
};

export const stagedGlobalNetworkPolicySchema: KindSchema<StagedGlobalNetworkPolicySpec> = {
  spec: () =>
    obj<StagedGlobalNetworkPolicySpec>(
      { stagedAction, ...globalPolicyFields() },
      {
        refine: (s, at) => {
          if (s.stagedAction === 'Delete') {
            checkTierRef(s, at);
            checkDeleteOnly(s as Record<string, unknown>, at, ['tier']);
          } else checkGlobalPolicy(s, at);
        },
      },
    ),
  defaults: stagedDefaults,
};

// ---- StagedKubernetesNetworkPolicy: a Kubernetes NetworkPolicy spec ----------

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface K8sIPBlock {
  cidr: string;
  except?: string[];
}

export interface K8sNetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: K8sIPBlock;
}

export interface K8sNetworkPolicyPort {
  /** Default TCP. */
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  /** A number, or a port name resolved per pod. */
  port?: number | string;
  /** Last port of a range starting at `port`. */
  endPort?: number;
}

export interface StagedKubernetesNetworkPolicySpec {
  stagedAction?: StagedAction;
  podSelector?: LabelSelector;
  ingress?: { from?: K8sNetworkPolicyPeer[]; ports?: K8sNetworkPolicyPort[] }[];
  egress?: { to?: K8sNetworkPolicyPeer[]; ports?: K8sNetworkPolicyPort[] }[];
  policyTypes?: PolicyType[];
}

const labelSelector: Check<LabelSelector> = obj<LabelSelector>({
  matchLabels: map(labelKey, labelValue),
  matchExpressions: list(
    obj<LabelSelectorRequirement>(
      { key: labelKey, operator: oneOf(['In', 'NotIn', 'Exists', 'DoesNotExist'] as const), values: list(labelValue) },
      {
        required: ['key', 'operator'],
        refine: (e, at) => {
          const n = e.values?.length ?? 0;
          if ((e.operator === 'In' || e.operator === 'NotIn') && n === 0) at.field('values').add(`must be non-empty for operator ${e.operator}`);
          if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && n > 0) at.field('values').add(`must be empty for operator ${e.operator}`);
        },
      },
    ),
  ),
});

const ipBlock: Check<K8sIPBlock> = obj<K8sIPBlock>(
  { cidr: cidr(), except: list(cidr()) },
  {
    required: ['cidr'],
    refine: (b, at) => {
      // Kubernetes: each exception is a strict subset of cidr. (Calico's
      // converter drops an ipBlock it cannot parse, which would match anything.)
      const outer = typeof b.cidr === 'string' ? tryParseCIDR(b.cidr) : undefined;
      if (!outer) return;
      (b.except ?? []).forEach((e, i) => {
        const inner = typeof e === 'string' ? tryParseCIDR(e) : undefined;
        if (inner && (inner.family !== outer.family || !cidrContains(outer, inner) || inner.prefixLength <= outer.prefixLength)) {
          at.field('except').item(i).add(`"${e}" must be a strict subset of cidr "${b.cidr}"`);
        }
      });
    },
  },
);

const peer: Check<K8sNetworkPolicyPeer> = obj<K8sNetworkPolicyPeer>(
  { podSelector: labelSelector, namespaceSelector: labelSelector, ipBlock },
  {
    refine: (p, at) => {
      const selectors = p.podSelector !== undefined || p.namespaceSelector !== undefined;
      if (p.ipBlock !== undefined && selectors) at.field('ipBlock').add('cannot be combined with podSelector or namespaceSelector in one peer');
      if (p.ipBlock === undefined && !selectors) at.add('must set podSelector, namespaceSelector or ipBlock');
    },
  },
);

const k8sPortValue: Check<number | string> = (v, at) => {
  if (typeof v === 'number') return int({ min: 1, max: 65535 })(v, at);
  if (typeof v === 'string') {
    const problem = portNameProblem(v);
    if (problem) at.add(problem);
    return v;
  }
  at.add(`must be a port number 1-65535 or a port name, got ${describe(v)}`);
  return v as number;
};

const k8sPort: Check<K8sNetworkPolicyPort> = obj<K8sNetworkPolicyPort>(
  { protocol: oneOf(['TCP', 'UDP', 'SCTP'] as const), port: k8sPortValue, endPort: int({ min: 1, max: 65535 }) },
  {
    refine: (p, at) => {
      if (p.endPort === undefined || at.field('endPort').hasIssue()) return;
      if (typeof p.port !== 'number') at.field('endPort').add('needs a numeric port: a range is port..endPort');
      else if (p.endPort < p.port) at.field('endPort').add(`must not be less than port (${p.port})`);
    },
  },
);

export const stagedKubernetesNetworkPolicySchema: KindSchema<StagedKubernetesNetworkPolicySpec> = {
  spec: () =>
    obj<StagedKubernetesNetworkPolicySpec>(
      {
        stagedAction,
        podSelector: labelSelector,
        ingress: list(obj({ from: list(peer), ports: list(k8sPort) })),
        egress: list(obj({ to: list(peer), ports: list(k8sPort) })),
        policyTypes: list(oneOf(POLICY_TYPES), { maxItems: 2, unique: true }),
      },
      {
        refine: (s, at) => {
          if (s.stagedAction === 'Delete') checkDeleteOnly(s as Record<string, unknown>, at, []);
        },
      },
    ),
  defaults: (s) => ({ ...s, stagedAction: s.stagedAction ?? 'Set' }),
};

/** kubectl's text for a label selector ("app=web,tier in (a,b),!debug"), for tables. */
export function labelSelectorText(sel: LabelSelector | undefined): string {
  if (!sel) return '';
  const parts = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    if (e.operator === 'In') parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else parts.push(`!${e.key}`);
  }
  return parts.length > 0 ? parts.join(',') : '<none>';
}
