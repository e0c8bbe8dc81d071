// ADD of the calico plugin, through the ports. Checks that change nothing
// come first (netns, readiness gates, datastore ready, an interface of that
// name already in the container). Then every step that changes something
// pushes its undo first; any failure runs the undos in reverse, so a failed
// ADD leaves nothing behind: no address, no veth, no endpoint.
import { join } from 'node:path';
import { assignAddresses, Undo } from './addresses.js';
import { resolveMtu, type NetConf } from './config.js';
import { endpointStatusFilename } from './names.js';
import { addResult, containerPlan, defaultProfileFor, workloadEndpointFor, workloadFor, type Workload } from './plan.js';
import { CNI_CODES, CniError, parseResult, toCniError, type CniEnv, type CniResult } from './protocol.js';
import type { CniPorts } from './ports.js';

export interface CommandArgs {
  env: CniEnv;
  conf: NetConf;
  node: string;
}

/** Calico's readiness gates: each URL polled every 5 s for at most 30 s. */
const GATE_INTERVAL_MS = 5_000;
const GATE_TIMEOUT_MS = 30_000;

async function preflight(ports: CniPorts, args: CommandArgs, w: Workload): Promise<void> {
  const { env, conf } = args;
  if (!(await ports.network.netnsExists(env.netns))) throw new CniError(CNI_CODES.unknownContainer, `network namespace ${env.netns} does not exist (container ${env.containerID})`);
  for (const url of conf.readinessGates) {
    if (!(await ports.host.httpReady(url, { intervalMs: GATE_INTERVAL_MS, timeoutMs: GATE_TIMEOUT_MS }))) {
      throw new CniError(CNI_CODES.tryAgainLater, `readiness gate ${url} did not answer with success within ${GATE_TIMEOUT_MS / 1000}s`);
    }
  }
  if ((await ports.cluster.datastoreReady()) === false) {
    throw new CniError(CNI_CODES.tryAgainLater, 'Calico is currently not ready to process requests (ClusterInformation default: datastoreReady is false)');
  }
  // An endpoint of a missing space would get no addresses in the dataplane (calico-node fails closed): say so now, before anything exists.
  if (w.addressSpace !== undefined && !(await ports.cluster.addressSpaceExists(w.addressSpace))) {
    throw new CniError(CNI_CODES.invalidConfig, `network configuration: AddressSpace "${w.addressSpace}" does not exist: create it first (calicoctl apply -f, kind AddressSpace) or fix the name in address_space / the addressSpace annotation`);
  }
  // Spec: an interface of the requested name already in the container is an error. The one
  // exception is our own veth from an earlier ADD of this container, which is rebuilt (as Calico does).
  const existing = await ports.network.containerLink(env.netns, env.ifName);
  if (existing) {
    const host = await ports.network.hostLink(w.hostIf);
    const ours = host !== undefined && host.peerIfindex === existing.ifindex && existing.peerIfindex === host.ifindex;
    if (!ours) {
      throw new CniError(CNI_CODES.interfaceExists, `the container already has an interface ${env.ifName} (in ${env.netns}) that calico did not make; choose another CNI_IFNAME or remove it`);
    }
    ports.log('info', `${env.ifName} in ${env.netns} is the peer of ${w.hostIf} from an earlier ADD of ${env.containerID}; rebuilding it`);
  }
}

export async function cmdAdd(ports: CniPorts, args: CommandArgs): Promise<CniResult> {
  const { env, conf } = args;
  const w = workloadFor(env, conf, args.node);
  const prev = conf.prevResult !== undefined ? parseResult(conf.prevResult, 'prevResult') : undefined;
  let mtu: number | undefined;
  try {
    await preflight(ports, args, w);
    mtu = resolveMtu(conf, (p) => ports.host.readFile(p));
  } catch (err) {
    throw toCniError(err);
  }
  const undo = new Undo();
  let result: CniResult;
  try {
    const { ips } = await assignAddresses(ports, { conf, env, w, undo });
    const plan = containerPlan(env, w, { conf, ips, mtu });
    if (await ports.network.hostLink(w.hostIf)) {
      // Our earlier veth (repeated ADD), or one left by a sandbox of the same pod: made again from scratch.
      ports.log('info', `${w.hostIf} exists; deleting it before creating it again`);
      await ports.network.deleteHostLink(w.hostIf);
    }
    undo.push(`delete veth ${w.hostIf}`, () => ports.network.deleteHostLink(w.hostIf));
    await ports.network.createVeth(plan);
    await ports.network.configureHostSide(plan);
    const containerMac = await ports.network.configureContainerSide(plan);
    // A shared profile is never rolled back: other endpoints may use it by now.
    if ((await ports.cluster.ensureProfile(defaultProfileFor(w))) === 'created') ports.log('info', `created Profile ${w.profiles[0]} (it did not exist)`);
    const previous = await ports.endpoints.get(w.namespace, w.wepName);
    undo.push(`restore WorkloadEndpoint ${w.namespace}/${w.wepName}`, () => (previous ? ports.endpoints.put(previous) : ports.endpoints.delete(w.namespace, w.wepName)));
    await ports.endpoints.put(workloadEndpointFor(w, { ips, mac: containerMac }));
    ports.log('info', `ADD ${env.containerID}: ${w.hostIf} <-> ${env.netns}/${env.ifName} ${plan.addresses.join(' ')}; WorkloadEndpoint ${w.namespace}/${w.wepName}`);
    result = addResult({ conf, plan, containerMac, ...(prev ? { prev } : {}) });
  } catch (err) {
    ports.log('error', `ADD ${env.containerID} failed, rolling back: ${err instanceof Error ? err.message : String(err)}`);
    await undo.rollback(ports);
    throw toCniError(err);
  }
  await waitForPolicy(ports, { conf, w });
  return result;
}

/**
 * policy_setup_timeout_seconds: wait until calico-node says it has programmed
 * the endpoint (its status file), so the workload does not start before its
 * policy exists. As in Calico, a timeout is logged and the ADD still succeeds.
 */
async function waitForPolicy(ports: CniPorts, opts: { conf: NetConf; w: Workload }): Promise<void> {
  const { conf, w } = opts;
  if (conf.policySetupTimeoutSeconds <= 0) return;
  const file = endpointStatusFilename({ namespace: w.namespace, name: w.wepName });
  if (!file) return;
  const path = join(conf.endpointStatusDir, file);
  if (await ports.host.waitForFile(path, conf.policySetupTimeoutSeconds * 1000)) {
    ports.log('info', `calico-node programmed ${w.namespace}/${w.wepName}`);
  } else {
    ports.log('warning', `calico-node did not report ${w.namespace}/${w.wepName} programmed within ${conf.policySetupTimeoutSeconds}s (no ${path}); going on`);
  }
}
