// A MatchSpec is everything that decides whether one labelled item (endpoint or
// network set) is selected: a selector plus the scoping Calico layers on top of
// it (NetworkPolicy namespace, namespaceSelector over the namespace's `pcns.`
// labels, service accounts). Both policy selectors and rule selectors compile to
// one, and its canonical `key` names the IP set, so identical meaning => one set.
import type { Labels, SelectorNode } from '../selector/ast.js';
import { selectorFromNode } from '../selector/index.js';
import { exact, LABEL_NAMESPACE, LABEL_SERVICE_ACCOUNT, NAMESPACE_LABEL_PREFIX, SERVICE_ACCOUNT_LABEL_PREFIX } from './model.js';

const SA_NAME_LABEL = `${SERVICE_ACCOUNT_LABEL_PREFIX}projectcalico.org/name`;

/** A parsed selector as the calc graph uses it. */
export interface CompiledSelector {
  ast: SelectorNode;
  evaluate(labels: Labels): boolean;
  /** Canonical text: equal meaning-preserving rewrites give equal text. */
  canonical: string;
}

/** Compiles selector text; throws on invalid text. */
export type SelectorCompiler = (text: string) => CompiledSelector;

/**
 * An index hint: a list of alternatives, at least one of which every matching item
 * carries. `value` undefined = the label key is present with any value.
 * `null` = no useful hint (e.g. `all()`, `!has(x)`): consider every item.
 */
export type Hints = Array<{ key: string; value?: string }> | null;

/** What a labelled item looks like to a MatchSpec. */
export interface MatchTarget {
  isEndpoint: boolean;
  namespace?: string;
  /** Effective labels (own + inherited + implicit). */
  labels: Labels;
  /** The `pcsa.` labels with the prefix removed. */
  serviceAccountLabels(): Labels;
}

export interface MatchSpec {
  /** Canonical description; equal keys select the same items. */
  key: string;
  /** Only endpoints (not network sets) can match: named ports, service accounts, policy selectors. */
  endpointsOnly: boolean;
  /** Item must be in this namespace (NetworkPolicy scoping). */
  namespace?: string;
  selector?: CompiledSelector;
  /** Already rewritten to Calico's endpoint form (see namespaceSelectorNode). */
  namespaceSelector?: CompiledSelector;
  serviceAccountNames?: string[];
  serviceAccountSelector?: CompiledSelector;
  /** A selector failed to compile: matches nothing (validation should have prevented it). */
  invalid: boolean;
  /** The statically most selective hint (used where no label statistics exist). */
  hints: Hints;
  /**
   * Every usable hint, one per conjunct (namespace, each `&&` operand ...): any one
   * of them is a valid index for this spec. The IP set index picks the one with the
   * fewest matching items when the set is created.
   */
  hintOptions: Hints[];
}

export interface MatchSpecInput {
  endpointsOnly: boolean;
  namespace?: string;
  selector?: string;
  namespaceSelector?: string;
  serviceAccountNames?: string[];
  serviceAccountSelector?: string;
}

export function buildMatchSpec(input: MatchSpecInput, compile: SelectorCompiler): MatchSpec {
  const spec: MatchSpec = { key: '', endpointsOnly: input.endpointsOnly, invalid: false, hints: null, hintOptions: [] };
  const parts: string[] = [input.endpointsOnly ? 'ep' : 'any'];
  const tryCompile = (text: string): CompiledSelector | undefined => {
    try {
      return compile(text);
    } catch {
      spec.invalid = true;
      return undefined;
    }
  };
  if (input.namespace !== undefined) {
    spec.namespace = input.namespace;
    parts.push(`ns=${JSON.stringify(input.namespace)}`);
  }
  if (input.namespaceSelector !== undefined) {
    const sel = tryCompile(input.namespaceSelector);
    if (sel) {
      // As Calico: keys get the `pcns.` prefix, all() means "in some namespace",
      // global() means "in no namespace"; evaluated on the item's effective labels.
      const rewritten = selectorFromNode(namespaceSelectorNode(sel.ast));
      spec.namespaceSelector = { ast: rewritten.ast, evaluate: (labels) => rewritten.evaluate(labels), canonical: rewritten.toString() };
      parts.push(`nssel=${spec.namespaceSelector.canonical}`);
    }
  }
  if (input.selector !== undefined) {
    const sel = tryCompile(input.selector);
    if (sel && sel.ast.kind !== 'all') {
      spec.selector = sel;
      parts.push(`sel=${sel.canonical}`);
    }
  }
  if (input.serviceAccountNames?.length) {
    spec.serviceAccountNames = [...new Set(input.serviceAccountNames)].sort();
    parts.push(`sa=${JSON.stringify(spec.serviceAccountNames)}`);
  }
  if (input.serviceAccountSelector !== undefined) {
    const sel = tryCompile(input.serviceAccountSelector);
    if (sel && sel.ast.kind !== 'all') {
      spec.serviceAccountSelector = sel;
      parts.push(`sasel=${sel.canonical}`);
    }
  }
  if (spec.invalid) parts.push('invalid');
  spec.key = parts.join(' ');
  spec.hintOptions = specHintOptions(spec);
  spec.hints = best(spec.hintOptions);
  return spec;
}

