// BGPPeer nodeSelector / peerSelector evaluation, through the project's
// selector engine (src/selector: full Calico syntax). Injected into the plan
// as a function so the plan's tests can stub it and the plan stays free of
// any particular selector implementation.

import { parseSelector, type Selector } from '../selector/index.js';

export type SelectorMatcher = (selector: string, labels: Record<string, string>) => boolean;

const cache = new Map<string, Selector>();

/** Throws the selector engine's SelectorParseError on bad syntax, so a bad selector never silently matches. */
export const matchNodeSelector: SelectorMatcher = (selector, labels) => {
  let parsed = cache.get(selector);
  if (!parsed) {
    parsed = parseSelector(selector);
    if (cache.size > 1000) cache.clear(); // selectors come from a handful of BGPPeers; bound it anyway
    cache.set(selector, parsed);
  }
  return parsed.evaluate(labels);
};
