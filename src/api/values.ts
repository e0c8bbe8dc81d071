// Checks for the value types Calico's API shares across kinds: CIDRs and
// addresses, ports and port ranges, protocols, AS numbers, durations and
// selectors. Each records an issue naming what would be valid and returns the
// stored (canonical) form.
import { formatCIDR, formatIP, normalizeMAC, tryParseCIDR, tryParseCIDRWithIP, tryParseIP, type IPFamily } from '../base/ip.js';
import { parseSelector, SelectorParseError, usesGlobal } from '../selector/index.js';
import { portNameProblem } from './names.js';
import { describe, scalarAsString, type Check } from './validate.js';

export interface NetOptions {
  family?: IPFamily;
  /** Accept a bare address as a /32 or /128 (Calico does for nets and ipNetworks). */
  allowBareIP?: boolean;
  /** Reject `192.0.2.5/24` instead of storing 192.0.2.0/24. */
  strict?: boolean;
}

const familyName = (f: IPFamily): string => (f === 4 ? 'IPv4' : 'IPv6');

/** A CIDR; stored masked and canonical (`2001:DB8::1/64` -> `2001:db8::/64`). */
export function cidr(opts: NetOptions = {}): Check<string> {
  return (v, at) => {
    if (typeof v !== 'string') {
      at.add(`must be a CIDR string such as "192.0.2.0/24" or "2001:db8::/64", got ${describe(v)}`);
      return v as string;
    }
    let parsed = tryParseCIDRWithIP(v);
    if (!parsed && opts.allowBareIP) {
      const ip = tryParseIP(v);
      if (ip) parsed = tryParseCIDRWithIP(`${v}/${ip.family === 4 ? 32 : 128}`);
    }
    if (!parsed) {
      const example = opts.family === 6 ? '"2001:db8::/64"' : opts.family === 4 ? '"192.0.2.0/24"' : '"192.0.2.0/24" or "2001:db8::/64"';
      at.add(`${describe(v)} is not a valid ${opts.family ? familyName(opts.family) + ' ' : ''}CIDR: expected an address and prefix length such as ${example}`);
      return v;
    }
    if (opts.family && parsed.cidr.family !== opts.family) {
      at.add(`${describe(v)} is an ${familyName(parsed.cidr.family)} CIDR: must be ${familyName(opts.family)}`);
      return v;
    }
    if (opts.strict && parsed.hadHostBits) {
      at.add(`${describe(v)} has host bits set: did you mean "${formatCIDR(parsed.cidr)}"?`);
      return v;
    }
    return formatCIDR(parsed.cidr);
  };
}

/**
 * Calico's "net": a single address, or a CIDR without host bits; kept in the
 * form given (address or CIDR), canonical.
 */
export const addressOrNetwork: Check<string> = (v, at) => {
  if (typeof v === 'string' && !v.includes('/')) {
    const ip = tryParseIP(v);
    if (ip) return formatIP(ip);
  }
  return cidr({ strict: true })(v, at);
};

/** An address with its prefix length, host bits kept (a node's `192.0.2.10/24`). */
export function addressWithPrefix(family: IPFamily): Check<string> {
  return (v, at) => {
    const parsed = typeof v === 'string' ? tryParseCIDRWithIP(v.includes('/') ? v : `${v}/${family === 4 ? 32 : 128}`) : undefined;
    if (!parsed || parsed.ip.family !== family) {
      at.add(`${describe(v)} is not valid: must be an ${familyName(family)} address with optional prefix length, such as ${family === 4 ? '"192.0.2.10/24"' : '"2001:db8::10/64"'}`);
      return v as string;
    }
    return `${formatIP(parsed.ip)}/${parsed.cidr.prefixLength}`;
  };
}

/** A single address, stored canonical. */
export function ipAddress(family?: IPFamily): Check<string> {
  return (v, at) => {
    const ip = typeof v === 'string' ? tryParseIP(v) : undefined;
    if (!ip || (family && ip.family !== family)) {
      const want = family ? `an ${familyName(family)} address` : 'an IPv4 or IPv6 address';
      at.add(`${describe(v)} is not valid: must be ${want}, such as ${family === 6 ? '"2001:db8::1"' : '"192.0.2.1"'}`);
      return v as string;
    }
    return formatIP(ip);
  };
}

export const macAddress: Check<string> = (v, at) => {
  const mac = typeof v === 'string' ? normalizeMAC(v) : undefined;
  if (!mac) {
    at.add(`${describe(v)} is not a valid MAC address: expected six hex pairs such as "ee:ee:ee:ee:ee:ee"`);
    return v as string;
  }
  return mac;
};

/** The IP family of a CIDR or address string (already validated), if it parses. */
export function familyOf(text: string): IPFamily | undefined {
  return (tryParseCIDR(text) ?? tryParseIP(text))?.family;
}

// ---- ports -------------------------------------------------------------

/** A rule port: a number, "min:max", or a named port. Stored as a number when single, else a string. */
export type Port = number | string;

export const PORT_HINT = 'a port number 1-65535, a range "min:max" such as "8080:8090", or a named port such as "http"';

export const port: Check<Port> = (v, at) => {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 1 || v > 65535) at.add(`${v} is not a valid port: must be ${PORT_HINT}`);
    return v;
  }
  if (typeof v !== 'string') {
    at.add(`must be ${PORT_HINT}, got ${describe(v)}`);
    return v as Port;
  }
  if (/^[0-9]+$/.test(v)) return port(Number(v), at);
  const range = /^([0-9]+):([0-9]+)$/.exec(v);
  if (range) {
    const min = Number(range[1]);
    const max = Number(range[2]);
    if (min < 1 || max > 65535 || min > 65535 || max < 1) {
      at.add(`"${v}" is not a valid port range: ports must be between 1 and 65535`);
    } else if (min > max) {
      at.add(`"${v}" is not a valid port range: the first port must not be greater than the second`);
    }
    return min === max ? min : v;
  }
  if (/[:\-]?[0-9]+[-:][0-9]+/.test(v) && /^[0-9]/.test(v)) {
    at.add(`"${v}" is not a valid port range: write ranges as "min:max", e.g. "8080:8090"`);
    return v;
  }
  const problem = portNameProblem(v);
  if (problem) at.add(`${problem}; or use ${PORT_HINT}`);
  return v;
};

