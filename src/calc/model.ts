// The calc graph's view of the v3 resources it reads: only the fields it needs,
// parsed defensively from the stored JSON (the datastore validated them on the
// way in, so "defensive" means "never throw", not "re-validate").
import type { Resource } from '../api/resource.js';
import { PROTOCOL_NUMBERS, ipVersionOf } from './output.js';
import type { IpVersion } from './output.js';

export const LABEL_NAMESPACE = 'projectcalico.org/namespace';
export const LABEL_ORCHESTRATOR = 'projectcalico.org/orchestrator';
export const LABEL_SERVICE_ACCOUNT = 'projectcalico.org/serviceaccount';
/** Profile labels with these prefixes carry namespace / service-account labels to endpoints. */
export const NAMESPACE_LABEL_PREFIX = 'pcns.';
export const SERVICE_ACCOUNT_LABEL_PREFIX = 'pcsa.';
/** Calico's implicit order of the `default` tier when no Tier resource says otherwise. */
export const DEFAULT_TIER_ORDER = 1_000_000;

export interface NamedPort {
  name: string;
  protocol: number;
  port: number;
}

/** Raw v3 rule as stored (subset). */
export interface RuleEntity {
  selector?: string;
  notSelector?: string;
  namespaceSelector?: string;
  nets?: string[];
  notNets?: string[];
  ports?: Array<number | string>;
  notPorts?: Array<number | string>;
  serviceAccounts?: { names?: string[]; selector?: string };
}

export interface RawRule {
  action?: string;
  ipVersion?: number;
  protocol?: number | string;
  notProtocol?: number | string;
  icmp?: { type?: number; code?: number };
  notICMP?: { type?: number; code?: number };
  source?: RuleEntity;
  destination?: RuleEntity;
}

/** A (Global)NetworkPolicy, parsed. */
export interface PolicyModel {
  id: string;
  /** Namespace of a NetworkPolicy; undefined for GNP. */
  namespace?: string;
  /** Tie-breaker after order: `namespace/name` for NP, `name` for GNP (as Felix sorts). */
  sortName: string;
  tier: string;
  order: number;
  selector: string;
  namespaceSelector?: string;
  serviceAccountSelector?: string;
  ingress: RawRule[];
  egress: RawRule[];
  appliesIngress: boolean;
  appliesEgress: boolean;
  doNotTrack: boolean;
  preDnat: boolean;
  applyOnForward: boolean;
}

export interface ProfileModel {
  id: string;
  ingress: RawRule[];
  egress: RawRule[];
  labelsToApply: Record<string, string>;
}

export interface TierModel {
  name: string;
  order: number;
  defaultAction: 'Deny' | 'Pass';
}

/** Anything a selector can select: endpoints (workload, host) and network sets. */
export interface LabelledModel {
  /** `wep:<ns>/<name>`, `hep:<name>`, `ns:<ns>/<name>`, `gns:<name>`. */
  id: string;
  isEndpoint: boolean;
  namespace?: string;
  /** Own labels plus implicit ones (namespace, orchestrator, service account); profiles' labels are merged later. */
  ownLabels: Record<string, string>;
  /** Profiles whose labelsToApply this inherits, in order (earlier wins). */
  parents: string[];
  /** CIDRs contributed to `net` IP sets (prefix always present). */
  nets: string[];
  /** Plain addresses for named-port members (endpoints only). */
  addresses: string[];
  ports: NamedPort[];
  /** Set for endpoints on this host. */
  local?: LocalEndpointModel;
}

export interface LocalEndpointModel {
  kind: 'workload' | 'host';
  /** Output id: `<ns>/<name>` for workloads, name for host endpoints. */
  outputId: string;
  namespace: string;
  name: string;
  interfaceName?: string;
  mac?: string;
  ipv4Nets: string[];
  ipv6Nets: string[];
  expectedIPs: string[];
  profileIds: string[];
}

export interface PoolModel {
  name: string;
  cidr: string;
  ipVersion: IpVersion;
  natOutgoing: boolean;
  disabled: boolean;
}

// The graph keeps one model per endpoint (10k+) and its lists for as long as the
// endpoint exists, so lists are stored at their exact length: V8 gives an array
// that grew by push or filter room for 17 elements (152 bytes for one address),
// and an empty one still costs 32 bytes. `exact` returns one shared, frozen empty
// list (a mistaken push throws instead of corrupting every endpoint) or a copy
// without the spare room.
const NONE: readonly never[] = Object.freeze([]);
const none = <T>(): T[] => NONE as unknown as T[];
export function exact<T>(xs: readonly T[]): T[] {
  return xs.length === 0 ? none() : xs.slice();
}

