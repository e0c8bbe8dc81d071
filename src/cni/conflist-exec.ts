// Runs a network configuration list the way a runtime does (conflist.ts has
// the plan): ADD in order threading each result into the next plugin's
// prevResult and halting at the first error; DEL in reverse with the ADD's
// result; CHECK in order (skipped when disableCheck); GC to every plugin,
// going on after errors; STATUS to every plugin. Programs run through a
// ProgramExec port: the real one spawns the plugin found in CNI_PATH
// (optionally inside a network namespace, for the lab), the fake records.
import { spawn } from 'node:child_process';
import { executionOrder, pluginEnv, requestConfig, selectVersion, type AttachmentParams, type ListOperation, type NetworkConfigList } from './conflist.js';
import { findPlugin } from './host.js';
import { CNI_CODES, CniError } from './protocol.js';

export interface ProgramExec {
  /** Runs plugin `type` with exactly these CNI_* variables (on top of a base without CNI_*), `stdin` as input. */
  run(type: string, opts: { env: Record<string, string>; stdin: string; path: string[] }): Promise<{ exitCode: number; stdout: string; stderr: string }>;
}

/** A plugin in the list failed: which one, and its error as it reported it. */
export class ConflistError extends CniError {
  readonly plugin: string;
  readonly op: ListOperation;
  constructor(opts: { plugin: string; op: ListOperation; code: number; msg: string; details?: string }) {
    super(opts.code, `${opts.op} ${opts.plugin}: ${opts.msg}`, opts.details ?? '');
    this.name = 'ConflistError';
    this.plugin = opts.plugin;
    this.op = opts.op;
  }
}

export class ConflistRunner {
  constructor(private readonly opts: { exec: ProgramExec; path: string[]; log?: (msg: string) => void }) {}

  private async invoke(plugin: Record<string, unknown>, op: ListOperation, opts: { stdin: Record<string, unknown>; attachment?: AttachmentParams }): Promise<unknown> {
    const type = plugin.type as string;
    const env = pluginEnv(op, { ...(opts.attachment ? { attachment: opts.attachment } : {}), path: this.opts.path });
    const out = await this.opts.exec.run(type, { env, stdin: JSON.stringify(opts.stdin), path: this.opts.path });
    if (out.stderr.trim()) this.opts.log?.(`${type} ${op}: ${out.stderr.trim()}`);
    let json: unknown;
    try {
      json = out.stdout.trim() ? JSON.parse(out.stdout) : undefined;
    } catch {
      json = undefined;
    }
    if (out.exitCode !== 0) {
      const e = (json ?? {}) as { code?: unknown; msg?: unknown; details?: unknown };
      throw new ConflistError({
        plugin: type,
        op,
        code: typeof e.code === 'number' ? e.code : CNI_CODES.ioFailure,
        msg: typeof e.msg === 'string' ? e.msg : out.stdout.trim() || out.stderr.trim() || `exit ${out.exitCode}`,
        ...(typeof e.details === 'string' ? { details: e.details } : {}),
      });
    }
    if (op === 'ADD' && json === undefined) throw new ConflistError({ plugin: type, op, code: CNI_CODES.decodeFailure, msg: 'printed no result' });
    return json;
  }

  /** ADD: the final plugin's result (to be kept for CHECK and DEL). On error, nothing is undone here: a runtime calls DEL. */
  async add(list: NetworkConfigList, attachment: AttachmentParams): Promise<unknown> {
    const version = selectVersion(list);
    let prev: unknown;
    for (const plugin of executionOrder(list, 'ADD')) {
      const stdin = requestConfig(plugin, { list, version, op: 'ADD', ...(attachment.capabilityArgs ? { capabilityArgs: attachment.capabilityArgs } : {}), ...(prev !== undefined ? { prevResult: prev } : {}) });
      prev = await this.invoke(plugin, 'ADD', { stdin, attachment });
    }
    return prev;
  }

  /** DEL: every plugin in reverse, each given the ADD's result (when there is one). */
  async del(list: NetworkConfigList, attachment: AttachmentParams, prevResult?: unknown): Promise<void> {
    const version = selectVersion(list);
    for (const plugin of executionOrder(list, 'DEL')) {
      const stdin = requestConfig(plugin, { list, version, op: 'DEL', ...(attachment.capabilityArgs ? { capabilityArgs: attachment.capabilityArgs } : {}), ...(prevResult !== undefined ? { prevResult } : {}) });
      await this.invoke(plugin, 'DEL', { stdin, attachment });
    }
  }

  async check(list: NetworkConfigList, attachment: AttachmentParams, prevResult: unknown): Promise<void> {
    if (list.disableCheck) return;
    const version = selectVersion(list);
    for (const plugin of executionOrder(list, 'CHECK')) {
      const stdin = requestConfig(plugin, { list, version, op: 'CHECK', ...(attachment.capabilityArgs ? { capabilityArgs: attachment.capabilityArgs } : {}), prevResult });
      await this.invoke(plugin, 'CHECK', { stdin, attachment });
    }
  }

  /** GC: every plugin, going on after errors; all errors are reported together. */
  async gc(list: NetworkConfigList, validAttachments: { containerID: string; ifname: string }[]): Promise<void> {
    if (list.disableGC) return;
    const version = selectVersion(list);
    const errors: CniError[] = [];
    for (const plugin of executionOrder(list, 'GC')) {
      try {
        await this.invoke(plugin, 'GC', { stdin: requestConfig(plugin, { list, version, op: 'GC', validAttachments }) });
      } catch (err) {
        errors.push(err as CniError);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new CniError(errors[0]!.code, errors.map((e) => e.message).join('; '));
  }

  async status(list: NetworkConfigList): Promise<void> {
    const version = selectVersion(list);
    for (const plugin of executionOrder(list, 'STATUS')) await this.invoke(plugin, 'STATUS', { stdin: requestConfig(plugin, { list, version, op: 'STATUS' }) });
  }
}

/**
 * Spawns plugins found in CNI_PATH. `commandPrefix` runs them elsewhere, e.g.
 * ['ip', 'netns', 'exec', '<host ns>'] so the host end of a veth lands in a
 * lab host, not in the machine's own namespace.
 */
export function systemProgramExec(opts: { commandPrefix?: string[]; env?: Record<string, string | undefined> } = {}): ProgramExec {
  return {
    run: (type, run) =>
      new Promise((resolve) => {
        const file = findPlugin(type, run.path);
        if (!file) {
          resolve({ exitCode: 1, stdout: JSON.stringify({ code: CNI_CODES.invalidConfig, msg: `plugin ${type} not found in CNI_PATH (${run.path.join(':') || 'empty'})` }), stderr: '' });
          return;
        }
        const base = Object.fromEntries(Object.entries(opts.env ?? process.env).filter(([k]) => !k.startsWith('CNI_')));
        const argv = [...(opts.commandPrefix ?? []), file];
        const child = spawn(argv[0]!, argv.slice(1), { env: { ...base, ...run.env }, stdio: ['pipe', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', (err) => resolve({ exitCode: 127, stdout: '', stderr: err.message }));
        child.on('close', (code) => resolve({ exitCode: code ?? 1, stdout, stderr }));
        child.stdin.on('error', () => undefined);
        child.stdin.end(run.stdin);
      }),
  };
}
