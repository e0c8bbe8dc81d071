// Host endpoints at every stage, with Felix's semantics (docs/design/dataplane.md,
// "Host endpoints"). A packet meets host endpoint policy in this order:
//
//   raw PREROUTING   untracked ingress  (cali-thu-<if>)   allow = notrack + accept, deny = drop
//   mangle PREROUTING preDNAT ingress   (cali-thd-<if>)   allow = accept (skips normal), deny = drop
//   filter INPUT     normal ingress     (cali-th-<if>)    unless already accepted above
//   filter FORWARD   applyOnForward in  (cali-thf-<if>)   unless already accepted above,
//                    workload policy, applyOnForward out (cali-fhf-<if>)
//   raw OUTPUT       untracked egress   (cali-fhu-<if>)
//   filter OUTPUT    normal egress      (cali-fh-<if>)    unless accepted by untracked policy
//
// "Accepted above" travels in MARK_ACCEPT, which the raw stage clears first so
// nothing outside our rules can forge it. Untracked and preDNAT chains end
// without a verdict when no policy decided: the packet goes on to the later
// stages. The all-interfaces endpoint ("*") is the default of each dispatch:
// a named (or expectedIPs) endpoint wins for its interface at every stage.

import type { Chain, Match, Rule } from './ir.js';
import type { DataplaneConfig, LocalEndpoint } from './model.js';
import { ALL_INTERFACES, MARK_ACCEPT, chainNames } from './names.js';
import { accept, clearMarks, drop, failsafeRules, markIs, markNot, policyBody, ret, stageTiers, type BodyKind, type Known } from './endpoint-body.js';

const chain = (name: string, table: Chain['table'], rules: Rule[]): Chain => ({ name, table, rules });

function hasStage(ep: LocalEndpoint, kind: BodyKind): boolean {
  return stageTiers(ep, kind, 'inbound').length + stageTiers(ep, kind, 'outbound').length > 0;
}

/** Which host endpoints take part in the untracked and preDNAT stages. */
export interface HostStages {
  untracked: Set<LocalEndpoint>;
  preDnat: Set<LocalEndpoint>;
}

/**
 * An endpoint takes part in a stage when it has policy there, or when the
 * all-interfaces endpoint does: then every named endpoint gets its own (maybe
 * empty) chain so that "*" cannot reach its interface (the named one wins).
 * Without policy anywhere the stage is left out (every packet of the host
 * would otherwise pay for it).
 */
export function hostStages(hosts: LocalEndpoint[]): HostStages {
  const all = hosts.find((h) => h.interfaceName === ALL_INTERFACES);
  const pick = (kind: BodyKind) => new Set(all && hasStage(all, kind) ? hosts : hosts.filter((h) => hasStage(h, kind)));
  return { untracked: pick('untracked'), preDnat: pick('preDnat') };
}

/** The chains of one host endpoint (one interface, or "*"). */
export function hostEndpointChains(ep: LocalEndpoint, opts: { config: DataplaneConfig; known: Known; untracked: boolean; preDnat: boolean }): Chain[] {
  const { config, known } = opts;
  const i = ep.interfaceName;
  const out: Chain[] = [
    chain(chainNames.toHost(i), 'filter', [...failsafeRules(config.failsafeInbound, 'src'), clearMarks(), ...policyBody(ep, 'inbound', known)]),
    chain(chainNames.fromHost(i), 'filter', [
      // A reply of an untracked flow that untracked policy did not allow must not pass as a new connection.
      { matches: [{ kind: 'ct', states: ['invalid'] }], action: drop },
      ...failsafeRules(config.failsafeOutbound, 'dst'),
      clearMarks(),
      ...policyBody(ep, 'outbound', known),
    ]),
    chain(chainNames.toHostForward(i), 'filter', [clearMarks(), ...policyBody(ep, 'inbound', known, 'forward')]),
    chain(chainNames.fromHostForward(i), 'filter', [clearMarks(), ...policyBody(ep, 'outbound', known, 'forward')]),
  ];
  if (opts.untracked) {
    // Before conntrack: the failsafe replies are let through too (they belong to tracked failsafe connections).
    out.push(
      chain(chainNames.toHostUntracked(i), 'raw', [
        ...failsafeRules(config.failsafeInbound, 'src'),
        ...failsafeRules(config.failsafeOutbound, 'src', 'src'),
        clearMarks(),
        ...policyBody(ep, 'inbound', known, 'untracked'),
      ]),
      chain(chainNames.fromHostUntracked(i), 'raw', [
        ...failsafeRules(config.failsafeOutbound, 'dst'),
        ...failsafeRules(config.failsafeInbound, 'dst', 'src'),
        clearMarks(),
        ...policyBody(ep, 'outbound', known, 'untracked'),
      ]),
    );
  }
  if (opts.preDnat) {
    out.push(chain(chainNames.toHostPreDnat(i), 'mangle', [...failsafeRules(config.failsafeInbound, 'src'), clearMarks(), ...policyBody(ep, 'inbound', known, 'preDnat')]));
  }
  return out;
}

/**
 * A dispatch chain: named interfaces go to their chain; the rest to the
 * all-interfaces endpoint's chain when there is one (after `skip`, e.g. the
 * workload interfaces for egress), otherwise they return untouched: Calico
 * only polices host interfaces it was told about.
 */
