// Fakes of the CNI ports sharing one op log, so a test reads the whole story
// of an ADD (and its rollback) in order. `failOn` makes the named operation
// throw the next time it is called.
import type { Resource } from '../api/resource.js';
import { CalicoError } from '../base/errors.js';
import type { CniEndpoints, CniIpam, CniNetwork, CniPorts } from './ports.js';
import type { ContainerPlan } from './plan.js';

export class FakeCniWorld {
  readonly ops: string[] = [];
  readonly logs: string[] = [];
  /** handleId -> IPs */
  readonly handles = new Map<string, string[]>();
  readonly weps = new Map<string, Resource>();
  /** host links; value: `<netns>/<ifName>` of the peer */
  readonly hostLinks = new Map<string, string>();
  /** `<netns>/<ifName>` -> addresses */
  readonly containerLinks = new Map<string, string[]>();
  readonly netnses = new Set<string>();
  private free: string[];
  private failures = new Map<string, Error>();

  constructor(opts: { pool?: string[]; netnses?: string[] } = {}) {
    this.free = [...(opts.pool ?? ['198.18.0.1', '198.18.0.2', '198.18.0.3', '2001:db8::1', '2001:db8::2'])];
    for (const n of opts.netnses ?? ['/var/run/netns/c1']) this.netnses.add(n);
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

  readonly ipam: CniIpam = {
    ipsByHandle: async (h) => [...(this.handles.get(h) ?? [])],
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
      return got;
    },
    releaseByHandle: async (h) => {
      this.step('ipam.release', h);
      for (const ip of this.handles.get(h) ?? []) this.free.push(ip);
      this.handles.delete(h);
    },
  };

  readonly endpoints: CniEndpoints = {
    get: async (ns, name) => this.weps.get(`${ns}/${name}`),
    put: async (wep) => {
      this.step('wep.put', wep.metadata.name);
      this.weps.set(`${wep.metadata.namespace}/${wep.metadata.name}`, wep);
    },
    delete: async (ns, name) => {
      this.step('wep.delete', name);
      this.weps.delete(`${ns}/${name}`);
    },
  };

  readonly network: CniNetwork = {
    netnsExists: async (n) => this.netnses.has(n),
    hostLinkExists: async (name) => this.hostLinks.has(name),
    createVeth: async (p: ContainerPlan) => {
      this.step('veth.create', `${p.hostIf}/${p.ifName}`);
      this.hostLinks.set(p.hostIf, `${p.netns}/${p.ifName}`);
      this.containerLinks.set(`${p.netns}/${p.ifName}`, []);
    },
    configureHostSide: async (p) => {
      this.step('host.configure', p.hostIf);
      return 'ee:ee:ee:ee:ee:ee';
    },
    configureContainerSide: async (p) => {
      this.step('container.configure', `${p.ifName} ${p.addresses.join(',')}`);
      this.containerLinks.set(`${p.netns}/${p.ifName}`, [...p.addresses]);
      return '02:00:00:00:00:01';
    },
    deleteHostLink: async (name) => {
      this.step('veth.delete', name);
      const peer = this.hostLinks.get(name);
      if (peer) this.containerLinks.delete(peer);
      this.hostLinks.delete(name);
    },
    deleteContainerLink: async (netns, ifName) => {
      this.step('container.delete', `${netns}/${ifName}`);
      this.containerLinks.delete(`${netns}/${ifName}`);
      for (const [h, peer] of this.hostLinks) if (peer === `${netns}/${ifName}`) this.hostLinks.delete(h);
    },
    containerAddresses: async (netns, ifName) => this.containerLinks.get(`${netns}/${ifName}`),
  };

  ports(): CniPorts {
    return { ipam: this.ipam, endpoints: this.endpoints, network: this.network, log: (level, msg) => void this.logs.push(`${level}: ${msg}`) };
  }
}