/** Whether `target` is selected. The caller counts evaluations. */
export function matches(spec: MatchSpec, target: MatchTarget): boolean {
  if (spec.invalid) return false;
  if (spec.endpointsOnly && !target.isEndpoint) return false;
  if (spec.namespace !== undefined && target.namespace !== spec.namespace) return false;
  if (spec.namespaceSelector && !spec.namespaceSelector.evaluate(target.labels)) return false;
  if (spec.serviceAccountNames) {
    // The account's name: from WorkloadEndpoint spec.serviceAccountName, or as Kubernetes
    // delivers it, the `pcsa.projectcalico.org/name` label of its ksa.<ns>.<sa> profile.
    const a = target.labels[LABEL_SERVICE_ACCOUNT];
    const b = target.labels[SA_NAME_LABEL];
    if (!(a !== undefined && spec.serviceAccountNames.includes(a)) && !(b !== undefined && spec.serviceAccountNames.includes(b))) return false;
  }
  if (spec.serviceAccountSelector && !spec.serviceAccountSelector.evaluate(target.serviceAccountLabels())) return false;
  if (spec.selector && !spec.selector.evaluate(target.labels)) return false;
  return true;
}

/** One hint per conjunct of the spec (top-level `&&` operands count separately); nulls dropped. */
function specHintOptions(spec: MatchSpec): Hints[] {
  const options: Hints[] = [];
  if (spec.namespace !== undefined) options.push([{ key: LABEL_NAMESPACE, value: spec.namespace }]);
  if (spec.selector) options.push(...conjunctHints(spec.selector.ast, ''));
  if (spec.namespaceSelector) options.push(...conjunctHints(spec.namespaceSelector.ast, ''));
  if (spec.serviceAccountNames) options.push(spec.serviceAccountNames.flatMap((value) => [{ key: LABEL_SERVICE_ACCOUNT, value }, { key: SA_NAME_LABEL, value }]));
  if (spec.serviceAccountSelector) options.push(...conjunctHints(spec.serviceAccountSelector.ast, SERVICE_ACCOUNT_LABEL_PREFIX));
  // Kept per set and per policy: exact lists (see exact in model.ts).
  return exact(options.filter((h) => h !== null).map((h) => exact(h)));
}

function conjunctHints(node: SelectorNode, prefix: string): Hints[] {
  if (node.kind === 'and') return node.operands.flatMap((o) => conjunctHints(o, prefix));
  return [nodeHints(node, prefix)];
}

/** Lower is more selective: value alternatives are cheap, key-only ones cost more. */
function cost(h: Hints): number {
  if (h === null) return Number.POSITIVE_INFINITY;
  return h.reduce((sum, alt) => sum + (alt.value === undefined ? 100 : 1), 0);
}

function best(candidates: Hints[]): Hints {
  let chosen: Hints = null;
  for (const h of candidates) if (cost(h) < cost(chosen)) chosen = h;
  return chosen;
}

/** Calico's rewrite of a namespaceSelector into an endpoint selector (see buildMatchSpec). */
export function namespaceSelectorNode(node: SelectorNode): SelectorNode {
  switch (node.kind) {
    case 'all':
      return { kind: 'has', key: LABEL_NAMESPACE };
    case 'global':
      return { kind: 'not', operand: { kind: 'has', key: LABEL_NAMESPACE } };
    case 'not':
      return { kind: 'not', operand: namespaceSelectorNode(node.operand) };
    case 'and':
    case 'or':
      return { kind: node.kind, operands: node.operands.map(namespaceSelectorNode) };
    default:
      return { ...node, key: NAMESPACE_LABEL_PREFIX + node.key };
  }
}

/** Hints of a selector AST: labels an item must carry to possibly match. */
export function nodeHints(node: SelectorNode, prefix: string): Hints {
  switch (node.kind) {
    case 'eq':
      return [{ key: prefix + node.key, value: node.value }];
    case 'in':
      return node.values.length ? node.values.map((value) => ({ key: prefix + node.key, value })) : null;
    case 'has':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return [{ key: prefix + node.key }];
    case 'and':
      return best(node.operands.map((o) => nodeHints(o, prefix)));
    case 'or': {
      const all: Array<{ key: string; value?: string }> = [];
      for (const o of node.operands) {
        const h = nodeHints(o, prefix);
        if (h === null) return null;
        all.push(...h);
      }
      return all;
    }
    default:
      // all(), global(), !=, not in, ! ...: absent labels can match, so no hint.
      return null;
  }
}
