// Fakes of the CNI ports sharing one op log, so a test reads the whole story
// of an ADD (and its rollback) in order. `failOn(op)` makes the named
// operation throw the next time it is called. Reads are not logged.
import type { Resource } from '../api/resource.js';
import { CalicoError } from '../base/errors.js';
import type { CniCluster, CniEndpoints, CniHost, CniIpam, CniNetwork, CniPorts, LinkState, PluginExec } from './ports.js';
import type { ContainerPlan } from './plan.js';

interface FakeLink {
  ifindex: number;
  peer?: string;
  mac: string;
  mtu: number;
  up: boolean;
  addresses: string[];
  routes: { dst: string; gw?: string }[];
}

export class FakeCniWorld {
  readonly ops: string[] = [];
  readonly logs: string[] = [];
  /** handleId -> IPs; node of each handle */
  readonly handles = new Map<string, string[]>();
  readonly handleNodes = new Map<string, string>();
  readonly weps = new Map<string, Resource>();
  readonly profiles = new Map<string, Resource>();
  readonly nodes = new Set<string>(['host1']);
  readonly addressSpaces = new Set<string>(['tenant-a']);
  datastoreReadyFlag: boolean | undefined = true;
  datastoreDown = false;
  /** Host links by name; container links by `<netns>/<ifName>`. `peer` is the other end's key. */
  readonly hostLinks = new Map<string, FakeLink>();
  readonly containerLinks = new Map<string, FakeLink>();
  readonly netnses = new Set<string>();
  readonly files = new Map<string, string>();
  /** Files that appear this many ms after a wait starts (calico-node "programs" the endpoint). */
  readonly filesAppearing = new Map<string, number>();
  readonly waits: { path: string; timeoutMs: number }[] = [];
  readonly gates = new Map<string, boolean>();
  /** Delegated plugins: type -> handler. */
  readonly delegates = new Map<string, (command: string, stdin: string) => { exitCode: number; stdout: string }>();
  private free: string[];
  private nextIndex = 10;
  private failures = new Map<string, Error>();

  constructor(opts: { pool?: string[]; netnses?: string[] } = {}) {
    this.free = [...(opts.pool ?? ['198.18.0.1', '198.18.0.2', '198.18.0.3', '2001:db8::1', '2001:db8::2'])];
    for (const n of opts.netnses ?? ['/var/run/netns/c1']) this.netnses.add(n);
    this.files.set('/var/lib/calico/nodename', 'host1');
  }

  failOn(op: string, err: Error = new Error(`injected failure in ${op}`)): void {
    this.failures.set(op, err);
  }

  private step(op: string, detail: string): void {
    this.ops.push(`${op} ${detail}`.trim());
    const err = this.failures.get(op);
    if (err) {
      this.failures.delete(op);
      this.ops.push(`! ${op} failed`);
      throw err;
    }
  }

  private read(): void {
    if (this.datastoreDown) throw new CalicoError('unavailable', 'etcd: connection refused', { retryable: true });
  }

  private linkState(l: FakeLink): LinkState {
    const peer = l.peer ? (this.hostLinks.get(l.peer) ?? this.containerLinks.get(l.peer)) : undefined;
    return { ifindex: l.ifindex, ...(peer ? { peerIfindex: peer.ifindex } : {}), mac: l.mac, mtu: l.mtu, up: l.up, addresses: [...l.addresses] };
  }

  /** An interface in a container that we did not make (e.g. the runtime's). */
  addForeignContainerLink(netns: string, ifName: string): void {
    this.containerLinks.set(`${netns}/${ifName}`, { ifindex: this.nextIndex++, mac: '02:aa:00:00:00:01', mtu: 1500, up: true, addresses: [], routes: [] });
  }

  readonly ipam: CniIpam = {
    ipsByHandle: async (h) => {
      this.read();
      return [...(this.handles.get(h) ?? [])];
    },
    autoAssign: async (req) => {
      this.step('ipam.assign', req.handleId);
      const got: string[] = [];
      for (const [n, v6] of [[req.num4, false], [req.num6, true]] as const) {
        for (let i = 0; i < n; i++) {
          const at = this.free.findIndex((ip) => ip.includes(':') === v6);
          if (at < 0) {
            for (const ip of got) this.free.push(ip);
            throw new CalicoError('unavailable', `no free IPv${v6 ? 6 : 4} address`, { retryable: false });
          }
          got.push(this.free.splice(at, 1)[0]!);
        }
      }
      this.handles.set(req.handleId, [...(this.handles.get(req.handleId) ?? []), ...got]);
      this.handleNodes.set(req.handleId, req.host);
      return got;
    },
    assignIps: async (req) => {
      this.step('ipam.assignIps', `${req.handleId} ${req.ips.join(',')}`);
      for (const ip of req.ips) {
        const at = this.free.indexOf(ip);
        if (at < 0) throw new CalicoError('already-exists', `${ip} is already in use`);
        this.free.splice(at, 1);
      }
      this.handles.set(req.handleId, [...(this.handles.get(req.handleId) ?? []), ...req.ips]);
      this.handleNodes.set(req.handleId, req.host);
    },
    releaseByHandle: async (h) => {
      this.step('ipam.release', h);
      for (const ip of this.handles.get(h) ?? []) this.free.push(ip);
      this.handles.delete(h);
      this.handleNodes.delete(h);
    },
    handlesOnNode: async (node) => {
      this.read();
      return new Map([...this.handles].filter(([h]) => this.handleNodes.get(h) === node));
    },
    canAssign: async (req) => {
      this.read();
      for (const [n, v6] of [[req.num4, false], [req.num6, true]] as const) {
        if (n > this.free.filter((ip) => ip.includes(':') === v6).length) return { ok: false, reason: `no free IPv${v6 ? 6 : 4} address` };
      }
      return { ok: true };
    },
  };

