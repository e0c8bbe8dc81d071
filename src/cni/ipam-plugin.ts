// calico-ipam on its own: the IPAM plugin other plugins delegate to (and
// that bin/calico runs in-process). ADD hands out the attachment's addresses
// under the handle `<network>.<containerID>` (a repeated ADD returns the same
// ones), DEL releases the handle, CHECK compares the handle with prevResult,
// GC releases this network's handles on this node that are not listed,
// STATUS says whether the pools have room.
import { assignAddresses, Undo } from './addresses.js';
import type { CommandArgs } from './add.js';
import { hostCidr, ipamResult, planGc, workloadFor } from './plan.js';
import { CNI_CODES, CniError, parseResult, toCniError, type CniResult } from './protocol.js';
import type { CniPorts } from './ports.js';

export async function ipamAdd(ports: CniPorts, args: CommandArgs): Promise<CniResult> {
  const w = workloadFor(args.env, args.conf, args.node);
  const undo = new Undo();
  try {
    const { ips } = await assignAddresses(ports, { conf: args.conf, env: args.env, w, undo });
    return ipamResult(args.conf, ips);
  } catch (err) {
    await undo.rollback(ports);
    throw toCniError(err);
  }
}

export async function ipamDel(ports: CniPorts, args: CommandArgs): Promise<void> {
  await ports.ipam.releaseByHandle(workloadFor(args.env, args.conf, args.node).handleId);
}

/** The handle must hold addresses, each of them in prevResult (a chain's prevResult may list other plugins' too). */
export async function ipamCheck(ports: CniPorts, args: CommandArgs): Promise<void> {
  if (args.conf.prevResult === undefined) throw new CniError(CNI_CODES.invalidConfig, 'CHECK needs prevResult in the network configuration');
  const listed = new Set(parseResult(args.conf.prevResult, 'prevResult').ips.map((i) => hostCidr(i.address)));
  const w = workloadFor(args.env, args.conf, args.node);
  const held = (await ports.ipam.ipsByHandle(w.handleId)).map(hostCidr);
  if (held.length === 0) throw new CniError(CNI_CODES.checkFailed, `CHECK ${args.env.containerID}: IPAM holds no address for ${w.handleId}`);
  const missing = held.filter((a) => !listed.has(a));
  if (missing.length) throw new CniError(CNI_CODES.checkFailed, `CHECK ${args.env.containerID}: IPAM holds ${missing.join(', ')} for ${w.handleId}, which prevResult does not list`);
}

export async function ipamGc(ports: CniPorts, args: CommandArgs): Promise<string[]> {
  const { conf, node } = args;
  if (!conf.validAttachments) throw new CniError(CNI_CODES.invalidConfig, "GC needs 'cni.dev/valid-attachments' in the network configuration");
  const plan = planGc({ network: conf.name, node, valid: conf.validAttachments, handles: await ports.ipam.handlesOnNode(node), endpoints: [] });
  const failures: string[] = [];
  for (const h of plan.releaseHandles) {
    try {
      await ports.ipam.releaseByHandle(h);
    } catch (err) {
      failures.push(`handle ${h}: ${toCniError(err).message}`);
    }
  }
  ports.log('info', `GC ${conf.name} on ${node}: released [${plan.releaseHandles.join(', ')}]`);
  if (failures.length) throw new CniError(CNI_CODES.ioFailure, `GC: ${failures.join('; ')}`);
  return plan.releaseHandles;
}