export const isNamedPort = (p: Port): boolean => typeof p === 'string' && !/^[0-9]+(:[0-9]+)?$/.test(p);

// ---- protocols ---------------------------------------------------------

export const PROTOCOL_NAMES = ['TCP', 'UDP', 'ICMP', 'ICMPv6', 'SCTP', 'UDPLite'] as const;
export type ProtocolName = (typeof PROTOCOL_NAMES)[number];
/** A protocol by name or by IP protocol number. */
export type Protocol = ProtocolName | number;

const PROTOCOL_NUMBERS: Record<ProtocolName, number> = { TCP: 6, UDP: 17, ICMP: 1, ICMPv6: 58, SCTP: 132, UDPLite: 136 };

/**
 * Names are exact, as in Calico's validator ("tcp" is refused there too); a
 * case-only mistake gets a did-you-mean. A number may be given as a number or
 * a decimal string.
 */
export const protocol: Check<Protocol> = (v, at) => {
  if (typeof v === 'number' || (typeof v === 'string' && /^[0-9]+$/.test(v))) {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 255) {
      at.add(`${describe(v)} is not a valid protocol: numbers must be between 1 and 255, or use one of ${PROTOCOL_NAMES.join(', ')}`);
    }
    return n;
  }
  const name = typeof v === 'string' ? PROTOCOL_NAMES.find((p) => p === v) : undefined;
  if (!name) {
    const hint = typeof v === 'string' ? PROTOCOL_NAMES.find((p) => p.toLowerCase() === v.toLowerCase()) : undefined;
    at.add(`${describe(v)} is not a valid protocol${hint ? ` (did you mean "${hint}"?)` : ''}: must be one of ${PROTOCOL_NAMES.join(', ')} or a number 1-255`);
    return v as Protocol;
  }
  return name;
};

export const protocolNumber = (p: Protocol): number => (typeof p === 'number' ? p : PROTOCOL_NUMBERS[p]);

/** True for a value `protocol` accepted (cross-field rules skip values that already failed). */
export const isValidProtocol = (p: unknown): p is Protocol =>
  (typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= 255) || (typeof p === 'string' && p in PROTOCOL_NUMBERS);

/** Ports only mean something for these (Calico: TCP, UDP, SCTP; by name or number). */
export const protocolSupportsPorts = (p: Protocol): boolean => [6, 17, 132].includes(protocolNumber(p));

export const isICMPProtocol = (p: Protocol): 4 | 6 | undefined =>
  protocolNumber(p) === 1 ? 4 : protocolNumber(p) === 58 ? 6 : undefined;

// ---- AS numbers, durations --------------------------------------------

/** A 4-byte AS number: an integer, a decimal string, or "asdot" `high.low`. Stored as a number. */
export const asNumber: Check<number> = (v, at) => {
  let n: number | undefined;
  if (typeof v === 'number' && Number.isInteger(v)) n = v;
  else if (typeof v === 'string' && /^[0-9]+$/.test(v)) n = Number(v);
  else if (typeof v === 'string' && /^[0-9]+\.[0-9]+$/.test(v)) {
    const [hi, lo] = v.split('.').map(Number) as [number, number];
    n = hi <= 65535 && lo <= 65535 ? hi * 65536 + lo : -1;
  }
  if (n === undefined || n < 1 || n > 4294967295) {
    at.add(`${describe(v)} is not a valid AS number: must be 1-4294967295, or dotted "high.low" with each part 0-65535`);
    return v as number;
  }
  return n;
};

const DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds in a Go duration string ("1m30s", "250ms", "0"), or undefined if it is not one. */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total;
}

export const duration: Check<string> = (raw, at) => {
  const v = scalarAsString(raw);
  if (typeof v !== 'string' || parseDuration(v) === undefined) {
    at.add(`${describe(v)} is not a valid duration: use a number with a unit, such as "90s", "1m30s", "250ms" or "2h"`);
  }
  return v as string;
};

// ---- selectors ---------------------------------------------------------

export interface SelectorOptions {
  /** global() is only meaningful in an entity rule's namespaceSelector. */
  allowGlobal?: boolean;
}

/** Calico's schema limit on every selector field. */
export const SELECTOR_MAX = 1024;

/** A selector expression; "" means "all" where Calico allows it empty. */
export function selector(opts: SelectorOptions = {}): Check<string> {
  return (v, at) => {
    if (typeof v !== 'string') {
      at.add(`must be a selector string such as "role == 'db'", got ${describe(v)}`);
      return v as string;
    }
    if (v.trim() === '') return v;
    if (v.length > SELECTOR_MAX) {
      at.add(`is ${v.length} characters long: selectors are at most ${SELECTOR_MAX}`);
      return v;
    }
    let parsed;
    try {
      parsed = parseSelector(v);
    } catch (err) {
      // SelectorParseError's message already names the selector; say it once.
      at.add(err instanceof SelectorParseError ? err.message : `invalid selector ${JSON.stringify(v)}: ${String(err)}`);
      return v;
    }
    if (!opts.allowGlobal && usesGlobal(parsed)) {
      at.add('global() can only be used in a rule\'s namespaceSelector');
    }
    return v;
  };
}
