// The calicoctl dispatcher: argv -> command -> exit code. `main(argv, io)` is
// the whole program; bin/calicoctl reaches it through main.ts with real I/O,
// tests call it in-process with a fake CliIO and the in-memory datastore.
import { isCalicoError } from '../base/errors.js';
import type { Datastore } from '../datastore/datastore.js';
import { parseArgs, renderHelp, stringFlag, type HelpText } from './args.js';
import type { CliIO, Command, CommandContext, CommandRegistry, DatastoreConnection } from './command.js';
import { defaultRegistry } from './commands/index.js';
import { InputError } from './resource-input.js';

export const PROGRAM = 'calicoctl';

export interface MainOptions {
  /** Commands to dispatch to (default: every built-in and plugged-in command). */
  registry?: CommandRegistry;
}

/** What to tell the user when the datastore cannot be reached. */
export const UNREACHABLE_HINT =
  'Check ETCD_ENDPOINTS (or etcdEndpoints in the config file given with --config) and that etcd is running.';

function helpOf(command: Command): HelpText {
  return {
    // Usage lines are complete after the program name, subcommands included (`ipam show ...`).
    usage: command.usage,
    summary: command.summary,
    examples: command.examples,
    flags: command.flags,
    ...(command.description !== undefined ? { description: command.description } : {}),
    ...(command.subcommands ? { subcommands: command.subcommands.map((s) => ({ name: s.name, summary: s.summary })) } : {}),
  };
}

function topLevelHelp(registry: CommandRegistry): string {
  const cmds = registry.list();
  const width = Math.max(...cmds.map((c) => c.name.length));
  return [
    'Usage:',
    `  ${PROGRAM} [options] <command> [<args>...]`,
    '',
    `${PROGRAM} manages Calico resources (projectcalico.org/v3) in the datastore.`,
    '',
    'Commands:',
    ...cmds.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options:',
    '  -h --help                    Show this screen.',
    '  -l --log-level=<level>       Accepted for compatibility; calicoctl logs nothing but errors.',
    '     --allow-version-mismatch  Accepted for compatibility.',
    '',
    'Datastore configuration: --config <file> (default /etc/calico/calicoctl.cfg), or the',
    'environment: DATASTORE_TYPE=etcdv3, ETCD_ENDPOINTS, ETCD_CA_CERT_FILE, ETCD_CERT_FILE,',
    'ETCD_KEY_FILE, ETCD_USERNAME, ETCD_PASSWORD.',
    '',
    `See '${PROGRAM} <command> --help' to read about a specific subcommand.`,
    '',
  ].join('\n');
}

/** Runs one invocation. Never throws: every failure becomes a message on stderr and exit code 1. */
export async function main(argv: readonly string[], io: CliIO, opts: MainOptions = {}): Promise<number> {
  const registry = opts.registry ?? defaultRegistry();
  const args = [...argv];
  // Global options before the command.
  while (args.length > 0 && (args[0] as string).startsWith('-') && args[0] !== '-h' && args[0] !== '--help') {
    const flag = args[0] as string;
    if (flag === '--allow-version-mismatch') args.shift();
    else if (flag === '-l' || flag === '--log-level') args.splice(0, 2);
    else if (flag.startsWith('--log-level=')) args.shift();
    else {
      io.stderr.write(`Invalid option: '${PROGRAM} ${argv.join(' ')}'. Use flag '--help' to read about a specific subcommand.\n`);
      return 1;
    }
  }
  const first = args[0];
  if (first === undefined || first === '-h' || first === '--help') {
    io.stdout.write(topLevelHelp(registry));
    return first === undefined ? 1 : 0;
  }
  if (first === 'help') {
    const target = args[1] !== undefined ? registry.get(args[1]) : undefined;
    io.stdout.write(target ? renderHelp(PROGRAM, helpOf(target)) : topLevelHelp(registry));
    return 0;
  }

  // Descend through subcommands: `ipam show ...`, `node status`.
  let command = registry.get(first);
  if (!command) {
    io.stderr.write(`Invalid option: '${PROGRAM} ${argv.join(' ')}'. Unknown command '${first}'; see '${PROGRAM} --help'.\n`);
    return 1;
  }
  const path = [command.name];
  let rest = args.slice(1);
  while (command.subcommands && command.subcommands.length > 0) {
    const sub: Command | undefined = command.subcommands.find((s) => s.name === rest[0]);
    if (!sub) {
      const asked = rest[0] === '-h' || rest[0] === '--help';
      const text = renderHelp(PROGRAM, helpOf(command));
      if (asked || rest.length === 0) {
        (asked ? io.stdout : io.stderr).write(text);
        return asked ? 0 : 1;
      }
      io.stderr.write(`Invalid option: '${PROGRAM} ${argv.join(' ')}'. Unknown command '${rest[0]}' for '${PROGRAM} ${path.join(' ')}'.\n`);
      return 1;
    }
    command = sub;
    path.push(sub.name);
    rest = rest.slice(1);
  }

  let connection: DatastoreConnection | undefined;
  try {
    const parsed = parseArgs(rest, command.flags);
    if (parsed.help) {
      io.stdout.write(renderHelp(PROGRAM, helpOf(command)));
      return 0;
    }
    if (!command.run) throw new Error(`command '${path.join(' ')}' has neither subcommands nor run()`);
    const configFile = stringFlag(parsed, 'config');
    let opening: Promise<DatastoreConnection> | undefined;
    const ctx: CommandContext = {
      args: parsed,
      io,
      commandPath: `${PROGRAM} ${path.join(' ')}`,
      datastore: async (): Promise<Datastore> => {
        opening ??= io.connect({ env: io.env, ...(configFile !== undefined ? { configFile } : {}) });
        connection = await opening;
        return connection.datastore;
      },
      out: (line) => io.stdout.write(line + '\n'),
      err: (line) => io.stderr.write(line + '\n'),
    };
    return await command.run(ctx);
  } catch (err) {
    io.stderr.write(errorLine(err, { argv, connection }) + '\n');
    return 1;
  } finally {
    if (connection) await connection.datastore.close().catch(() => undefined);
  }
}

/** One line for an error that escaped a command. */
export function errorLine(err: unknown, opts: { argv: readonly string[]; connection?: DatastoreConnection | undefined }): string {
  if (err instanceof InputError) return `Failed to execute command: ${err.message}`;
  if (isCalicoError(err, 'invalid-argument')) {
    return `Invalid option: '${PROGRAM} ${opts.argv.join(' ')}': ${err.message}. Use flag '--help' to read about a specific subcommand.`;
  }
  if (isCalicoError(err, 'unavailable')) {
    const where = opts.connection ? ` (${opts.connection.endpoint})` : '';
    return `Failed to connect to the datastore${where}: ${err.message}. ${UNREACHABLE_HINT}`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
