// A router host for host endpoint tests: r has eth0 towards peer p1
// (192.0.2.0/24) and eth1 towards peer p2 (198.51.100.0/24), plus one local
// workload w (198.18.1.1, allowed everything by its profile). Probe servers:
// r (the host itself) on TCP 22 (failsafe), 7071, 7072, 7073; p2 and w on 8080.
// `scenario` replaces the host endpoints and policies of the previous one.

import type { CalcUpdate, HostEndpointState, PolicyState } from '../../../src/calc/output.js';
import { rule, workload } from '../../../src/dataplane/testing-fixtures.js';
import type { BackendName } from '../../../src/dataplane/policy-backend.js';
import { TestAgent } from './agent.js';
import { Topology, sh, type Workload } from './topology.js';

export const R_ETH0 = '192.0.2.1';
export const R_ETH1 = '198.51.100.1';
export const P2 = '198.51.100.2';
export const W = '198.18.1.1';
export const allowProfile = (id: string) => ({ id, inboundRules: [rule({ action: 'Allow' })], outboundRules: [rule({ action: 'Allow' })] });

export class RouterLab {
  readonly topo = new Topology();
  r = '';
  p1 = '';
  p2 = '';
  w!: Workload;
  agent!: TestAgent;
  private heps = new Set<string>();
  private policies = new Set<string>();

  async start(backend: BackendName): Promise<void> {
    const topo = this.topo;
    this.r = topo.ns('r');
    this.p1 = topo.ns('p1');
    this.p2 = topo.ns('p2');
    topo.link({ ns: this.r, iface: 'eth0', addr: `${R_ETH0}/24` }, { ns: this.p1, iface: 'eth0', addr: '192.0.2.2/24' });
    topo.link({ ns: this.r, iface: 'eth1', addr: `${R_ETH1}/24` }, { ns: this.p2, iface: 'eth0', addr: `${P2}/24` });
    sh(['ip', '-n', this.p1, 'route', 'add', 'default', 'via', R_ETH0]);
    sh(['ip', '-n', this.p2, 'route', 'add', 'default', 'via', R_ETH1]);
    // Proxy ARP for the workload's gateway answers only for targets routed out of another interface.
    sh(['ip', '-n', this.r, 'route', 'add', 'default', 'via', '192.0.2.2']);
    this.w = topo.workload(this.r, { name: 'w', iface: 'caliw0000000001', ip: W, ip6: '2001:db8:1::1', mac: '02:00:00:00:01:01' });
    await topo.background(this.r, ['serve', '22,7071,7072,7073', '']);
    await topo.background(this.p2, ['serve', '8080', '']);
    await topo.background(this.w.ns, ['serve', '8080', '']);
    this.agent = new TestAgent(this.r, backend);
    await this.agent.apply([
      { type: 'profileUpserted', profile: allowProfile('kns.w') },
      { type: 'workloadEndpointUpserted', endpoint: this.workload() },
      { type: 'inSync' },
    ]);
  }

  workload(ingress?: string[]) {
    return workload({ name: 'w', iface: this.w.iface, ipv4: [`${W}/32`], ipv6: ['2001:db8:1::1/128'], mac: this.w.mac, profiles: ['kns.w'], ...(ingress ? { ingress } : {}) });
  }

  /** Exactly these host endpoints and policies from now on (plus `extra` updates, applied before the endpoints). */
  async scenario(s: { heps: HostEndpointState[]; policies?: PolicyState[]; extra?: CalcUpdate[] }): Promise<void> {
    const policies = s.policies ?? [];
    const updates: CalcUpdate[] = [...policies.map((policy): CalcUpdate => ({ type: 'policyUpserted', policy })), ...(s.extra ?? [])];
    updates.push(...s.heps.map((endpoint): CalcUpdate => ({ type: 'hostEndpointUpserted', endpoint })));
    for (const id of this.heps) if (!s.heps.some((h) => h.id === id)) updates.push({ type: 'hostEndpointRemoved', id });
    for (const id of this.policies) if (!policies.some((p) => p.id === id)) updates.push({ type: 'policyRemoved', id });
    this.heps = new Set(s.heps.map((h) => h.id));
    this.policies = new Set(policies.map((p) => p.id));
    await this.agent.apply(updates);
  }

  tcp(from: string, to: string, port: number): boolean {
    return this.topo.probe(from, ['tcp', to, String(port), '500']).ok;
  }

  async stop(): Promise<void> {
    await this.agent?.loop.stop();
    this.topo.teardown();
  }
}
