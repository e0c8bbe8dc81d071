// The real ends of the libnetwork plugin's ports: the datastore (through the
// CNI plugin's IPAM/endpoint/profile drivers), `ip` for the veth, and
// Docker's API (HTTP on its unix socket) for a network's name.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { Datastore } from '../datastore/datastore.js';
import { datastoreCluster, datastoreEndpoints, datastoreIpam } from '../cni/drivers.js';
import { HOST_SIDE_MAC } from '../cni/names.js';
import type { LibnetworkPorts } from './driver.js';

function ip(args: string[], opts: { allowFail?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 || opts.allowFail ? resolve(out) : reject(new Error(`ip ${args.join(' ')}: ${err.trim() || `exit ${code}`}`))));
  });
}

export const linuxLinks: LibnetworkPorts['links'] = {
  createVeth: async (host, temp, mtu) => {
    const m = mtu ? ['mtu', String(mtu)] : [];
    await ip(['link', 'add', host, ...m, 'type', 'veth', 'peer', 'name', temp, ...m]);
    try {
      // The IPv6 gateway (our link-local) must answer at once, not after DAD.
      writeFileSync(`/proc/sys/net/ipv6/conf/${host}/accept_dad`, '0');
    } catch {
      // No IPv6 on this host.
    }
    await ip(['link', 'set', 'dev', host, 'address', HOST_SIDE_MAC, 'up']);
  },
  mac: async (name) => {
    const links = JSON.parse(await ip(['-j', 'link', 'show', 'dev', name])) as { address: string }[];
    return links[0]!.address;
  },
  delete: async (name) => void (await ip(['link', 'del', 'dev', name], { allowFail: true })),
};

/** GET on Docker's API over its unix socket. */
function dockerGet(socket: string, path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path, method: 'GET', timeout: 5000 }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`Docker API ${path}: no answer within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

export function dockerApi(socket: string): NonNullable<LibnetworkPorts['docker']> {
  return {
    networkName: async (id) => {
      const r = await dockerGet(socket, `/networks/${encodeURIComponent(id)}`);
      if (r.status !== 200) throw new Error(`GET /networks/${id}: HTTP ${r.status}`);
      return (r.body as { Name?: string }).Name;
    },
  };
}

export function datastorePorts(ds: Datastore, opts: { node: string; dockerSocket?: string; mtu?: number; log: LibnetworkPorts['log'] }): LibnetworkPorts {
  const ipam = datastoreIpam(ds);
  return {
    node: opts.node,
    ipam: { autoAssign: ipam.autoAssign, assignIps: ipam.assignIps, release: (addr) => ipam.releaseIps([addr]) },
    pools: async () => (await ds.list({ kind: 'IPPool' })).items,
    endpoints: datastoreEndpoints(ds),
    cluster: datastoreCluster(ds),
    links: linuxLinks,
    ...(opts.dockerSocket ? { docker: dockerApi(opts.dockerSocket) } : {}),
    newId: () => randomUUID(),
    ...(opts.mtu ? { mtu: opts.mtu } : {}),
    log: opts.log,
  };
}
