// Drives the real apply loop for one host namespace with hand-built calc
// output (the calc graph and calico-node wiring are tested elsewhere).

import { ApplyLoop } from '../../../src/dataplane/apply-loop.js';
import { DataplaneManagers } from '../../../src/dataplane/managers.js';
import { LinuxExec } from '../../../src/dataplane/linux/exec.js';
import { linuxPorts } from '../../../src/dataplane/linux/drivers.js';
import { systemClock } from '../../../src/dataplane/linux/clock.js';
import { IptablesBackend, NftBackend, type BackendName } from '../../../src/dataplane/policy-backend.js';
import { defaultDataplaneConfig } from '../../../src/rules/model.js';
import type { CalcUpdate } from '../../../src/calc/output.js';
import { sh } from './topology.js';

export class TestAgent {
  readonly managers = new DataplaneManagers();
  readonly loop: ApplyLoop;
  /** Every kernel write the loop made (nft scripts, restores, route and neighbour changes). */
  readonly writes: string[] = [];

  constructor(readonly ns: string, readonly backend: BackendName) {
    const ports = linuxPorts(new LinuxExec({ netns: ns }));
    const writes = this.writes;
    const nft = { listTable: () => ports.nft.listTable(), apply: (s: string) => (writes.push(`nft ${s}`), ports.nft.apply(s)) };
    const iptables = { save: (f: 4 | 6) => ports.iptables.save(f), restore: (f: 4 | 6, t: string) => (writes.push(`iptables${f} ${t}`), ports.iptables.restore(f, t)) };
    const ipset = { save: () => ports.ipset.save(), restore: (t: string) => (writes.push(`ipset ${t}`), ports.ipset.restore(t)) };
    const routes = {
      list: (f: 4 | 6) => ports.routes.list(f),
      replace: (r: Parameters<typeof ports.routes.replace>[0]) => (writes.push(`route replace ${r.map((x) => x.dst)}`), ports.routes.replace(r)),
      remove: (r: Parameters<typeof ports.routes.remove>[0]) => (writes.push(`route remove ${r.map((x) => x.dst)}`), ports.routes.remove(r)),
    };
    const neighbors = {
      list: (f: 4 | 6) => ports.neighbors.list(f),
      replace: (n: Parameters<typeof ports.neighbors.replace>[0]) => (writes.push(`neigh replace ${n.map((x) => x.ip)}`), ports.neighbors.replace(n)),
      remove: (n: Parameters<typeof ports.neighbors.remove>[0]) => (writes.push(`neigh remove ${n.map((x) => x.ip)}`), ports.neighbors.remove(n)),
    };
    this.loop = new ApplyLoop({
      managers: this.managers,
      backend: backend === 'nftables' ? new NftBackend(nft) : new IptablesBackend({ iptables, ipset }),
      ports: { ...ports, routes, neighbors },
      clock: systemClock,
      config: defaultDataplaneConfig(),
      minIntervalMs: 20,
      onFatal: (e) => {
        throw e;
      },
    });
  }

  async apply(updates: CalcUpdate[]): Promise<void> {
    for (const u of updates) this.managers.record(u);
    this.loop.kick();
    await this.loop.settled();
    const failing = [...this.loop.failing()].filter(([k]) => !k.startsWith('sysctl:') || !k.includes('unknown'));
    if (failing.length) throw new Error(`dataplane objects failing: ${JSON.stringify(failing)}`);
  }

  /** Everything of ours in the kernel, as text, for byte-for-byte comparisons. */
  kernelState(): string {
    const ip = (args: string[]) => sh(['ip', '-n', this.ns, ...args]);
    const exec = (args: string[]) => sh(['ip', 'netns', 'exec', this.ns, ...args]);
    const routes =
      ip(['route', 'show', 'proto', '80']) + ip(['-6', 'route', 'show', 'proto', '80']) + ip(['-4', 'neigh', 'show', 'nud', 'permanent', 'proto', '80']) + ip(['-6', 'neigh', 'show', 'nud', 'permanent', 'proto', '80']);
    if (this.backend === 'nftables') return exec(['nft', '-a', 'list', 'table', 'inet', 'calico']) + routes;
    const strip = (t: string) => t.split('\n').filter((l) => !l.startsWith('#')).join('\n').replace(/\[\d+:\d+\]/g, '[-]');
    return strip(exec(['iptables-save'])) + strip(exec(['ip6tables-save'])) + exec(['ipset', 'save']) + routes;
  }
}
