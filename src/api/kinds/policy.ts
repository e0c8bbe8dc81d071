// NetworkPolicy, GlobalNetworkPolicy, Tier and Profile: the policy kinds.
// Policies live in a tier ("default" unless set); tiers are evaluated by
// order, policies in a tier by order then name. Calico used to require a
// non-default tier's policy names to read "<tier>.<name>"; current Calico
// dropped that rule (projectcalico/calico#11232), so both forms are accepted
// and the name is never rewritten.
import { labelKey, labelValue, resourceName } from '../names.js';
import { POLICY_TYPES, rules, type Action, type PolicyType, type Rule } from '../rule.js';
import { bool, list, map, num, obj, oneOf, type Check, type Cursor, type KindSchema } from '../validate.js';
import { selector } from '../values.js';

export const DEFAULT_TIER = 'default';
/** The default tier's fixed order, and the order Calico gives any tier stored without one. */
export const DEFAULT_TIER_ORDER = 1_000_000;

export interface NetworkPolicySpec {
  tier?: string;
  /** Lower applies first; absent sorts last ("infinite"). */
  order?: number;
  selector?: string;
  types?: PolicyType[];
  ingress?: Rule[];
  egress?: Rule[];
  serviceAccountSelector?: string;
  performanceHints?: 'AssumeNeededOnEveryNode'[];
}

export interface GlobalNetworkPolicySpec extends NetworkPolicySpec {
  namespaceSelector?: string;
  doNotTrack?: boolean;
  preDNAT?: boolean;
  applyOnForward?: boolean;
}

export interface TierSpec {
  order?: number;
  /** What happens to traffic a tier's applicable policies did not decide. Default Deny. */
  defaultAction?: Extract<Action, 'Deny' | 'Pass'>;
}

export interface ProfileSpec {
  ingress?: Rule[];
  egress?: Rule[];
  /** Labels every endpoint using this profile inherits (how namespace labels reach selectors). */
  labelsToApply?: Record<string, string>;
}

const policyTypes: Check<PolicyType[]> = list(oneOf(POLICY_TYPES), { maxItems: 2, unique: true });
const performanceHints = list(oneOf(['AssumeNeededOnEveryNode'] as const), { unique: true });

export function policyFields(global: boolean) {
  return {
    tier: resourceName('tier name'),
    order: num(),
    selector: selector(),
    types: policyTypes,
    ingress: rules({ direction: 'ingress', global }),
    egress: rules({ direction: 'egress', global }),
    serviceAccountSelector: selector(),
    performanceHints,
  };
}

export function checkTierRef(spec: NetworkPolicySpec, at: Cursor): void {
  if (spec.tier !== undefined && spec.tier.includes('.')) {
    at.field('tier').add(`"${spec.tier}" is not a valid tier name: tier names contain no dots`);
  }
}

/** Calico's rule: without explicit types, Ingress unless only egress rules are given; both when both are. */
export function inferPolicyTypes(spec: Pick<NetworkPolicySpec, 'ingress' | 'egress'>): PolicyType[] {
  const hasIngress = (spec.ingress?.length ?? 0) > 0;
  const hasEgress = (spec.egress?.length ?? 0) > 0;
  if (hasIngress && hasEgress) return ['Ingress', 'Egress'];
  if (hasEgress) return ['Egress'];
  return ['Ingress'];
}

export function policyDefaults<S extends NetworkPolicySpec>(spec: S): S {
  return {
    ...spec,
    tier: spec.tier ?? DEFAULT_TIER,
    types: spec.types && spec.types.length > 0 ? spec.types : inferPolicyTypes(spec),
  };
}

export const networkPolicySchema: KindSchema<NetworkPolicySpec> = {
  spec: () => obj<NetworkPolicySpec>(policyFields(false), { refine: checkTierRef }),
  defaults: policyDefaults,
};

/** GlobalNetworkPolicy's own fields on top of the shared policy fields. */
export const globalPolicyFields = () => ({
  ...policyFields(true),
  namespaceSelector: selector(),
  doNotTrack: bool(),
  preDNAT: bool(),
  applyOnForward: bool(),
});

/** Calico's cross-field rules for a GlobalNetworkPolicy spec (also used by StagedGlobalNetworkPolicy). */
export function checkGlobalPolicy(s: GlobalNetworkPolicySpec, at: Cursor): void {
  checkTierRef(s, at);
  if (s.doNotTrack && s.preDNAT) at.field('preDNAT').add('preDNAT and doNotTrack cannot both be true');
  if (s.preDNAT && (s.egress?.length ?? 0) > 0) at.field('egress').add('a preDNAT policy cannot have egress rules');
  if (s.preDNAT && s.types?.includes('Egress')) at.field('types').add("a preDNAT policy cannot have the 'Egress' type");
  if ((s.doNotTrack || s.preDNAT) && !s.applyOnForward) {
    at.field('applyOnForward').add('must be true when preDNAT or doNotTrack is true');
  }
}

export const globalNetworkPolicySchema: KindSchema<GlobalNetworkPolicySpec> = {
  spec: () => obj<GlobalNetworkPolicySpec>(globalPolicyFields(), { refine: checkGlobalPolicy }),
  defaults: policyDefaults,
};

/**
 * Tiers Calico reserves, with the order and default action they must have
 * (Calico's CRD rules). kube-admin and kube-baseline hold Kubernetes
 * (Baseline)AdminNetworkPolicy; they must say Pass so traffic they do not
 * decide reaches the next tier.
 */
export const RESERVED_TIERS: Record<string, { order: number; defaultAction: 'Deny' | 'Pass' }> = {
  default: { order: DEFAULT_TIER_ORDER, defaultAction: 'Deny' },
  'kube-admin': { order: 1_000, defaultAction: 'Pass' },
  'kube-baseline': { order: 10_000_000, defaultAction: 'Pass' },
};

export const tierSchema: KindSchema<TierSpec> = {
  spec: (name) =>
    obj<TierSpec>(
      { order: num(), defaultAction: oneOf(['Deny', 'Pass'] as const) },
      {
        refine: (s, at) => {
          const reserved = Object.prototype.hasOwnProperty.call(RESERVED_TIERS, name) ? RESERVED_TIERS[name] : undefined;
          if (!reserved) return;
          // Checked after Calico's defaults (order 1000000, defaultAction Deny), as Calico does.
          const order = s.order ?? DEFAULT_TIER_ORDER;
          const action = s.defaultAction ?? 'Deny';
          if (typeof order === 'number' && order !== reserved.order) {
            at.field('order').add(`the ${name} tier's order is fixed at ${reserved.order}: set order: ${reserved.order}`);
          }
          if (action !== reserved.defaultAction && !at.field('defaultAction').hasIssue()) {
            at.field('defaultAction').add(`the ${name} tier's defaultAction must be ${reserved.defaultAction}`);
          }
        },
      },
    ),
  // Calico gives every tier without an order the order 1000000 (the default
  // tier's), so such tiers sort with the default tier, by name.
  defaults: (s) => ({ ...s, order: s.order ?? DEFAULT_TIER_ORDER, defaultAction: s.defaultAction ?? 'Deny' }),
  hasStatus: true,
};

export const profileSchema: KindSchema<ProfileSpec> = {
  spec: () =>
    obj<ProfileSpec>({
      ingress: rules({ direction: 'ingress', global: true }),
      egress: rules({ direction: 'egress', global: true }),
      labelsToApply: map(labelKey, labelValue),
    }),
};
