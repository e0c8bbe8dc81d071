// A small declarative argument parser: each command lists its flags, and the
// same list renders the `--help` text, so the two can never disagree.
// Pure: no process, no fs. Errors are CalicoError('invalid-argument').
import { CalicoError } from '../base/errors.js';

export type FlagType = 'boolean' | 'string' | 'string[]';

export interface FlagSpec {
  /** Long name without dashes: `filename` for `--filename`. */
  name: string;
  /** One letter without the dash: `f` for `-f`. */
  short?: string;
  type: FlagType;
  /** Placeholder shown in help: `--filename=<FILENAME>`. */
  placeholder?: string;
  description: string;
  /** Shown in help and used when the flag is absent (string flags only). */
  default?: string;
}

export type FlagValue = string | boolean | string[];

export interface ParsedArgs {
  /** By long name. Booleans absent are false; strings absent are their default or undefined. */
  flags: Record<string, FlagValue | undefined>;
  positionals: string[];
  /** `-h` / `--help` was given: the caller prints help instead of running. */
  help: boolean;
}

export function invalidArgument(message: string): CalicoError {
  return new CalicoError('invalid-argument', message);
}

/**
 * Parses argv against the flag list. Accepts `--name=value`, `--name value`,
 * `-x value`, `-xvalue`, grouped short booleans (`-AR`), and `--` to end flags.
 * A lone `-` is a value (stdin for `-f -`).
 */
export function parseArgs(argv: readonly string[], flags: readonly FlagSpec[]): ParsedArgs {
  const byLong = new Map(flags.map((f) => [f.name, f]));
  const byShort = new Map(flags.filter((f) => f.short).map((f) => [f.short as string, f]));
  const out: ParsedArgs = { flags: {}, positionals: [], help: false };
  for (const f of flags) {
    if (f.type === 'boolean') out.flags[f.name] = false;
    else if (f.default !== undefined) out.flags[f.name] = f.default;
  }
  const set = (spec: FlagSpec, value: string | true): void => {
    if (spec.type === 'boolean') {
      if (value !== true) {
        if (value !== 'true' && value !== 'false') throw invalidArgument(`flag --${spec.name} takes no value (got '${value}')`);
        out.flags[spec.name] = value === 'true';
        return;
      }
      out.flags[spec.name] = true;
      return;
    }
    if (value === true) throw invalidArgument(`flag --${spec.name} needs a value`);
    if (spec.type === 'string[]') {
      const prev = out.flags[spec.name];
      out.flags[spec.name] = [...(Array.isArray(prev) ? prev : []), value];
    } else {
      out.flags[spec.name] = value;
    }
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const next = (shown: string): string => {
      if (i + 1 >= argv.length) throw invalidArgument(`flag ${shown} needs a value`);
      i++;
      return argv[i] as string;
    };
    if (arg === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h' || arg === '--help') {
      out.help = true;
      continue;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      const spec = byLong.get(name);
      if (!spec) throw invalidArgument(`unknown flag --${name}`);
      if (eq !== -1) set(spec, arg.slice(eq + 1));
      else set(spec, spec.type === 'boolean' ? true : next(`--${name}`));
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      // Short flags: `-o yaml`, `-oyaml`, `-o=yaml`, or booleans grouped `-AR`.
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j] as string;
        const spec = byShort.get(letter);
        if (letter === 'h') {
          out.help = true;
          continue;
        }
        if (!spec) throw invalidArgument(`unknown flag -${letter}`);
        if (spec.type === 'boolean') {
          set(spec, true);
          continue;
        }
        let rest = arg.slice(j + 1);
        if (rest.startsWith('=')) rest = rest.slice(1);
        set(spec, rest !== '' ? rest : next(`-${letter}`));
        break;
      }
      continue;
    }
    out.positionals.push(arg);
  }
  return out;
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  return typeof v === 'string' ? v : undefined;
}

export function boolFlag(args: ParsedArgs, name: string): boolean {
  return args.flags[name] === true;
}

export function listFlag(args: ParsedArgs, name: string): string[] {
  const v = args.flags[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

export interface HelpText {
  /** One or more usage lines without the leading program name, e.g. `get <KIND> [<NAME>...]`. */
  usage: string[];
  summary: string;
  description?: string;
  examples: { comment: string; command: string }[];
  flags: readonly FlagSpec[];
  /** For a command with subcommands: name and summary of each. */
  subcommands?: { name: string; summary: string }[];
}

/** Renders help in calicoctl's layout: Usage, Examples, Options, Description. */
export function renderHelp(program: string, help: HelpText): string {
  const lines: string[] = [];
  lines.push('Usage:');
  for (const u of help.usage) lines.push(`  ${program} ${u}`);
  lines.push('');
  lines.push(help.summary);
  if (help.subcommands && help.subcommands.length > 0) {
    lines.push('', 'Commands:');
    const width = Math.max(...help.subcommands.map((s) => s.name.length));
    for (const s of help.subcommands) lines.push(`  ${s.name.padEnd(width)}  ${s.summary}`);
  }
  if (help.examples.length > 0) {
    lines.push('', 'Examples:');
    for (const [i, ex] of help.examples.entries()) {
      if (i > 0) lines.push('');
      lines.push(`  # ${ex.comment}`, `  ${ex.command}`);
    }
  }
  lines.push('', 'Options:');
  const left = (f: FlagSpec): string => {
    const short = f.short ? `-${f.short} ` : '   ';
    const value = f.type === 'boolean' ? '' : `=<${f.placeholder ?? f.name.toUpperCase()}>`;
    return `${short}--${f.name}${value}`;
  };
  const all: FlagSpec[] = [{ name: 'help', short: 'h', type: 'boolean', description: 'Show this screen.' }, ...help.flags];
  const width = Math.max(...all.map((f) => left(f).length));
  for (const f of all) {
    const dflt = f.default !== undefined ? ` [default: ${f.default}]` : '';
    lines.push(`  ${left(f).padEnd(width)}  ${f.description}${dflt}`);
  }
  if (help.description) {
    lines.push('', 'Description:');
    for (const l of help.description.trimEnd().split('\n')) lines.push(l === '' ? '' : `  ${l}`);
  }
  return lines.join('\n') + '\n';
}
