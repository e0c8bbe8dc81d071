// Default IP pools, decided as calico/node decides them at start-up
// (startup.go configureIPPools), pure: the environment, the stored pools, the
// host's addresses and random bytes are passed in.
//
//   NO_DEFAULT_POOLS=true          no pools at all (and then no CALICO_IPV*POOL_CIDR)
//   CALICO_IPV4POOL_CIDR           default 192.168.0.0/16, or the first of
//                                  172.16-31.0.0/16 holding no host address
//                                  ("none": no IPv4 pool)
//   CALICO_IPV6POOL_CIDR           default a random ULA fdXX:XXXX:XXXX::/48
//                                  ("none": no IPv6 pool; none either when
//                                  FELIX_IPV6SUPPORT=false or the kernel has no IPv6)
//   CALICO_IPV{4,6}POOL_BLOCK_SIZE 26 / 122 (20-32 / 116-128)
//   CALICO_IPV4POOL_IPIP, CALICO_IPV{4,6}POOL_VXLAN   Never only (see ip-pool.ts)
//   CALICO_IPV4POOL_NAT_OUTGOING   default true; IPv6 default false
//   CALICO_IPV{4,6}POOL_NODE_SELECTOR, CALICO_IPV{4,6}POOL_DISABLE_BGP_EXPORT
// A pool is created only when no pool of its family exists (any name, even
// disabled), under the fixed name default-ipv4-ippool / default-ipv6-ippool:
// nodes starting together race on that one name and exactly one create wins.
import type { FieldIssue } from '../base/errors.js';
import { cidrContainsIP, formatCIDR, parseCIDR, tryParseCIDRWithIP, tryParseIP } from '../base/ip.js';
import type { IPFamily } from '../base/ip.js';
import { API_VERSION } from '../api/kinds.js';
import { BLOCK_SIZE_RANGE, DEFAULT_BLOCK_SIZE } from '../api/kinds/ip-pool.js';
import { validateResource } from '../api/index.js';
import { ValidationError } from '../base/errors.js';
import type { Resource } from '../api/resource.js';

type Env = Record<string, string | undefined>;

export const DEFAULT_POOL_NAMES = { 4: 'default-ipv4-ippool', 6: 'default-ipv6-ippool' } as const;
export const DEFAULT_IPV4_POOL_CIDR = '192.168.0.0/16';

export interface DefaultPoolSettings {
  family: IPFamily;
  /** Undefined: Calico's default (decided at start-up from the host / random bytes). */
  cidr?: string;
  blockSize: number;
  ipipMode: 'Never';
  vxlanMode: 'Never';
  natOutgoing: boolean;
  disableBGPExport: boolean;
  nodeSelector: string;
}

export interface DefaultPoolsConfig {
  /** NO_DEFAULT_POOLS=true. */
  disabled: boolean;
  /** Undefined when that family's CIDR is "none". */
  ipv4?: DefaultPoolSettings;
  ipv6?: DefaultPoolSettings;
  /** FELIX_IPV6SUPPORT (default true): false means no default IPv6 pool. */
  ipv6Support: boolean;
}

const FALSE_WORDS = ['false', '0', 'no', 'n', 'f'];
const TRUE_WORDS = ['true', '1', 'yes', 'y', 't'];

/**
 * calico/node's evaluateENVBool accepts false/0/no/n/f as false and takes
 * anything else as true; a typo would silently mean true, so any other word is
 * refused here. Empty counts as unset.
 */
export function envBool(env: Env, name: string, def: boolean, issues: FieldIssue[]): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return def;
  if (FALSE_WORDS.includes(raw)) return false;
  if (TRUE_WORDS.includes(raw)) return true;
  issues.push({ path: name, message: `"${env[name]}" is not a boolean: use true or false` });
  return def;
}

/** The fields of the pool resource each variable fills in, to name the variable when validation refuses a field. */
const VARIABLE_OF_FIELD: Record<string, (v: 4 | 6) => string> = {
  'spec.cidr': (v) => `CALICO_IPV${v}POOL_CIDR`,
  'spec.blockSize': (v) => `CALICO_IPV${v}POOL_BLOCK_SIZE`,
  'spec.ipipMode': () => 'CALICO_IPV4POOL_IPIP',
  'spec.vxlanMode': (v) => `CALICO_IPV${v}POOL_VXLAN`,
  'spec.nodeSelector': (v) => `CALICO_IPV${v}POOL_NODE_SELECTOR`,
  'spec.natOutgoing': (v) => `CALICO_IPV${v}POOL_NAT_OUTGOING`,
  'spec.disableBGPExport': (v) => `CALICO_IPV${v}POOL_DISABLE_BGP_EXPORT`,
};

