// The contract between the dispatcher (calicoctl.ts) and command modules
// (commands/*.ts). A command declares its flags and help; the dispatcher
// parses argv, prints help, opens the datastore lazily and maps errors to
// exit codes. Commands never touch process, fs or the network directly: all
// of it comes through CliIO, so every command runs in-process in tests.
import type { Datastore } from '../datastore/datastore.js';
import type { FlagSpec, ParsedArgs } from './args.js';

export interface OutputStream {
  write(text: string): void;
}

/** Where `-c/--config`, environment and defaults say the datastore is. */
export interface ConnectRequest {
  /** Path given with -c/--config (undefined: the default /etc/calico/calicoctl.cfg if it exists). */
  configFile?: string;
  env: Record<string, string | undefined>;
}

export interface DatastoreConnection {
  datastore: Datastore;
  /** Human description of where we connected, e.g. `etcdv3 at http://127.0.0.1:2379`. */
  endpoint: string;
}

/** Everything a command may use from the outside world. */
export interface CliIO {
  stdout: OutputStream;
  stderr: OutputStream;
  env: Record<string, string | undefined>;
  readStdin(): Promise<string>;
  readFile(path: string): Promise<string>;
  /** 'file', 'directory', or undefined when the path does not exist. */
  statPath(path: string): Promise<'file' | 'directory' | undefined>;
  /** Entry names (not paths) of a directory, in any order. */
  listDirectory(path: string): Promise<string[]>;
  /** Opens (and checks) the datastore. Tests inject the in-memory one. */
  connect(request: ConnectRequest): Promise<DatastoreConnection>;
  /** Client version string for `calicoctl version`. */
  version?: { client: string; gitCommit: string };
}

export interface CommandContext {
  args: ParsedArgs;
  io: CliIO;
  /** The full command path, e.g. `calicoctl ipam show`, for messages. */
  commandPath: string;
  /** Opens the datastore on first use (using --config and env); later calls reuse it. */
  datastore(): Promise<Datastore>;
  out(line: string): void;
  err(line: string): void;
}

export interface Example {
  comment: string;
  command: string;
}

export interface Command {
  /** The word after `calicoctl` (or after the parent command): `get`, `ipam`, `status`. */
  name: string;
  /** One line for `calicoctl --help`. */
  summary: string;
  /** Usage lines after the program name, parent commands included: `get <KIND> [<NAME>...]`, `ipam show [--ip=<IP>]`. */
  usage: string[];
  /** Longer text for `--help` (rules, caveats). */
  description?: string;
  examples: Example[];
  flags: FlagSpec[];
  /** A command with subcommands (`ipam show|check|release`) dispatches to them and has no run of its own. */
  subcommands?: Command[];
  /** Returns the exit code: 0 success, 1 failure. Throwing a CalicoError is also fine: the dispatcher prints it on one line and returns 1. */
  run?(ctx: CommandContext): Promise<number>;
}

/**
 * The set of top-level commands. Built-in commands are registered by
 * commands/index.ts; other subsystems add theirs there too (see docs/design/cli.md).
 */
export class CommandRegistry {
  private readonly byName = new Map<string, Command>();

  register(command: Command): this {
    if (this.byName.has(command.name)) throw new Error(`calicoctl command '${command.name}' registered twice`);
    this.byName.set(command.name, command);
    return this;
  }

  get(name: string): Command | undefined {
    return this.byName.get(name);
  }

  list(): Command[] {
    return [...this.byName.values()];
  }
}

/** Flags every datastore command shares, spelled as calicoctl spells them. */
export const CONFIG_FLAG: FlagSpec = {
  name: 'config',
  short: 'c',
  type: 'string',
  placeholder: 'CONFIG',
  // No parsed default: "not given" must stay distinguishable so a missing default file is not an error.
  description: 'Path to the file containing connection configuration in YAML or JSON format. [default: /etc/calico/calicoctl.cfg]',
};

export const ALLOW_VERSION_MISMATCH_FLAG: FlagSpec = {
  name: 'allow-version-mismatch',
  type: 'boolean',
  description: 'Allow client and cluster versions mismatch (accepted for compatibility; never checked).',
};

export const NAMESPACE_FLAG: FlagSpec = {
  name: 'namespace',
  short: 'n',
  type: 'string',
  placeholder: 'NS',
  description: 'Namespace of the resource. Only for namespaced kinds (NetworkPolicy, NetworkSet, WorkloadEndpoint); "default" if not given.',
};
