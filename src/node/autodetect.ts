// Node address selection. Never guesses silently: every result carries the
// reason, which the agent logs. Pure: the interface list is passed in (main.ts
// reads it with os.networkInterfaces(), i.e. in the agent's network namespace).
// Methods as calico/node: first-found (default), interface=<regex>,
// skip-interface=<regex>, cidr=<cidr>[,<cidr>...].

export interface HostAddress {
  iface: string;
  /** Plain address. */
  address: string;
  prefixLength: number;
  family: 4 | 6;
  internal: boolean;
}

export type AddressChoice = { ok: true; cidr: string; reason: string } | { ok: false; reason: string };

/** Interfaces calico/node never picks with first-found: container bridges, our own veths, tunnels. */
const EXCLUDED = /^(docker.*|cbr.*|dummy.*|virbr.*|lxcbr.*|veth.*|lo|cali.*|tunl.*|flannel.*|kube-ipvs.*|cni.*|vxlan.*|wireguard.*|nodelocaldns.*)$/;

function inCidr(address: string, cidr: string): boolean {
  const [net, lenText] = cidr.split('/');
  const len = Number(lenText ?? (net!.includes(':') ? 128 : 32));
  const a = toBits(address);
  const n = toBits(net!);
  if (a === undefined || n === undefined || a.length !== n.length) return false;
  return a.slice(0, len) === n.slice(0, len);
}

function toBits(address: string): string | undefined {
  if (!address.includes(':')) {
    const parts = address.split('.').map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
    return parts.map((p) => p.toString(2).padStart(8, '0')).join('');
  }
  const [head, tail] = address.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) return undefined;
  return groups.map((g) => parseInt(g || '0', 16).toString(2).padStart(16, '0')).join('');
}

const isLinkLocal = (a: HostAddress) => (a.family === 4 ? a.address.startsWith('169.254.') : a.address.toLowerCase().startsWith('fe80'));

export function chooseNodeAddress(addresses: HostAddress[], opts: { family: 4 | 6; method: string }): AddressChoice {
  const usable = addresses
    .filter((a) => a.family === opts.family && !a.internal && !isLinkLocal(a))
    .sort((a, b) => (a.iface === b.iface ? (a.address < b.address ? -1 : 1) : a.iface < b.iface ? -1 : 1));
  const method = opts.method.trim();
  const pick = (list: HostAddress[], why: string): AddressChoice => {
    const a = list[0];
    if (!a) return { ok: false, reason: `no IPv${opts.family} address matched ${why}` };
    return { ok: true, cidr: `${a.address}/${a.prefixLength}`, reason: `${why}: first of ${list.length} candidate(s), interface ${a.iface}` };
  };
  if (method === '' || method === 'first-found') {
    return pick(
      usable.filter((a) => !EXCLUDED.test(a.iface)),
      'autodetection method first-found (skipping loopback, link-local and container/tunnel interfaces)',
    );
  }
  if (method.startsWith('interface=')) {
    const re = new RegExp(`^(${method.slice('interface='.length)})$`);
    return pick(usable.filter((a) => re.test(a.iface)), `autodetection method ${method}`);
  }
  if (method.startsWith('skip-interface=')) {
    const re = new RegExp(`^(${method.slice('skip-interface='.length)})$`);
    return pick(usable.filter((a) => !re.test(a.iface) && !EXCLUDED.test(a.iface)), `autodetection method ${method}`);
  }
  if (method.startsWith('cidr=')) {
    const cidrs = method.slice('cidr='.length).split(',').map((s) => s.trim());
    return pick(usable.filter((a) => cidrs.some((c) => inCidr(a.address, c))), `autodetection method ${method}`);
  }
  return { ok: false, reason: `unsupported autodetection method "${method}" (use first-found, interface=, skip-interface= or cidr=)` };
}