/**
 * A copy of a label map built key by key. (`{ ...labels }` of parsed JSON gives
 * V8 a new hidden class per object once the copy site is megamorphic, ~300 bytes
 * per endpoint; objects built by adding keys in the same order share one.)
 */
function labelsOf(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (v && typeof v === 'object') for (const [k, x] of Object.entries(v as Record<string, string>)) out[k] = x;
  return out;
}

/**
 * The concatenation as one flat string. A template literal longer than 12
 * characters is a V8 cons string (a 32-byte node over its parts, the parts kept);
 * strings the graph keeps per endpoint or set member (ids, CIDRs, member keys)
 * are built flat instead.
 */
export const flat = (...parts: string[]): string => parts.join('');

type Spec = Record<string, unknown>;
const specOf = (r: Resource): Spec => (r.spec ?? {}) as Spec;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strings = (v: unknown): string[] => (Array.isArray(v) ? exact(v.filter((x): x is string => typeof x === 'string')) : none());
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const rules = (v: unknown): RawRule[] => (Array.isArray(v) ? exact(v.filter((x) => x && typeof x === 'object') as RawRule[]) : none());

/** Host CIDR form of an address or CIDR: adds /32 or /128 when missing; lower-case. */
export function toCidr(text: string): string {
  const t = text.trim().toLowerCase();
  if (t.includes('/')) return t;
  return flat(t, t.includes(':') ? '/128' : '/32');
}

/** The address part of a CIDR. */
export const addressOf = (cidr: string): string => cidr.split('/')[0] ?? cidr;

/** IANA number of a protocol given by name or number; undefined if unknown. */
export function protocolNumber(p: number | string | undefined): number | undefined {
  if (p === undefined) return undefined;
  if (typeof p === 'number') return p;
  if (/^[0-9]+$/.test(p)) return Number(p);
  return PROTOCOL_NUMBERS[p.toLowerCase()];
}

export function policyId(r: Resource): string {
  return r.kind === 'NetworkPolicy' ? flat('np/', r.metadata.namespace ?? '', '/', r.metadata.name) : flat('gnp/', r.metadata.name);
}

export function parsePolicy(r: Resource): PolicyModel {
  const s = specOf(r);
  const ingress = rules(s.ingress);
  const egress = rules(s.egress);
  const types = strings(s.types);
  // libcalico-go's default when `types` is absent: no egress rules -> [Ingress];
  // egress rules only -> [Egress]; both -> [Ingress, Egress].
  const appliesIngress = types.length ? types.includes('Ingress') : egress.length === 0 || ingress.length > 0;
  const appliesEgress = types.length ? types.includes('Egress') : egress.length > 0;
  const namespaced = r.kind === 'NetworkPolicy';
  const model: PolicyModel = {
    id: policyId(r),
    sortName: namespaced ? `${r.metadata.namespace ?? ''}/${r.metadata.name}` : r.metadata.name,
    tier: str(s.tier) || 'default',
    order: num(s.order) ?? Number.POSITIVE_INFINITY,
    selector: str(s.selector)?.trim() || 'all()',
    ingress,
    egress,
    appliesIngress,
    appliesEgress,
    doNotTrack: !namespaced && s.doNotTrack === true,
    preDnat: !namespaced && s.preDNAT === true,
    applyOnForward: !namespaced && s.applyOnForward === true,
  };
  if (namespaced) model.namespace = r.metadata.namespace ?? '';
  const nsSel = str(s.namespaceSelector)?.trim();
  if (nsSel && !namespaced) model.namespaceSelector = nsSel;
  const saSel = str(s.serviceAccountSelector)?.trim();
  if (saSel) model.serviceAccountSelector = saSel;
  return model;
}

export function parseProfile(r: Resource): ProfileModel {
  const s = specOf(r);
  const labels = s.labelsToApply && typeof s.labelsToApply === 'object' ? (s.labelsToApply as Record<string, string>) : {};
  return { id: r.metadata.name, ingress: rules(s.ingress), egress: rules(s.egress), labelsToApply: { ...labels } };
}

export function parseTier(r: Resource): TierModel {
  const s = specOf(r);
  const order = num(s.order) ?? (r.metadata.name === 'default' ? DEFAULT_TIER_ORDER : Number.POSITIVE_INFINITY);
  return { name: r.metadata.name, order, defaultAction: s.defaultAction === 'Pass' ? 'Pass' : 'Deny' };
}

/** The tier as Calico has it when there is no Tier resource: `default` exists implicitly; others fail closed. */
export function implicitTier(name: string): TierModel {
  return { name, order: name === 'default' ? DEFAULT_TIER_ORDER : Number.POSITIVE_INFINITY, defaultAction: 'Deny' };
}

