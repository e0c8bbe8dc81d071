// DEL and GC of the calico plugin. DEL is idempotent and best-effort, as the
// spec asks: a missing namespace, interface, handle or endpoint is fine, and
// every step is tried even when an earlier one failed. GC releases what this
// network holds on this node for containers the runtime no longer lists.
import type { Resource } from '../api/resource.js';
import { delegate, releaseAddresses, usesCalicoIpam } from './addresses.js';
import type { CommandArgs } from './add.js';
import type { NetConf } from './config.js';
import { planGc, workloadFor, type Workload } from './plan.js';
import { CNI_CODES, CniError, toCniError, type CniEnv } from './protocol.js';
import type { CniPorts } from './ports.js';

/** A WorkloadEndpoint with another container ID belongs to a newer sandbox of the same pod. */
export function ownsEndpoint(wep: Resource, w: Pick<Workload, 'containerID'>): boolean {
  const cid = (wep.spec as { containerID?: string } | undefined)?.containerID;
  return cid === undefined || cid === '' || cid === w.containerID;
}

export async function cmdDel(ports: CniPorts, args: CommandArgs): Promise<void> {
  const { env, conf } = args;
  const w = workloadFor(env, conf, args.node);
  // Read first: without the datastore we cannot tell whether the endpoint is this
  // container's or a newer sandbox's, and must not tear down someone else's (as Calico).
  let wep: Resource | undefined;
  try {
    wep = await ports.endpoints.get(w.namespace, w.wepName);
  } catch (err) {
    throw toCniError(err);
  }
  const ours = wep !== undefined && ownsEndpoint(wep, w);
  const failures: string[] = [];
  const attempt = async (what: string, f: () => Promise<void>): Promise<void> => {
    try {
      await f();
    } catch (err) {
      failures.push(`${what}: ${toCniError(err).message}`);
    }
  };
  if (env.netns) {
    await attempt(`delete ${env.ifName} in ${env.netns}`, async () => {
      if (await ports.network.netnsExists(env.netns)) await ports.network.deleteContainerLink(env.netns, env.ifName);
    });
  }
  // The host end goes with the container end; by name only when the endpoint says it is ours
  // (the same pod's newer sandbox uses the same name).
  if (ours && wep) {
    const hostIf = (wep.spec as { interfaceName?: string }).interfaceName ?? w.hostIf;
    await attempt(`delete ${hostIf}`, () => ports.network.deleteHostLink(hostIf));
  }
  await attempt(`release addresses of ${w.handleId}`, () => releaseAddresses(ports, { conf, env, w }));
  if (ours) await attempt(`delete WorkloadEndpoint ${w.namespace}/${w.wepName}`, () => ports.endpoints.delete(w.namespace, w.wepName));
  else if (wep) ports.log('info', `WorkloadEndpoint ${w.namespace}/${w.wepName} belongs to container ${(wep.spec as { containerID?: string }).containerID}; left alone`);
  if (failures.length) throw new CniError(CNI_CODES.ioFailure, `DEL ${env.containerID}: ${failures.join('; ')}`);
  ports.log('info', `DEL ${env.containerID}: done`);
}

/**
 * GC (CNI 1.1): releases the IPAM handles and WorkloadEndpoints of this
 * network on this node whose container is not in cni.dev/valid-attachments.
 * Keeps going after an error and reports them all; forwards GC to a
 * delegated IPAM plugin.
 */
export async function cmdGc(ports: CniPorts, args: { env: CniEnv; conf: NetConf; node: string }): Promise<{ released: string[]; deleted: string[] }> {
  const { conf, node } = args;
  if (!conf.validAttachments) throw new CniError(CNI_CODES.invalidConfig, "GC needs 'cni.dev/valid-attachments' in the network configuration (the runtime's list of attachments to keep)");
  const handles = usesCalicoIpam(conf) ? await ports.ipam.handlesOnNode(node) : new Map<string, string[]>();
  const plan = planGc({ network: conf.name, node, valid: conf.validAttachments, handles, endpoints: await ports.endpoints.listOnNode(node) });
  const failures: string[] = [];
  const released: string[] = [];
  const deleted: string[] = [];
  for (const ep of plan.deleteEndpoints) {
    try {
      if (ep.interfaceName) await ports.network.deleteHostLink(ep.interfaceName);
      await ports.endpoints.delete(ep.namespace, ep.name);
      deleted.push(`${ep.namespace}/${ep.name}`);
    } catch (err) {
      failures.push(`WorkloadEndpoint ${ep.namespace}/${ep.name}: ${toCniError(err).message}`);
    }
  }
  for (const h of plan.releaseHandles) {
    try {
      await ports.ipam.releaseByHandle(h);
      released.push(h);
    } catch (err) {
      failures.push(`handle ${h}: ${toCniError(err).message}`);
    }
  }
  if (!usesCalicoIpam(conf)) {
    try {
      await delegate(ports, { conf, env: args.env, command: 'GC' });
    } catch (err) {
      failures.push(toCniError(err).message);
    }
  }
  ports.log('info', `GC ${conf.name} on ${node}: released ${released.length} handle(s) [${released.join(', ')}], deleted ${deleted.length} endpoint(s) [${deleted.join(', ')}]`);
  if (failures.length) throw new CniError(CNI_CODES.ioFailure, `GC: ${failures.join('; ')}`);
  return { released, deleted };
}
