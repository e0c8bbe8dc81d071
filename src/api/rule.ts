// Policy rules, shared by NetworkPolicy, GlobalNetworkPolicy and Profile.
// A rule matches on protocol, ICMP type/code, IP version and on the source and
// destination (nets, selectors, ports, service accounts; services are rejected); the first
// rule that matches decides with its action.
import type { IPFamily } from '../base/ip.js';
import { resourceName } from './names.js';
import { int, list, map, named, obj, oneOf, str, type Check, type Cursor } from './validate.js';
import { labelKey, annotationValue } from './names.js';
import {
  cidr,
  familyOf,
  isICMPProtocol,
  isNamedPort,
  isValidProtocol,
  port,
  protocol,
  protocolSupportsPorts,
  selector,
  type Port,
  type Protocol,
} from './values.js';

export const ACTIONS = ['Allow', 'Deny', 'Log', 'Pass'] as const;
export type Action = (typeof ACTIONS)[number];

export const POLICY_TYPES = ['Ingress', 'Egress'] as const;
export type PolicyType = (typeof POLICY_TYPES)[number];

export interface ICMPFields {
  /** 0-254 (255 is reserved). */
  type?: number;
  /** 0-255; only with a type. */
  code?: number;
}

export interface ServiceAccountMatch {
  names?: string[];
  selector?: string;
}

export interface ServiceMatch {
  name: string;
  namespace?: string;
}

export interface EntityRule {
  nets?: string[];
  notNets?: string[];
  selector?: string;
  notSelector?: string;
  namespaceSelector?: string;
  ports?: Port[];
  notPorts?: Port[];
  serviceAccounts?: ServiceAccountMatch;
  services?: ServiceMatch;
}

export interface HTTPPath {
  exact?: string;
  prefix?: string;
}

export interface HTTPMatch {
  methods?: string[];
  paths?: HTTPPath[];
}

export interface Rule {
  action: Action;
  ipVersion?: 4 | 6;
  protocol?: Protocol;
  notProtocol?: Protocol;
  icmp?: ICMPFields;
  notICMP?: ICMPFields;
  source?: EntityRule;
  destination?: EntityRule;
  http?: HTTPMatch;
  metadata?: { annotations?: Record<string, string> };
}

const icmpFields: Check<ICMPFields> = obj<ICMPFields>(
  { type: int({ min: 0, max: 254 }), code: int({ min: 0, max: 255 }) },
  {
    refine: (o, at) => {
      if (o.code !== undefined && o.type === undefined) {
        at.field('code').add('ICMP code specified without an ICMP type: set type as well');
      }
    },
  },
);

export const SERVICES_UNSUPPORTED = 'services matches are not supported by calico-ts (no Kubernetes Service data); use selector or nets';

const entityRule: Check<EntityRule> = named('EntityRule', obj<EntityRule>(
  {
    // Calico's "net": an address, or a CIDR without host bits (192.0.2.5/24 is
    // refused with the masked form); each list is a set.
    nets: list(cidr({ allowBareIP: true, strict: true }), { maxItems: 256, unique: true }),
    notNets: list(cidr({ allowBareIP: true, strict: true }), { maxItems: 256, unique: true }),
    selector: selector(),
    notSelector: selector(),
    namespaceSelector: selector({ allowGlobal: true }),
    ports: list(port, { maxItems: 50 }),
    notPorts: list(port, { maxItems: 50 }),
    serviceAccounts: obj<ServiceAccountMatch>({ names: list(str({ allowEmpty: false }), { unique: true }), selector: selector() }),
    services: obj<ServiceMatch>({ name: resourceName('service name'), namespace: resourceName('namespace') }, { required: ['name'] }),
  },
  {
    refine: (e, at) => {
      if (e.namespaceSelector?.includes('global(') && e.namespaceSelector.trim() !== 'global()') {
        at.field('namespaceSelector').add('global() cannot be combined with other selectors');
      }
      for (const n of e.notNets ?? []) {
        if (n === '0.0.0.0/0' || n === '::/0') {
          at.field('notNets').add(`"${n}" in notNets matches no traffic at all: remove it or use nets`);
        }
      }
      // Calico resolves services from Kubernetes Service/EndpointSlice data, which
      // calico-ts does not have: accepting the field would make the rule unconditional.
      if (e.services !== undefined) at.field('services').add(SERVICES_UNSUPPORTED);
    },
  },
));