export function parsePool(r: Resource): PoolModel {
  const s = specOf(r);
  const cidr = toCidr(str(s.cidr) ?? '0.0.0.0/32');
  return {
    name: r.metadata.name,
    cidr,
    ipVersion: ipVersionOf(cidr),
    natOutgoing: s.natOutgoing === true,
    disabled: s.disabled === true,
  };
}

function namedPorts(v: unknown): NamedPort[] {
  if (!Array.isArray(v)) return none();
  const out: NamedPort[] = [];
  for (const p of v as Array<Record<string, unknown>>) {
    const name = str(p?.name);
    const port = num(p?.port);
    const protocol = protocolNumber((p?.protocol as string | number | undefined) ?? 'tcp');
    if (name && port !== undefined && protocol !== undefined) out.push({ name, protocol, port });
  }
  return exact(out);
}

/** Parses an endpoint or network set; `nodeName` decides whether an endpoint is local. */
export function parseLabelled(r: Resource, nodeName: string): LabelledModel | undefined {
  const s = specOf(r);
  const ns = r.metadata.namespace;
  const labels = labelsOf(r.metadata.labels);
  switch (r.kind) {
    case 'WorkloadEndpoint': {
      const namespace = ns ?? 'default';
      labels[LABEL_NAMESPACE] = namespace;
      const orchestrator = str(s.orchestrator);
      if (orchestrator) labels[LABEL_ORCHESTRATOR] = orchestrator;
      const sa = str(s.serviceAccountName);
      if (sa) labels[LABEL_SERVICE_ACCOUNT] = sa;
      const nets = exact(strings(s.ipNetworks).map(toCidr));
      const profileIds = strings(s.profiles);
      const model: LabelledModel = {
        id: flat('wep:', namespace, '/', r.metadata.name),
        isEndpoint: true,
        namespace,
        ownLabels: labels,
        parents: profileIds,
        nets,
        addresses: exact(nets.map(addressOf)),
        ports: namedPorts(s.ports),
      };
      if (str(s.node) === nodeName) {
        const local: LocalEndpointModel = {
          kind: 'workload',
          outputId: flat(namespace, '/', r.metadata.name),
          namespace,
          name: r.metadata.name,
          interfaceName: str(s.interfaceName) ?? '',
          ipv4Nets: exact(nets.filter((n) => !n.includes(':'))),
          ipv6Nets: exact(nets.filter((n) => n.includes(':'))),
          expectedIPs: none(),
          profileIds,
        };
        const mac = str(s.mac);
        if (mac) local.mac = mac.toLowerCase();
        model.local = local;
      }
      return model;
    }
    case 'HostEndpoint': {
      const ips = strings(s.expectedIPs);
      const profileIds = strings(s.profiles);
      const model: LabelledModel = {
        id: flat('hep:', r.metadata.name),
        isEndpoint: true,
        ownLabels: labels,
        parents: profileIds,
        nets: exact(ips.map(toCidr)),
        addresses: exact(ips.map((ip) => ip.toLowerCase())),
        ports: namedPorts(s.ports),
      };
      if (str(s.node) === nodeName) {
        const local: LocalEndpointModel = {
          kind: 'host',
          outputId: r.metadata.name,
          namespace: '',
          name: r.metadata.name,
          ipv4Nets: none(),
          ipv6Nets: none(),
          expectedIPs: ips,
          profileIds,
        };
        const iface = str(s.interfaceName);
        if (iface) local.interfaceName = iface;
        model.local = local;
      }
      return model;
    }
    case 'NetworkSet': {
      const namespace = ns ?? 'default';
      labels[LABEL_NAMESPACE] = namespace;
      // Namespaced network sets inherit their namespace's labels like endpoints do.
      return {
        id: flat('ns:', namespace, '/', r.metadata.name),
        isEndpoint: false,
        namespace,
        ownLabels: labels,
        parents: [`kns.${namespace}`],
        nets: exact(strings(s.nets).map(toCidr)),
        addresses: none(),
        ports: none(),
      };
    }
    case 'GlobalNetworkSet':
      return {
        id: flat('gns:', r.metadata.name),
        isEndpoint: false,
        ownLabels: labels,
        parents: none(),
        nets: exact(strings(s.nets).map(toCidr)),
        addresses: none(),
        ports: none(),
      };
    default:
      return undefined;
  }
}

/** Stable id of a labelled item from a resource key (for deletions, where only the key is known). */
export function labelledIdOf(key: { kind: string; name: string; namespace?: string }): string | undefined {
  switch (key.kind) {
    case 'WorkloadEndpoint':
      return `wep:${key.namespace ?? 'default'}/${key.name}`;
    case 'HostEndpoint':
      return `hep:${key.name}`;
    case 'NetworkSet':
      return `ns:${key.namespace ?? 'default'}/${key.name}`;
    case 'GlobalNetworkSet':
      return `gns:${key.name}`;
    default:
      return undefined;
  }
}
