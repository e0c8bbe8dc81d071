// One plugin invocation: env + stdin in, stdout text + exit code out. Errors
// become the spec's error JSON on stdout with exit code 1. The ports are made
// only after the configuration parsed (a bad config never opens etcd).
import { cmdAdd, cmdCheck, cmdDel, ipamAdd, ipamCheck, ipamDel, toCniError } from './commands.js';
import { CNI_CODES, CniError, parseCniEnv, parseNetConf, versionResult, errorResult, type NetConf } from './protocol.js';
import type { CniPorts } from './ports.js';

export type Plugin = 'calico' | 'calico-ipam';

export interface RunOptions {
  plugin: Plugin;
  env: Record<string, string | undefined>;
  stdin: string;
  /** Opens the datastore-backed ports for a parsed configuration. */
  openPorts: (conf: NetConf) => CniPorts & { close?: () => Promise<void> };
  /** This host's name when the config has no `nodename`. */
  hostname: string;
}

export interface RunOutcome {
  stdout: string;
  exitCode: number;
}

function cniVersionOf(stdin: string): string {
  try {
    const v = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
    return typeof v === 'string' ? v : '1.0.0';
  } catch {
    return '1.0.0';
  }
}

export async function runPlugin(opts: RunOptions): Promise<RunOutcome> {
  let version = cniVersionOf(opts.stdin);
  let ports: ReturnType<RunOptions['openPorts']> | undefined;
  try {
    const env = parseCniEnv(opts.env);
    if (env.command === 'VERSION') return { stdout: JSON.stringify(versionResult(version)), exitCode: 0 };
    const conf = parseNetConf(opts.stdin, opts.plugin);
    version = conf.cniVersion;
    if (env.command === 'CHECK' && (conf.cniVersion === '0.3.0' || conf.cniVersion === '0.3.1')) {
      throw new CniError(CNI_CODES.incompatibleVersion, `CHECK needs cniVersion 0.4.0 or later (the configuration says ${conf.cniVersion})`);
    }
    ports = opts.openPorts(conf);
    if (env.command === 'STATUS') {
      // Ready means: the datastore answers (a read of a handle that need not exist).
      await ports.ipam.ipsByHandle(`${conf.name}.status-probe`);
      return { stdout: '', exitCode: 0 };
    }
    if (env.command === 'GC') {
      // Not implemented yet: nothing is released. Saying so beats pretending.
      ports.log('warning', 'GC is not implemented by calico-ts yet; leaked addresses are found by `calicoctl ipam check` and released with `calicoctl ipam release`');
      return { stdout: '', exitCode: 0 };
    }
    for (const f of conf.ignored) ports.log('warning', `network configuration field '${f}' is accepted but ignored by calico-ts`);
    const args = { env, conf, node: conf.nodename ?? opts.hostname };
    if (opts.plugin === 'calico') {
      if (env.command === 'ADD') return { stdout: JSON.stringify(await cmdAdd(ports, args)), exitCode: 0 };
      if (env.command === 'DEL') await cmdDel(ports, args);
      else await cmdCheck(ports, args);
    } else {
      if (env.command === 'ADD') return { stdout: JSON.stringify(await ipamAdd(ports, args)), exitCode: 0 };
      if (env.command === 'DEL') await ipamDel(ports, args);
      else await ipamCheck(ports, args);
    }
    return { stdout: '', exitCode: 0 };
  } catch (err) {
    const e = toCniError(err);
    ports?.log('error', e.message);
    return { stdout: JSON.stringify(errorResult(version, e)), exitCode: 1 };
  } finally {
    await ports?.close?.();
  }
}
