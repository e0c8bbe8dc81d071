// ADD / DEL / CHECK of the calico plugin, and calico-ipam's own ADD / DEL /
// CHECK, run through the ports. Every step of an ADD that changes something
// first pushes its undo; any failure runs the undos in reverse, so a failed
// ADD leaves nothing behind (spec: a failed ADD must not leave state).
import type { Resource } from '../api/resource.js';
import { CalicoError } from '../base/errors.js';
import { addResult, checkDifferences, containerPlan, handleIdFor, ipamResult, workloadEndpointFor, workloadFor, type Workload } from './plan.js';
import { CNI_CODES, CniError, prevResultIps, type CniEnv, type CniResult, type NetConf } from './protocol.js';
import type { CniPorts } from './ports.js';

/** Turns any failure into the CniError the plugin prints. */
export function toCniError(err: unknown): CniError {
  if (err instanceof CniError) return err;
  if (err instanceof CalicoError) {
    if (err.kind === 'unavailable' && err.retryable) return new CniError(CNI_CODES.tryAgainLater, err.message);
    if (err.kind === 'unavailable' || err.kind === 'conflict') return new CniError(err.retryable ? CNI_CODES.tryAgainLater : CNI_CODES.ioFailure, err.message);
    if (err.kind === 'validation' || err.kind === 'invalid-argument' || err.kind === 'not-found') return new CniError(CNI_CODES.invalidConfig, err.message);
  }
  return new CniError(CNI_CODES.ioFailure, err instanceof Error ? err.message : String(err));
}