/** calico/node's encapsulation words ("", off, never, always, crosssubnet, cross-subnet; any case) as the IPPool enum. */
function encapMode(env: Env, name: string, issues: FieldIssue[]): string {
  const raw = (env[name] ?? '').trim();
  const word = raw.toLowerCase();
  if (word === '' || word === 'off' || word === 'never') return 'Never';
  if (word === 'always') return 'Always';
  if (word === 'crosssubnet' || word === 'cross-subnet') return 'CrossSubnet';
  issues.push({ path: name, message: `"${raw}" is not an encapsulation mode: use Never (calico/node also knows Always and CrossSubnet, which calico-ts refuses)` });
  return 'Never';
}

function poolSettings(env: Env, family: IPFamily, issues: FieldIssue[]): DefaultPoolSettings | undefined {
  const prefix = `CALICO_IPV${family}POOL_`;
  const cidrText = (env[`${prefix}CIDR`] ?? '').trim();
  if (cidrText === 'none') return undefined;
  const blockText = (env[`${prefix}BLOCK_SIZE`] ?? '').trim();
  let blockSize: number = DEFAULT_BLOCK_SIZE[family];
  if (blockText !== '') {
    const [min, max] = BLOCK_SIZE_RANGE[family];
    const n = /^[0-9]+$/.test(blockText) ? Number(blockText) : Number.NaN;
    if (!Number.isInteger(n) || n < min || n > max) issues.push({ path: `${prefix}BLOCK_SIZE`, message: `"${blockText}" is not a block size for IPv${family}: use a prefix length from ${min} to ${max} (default ${DEFAULT_BLOCK_SIZE[family]})` });
    else blockSize = n;
  }
  let cidr: string | undefined;
  if (cidrText !== '') {
    // calico/node parses with ParseCIDR, which keeps only the network: 198.18.1.5/24 means 198.18.1.0/24.
    const parsed = tryParseCIDRWithIP(cidrText);
    if (!parsed || parsed.cidr.family !== family) {
      issues.push({ path: `${prefix}CIDR`, message: `"${cidrText}" is not an IPv${family} CIDR: give <network>/<prefix>, e.g. ${family === 4 ? '198.18.0.0/16' : '2001:db8:1::/48'}, or "none" for no IPv${family} pool` });
    } else cidr = formatCIDR(parsed.cidr);
  }
  const ipipMode = family === 4 ? encapMode(env, `${prefix}IPIP`, issues) : 'Never';
  const vxlanMode = encapMode(env, `${prefix}VXLAN`, issues);
  const settings = {
    family,
    blockSize,
    ipipMode,
    vxlanMode,
    natOutgoing: envBool(env, `${prefix}NAT_OUTGOING`, family === 4, issues),
    disableBGPExport: envBool(env, `${prefix}DISABLE_BGP_EXPORT`, false, issues),
    nodeSelector: (env[`${prefix}NODE_SELECTOR`] ?? '').trim(),
    ...(cidr ? { cidr } : {}),
  };
  // The IPPool rules (selector syntax, encapsulation, block vs CIDR size) checked now, before anything is written.
  const sample = family === 4 ? DEFAULT_IPV4_POOL_CIDR : 'fd00::/48';
  try {
    validateResource(poolResource({ ...settings, cidr: cidr ?? sample } as DefaultPoolSettings & { cidr: string }));
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    for (const i of err.issues) issues.push({ path: VARIABLE_OF_FIELD[i.path]?.(family) ?? `${prefix}*`, message: i.message });
  }
  return settings as DefaultPoolSettings;
}

/** Reads every default-pool variable; problems go to `issues`, each naming its variable. */
export function defaultPoolsFromEnv(env: Env, issues: FieldIssue[]): DefaultPoolsConfig {
  const noDefault = (env.NO_DEFAULT_POOLS ?? '').trim().toLowerCase();
  const disabled = noDefault === 'true';
  if (noDefault !== '' && noDefault !== 'true' && noDefault !== 'false') {
    issues.push({ path: 'NO_DEFAULT_POOLS', message: `"${env.NO_DEFAULT_POOLS}" is not true or false (calico/node treats anything but "true" as false)` });
  }
  const ipv6Support = envBool(env, 'FELIX_IPV6SUPPORT', true, []);
  if (disabled) {
    const set = ['CALICO_IPV4POOL_CIDR', 'CALICO_IPV6POOL_CIDR'].filter((v) => (env[v] ?? '') !== '');
    for (const v of set) issues.push({ path: v, message: `cannot be set together with NO_DEFAULT_POOLS=true: remove one of them` });
    return { disabled, ipv6Support };
  }
  const out: DefaultPoolsConfig = { disabled, ipv6Support };
  const v4 = poolSettings(env, 4, issues);
  const v6 = poolSettings(env, 6, issues);
  if (v4) out.ipv4 = v4;
  if (v6) out.ipv6 = v6;
  return out;
}

