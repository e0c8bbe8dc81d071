// Which endpoints a logged packet was between, and which tier / policy / rule
// decided it. Pure. The kernel's log prefix says only the verdict and the
// direction (src/rules/flow-log.ts: merged runs stand for rules of many
// policies), so the decision is found again by the reference interpreter
// (src/calc/verdict.ts, the oracle the compiler is tested against) on the
// calc state the node programmed. When the interpreter's verdict is not the
// kernel's (the state moved on between the packet and the read), the record
// keeps the kernel's verdict and says the decision is unattributed.
import type { DesiredPolicyState, HostEndpointState, WorkloadEndpointState } from '../calc/output.js';
import { evaluatePolicy, type Decision } from '../calc/verdict.js';
import type { FlowDirection, FlowVerdict } from '../rules/flow-log.js';
import type { LoggedPacket } from './packet.js';

/** One end of a flow, as Calico's flow logs name it: wep (workload), hep (host endpoint) or net (an address of nothing local). */
export interface FlowEnd {
  type: 'wep' | 'hep' | 'net';
  /** Workloads: the endpoint's namespace. */
  namespace?: string;
  /** Workloads: the WorkloadEndpoint name; host endpoints: the HostEndpoint name; net: the address. */
  name: string;
}

export type DecidedBy = 'rule' | 'end-of-tier' | 'missing-policy' | 'missing-profile' | 'nothing-allowed' | 'unattributed';

export interface PolicyAttribution {
  decidedBy: DecidedBy;
  /** The tier (profiles: `__PROFILE__`, Calico's name for them in flow logs). */
  tier?: string;
  /** Policy id (`gnp/<name>`, `np/<namespace>/<name>`) or `profile:<id>`. */
  policy?: string;
  /** Index of the rule in the policy's ingress (inbound) or egress (outbound) list. */
  rule?: number;
}

export interface Attribution {
  source: FlowEnd;
  dest: FlowEnd;
  /** Which side's policy logged it: `src` = the sender's egress, `dst` = the receiver's ingress. */
  reporter: 'src' | 'dst';
  policy: PolicyAttribution;
}

const bare = (cidr: string) => cidr.split('/')[0]!;

/** Address -> local endpoint, built once per calc state. */
export class EndpointIndex {
  private readonly workloads = new Map<string, WorkloadEndpointState>();
  private readonly hosts = new Map<string, HostEndpointState>();

  constructor(readonly state: DesiredPolicyState) {
    for (const ep of state.workloadEndpoints.values()) for (const net of [...ep.ipv4Nets, ...ep.ipv6Nets]) this.workloads.set(canonical(bare(net)), ep);
    for (const ep of state.hostEndpoints.values()) for (const ip of ep.expectedIPs) this.hosts.set(canonical(ip), ep);
  }

  workload(ip: string): WorkloadEndpointState | undefined {
    return this.workloads.get(canonical(ip));
  }

  end(ip: string): FlowEnd {
    const w = this.workload(ip);
    if (w) return { type: 'wep', namespace: w.namespace, name: w.name };
    const h = this.hosts.get(canonical(ip));
    if (h) return { type: 'hep', name: h.id };
    return { type: 'net', name: ip };
  }
}

/** IPv6 text has many spellings; the packet parser and the calc graph may differ in case. */
function canonical(ip: string): string {
  return ip.toLowerCase();
}

function fromDecision(d: Decision): PolicyAttribution {
  switch (d.kind) {
    case 'rule':
      return 'tier' in d.rule
        ? { decidedBy: 'rule', tier: d.rule.tier, policy: d.rule.policy, rule: d.rule.index }
        : { decidedBy: 'rule', tier: '__PROFILE__', policy: `profile:${d.rule.profile}`, rule: d.rule.index };
    case 'end-of-tier':
      return { decidedBy: 'end-of-tier', tier: d.tier };
    case 'missing-policy':
      return { decidedBy: 'missing-policy', tier: d.tier, policy: d.policy };
    case 'missing-profile':
      return { decidedBy: 'missing-profile', tier: '__PROFILE__', policy: `profile:${d.profile}` };
    case 'nothing-allowed':
      return { decidedBy: 'nothing-allowed' };
  }
}

/** The endpoints and the deciding tier / policy / rule of one logged packet. */
export function attribute(index: EndpointIndex, packet: LoggedPacket, logged: { verdict: FlowVerdict; direction: FlowDirection }): Attribution {
  const reporter = logged.direction === 'outbound' ? 'src' : 'dst';
  const base = { source: index.end(packet.src), dest: index.end(packet.dst), reporter } as const;
  // The endpoint whose chain logged it: the sender for egress, the receiver for ingress.
  const ep = index.workload(logged.direction === 'outbound' ? packet.src : packet.dst);
  if (!ep) return { ...base, policy: { decidedBy: 'unattributed' } };
  const tiers = logged.direction === 'outbound' ? ep.policies.egress : ep.policies.ingress;
  const verdict = evaluatePolicy(index.state, { tiers, profileIds: ep.profileIds }, logged.direction, packet);
  if (verdict.action !== logged.verdict) return { ...base, policy: { decidedBy: 'unattributed' } };
  return { ...base, policy: fromDecision(verdict.decidedBy) };
}