class Undo {
  private readonly steps: { what: string; run: () => Promise<void> }[] = [];
  push(what: string, run: () => Promise<void>): void {
    this.steps.push({ what, run });
  }
  async rollback(ports: CniPorts): Promise<void> {
    for (const s of this.steps.reverse()) {
      try {
        await s.run();
      } catch (err) {
        // Keep undoing the rest: one stuck step must not leave the others behind.
        ports.log('error', `rollback: ${s.what} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}

/** The workload's addresses: the handle's when it has some (repeated ADD), else new ones. */
async function assign(ports: CniPorts, opts: { conf: NetConf; w: { handleId: string; node: string; namespace: string; workload: string; containerID: string }; undo: Undo }): Promise<string[]> {
  const { conf, w, undo } = opts;
  const held = await ports.ipam.ipsByHandle(w.handleId);
  if (held.length > 0) {
    ports.log('info', `handle ${w.handleId} already holds ${held.join(', ')}; reusing them`);
    return held;
  }
  // Pushed before the call: releasing by handle is idempotent and also cleans up a half-done assign.
  undo.push(`release addresses of ${w.handleId}`, () => ports.ipam.releaseByHandle(w.handleId));
  return ports.ipam.autoAssign({
    handleId: w.handleId,
    host: w.node,
    num4: conf.ipam.assignIpv4 ? 1 : 0,
    num6: conf.ipam.assignIpv6 ? 1 : 0,
    pools4: conf.ipam.ipv4Pools,
    pools6: conf.ipam.ipv6Pools,
    attrs: { namespace: w.namespace, pod: w.workload, containerID: w.containerID },
  });
}

export async function cmdAdd(ports: CniPorts, opts: { env: CniEnv; conf: NetConf; node: string }): Promise<CniResult> {
  const { env, conf } = opts;
  const w = workloadFor(env, conf, opts.node);
  if (!(await ports.network.netnsExists(env.netns))) throw new CniError(CNI_CODES.unknownContainer, `network namespace ${env.netns} does not exist (container ${env.containerID})`);
  const undo = new Undo();
  try {
    const ips = await assign(ports, { conf, w, undo });
    const plan = containerPlan(env, w, conf, ips);
    if (await ports.network.hostLinkExists(w.hostIf)) {
      // A repeated ADD (or a leftover): the interface is rebuilt from scratch.
      ports.log('info', `${w.hostIf} exists; recreating it`);
      await ports.network.deleteHostLink(w.hostIf);
    }
    undo.push(`delete veth ${w.hostIf}`, () => ports.network.deleteHostLink(w.hostIf));
    await ports.network.createVeth(plan);
    const hostMac = await ports.network.configureHostSide(plan);
    const containerMac = await ports.network.configureContainerSide(plan);
    const previous = await ports.endpoints.get(w.namespace, w.wepName);
    undo.push(`restore WorkloadEndpoint ${w.namespace}/${w.wepName}`, () => (previous ? ports.endpoints.put(previous) : ports.endpoints.delete(w.namespace, w.wepName)));
    await ports.endpoints.put(workloadEndpointFor(w, ips, containerMac));
    ports.log('info', `ADD ${env.containerID}: ${w.hostIf} <-> ${env.netns}/${env.ifName} ${plan.addresses.join(' ')}; WorkloadEndpoint ${w.namespace}/${w.wepName}`);
    return addResult({ conf, plan, hostMac, containerMac });
  } catch (err) {
    ports.log('error', `ADD ${env.containerID} failed, rolling back: ${err instanceof Error ? err.message : String(err)}`);
    await undo.rollback(ports);
    throw toCniError(err);
  }
}

function ownsEndpoint(wep: Resource, w: Workload): boolean {
  const cid = (wep.spec as { containerID?: string }).containerID;
  // A newer sandbox of the same pod has taken the name over: not ours to delete.
  return cid === undefined || cid === w.containerID;
}

/** DEL: idempotent; a missing namespace, interface, handle or endpoint is fine. */
export async function cmdDel(ports: CniPorts, opts: { env: CniEnv; conf: NetConf; node: string }): Promise<void> {
  const { env, conf } = opts;
  const w = workloadFor(env, conf, opts.node);
  if (env.netns && (await ports.network.netnsExists(env.netns))) await ports.network.deleteContainerLink(env.netns, env.ifName);
  if (await ports.network.hostLinkExists(w.hostIf)) await ports.network.deleteHostLink(w.hostIf);
  await ports.ipam.releaseByHandle(w.handleId);
  const wep = await ports.endpoints.get(w.namespace, w.wepName);
  if (wep && ownsEndpoint(wep, w)) await ports.endpoints.delete(w.namespace, w.wepName);
  else if (wep) ports.log('info', `WorkloadEndpoint ${w.namespace}/${w.wepName} belongs to another container; left alone`);
  ports.log('info', `DEL ${env.containerID}: done`);
}

/** CHECK: prevResult's addresses must be what IPAM, the WorkloadEndpoint and the container interface have. */
export async function cmdCheck(ports: CniPorts, opts: { env: CniEnv; conf: NetConf; node: string }): Promise<void> {
  const { env, conf } = opts;
  const expected = prevResultIps(conf.prevResult);
  const w = workloadFor(env, conf, opts.node);
  if (!(await ports.network.netnsExists(env.netns))) throw new CniError(CNI_CODES.unknownContainer, `network namespace ${env.netns} does not exist`);
  const wep = await ports.endpoints.get(w.namespace, w.wepName);
  const diffs = checkDifferences({
    expected,
    ipam: await ports.ipam.ipsByHandle(w.handleId),
    endpoint: wep ? ((wep.spec as { ipNetworks?: string[] }).ipNetworks ?? []) : undefined,
    container: await ports.network.containerAddresses(env.netns, env.ifName),
  });
  if (diffs.length) throw new CniError(CNI_CODES.checkFailed, `CHECK ${env.containerID}: ${diffs.join('; ')}`);
}

// ---- calico-ipam on its own ----

function ipamIds(env: CniEnv, conf: NetConf, node: string): { handleId: string; node: string; namespace: string; workload: string; containerID: string } {
  const ns = env.args.K8S_POD_NAMESPACE ?? '';
  const pod = env.args.K8S_POD_NAME ?? '';
  return { handleId: handleIdFor(conf.name, env.containerID), node, namespace: ns, workload: pod, containerID: env.containerID };
}

export async function ipamAdd(ports: CniPorts, opts: { env: CniEnv; conf: NetConf; node: string }): Promise<CniResult> {
  const undo = new Undo();
  try {
    const ips = await assign(ports, { conf: opts.conf, w: ipamIds(opts.env, opts.conf, opts.node), undo });
    return ipamResult(opts.conf, ips);
  } catch (err) {
    await undo.rollback(ports);
    throw toCniError(err);
  }
}

export async function ipamDel(ports: CniPorts, opts: { env: CniEnv; conf: NetConf; node: string }): Promise<void> {
  await ports.ipam.releaseByHandle(handleIdFor(opts.conf.name, opts.env.containerID));
}

export async function ipamCheck(ports: CniPorts, opts: { env: CniEnv; conf: NetConf; node: string }): Promise<void> {
  const expected = prevResultIps(opts.conf.prevResult);
  const held = await ports.ipam.ipsByHandle(handleIdFor(opts.conf.name, opts.env.containerID));
  const norm = (xs: string[]): string => xs.map((x) => x.split('/')[0]).sort().join(',');
  if (norm(held) !== norm(expected)) throw new CniError(CNI_CODES.checkFailed, `CHECK: IPAM holds [${norm(held)}] for ${opts.env.containerID}, prevResult says [${norm(expected)}]`);
}