function dispatchChain(name: string, table: Chain['table'], by: 'iif' | 'oif', eps: LocalEndpoint[], chainOf: (iface: string) => string, skip: Match[] = []): Chain {
  const named = eps.filter((e) => e.interfaceName !== ALL_INTERFACES);
  const all = eps.find((e) => e.interfaceName === ALL_INTERFACES);
  const rules: Rule[] = [];
  if (named.length) rules.push({ matches: [], action: { kind: 'dispatch', by, targets: named.map((e) => ({ iface: e.interfaceName, chain: chainOf(e.interfaceName) })) } });
  if (all) {
    for (const m of skip) rules.push({ matches: [m], action: ret });
    rules.push({ matches: [], action: { kind: 'goto', chain: chainOf(ALL_INTERFACES) }, comment: 'all-interfaces host endpoint' });
  }
  return chain(name, table, rules);
}

/** Rules the top-level chains gain from host endpoints (all empty without host endpoints). */
export interface HostTopRules {
  dispatchChains: Chain[];
  /** Start of raw PREROUTING and raw OUTPUT: clear our marks so nothing else can forge "accepted". */
  clearMarks: Rule[];
  /** End of raw PREROUTING (after the workload RPF rules). */
  rawPrerouting: Rule[];
  rawOutput: Rule[];
  manglePrerouting: Rule[];
  /** filter INPUT after the workload rules. */
  input: Rule[];
  /** filter OUTPUT, whole. */
  output: Rule[];
  /** filter FORWARD before, after and at the end of the workload dispatch. */
  forwardIn: Rule[];
  forwardOut: Rule[];
  forwardEnd: Rule[];
}

const acceptedAbove: Rule = { matches: [markIs(MARK_ACCEPT)], action: accept, comment: 'accepted by host endpoint policy' };

export function hostTopRules(hosts: LocalEndpoint[], stages: HostStages, workload: { iif: Match[]; oif: Match[] }): HostTopRules {
  const top: HostTopRules = { dispatchChains: [], clearMarks: [], rawPrerouting: [], rawOutput: [], manglePrerouting: [], input: [], output: [], forwardIn: [], forwardOut: [], forwardEnd: [] };
  if (hosts.length === 0) return top;
  const jump = (c: string): Rule => ({ matches: [], action: { kind: 'jump', chain: c } });
  const skipWl = (ms: Match[]): Rule[] => ms.map((m) => ({ matches: [m], action: ret }));
  const add = (c: Chain) => (top.dispatchChains.push(c), c.name);

  top.clearMarks = [clearMarks()];
  const untracked = [...stages.untracked];
  if (untracked.length) {
    const ingress = add(dispatchChain(chainNames.toHostUntrackedDispatch, 'raw', 'iif', untracked, chainNames.toHostUntracked));
    const egress = add(dispatchChain(chainNames.fromHostUntrackedDispatch, 'raw', 'oif', untracked, chainNames.fromHostUntracked, workload.oif));
    // Workload traffic is not host endpoint traffic (its own policy applies later).
    top.rawPrerouting = [...skipWl(workload.iif), jump(ingress), { ...acceptedAbove, comment: 'allowed by untracked policy' }];
    top.rawOutput = [jump(egress), { ...acceptedAbove, comment: 'allowed by untracked policy' }];
  }
  const preDnat = [...stages.preDnat];
  if (preDnat.length) {
    // Felix dispatches every interface here ("*" included workloads' traffic): preDNAT policy is about what arrives, wherever from.
    const ingress = add(dispatchChain(chainNames.toHostPreDnatDispatch, 'mangle', 'iif', preDnat, chainNames.toHostPreDnat));
    top.manglePrerouting = [
      { matches: [{ kind: 'ct', states: ['established', 'related'] }], action: accept },
      { ...acceptedAbove, comment: 'allowed by untracked policy' },
      jump(ingress),
      { ...acceptedAbove, comment: 'allowed by preDNAT policy' },
    ];
  }
  const toHost = add(dispatchChain(chainNames.toHostDispatch, 'filter', 'iif', hosts, chainNames.toHost));
  const fromHost = add(dispatchChain(chainNames.fromHostDispatch, 'filter', 'oif', hosts, chainNames.fromHost));
  top.input = [acceptedAbove, jump(toHost)];
  top.output = [
    acceptedAbove,
    { matches: [{ kind: 'ct', states: ['established', 'related'] }], action: accept },
    // The host may always reach its own workloads (health checks).
    ...skipWl(workload.oif),
    jump(fromHost),
  ];
  // Forward: the ingress endpoint's applyOnForward policy (skipped when an
  // earlier stage accepted), then workload policy, then the egress endpoint's.
  const fwIn = add(dispatchChain(chainNames.toHostForwardDispatch, 'filter', 'iif', hosts, chainNames.toHostForward));
  const fwOut = add(dispatchChain(chainNames.fromHostForwardDispatch, 'filter', 'oif', hosts, chainNames.fromHostForward));
  top.forwardIn = [{ matches: [markNot(MARK_ACCEPT)], action: { kind: 'jump', chain: fwIn } }];
  top.forwardOut = [jump(fwOut)];
  top.forwardEnd = [{ ...acceptedAbove, comment: 'allowed by host endpoint forward policy' }];
  return top;
}
