// A network configuration list (a "conflist") as a runtime executes it,
// section 3 of the CNI spec: which plugins run in which order for ADD, DEL,
// CHECK, GC and STATUS, and the request configuration each one gets on stdin
// (cniVersion and name inserted, runtimeConfig from the capabilities the
// plugin declares and the runtime provides, prevResult, capabilities
// removed). Pure: conflist-exec.ts runs the plan. Used by tests and the lab
// (there is no cnitool package to do it for us).
import { CNI_CODES, CniError, SUPPORTED_VERSIONS, compareVersions } from './protocol.js';

export interface NetworkConfigList {
  cniVersion: string;
  cniVersions?: string[];
  name: string;
  disableCheck?: boolean;
  disableGC?: boolean;
  plugins: Record<string, unknown>[];
}

/** One attachment: what the runtime knows about the container. */
export interface AttachmentParams {
  containerID: string;
  netns: string;
  ifName: string;
  /** CNI_ARGS pairs. */
  args?: Record<string, string>;
  /** Capability arguments (portMappings, bandwidth, mac ...): given to plugins that declare the capability. */
  capabilityArgs?: Record<string, unknown>;
}

export type ListOperation = 'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS';

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const bad = (msg: string): CniError => new CniError(CNI_CODES.invalidConfig, `network configuration list: ${msg}`);

export function parseConflist(text: string): NetworkConfigList {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new CniError(CNI_CODES.decodeFailure, `network configuration list is not JSON: ${(err as Error).message}`);
  }
  return checkConflist(v);
}

export function checkConflist(v: unknown): NetworkConfigList {
  if (!isObj(v)) throw bad('must be a JSON object');
  if (typeof v.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(v.name)) throw bad(`name ${JSON.stringify(v.name)} must start with a letter or digit, then letters, digits, '_', '.', '-'`);
  if (typeof v.cniVersion !== 'string') throw bad('cniVersion is required');
  if (v.cniVersions !== undefined && (!Array.isArray(v.cniVersions) || v.cniVersions.some((x) => typeof x !== 'string'))) throw bad('cniVersions must be a list of versions');
  if (!Array.isArray(v.plugins) || v.plugins.length === 0) throw bad('plugins must be a non-empty list');
  v.plugins.forEach((p, i) => {
    if (!isObj(p) || typeof p.type !== 'string' || p.type === '' || /[/\\]/.test(p.type)) throw bad(`plugins[${i}].type must be a plugin name (no '/')`);
  });
  return v as unknown as NetworkConfigList;
}

/** Spec: the highest of cniVersion / cniVersions that we (and, if given, the plugins) support. */
export function selectVersion(list: NetworkConfigList, pluginSupports?: string[]): string {
  const offered = [...new Set([list.cniVersion, ...(list.cniVersions ?? [])])];
  const ok = offered.filter((v) => (SUPPORTED_VERSIONS as readonly string[]).includes(v) && (!pluginSupports || pluginSupports.includes(v)));
  if (ok.length === 0) throw new CniError(CNI_CODES.incompatibleVersion, `no supported version among ${offered.join(', ')} (supported: ${SUPPORTED_VERSIONS.join(', ')})`);
  return ok.sort(compareVersions).at(-1)!;
}

/** Plugins in execution order: DEL runs the list backwards, everything else forwards. */
export function executionOrder(list: NetworkConfigList, op: ListOperation): Record<string, unknown>[] {
  return op === 'DEL' ? [...list.plugins].reverse() : [...list.plugins];
}

/**
 * The request configuration for one plugin (spec: "Deriving request
 * configuration from plugin configuration"): the plugin's object unchanged,
 * plus cniVersion and name; for ADD/DEL/CHECK runtimeConfig (the declared
 * capabilities the runtime provides) and prevResult (never for the first ADD);
 * for GC the valid attachments. `capabilities` is never passed on.
 */
export function requestConfig(
  plugin: Record<string, unknown>,
  opts: { list: NetworkConfigList; version: string; op: ListOperation; capabilityArgs?: Record<string, unknown>; prevResult?: unknown; validAttachments?: { containerID: string; ifname: string }[] },
): Record<string, unknown> {
  const { capabilities, ...rest } = plugin;
  const out: Record<string, unknown> = { ...rest, cniVersion: opts.version, name: opts.list.name };
  if (opts.op === 'ADD' || opts.op === 'DEL' || opts.op === 'CHECK') {
    const runtimeConfig: Record<string, unknown> = {};
    if (isObj(capabilities)) {
      for (const [cap, on] of Object.entries(capabilities)) if (on === true && opts.capabilityArgs?.[cap] !== undefined) runtimeConfig[cap] = opts.capabilityArgs[cap];
    }
    if (Object.keys(runtimeConfig).length) out.runtimeConfig = runtimeConfig;
    if (opts.prevResult !== undefined) out.prevResult = opts.prevResult;
  }
  if (opts.op === 'GC') out['cni.dev/valid-attachments'] = opts.validAttachments ?? [];
  return out;
}

/** The CNI_* environment of one invocation. */
export function pluginEnv(op: ListOperation, opts: { attachment?: AttachmentParams; path: string[] }): Record<string, string> {
  const env: Record<string, string> = { CNI_COMMAND: op, CNI_PATH: opts.path.join(':') };
  const a = opts.attachment;
  if (a && (op === 'ADD' || op === 'DEL' || op === 'CHECK')) {
    env.CNI_CONTAINERID = a.containerID;
    env.CNI_NETNS = a.netns;
    env.CNI_IFNAME = a.ifName;
    const args = Object.entries(a.args ?? {});
    if (args.length) env.CNI_ARGS = args.map(([k, v]) => `${k}=${v}`).join(';');
  }
  return env;
}