/** calico/node's default IPv4 pool: 192.168.0.0/16 unless a host address is in it, then the first free 172.16-31.0.0/16, else 192.168.0.0/16 anyway. */
export function defaultIPv4PoolCIDR(hostAddresses: string[]): string {
  const ips = hostAddresses.map((a) => tryParseIP(a)).filter((ip) => ip?.family === 4);
  const free = (cidr: string) => !ips.some((ip) => cidrContainsIP(parseCIDR(cidr), ip!));
  if (free(DEFAULT_IPV4_POOL_CIDR)) return DEFAULT_IPV4_POOL_CIDR;
  for (let i = 16; i <= 31; i++) if (free(`172.${i}.0.0/16`)) return `172.${i}.0.0/16`;
  return DEFAULT_IPV4_POOL_CIDR;
}

/** calico/node's default IPv6 pool: an RFC 4193 ULA /48, fd followed by 40 random bits. */
export function ulaPrefix(random: Uint8Array): string {
  if (random.length < 5) throw new RangeError('ulaPrefix needs 5 random bytes');
  const b = [0xfd, ...random.slice(0, 5)];
  const hex = (i: number) => ((b[i]! << 8) | b[i + 1]!).toString(16);
  return formatCIDR(parseCIDR(`${hex(0)}:${hex(2)}:${hex(4)}::/48`));
}

export function poolResource(p: DefaultPoolSettings & { cidr: string }): Resource {
  const spec: Record<string, unknown> = {
    cidr: p.cidr,
    blockSize: p.blockSize,
    ipipMode: p.ipipMode,
    vxlanMode: p.vxlanMode,
    natOutgoing: p.natOutgoing,
    disableBGPExport: p.disableBGPExport,
  };
  if (p.nodeSelector !== '') spec.nodeSelector = p.nodeSelector;
  return { apiVersion: API_VERSION, kind: 'IPPool', metadata: { name: DEFAULT_POOL_NAMES[p.family] }, spec };
}

export interface DefaultPoolsPlan {
  create: Resource[];
  /** Why a family gets no pool, for the log. */
  skipped: Array<{ family: IPFamily; reason: string }>;
}

/** Which default pools to create now, given the stored pools. */
export function planDefaultPools(config: DefaultPoolsConfig, facts: { existingPools: Resource[]; hostAddresses: string[]; ipv6Supported: boolean; randomBytes: (n: number) => Uint8Array }): DefaultPoolsPlan {
  const plan: DefaultPoolsPlan = { create: [], skipped: [] };
  if (config.disabled) {
    plan.skipped.push({ family: 4, reason: 'NO_DEFAULT_POOLS=true' }, { family: 6, reason: 'NO_DEFAULT_POOLS=true' });
    return plan;
  }
  const present = (family: IPFamily) =>
    facts.existingPools.find((p) => tryParseCIDRWithIP(String((p.spec as { cidr?: unknown } | undefined)?.cidr ?? ''))?.cidr.family === family);
  for (const family of [4, 6] as const) {
    const settings = family === 4 ? config.ipv4 : config.ipv6;
    if (!settings) {
      plan.skipped.push({ family, reason: `CALICO_IPV${family}POOL_CIDR=none` });
      continue;
    }
    const existing = present(family);
    if (existing) {
      plan.skipped.push({ family, reason: `IPPool ${existing.metadata.name} already holds IPv${family} addresses` });
      continue;
    }
    if (family === 6 && !(config.ipv6Support && facts.ipv6Supported)) {
      plan.skipped.push({ family, reason: config.ipv6Support ? 'IPv6 is not available on this host (/proc/sys/net/ipv6 is missing)' : 'FELIX_IPV6SUPPORT=false' });
      continue;
    }
    const cidr = settings.cidr ?? (family === 4 ? defaultIPv4PoolCIDR(facts.hostAddresses) : ulaPrefix(facts.randomBytes(5)));
    plan.create.push(poolResource({ ...settings, cidr }));
  }
  return plan;
}
