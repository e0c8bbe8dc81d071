// Runs the diagnostics plan: a temp dir with `diagnostics/`, one file per
// collector, a summary, then `tar -czf diags-<time>.tar.gz diagnostics`.
// A collector that fails (program missing, BIRD down, etcd away) is written
// down in the summary and the next one runs: a bundle from a broken node is
// the one most needed. All I/O goes through the DiagnosticsHost port.
import type { ResourceKind } from '../../api/kinds.js';
import { formatNodeStatus, parseBirdProtocols } from '../../bgp/status.js';
import type { Datastore } from '../../datastore/datastore.js';
import type { ExecResult } from '../../dataplane/ports.js';
import { renderResources } from '../output.js';
import { describeBackends, detectBackends, diagnosticsPlan, sysctlKeys, type Collector, type CollectorSource, type DiagnosticsPlanInput } from './plan.js';
import { archiveName, formatSummary, type CollectorOutcome } from './summary.js';

export interface DiagnosticsHost {
  isRoot(): boolean;
  hostname(): string;
  /** argv in this host's network namespace; never throws (a missing program is exit 127). */
  run(argv: string[], opts: { timeoutMs: number }): Promise<ExecResult>;
  /** A file's text; throws with the OS reason when it cannot be read. */
  readFile(path: string): Promise<string>;
  /** Entry names of a directory; throws when it cannot be listed. */
  listDirectory(path: string): Promise<string[]>;
  /** GET: status and body; rejects when nothing answers. */
  httpGet(url: string, timeoutMs: number): Promise<{ status: number; body: string }>;
  /** A new private directory for this run. */
  makeTempDir(): Promise<string>;
  /** Writes a file, creating its parent folders. */
  writeFile(path: string, text: string): Promise<void>;
  /** Copies one file; returns its size; throws when it cannot be read. */
  copyFile(from: string, to: string): Promise<number>;
  /** Copies a directory tree; returns the number of files; throws when `from` is not a directory. */
  copyTree(from: string, to: string): Promise<number>;
}

export interface CollectOptions {
  runDir: string;
  logDir: string;
  env: Record<string, string | undefined>;
  healthURLs: DiagnosticsPlanInput['healthURLs'];
  metricsURL: string;
  clientVersion: string;
  now: () => Date;
  /** Opens the datastore (once; a failure is reused, so etcd away costs one timeout). */
  datastore: () => Promise<Datastore>;
  progress: (line: string) => void;
}

export interface DiagnosticsResult {
  /** The .tar.gz, or undefined when tar failed (the folder is still there). */
  archive?: string;
  /** The `diagnostics/` folder the archive was made from. */
  dir: string;
  outcomes: CollectorOutcome[];
}

const EXEC_TIMEOUT_MS = 30_000;
const HTTP_TIMEOUT_MS = 5_000;
const TAR_TIMEOUT_MS = 300_000;

/** Collected content, or an error whose message is the summary's detail. */
interface Gathered {
  text?: string;
  /** Set when the content was copied directly (files, trees). */
  copied?: string;
  /** Written, but counts as failed (a non-zero exit still leaves useful stderr). */
  failure?: string;
}

class CollectorFailure extends Error {}

function execFailure(argv: string[], r: ExecResult): string {
  if (r.code === 127 || /ENOENT/.test(r.stderr)) return `${argv[0]}: not found on PATH`;
  const line = `${r.stderr}\n${r.stdout}`.split('\n').map((l) => l.trim()).find(Boolean);
  return `exit ${r.code}${line ? `: ${line}` : ''}`;
}

async function gather(source: CollectorSource, target: string, host: DiagnosticsHost, opts: CollectOptions): Promise<Gathered> {
  switch (source.kind) {
    case 'text':
      return { text: source.text };
    case 'exec': {
      const r = await host.run(source.argv, { timeoutMs: EXEC_TIMEOUT_MS });
      const text = r.stdout + r.stderr;
      if (r.code !== 0) return { text, failure: execFailure(source.argv, r) };
      if (source.failsWhen?.test(text)) return { text, failure: text.trim().split('\n').pop() ?? 'failed' };
      return { text };
    }
    case 'file': {
      const bytes = await host.copyFile(source.path, target);
      return { copied: `${bytes} bytes from ${source.path}` };
    }
    case 'tree': {
      const files = await host.copyTree(source.path, target);
      return { copied: `${files} file(s) from ${source.path}` };
    }
    case 'http': {
      let r: { status: number; body: string };
      try {
        r = await host.httpGet(source.url, HTTP_TIMEOUT_MS);
      } catch (err) {
        throw new CollectorFailure(`${source.url}: ${errorText(err)} (is calico-node running with its health / metrics endpoint enabled? FELIX_HEALTHENABLED, FELIX_PROMETHEUSMETRICSENABLED)`);
      }
      // A 503 readiness answer is the diagnosis, not a collection failure.
      return { text: r.body, copied: `HTTP ${r.status} from ${source.url}` };
    }
    case 'sysctls': {
      const ipv4 = await host.listDirectory('/proc/sys/net/ipv4/conf');
      const ipv6 = await host.listDirectory('/proc/sys/net/ipv6/conf').catch(() => []);
      const lines: string[] = [];
      let read = 0;
      for (const k of sysctlKeys({ ipv4, ipv6 })) {
        try {
          lines.push(`${k.key} = ${(await host.readFile(k.path)).trim()}`);
          read++;
        } catch (err) {
          lines.push(`${k.key}: ${errorText(err)}`);
        }
      }
      if (read === 0) throw new CollectorFailure('no sysctl could be read under /proc/sys/net');
      return { text: lines.join('\n') + '\n' };
    }
    case 'node-status': {
      const r = await host.run(['birdc', '-s', source.socket, 'show', 'protocols', 'all'], { timeoutMs: EXEC_TIMEOUT_MS });
      if (r.code !== 0 || /Unable to connect to server/.test(r.stdout + r.stderr)) {
        throw new CollectorFailure(`Calico process is not running: BIRD does not answer on ${source.socket}`);
      }
      return { text: formatNodeStatus(parseBirdProtocols(r.stdout), { today: opts.now().toISOString().slice(0, 10) }) };
    }
    case 'resources':
      return { text: await resourcesYaml(await opts.datastore(), source.resourceKind, source.name) };
  }
}