  readonly endpoints: CniEndpoints = {
    get: async (ns, name) => {
      this.read();
      return this.weps.get(`${ns}/${name}`);
    },
    put: async (wep) => {
      this.step('wep.put', wep.metadata.name);
      this.weps.set(`${wep.metadata.namespace}/${wep.metadata.name}`, wep);
    },
    delete: async (ns, name) => {
      this.step('wep.delete', name);
      this.weps.delete(`${ns}/${name}`);
    },
    listOnNode: async (node) => {
      this.read();
      return [...this.weps.values()].filter((w) => (w.spec as { node?: string }).node === node);
    },
  };

  readonly cluster: CniCluster = {
    ensureProfile: async (p) => {
      this.read();
      if (this.profiles.has(p.metadata.name)) return 'exists';
      this.step('profile.create', p.metadata.name);
      this.profiles.set(p.metadata.name, p);
      return 'created';
    },
    datastoreReady: async () => {
      this.read();
      return this.datastoreReadyFlag;
    },
    nodeExists: async (node) => {
      this.read();
      return this.nodes.has(node);
    },
    addressSpaceExists: async (name) => {
      this.read();
      return this.addressSpaces.has(name);
    },
  };

  readonly network: CniNetwork = {
    netnsExists: async (n) => this.netnses.has(n),
    hostLink: async (name) => {
      const l = this.hostLinks.get(name);
      return l && this.linkState(l);
    },
    containerLink: async (netns, ifName) => {
      const l = this.containerLinks.get(`${netns}/${ifName}`);
      return l && this.linkState(l);
    },
    containerRoutes: async (netns, ifName) => [...(this.containerLinks.get(`${netns}/${ifName}`)?.routes ?? [])],
    createVeth: async (p: ContainerPlan) => {
      this.step('veth.create', `${p.hostIf}/${p.ifName}`);
      const ck = `${p.netns}/${p.ifName}`;
      if (this.containerLinks.has(ck)) throw new Error(`RTNETLINK answers: File exists (${p.ifName})`);
      this.hostLinks.set(p.hostIf, { ifindex: this.nextIndex++, peer: ck, mac: '02:00:00:00:00:99', mtu: p.mtu ?? 1500, up: false, addresses: [], routes: [] });
      this.containerLinks.set(ck, { ifindex: this.nextIndex++, peer: p.hostIf, mac: '02:00:00:00:00:01', mtu: p.mtu ?? 1500, up: false, addresses: [], routes: [] });
    },
    configureHostSide: async (p) => {
      this.step('host.configure', p.hostIf);
      const l = this.hostLinks.get(p.hostIf)!;
      l.mac = 'ee:ee:ee:ee:ee:ee';
      l.up = true;
    },
    configureContainerSide: async (p) => {
      this.step('container.configure', `${p.ifName} ${p.addresses.join(',')}${p.gateway4Mac ? ` neigh ${p.gateway4} ${p.gateway4Mac}` : ''}`);
      const l = this.containerLinks.get(`${p.netns}/${p.ifName}`)!;
      l.addresses = [...p.addresses];
      l.up = true;
      l.routes = p.routes.map((r) => ({ dst: r.dst, gw: r.gw }));
      return l.mac;
    },
    deleteHostLink: async (name) => {
      this.step('veth.delete', name);
      const l = this.hostLinks.get(name);
      if (l?.peer) this.containerLinks.delete(l.peer);
      this.hostLinks.delete(name);
    },
    deleteContainerLink: async (netns, ifName) => {
      this.step('container.delete', `${netns}/${ifName}`);
      const l = this.containerLinks.get(`${netns}/${ifName}`);
      if (l?.peer) this.hostLinks.delete(l.peer);
      this.containerLinks.delete(`${netns}/${ifName}`);
    },
  };

  readonly plugins: PluginExec = {
    run: async (type, opts) => {
      this.step(`exec.${type}`, opts.command);
      const d = this.delegates.get(type);
      if (!d) return { exitCode: 1, stdout: JSON.stringify({ code: 7, msg: `plugin ${type} not found` }), stderr: '' };
      return { ...d(opts.command, opts.stdin), stderr: '' };
    },
  };

  readonly host: CniHost = {
    hostname: 'fallback-host',
    readFile: (p) => this.files.get(p),
    waitForFile: async (path, timeoutMs) => {
      this.waits.push({ path, timeoutMs });
      const after = this.filesAppearing.get(path);
      return this.files.has(path) || (after !== undefined && after <= timeoutMs);
    },
    httpReady: async (url) => this.gates.get(url) ?? false,
  };

  ports(): CniPorts {
    return { ipam: this.ipam, endpoints: this.endpoints, cluster: this.cluster, network: this.network, plugins: this.plugins, host: this.host, log: (level, msg) => void this.logs.push(`${level}: ${msg}`) };
  }
}
