// Host facilities of the plugin process: files (node name, MTU, endpoint
// status), HTTP readiness gates, and running another plugin from CNI_PATH.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { CniHost, PluginExec } from './ports.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function systemHost(): CniHost {
  return {
    hostname: hostname(),
    readFile: (path) => {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return undefined;
      }
    },
    waitForFile: async (path, timeoutMs) => {
      const end = Date.now() + timeoutMs;
      for (;;) {
        if (existsSync(path)) return true;
        if (Date.now() >= end) return false;
        await sleep(Math.min(100, Math.max(1, end - Date.now())));
      }
    },
    httpReady: async (url, opts) => {
      const end = Date.now() + opts.timeoutMs;
      for (;;) {
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(opts.intervalMs), redirect: 'manual' });
          if (res.status >= 200 && res.status < 400) return true;
        } catch {
          // not up yet
        }
        if (Date.now() + opts.intervalMs > end) return false;
        await sleep(opts.intervalMs);
      }
    },
  };
}

/** Finds `type` in the CNI_PATH directories (the spec's lookup). */
export function findPlugin(type: string, path: string[]): string | undefined {
  for (const dir of path) {
    const file = join(dir, type);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // next directory
    }
  }
  return undefined;
}

/** Runs a plugin with our environment (spec: a delegate gets the same variables), CNI_COMMAND set as asked. */
export function systemPluginExec(env: Record<string, string | undefined> = process.env): PluginExec {
  return {
    run: (type, opts) =>
      new Promise((resolve) => {
        const file = findPlugin(type, opts.path);
        if (!file) {
          resolve({ exitCode: 1, stdout: JSON.stringify({ code: 7, msg: `plugin ${type} not found in CNI_PATH (${opts.path.join(':') || 'empty'})` }), stderr: '' });
          return;
        }
        const child = spawn(file, [], { env: { ...env, CNI_COMMAND: opts.command }, stdio: ['pipe', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        // Spec: a delegate's stderr goes to ours.
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          process.stderr.write(d);
        });
        child.on('error', (err) => resolve({ exitCode: 127, stdout: '', stderr: err.message }));
        child.on('close', (code) => resolve({ exitCode: code ?? 1, stdout, stderr }));
        child.stdin.on('error', () => undefined);
        child.stdin.end(opts.stdin);
      }),
  };
}
