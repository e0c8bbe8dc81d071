// One plugin invocation: env + stdin in, stdout text + exit code out. Errors
// become the spec's error JSON on stdout with exit code 1. The ports are made
// only after the configuration parsed (a bad config never opens etcd).
import { cmdAdd } from './add.js';
import { cmdCheck } from './check.js';
import { parseNetConf, resolveNodeName, type NetConf } from './config.js';
import { ipamAdd, ipamCheck, ipamDel, ipamGc } from './ipam-plugin.js';
import { COMMAND_SINCE, CNI_CODES, CniError, compareVersions, errorResult, parseCniEnv, toCniError, versionResult } from './protocol.js';
import type { CniPorts } from './ports.js';
import { cmdStatus } from './status.js';
import { cmdDel, cmdGc } from './teardown.js';

export type Plugin = 'calico' | 'calico-ipam';

export interface RunOptions {
  plugin: Plugin;
  env: Record<string, string | undefined>;
  stdin: string;
  /** Opens the datastore-backed ports for a parsed configuration (logging as it says). */
  openPorts: (conf: NetConf) => CniPorts & { close?: () => Promise<void> };
}

export interface RunOutcome {
  stdout: string;
  exitCode: number;
}

function cniVersionOf(stdin: string): string | undefined {
  try {
    const v = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

export async function runPlugin(opts: RunOptions): Promise<RunOutcome> {
  let version = cniVersionOf(opts.stdin) ?? '1.0.0';
  let ports: ReturnType<RunOptions['openPorts']> | undefined;
  try {
    const env = parseCniEnv(opts.env);
    if (env.command === 'VERSION') return { stdout: JSON.stringify(versionResult(version)), exitCode: 0 };
    const conf = parseNetConf(opts.stdin, { plugin: opts.plugin, env: opts.env });
    version = conf.cniVersion;
    if (compareVersions(conf.cniVersion, COMMAND_SINCE[env.command]) < 0) {
      throw new CniError(CNI_CODES.incompatibleVersion, `${env.command} needs cniVersion ${COMMAND_SINCE[env.command]} or later (the configuration says ${conf.cniVersion})`);
    }
    ports = opts.openPorts(conf);
    for (const note of conf.notes) ports.log('info', note);
    let node: string;
    try {
      node = resolveNodeName(conf.node, ports.host);
    } catch (err) {
      // STATUS answers in its own codes: without a node name no ADD can be served.
      if (env.command === 'STATUS') throw new CniError(CNI_CODES.notAvailable, toCniError(err).message);
      throw err;
    }
    const args = { env, conf, node };
    const p = ports;
    const out = (r?: object): RunOutcome => ({ stdout: r ? JSON.stringify(r) : '', exitCode: 0 });
    switch (env.command) {
      case 'ADD':
        return out(opts.plugin === 'calico' ? await cmdAdd(p, args) : await ipamAdd(p, args));
      case 'DEL':
        await (opts.plugin === 'calico' ? cmdDel(p, args) : ipamDel(p, args));
        return out();
      case 'CHECK':
        await (opts.plugin === 'calico' ? cmdCheck(p, args) : ipamCheck(p, args));
        return out();
      case 'GC':
        await (opts.plugin === 'calico' ? cmdGc(p, args) : ipamGc(p, args));
        return out();
      case 'STATUS':
        await cmdStatus(p, { ...args, checkNode: opts.plugin === 'calico' });
        return out();
      default:
        throw new CniError(CNI_CODES.invalidEnvironment, `CNI_COMMAND ${String(env.command)} is not handled`);
    }
  } catch (err) {
    const e = toCniError(err);
    ports?.log('error', `${opts.env.CNI_COMMAND ?? ''} failed (code ${e.code}): ${e.message}`);
    return { stdout: JSON.stringify(errorResult(version, e)), exitCode: 1 };
  } finally {
    await ports?.close?.().catch(() => undefined);
  }
}
