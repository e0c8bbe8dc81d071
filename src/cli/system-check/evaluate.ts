// Runs the checks of checks.ts through the SystemProbe port and judges each
// result. The port's real side (linux-probe.ts) runs scratch probes under
// `unshare --net`; the fake (fake-probe.ts) answers from a table.
import type { ExecResult } from '../../dataplane/ports.js';
import { atLeast, failureLine, parseKernelRelease, versionIn, type CheckResult, type CheckStatus, type SystemCheck } from './checks.js';

export interface SystemProbe {
  isRoot(): boolean;
  /** `uname -r`. */
  kernelRelease(): Promise<string>;
  /** Whether `program` is an executable on PATH. */
  hasProgram(program: string): Promise<boolean>;
  /** argv in this host's network namespace (only read-only commands are asked for). */
  run(argv: string[]): Promise<ExecResult>;
  /** argv in a private network namespace that disappears when argv exits. */
  runScratch(argv: string[], opts?: { input?: string }): Promise<ExecResult>;
  /** A file's text, or undefined when it cannot be read. */
  readFile(path: string): Promise<string | undefined>;
}

async function probeOnce(check: SystemCheck, probe: SystemProbe): Promise<{ ok: boolean; detail: string }> {
  const p = check.probe;
  switch (p.kind) {
    case 'kernel-version': {
      const release = (await probe.kernelRelease()).trim();
      const have = parseKernelRelease(release);
      if (!have) return { ok: false, detail: `cannot read a version from "${release}"` };
      const want = p.minimum.join('.');
      return atLeast(have, p.minimum) ? { ok: true, detail: `${release} (>= ${want})` } : { ok: false, detail: `${release} is older than ${want}: ${p.because}` };
    }
    case 'program': {
      if (!(await probe.hasProgram(p.program))) return { ok: false, detail: `${p.program}: not found on PATH` };
      if (!p.versionArgv) return { ok: true, detail: `${p.program} found` };
      const r = await probe.run([p.program, ...p.versionArgv]);
      const version = versionIn(`${r.stdout}\n${r.stderr}`);
      if (!version) return { ok: p.minimumMajor === undefined, detail: `${p.program}: no version in its output` };
      if (p.minimumMajor !== undefined && version.major < p.minimumMajor) {
        return { ok: false, detail: `${p.program} ${version.text} found; version ${p.minimumMajor} or later is needed` };
      }
      return { ok: true, detail: `${p.program} ${version.text}` };
    }
    case 'namespace': {
      if (!(await probe.hasProgram('unshare'))) return { ok: false, detail: 'unshare: not found on PATH' };
      const r = await probe.runScratch(['true']);
      return r.code === 0 ? { ok: true, detail: 'unshare --net works' } : { ok: false, detail: failureLine(r.stderr, r.stdout) };
    }
    case 'scratch': {
      const program = p.argv[0] === 'sh' ? undefined : p.argv[0];
      if (program && !(await probe.hasProgram(program))) return { ok: false, detail: `${program}: not found on PATH` };
      const r = await probe.runScratch(p.argv, p.input !== undefined ? { input: p.input } : {});
      return r.code === 0 ? { ok: true, detail: 'works in a scratch network namespace' } : { ok: false, detail: failureLine(r.stderr, r.stdout) };
    }
    case 'host': {
      const program = p.argv[0]!;
      if (!(await probe.hasProgram(program))) return { ok: false, detail: `${program}: not found on PATH` };
      const r = await probe.run(p.argv);
      return r.code === 0 ? { ok: true, detail: `${p.argv.join(' ')}: ${r.stdout.trim().split('\n')[0] || 'ok'}` } : { ok: false, detail: failureLine(r.stderr, r.stdout) };
    }
    case 'read': {
      const text = await probe.readFile(p.path);
      return text === undefined ? { ok: false, detail: `cannot read ${p.path}` } : { ok: true, detail: `${p.path} = ${text.trim()}` };
    }
  }
}

/**
 * Every check in order. A scratch probe cannot run at all without network
 * namespaces, so once that check fails the later scratch probes say so instead
 * of reporting each feature as missing.
 */
export async function evaluateChecks(checks: SystemCheck[], probe: SystemProbe): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  let scratchBroken: string | undefined;
  for (const check of checks) {
    if (check.skipBecause !== undefined) {
      results.push({ check, status: 'SKIP', detail: check.skipBecause });
      continue;
    }
    if (check.probe.kind === 'scratch' && scratchBroken !== undefined) {
      results.push({ check, status: check.need === 'required' ? 'FAIL' : 'WARN', detail: `not probed: ${scratchBroken}` });
      continue;
    }
    const { ok, detail } = await probeOnce(check, probe);
    const status: CheckStatus = ok ? 'OK' : check.need === 'required' ? 'FAIL' : 'WARN';
    // Without a private namespace no scratch probe can run: that one failure explains every later one.
    if (!ok && check.probe.kind === 'namespace') scratchBroken = `no private network namespace (${detail})`;
    results.push({ check, status, detail });
  }
  return results;
}
