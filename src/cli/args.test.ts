import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCalicoError } from '../base/errors.js';
import { parseArgs, renderHelp, type FlagSpec } from './args.js';

const flags: FlagSpec[] = [
  { name: 'filename', short: 'f', type: 'string', description: 'file' },
  { name: 'output', short: 'o', type: 'string', description: 'format', default: 'ps' },
  { name: 'all-namespaces', short: 'A', type: 'boolean', description: 'all' },
  { name: 'recursive', short: 'R', type: 'boolean', description: 'rec' },
  { name: 'tag', type: 'string[]', description: 'tags' },
];

test('parseArgs: long, short, attached and = forms', () => {
  const cases: [string[], Record<string, unknown>, string[]][] = [
    [['get', 'ippools'], { output: 'ps', 'all-namespaces': false }, ['get', 'ippools']],
    [['-f', 'x.yaml'], { filename: 'x.yaml' }, []],
    [['--filename', 'x.yaml'], { filename: 'x.yaml' }, []],
    [['--filename=x.yaml'], { filename: 'x.yaml' }, []],
    [['-fx.yaml'], { filename: 'x.yaml' }, []],
    [['-f=x.yaml'], { filename: 'x.yaml' }, []],
    [['-oyaml'], { output: 'yaml' }, []],
    [['-f', '-'], { filename: '-' }, []],
    [['-AR'], { 'all-namespaces': true, recursive: true }, []],
    [['--all-namespaces=false'], { 'all-namespaces': false }, []],
    [['--tag', 'a', '--tag=b'], { tag: ['a', 'b'] }, []],
    [['a', '--', '-f', 'b'], { filename: undefined }, ['a', '-f', 'b']],
    [['-o', 'custom-columns=NAME,CIDR'], { output: 'custom-columns=NAME,CIDR' }, []],
  ];
  for (const [argv, want, positionals] of cases) {
    const got = parseArgs(argv, flags);
    for (const [k, v] of Object.entries(want)) assert.deepEqual(got.flags[k], v, `${argv.join(' ')}: ${k}`);
    assert.deepEqual(got.positionals, positionals, argv.join(' '));
  }
});

test('parseArgs: help flags', () => {
  assert.equal(parseArgs(['-h'], flags).help, true);
  assert.equal(parseArgs(['x', '--help'], flags).help, true);
  assert.equal(parseArgs(['x'], flags).help, false);
});

test('parseArgs: errors are invalid-argument and name the flag', () => {
  const bad: [string[], RegExp][] = [
    [['--nope'], /unknown flag --nope/],
    [['-z'], /unknown flag -z/],
    [['-f'], /flag -f needs a value/],
    [['--filename'], /--filename needs a value/],
    [['--recursive=maybe'], /takes no value/],
  ];
  for (const [argv, re] of bad) {
    assert.throws(
      () => parseArgs(argv, flags),
      (err: unknown) => isCalicoError(err, 'invalid-argument') && re.test((err as Error).message),
      argv.join(' '),
    );
  }
});

test('renderHelp: usage, examples, options with defaults, description', () => {
  const text = renderHelp('calicoctl', {
    usage: ['get <KIND>'],
    summary: 'Get things.',
    examples: [{ comment: 'List pools.', command: 'calicoctl get ippools' }],
    flags,
    description: 'Line one.\n\nLine two.',
  });
  assert.match(text, /^Usage:\n {2}calicoctl get <KIND>\n/);
  assert.match(text, /Examples:\n {2}# List pools.\n {2}calicoctl get ippools\n/);
  assert.match(text, /-h --help +Show this screen\./);
  assert.match(text, /-o --output=<OUTPUT> +format \[default: ps\]/);
  assert.match(text, / {3}--tag=<TAG> +tags/);
  assert.match(text, /Description:\n {2}Line one\.\n\n {2}Line two\.\n$/);
});
