// Where an attachment's addresses come from: Calico IPAM in-process (ipam.type
// calico-ipam, the handle `<network>.<containerID>` makes every step
// idempotent), or another IPAM plugin run from CNI_PATH as the spec's
// delegate (same environment, the whole configuration on stdin).
import type { NetConf } from './config.js';
import { ipamAttributes, missingFamilies, type Workload } from './plan.js';
import { CNI_CODES, CniError, parseResult, type CniEnv, type CniResult } from './protocol.js';
import type { CniPorts } from './ports.js';

/** Undo steps of an ADD, run in reverse on failure. */
export class Undo {
  private readonly steps: { what: string; run: () => Promise<void> }[] = [];
  push(what: string, run: () => Promise<void>): void {
    this.steps.push({ what, run });
  }
  async rollback(ports: Pick<CniPorts, 'log'>): Promise<void> {
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

/** Specific addresses asked for: args.cni.ips, else CNI_ARGS IP (the conventions say args win). */
export function requestedIps(conf: NetConf, env: CniEnv): string[] {
  if (conf.ips.length) return conf.ips;
  const ip = env.args.IP;
  return ip ? [ip.split('/')[0]!] : [];
}

export const usesCalicoIpam = (conf: NetConf): boolean => conf.ipam.type === 'calico-ipam';

/**
 * Addresses for the attachment. With calico-ipam a handle that already holds
 * addresses (a repeated ADD) is reused: never a second address. The undo that
 * releases is pushed before the call, so a half-done assignment is covered.
 */
export async function assignAddresses(ports: CniPorts, opts: { conf: NetConf; env: CniEnv; w: Workload; undo: Undo }): Promise<{ ips: string[]; reused: boolean }> {
  const { conf, env, w, undo } = opts;
  // cni.projectcalico.org/ipAddrsNoIpam: the addresses are the pod's own; no IPAM plugin runs, nothing is recorded to release.
  if (conf.ipAddrsNoIpam.length) {
    ports.log('info', `addresses ${conf.ipAddrsNoIpam.join(', ')} from ipAddrsNoIpam: IPAM bypassed`);
    return { ips: [...conf.ipAddrsNoIpam], reused: false };
  }
  if (!usesCalicoIpam(conf)) {
    undo.push(`DEL on IPAM plugin ${conf.ipam.type}`, () => delegate(ports, { conf, env, command: 'DEL' }).then(() => undefined));
    const res = await delegate(ports, { conf, env, command: 'ADD' });
    const ips = res!.ips.map((i) => i.address.split('/')[0]!);
    if (ips.length === 0) throw new CniError(CNI_CODES.ioFailure, `IPAM plugin ${conf.ipam.type} returned no address`);
    return { ips, reused: false };
  }
  const held = await ports.ipam.ipsByHandle(w.handleId);
  if (held.length > 0) {
    ports.log('info', `handle ${w.handleId} already holds ${held.join(', ')}; reusing them`);
    return { ips: held, reused: true };
  }
  const attrs = ipamAttributes(w);
  undo.push(`release addresses of ${w.handleId}`, () => ports.ipam.releaseByHandle(w.handleId));
  const wanted = requestedIps(conf, env);
  if (wanted.length) {
    await ports.ipam.assignIps({ ips: wanted, handleId: w.handleId, host: w.node, attrs });
    return { ips: wanted, reused: false };
  }
  const { num4, num6 } = missingFamilies(conf, held);
  const ips = await ports.ipam.autoAssign({ handleId: w.handleId, host: w.node, num4, num6, pools4: conf.ipam.ipv4Pools, pools6: conf.ipam.ipv6Pools, attrs });
  return { ips, reused: false };
}

/** Releases the attachment's addresses (DEL); idempotent. */
export async function releaseAddresses(ports: CniPorts, opts: { conf: NetConf; env: CniEnv; w: Workload }): Promise<void> {
  if (usesCalicoIpam(opts.conf)) return ports.ipam.releaseByHandle(opts.w.handleId);
  await delegate(ports, { conf: opts.conf, env: opts.env, command: 'DEL' });
}

/**
 * Runs the delegated IPAM plugin with our configuration (section 4 of the
 * spec). Its error JSON is passed on as ours; a result is parsed for ADD.
 */
export async function delegate(ports: CniPorts, opts: { conf: NetConf; env: CniEnv; command: 'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS' }): Promise<CniResult | undefined> {
  const { conf, env, command } = opts;
  const out = await ports.plugins.run(conf.ipam.type, { command, stdin: JSON.stringify(conf.raw), path: env.path });
  if (out.exitCode !== 0) {
    let err: { code?: unknown; msg?: unknown; details?: unknown } = {};
    try {
      err = JSON.parse(out.stdout) as typeof err;
    } catch {
      // not the spec's error JSON: report what we have
    }
    const code = typeof err.code === 'number' ? err.code : CNI_CODES.ioFailure;
    const msg = typeof err.msg === 'string' ? err.msg : out.stdout.trim() || out.stderr.trim() || `exit ${out.exitCode}`;
    throw new CniError(code, `IPAM plugin ${conf.ipam.type} ${command} failed: ${msg}`, typeof err.details === 'string' ? err.details : '');
  }
  if (command !== 'ADD') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(out.stdout);
  } catch {
    throw new CniError(CNI_CODES.decodeFailure, `IPAM plugin ${conf.ipam.type} printed no JSON result: ${out.stdout.slice(0, 200)}`);
  }
  return parseResult(json, `result of IPAM plugin ${conf.ipam.type}`);
}