const httpPath = str({ maxLength: 1024, pattern: /^\/[^?# ]*$/, patternHint: 'a path starting with "/" without "?", "#" or spaces' });

const httpMatch: Check<HTTPMatch> = obj<HTTPMatch>({
  methods: list(str({ allowEmpty: false }), { unique: true, maxItems: 20 }),
  paths: list(
    obj<HTTPPath>(
      {
        exact: httpPath,
        prefix: httpPath,
      },
      {
        refine: (p, at) => {
          if ((p.exact === undefined) === (p.prefix === undefined)) at.add('set exactly one of exact or prefix');
        },
      },
    ),
    { maxItems: 20 },
  ),
});

export interface RuleContext {
  direction: 'ingress' | 'egress';
  /** GlobalNetworkPolicy (kept for callers; services, which needed it, are rejected). */
  global: boolean;
}

const PORT_FIELDS = ['ports', 'notPorts'] as const;
const NET_FIELDS = ['nets', 'notNets'] as const;

export function rule(ctx: RuleContext): Check<Rule> {
  return obj<Rule>(
    {
      action: oneOf(ACTIONS),
      ipVersion: (v, at) => {
        if (v !== 4 && v !== 6) at.add(`${JSON.stringify(v)} is not valid: ipVersion must be 4 or 6`);
        return v;
      },
      protocol,
      notProtocol: protocol,
      icmp: icmpFields,
      notICMP: icmpFields,
      source: entityRule,
      destination: entityRule,
      http: httpMatch,
      metadata: obj({ annotations: map(labelKey, annotationValue) }),
    },
    { required: ['action'], refine: (r, at) => refineRule(r, { at, ctx }) },
  );
}

function refineRule(rIn: Rule, { at, ctx }: { at: Cursor; ctx: RuleContext }): void {
  // Fields that already failed their own check take no part in cross-field rules.
  const r: Rule = { ...rIn };
  if (r.protocol !== undefined && !isValidProtocol(r.protocol)) return;
  if (r.notProtocol !== undefined && !isValidProtocol(r.notProtocol)) delete r.notProtocol;
  if (r.ipVersion !== undefined && r.ipVersion !== 4 && r.ipVersion !== 6) delete r.ipVersion;
  // Ports need a protocol that has them, as in Calico: numeric ports and
  // ranges need protocol TCP, UDP or SCTP; named ports may go without one and
  // then match each endpoint port of that name with that port's own protocol
  // (Felix's "any" named-port sets). A protocol without ports rejects both.
  for (const side of ['source', 'destination'] as const) {
    for (const f of PORT_FIELDS) {
      const ports = r[side]?.[f];
      if (!ports || ports.length === 0) continue;
      const p = at.field(side).field(f);
      if (r.protocol === undefined) {
        if (!ports.every((x) => isNamedPort(x))) {
          p.add(`rules with a numeric port or port range in ${f} must set protocol to TCP, UDP or SCTP (or 6, 17, 132); only named ports may go without a protocol`);
        }
      } else if (!protocolSupportsPorts(r.protocol)) {
        p.add(`protocol ${r.protocol} has no ports: rules that specify ports must set protocol to TCP, UDP or SCTP`);
      }
    }
  }

  // ICMP matches only mean something for an ICMP protocol of the right family.
  for (const f of ['icmp', 'notICMP'] as const) {
    if (r[f] === undefined) continue;
    if (r.protocol === undefined || isICMPProtocol(r.protocol) === undefined) {
      at.field(f).add(`ICMP fields require protocol to be ICMP or ICMPv6${r.protocol !== undefined ? ` (protocol is ${r.protocol})` : ''}`);
    }
  }
  for (const f of ['protocol', 'notProtocol'] as const) {
    const p = r[f];
    const fam = p === undefined ? undefined : isICMPProtocol(p);
    if (fam !== undefined && r.ipVersion !== undefined && fam !== r.ipVersion) {
      at.field(f).add(`protocol ${p} requires ipVersion ${fam} (ipVersion is ${r.ipVersion})`);
    }
  }

  // One rule is one IP family: its CIDRs must agree with each other and with ipVersion.
  const families = new Set<IPFamily>();
  for (const side of ['source', 'destination'] as const) {
    for (const f of NET_FIELDS) {
      const nets = r[side]?.[f] ?? [];
      const p = at.field(side).field(f);
      for (const n of nets) {
        const fam = familyOf(n);
        if (fam === undefined) continue;
        if (r.ipVersion !== undefined && fam !== r.ipVersion) {
          p.add(`"${n}" is an IPv${fam} CIDR but the rule has ipVersion ${r.ipVersion}`);
        } else if (families.size > 0 && !families.has(fam)) {
          p.add(`"${n}" is IPv${fam} but the rule already has IPv${fam === 4 ? 6 : 4} CIDRs: a rule contains one IP family; split it into two rules`);
        }
        families.add(fam);
      }
    }
  }

  if (r.http) {
    if (r.action !== 'Allow') at.field('http').add('HTTP match is only valid on Allow rules');
    if (r.protocol !== undefined && r.protocol !== 'TCP' && r.protocol !== 6) {
      at.field('http').add('rules with an HTTP match must have protocol TCP or none');
    }
    if (ctx.direction === 'egress') at.field('http').add('HTTP match is not allowed in egress rules');
  }

  // services: rejected for every rule side (see entityRule).
}

export const rules = (ctx: RuleContext): Check<Rule[]> => list(named('Rule', rule(ctx)), { maxItems: 1024 });