async function resourcesYaml(ds: Datastore, kind: ResourceKind, name: string | undefined): Promise<string> {
  if (name !== undefined) return renderResources([await ds.get({ kind, name })], { type: 'yaml', single: true });
  const list = await ds.list({ kind });
  return renderResources(list.items, { type: 'yaml', single: false, kind, revision: list.revision });
}

function errorText(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}

async function nodeName(host: DiagnosticsHost, opts: CollectOptions): Promise<string> {
  // The name calico-node registered under (it writes it at start), then what it would pick.
  const written = (await host.readFile(`${opts.runDir.replace(/\/+$/, '')}/nodename`).catch(() => '')).trim();
  return written || opts.env.NODENAME?.trim() || opts.env.HOSTNAME?.trim() || host.hostname();
}

/** Collects everything, writes the summary, makes the archive. Throws only when there is no folder to write into. */
export async function collectDiagnostics(host: DiagnosticsHost, opts: CollectOptions): Promise<DiagnosticsResult> {
  const started = opts.now();
  opts.progress('Collecting diagnostics');
  const tmp = await host.makeTempDir();
  opts.progress(`Using temp dir: ${tmp}`);
  const dir = `${tmp}/diagnostics`;

  const quiet = { timeoutMs: EXEC_TIMEOUT_MS };
  const nftTables = await host.run(['nft', 'list', 'tables'], quiet);
  const iptablesFilter = await host.run(['iptables-save', '-t', 'filter'], quiet);
  const seen = {
    ...(nftTables.code === 0 ? { nftTables: nftTables.stdout } : {}),
    ...(iptablesFilter.code === 0 ? { iptablesFilter: iptablesFilter.stdout } : {}),
  };
  const backends = detectBackends(seen);
  const name = await nodeName(host, opts);
  const plan = diagnosticsPlan({
    runDir: opts.runDir,
    logDir: opts.logDir,
    nodeName: name,
    backends,
    healthURLs: opts.healthURLs,
    metricsURL: opts.metricsURL,
    clientVersion: opts.clientVersion,
    now: started,
    hostname: host.hostname(),
  });

  const outcomes: CollectorOutcome[] = [];
  for (const c of plan) outcomes.push(await runCollector(c, dir, host, opts));

  const summary = formatSummary({
    started,
    node: name,
    hostname: host.hostname(),
    runDir: opts.runDir,
    logDir: opts.logDir,
    backends: describeBackends(backends),
    outcomes,
  });
  await host.writeFile(`${dir}/summary.txt`, summary.text);
  await host.writeFile(`${dir}/summary.json`, JSON.stringify(summary.json, null, 2) + '\n');

  const archive = `${tmp}/${archiveName(started)}`;
  const tar = await host.run(['tar', '-czf', archive, '-C', tmp, 'diagnostics'], { timeoutMs: TAR_TIMEOUT_MS });
  if (tar.code !== 0) {
    opts.progress(`Error compressing the diagnostics: ${execFailure(['tar'], tar)}`);
    return { dir, outcomes };
  }
  return { archive, dir, outcomes };
}

async function runCollector(c: Collector, dir: string, host: DiagnosticsHost, opts: CollectOptions): Promise<CollectorOutcome> {
  if (c.skipBecause !== undefined) return { file: c.file, result: 'skipped', detail: c.skipBecause };
  if (c.title) opts.progress(c.title);
  const target = `${dir}/${c.file}`;
  let outcome: CollectorOutcome;
  try {
    const got = await gather(c.source, target, host, opts);
    if (got.text !== undefined) await host.writeFile(target, got.text);
    outcome = got.failure
      ? { file: c.file, result: 'failed', detail: got.failure }
      : { file: c.file, result: 'ok', detail: got.copied ?? `${Buffer.byteLength(got.text ?? '')} bytes` };
  } catch (err) {
    outcome = { file: c.file, result: 'failed', detail: errorText(err) };
  }
  if (outcome.result === 'failed') opts.progress(`  failed: ${c.file}: ${outcome.detail}`);
  return outcome;
}
