// The real CNI ports: IPAM and WorkloadEndpoints in etcd, and the kernel via
// `ip`. Container-side commands run inside CNI_NETNS through nsenter (a path,
// as runtimes give it); the plugin's own namespace is the host side. Thin:
// every decision was made in plan.ts / commands.ts.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Resource } from '../api/resource.js';
import { isCalicoError } from '../base/errors.js';
import type { Datastore } from '../datastore/datastore.js';
import { IpamClient } from '../ipam/ipam-client.js';
import { datastorePoolMatcher, datastorePoolSource } from '../ipam/datastore-sources.js';
import { HOST_SIDE_MAC } from './names.js';
import type { ContainerPlan } from './plan.js';
import type { CniEndpoints, CniIpam, CniNetwork } from './ports.js';

export function datastoreIpam(ds: Datastore): CniIpam {
  const client = async (): Promise<IpamClient> => new IpamClient({ kv: ds.kv, pools: datastorePoolSource(ds), poolMatchesHost: await datastorePoolMatcher(ds) });
  return {
    ipsByHandle: async (h) => (await client()).ipsByHandle(h),
    autoAssign: async (req) => {
      const got = await (await client()).autoAssign(req);
      return [...got.ipv4, ...got.ipv6];
    },
    releaseByHandle: async (h) => void (await (await client()).releaseByHandle(h)),
  };
}

function withoutServerFields(r: Resource): Resource {
  const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, ...metadata } = r.metadata;
  return { ...r, metadata };
}

export function datastoreEndpoints(ds: Datastore): CniEndpoints {
  return {
    get: async (namespace, name) => {
      try {
        return await ds.get({ kind: 'WorkloadEndpoint', namespace, name });
      } catch (err) {
        if (isCalicoError(err, 'not-found')) return undefined;
        throw err;
      }
    },
    put: async (wep) => {
      const clean = withoutServerFields(wep);
      try {
        await ds.create(clean);
      } catch (err) {
        if (!isCalicoError(err, 'already-exists')) throw err;
        await ds.update(clean);
      }
    },
    delete: async (namespace, name) => {
      try {
        await ds.delete({ kind: 'WorkloadEndpoint', namespace, name });
      } catch (err) {
        if (!isCalicoError(err, 'not-found')) throw err;
      }
    },
  };
}

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function run(argv: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 127) : 0;
      resolve({ code, stdout, stderr: stderr || (err && code === 127 ? err.message : '') });
    });
  });
}

async function must(argv: string[]): Promise<string> {
  const r = await run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return r.stdout;
}

const NO_DEVICE = /Cannot find device|does not exist|No such device/;

export function linuxNetwork(): CniNetwork {
  const inNs = (netns: string, args: string[]): string[] => ['nsenter', `--net=${netns}`, 'ip', ...args];
  return {
    netnsExists: async (netns) => netns !== '' && existsSync(netns),
    hostLinkExists: async (name) => (await run(['ip', 'link', 'show', 'dev', name])).code === 0,
    createVeth: async (p: ContainerPlan) => {
      // Made inside the container with the host end sent to our own namespace: the
      // container's interface name never has to exist, even briefly, on the host.
      await must(inNs(p.netns, ['link', 'add', p.ifName, 'mtu', String(p.mtu), 'type', 'veth', 'peer', 'name', p.hostIf, 'mtu', String(p.mtu), 'netns', String(process.pid)]));
    },
    configureHostSide: async (p) => {
      await must(['ip', 'link', 'set', 'dev', p.hostIf, 'address', HOST_SIDE_MAC, 'mtu', String(p.mtu), 'up']);
      return HOST_SIDE_MAC;
    },
    configureContainerSide: async (p) => {
      for (const a of p.addresses) {
        await must(inNs(p.netns, a.includes(':') ? ['-6', 'addr', 'add', a, 'dev', p.ifName, 'nodad'] : ['addr', 'add', a, 'dev', p.ifName]));
      }
      await must(inNs(p.netns, ['link', 'set', 'dev', p.ifName, 'up']));
      if (p.gateway4) {
        await must(inNs(p.netns, ['route', 'add', p.gateway4, 'dev', p.ifName, 'scope', 'link']));
        await must(inNs(p.netns, ['route', 'add', 'default', 'via', p.gateway4, 'dev', p.ifName, 'onlink']));
      }
      if (p.gateway6) await must(inNs(p.netns, ['-6', 'route', 'add', 'default', 'via', p.gateway6, 'dev', p.ifName]));
      const link = JSON.parse(await must(inNs(p.netns, ['-j', 'link', 'show', 'dev', p.ifName]))) as { address: string }[];
      return link[0]!.address;
    },
    deleteHostLink: async (name) => {
      const r = await run(['ip', 'link', 'del', 'dev', name]);
      if (r.code !== 0 && !NO_DEVICE.test(r.stderr)) throw new Error(`ip link del ${name}: ${r.stderr.trim()}`);
    },
    deleteContainerLink: async (netns, ifName) => {
      if (!existsSync(netns)) return;
      const r = await run(inNs(netns, ['link', 'del', 'dev', ifName]));
      if (r.code !== 0 && !NO_DEVICE.test(r.stderr)) throw new Error(`ip link del ${ifName} in ${netns}: ${r.stderr.trim()}`);
    },
    containerAddresses: async (netns, ifName) => {
      const r = await run(inNs(netns, ['-j', 'addr', 'show', 'dev', ifName]));
      if (r.code !== 0) return undefined;
      const links = JSON.parse(r.stdout) as { addr_info?: { local: string; prefixlen: number; scope: string }[] }[];
      return (links[0]?.addr_info ?? []).filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`);
    },
  };
}
