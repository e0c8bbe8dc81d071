// Random selectors and label sets from a seeded generator, for the property
// tests and the benchmark. Pure: the randomness is a function passed in.
import type { Labels } from './ast.js';

export { seededRandom, type Random } from '../base/prng.js';
import type { Random } from '../base/prng.js';

export function pick<T>(rand: Random, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

export interface GeneratorVocabulary {
  /** Label names to draw from. */
  readonly keys: readonly string[];
  /** Label values to draw from (may contain quotes; both kinds in one value is avoided). */
  readonly values: readonly string[];
}

export const DEFAULT_VOCABULARY: GeneratorVocabulary = {
  keys: ['app', 'role', 'tier', 'projectcalico.org/namespace', 'pcns.team', 'env', 'k8s-app', 'a_b'],
  values: ['', 'a', 'ab', 'ba', 'db', 'web', 'prod', 'dev', "it's", 'say "hi"', 'x-1'],
};

function spaces(rand: Random): string {
  const r = rand();
  return r < 0.5 ? '' : r < 0.8 ? ' ' : r < 0.95 ? '  ' : '\t';
}

function quote(rand: Random, value: string): string {
  if (value.includes('"')) return `'${value}'`;
  if (value.includes("'")) return `"${value}"`;
  return rand() < 0.5 ? `'${value}'` : `"${value}"`;
}

/** A random valid selector text, up to `depth` levels of && / || / ! / ( ). */
export function randomSelectorText(rand: Random, opts: { depth: number; vocabulary?: GeneratorVocabulary }): string {
  const vocab = opts.vocabulary ?? DEFAULT_VOCABULARY;
  const s = (): string => spaces(rand);
  const leaf = (): string => {
    const key = pick(rand, vocab.keys);
    const value = (): string => quote(rand, pick(rand, vocab.values));
    // Operators that need no space before a quote still get one when the previous token is a word.
    switch (Math.floor(rand() * 12)) {
      case 0:
        return `${key}${s()}==${s()}${value()}`;
      case 1:
        return `${key}${s()}!=${s()}${value()}`;
      case 2:
        return `has(${s()}${key}${s()})`;
      case 3:
        return `${key} contains${s()}${value()}`;
      case 4:
        return `${key} starts with${s()}${value()}`;
      case 5:
        return `${key} ends with${s()}${value()}`;
      case 6:
      case 7: {
        const n = Math.floor(rand() * 4);
        const vals = Array.from({ length: n }, value).join(`${s()},${s()}`);
        return `${key} ${rand() < 0.5 ? 'in' : 'not in'}${s()}{${s()}${vals}${s()}}`;
      }
      case 8:
        return rand() < 0.8 ? `${key}${s()}==${s()}${value()}` : 'all()';
      case 9:
        return rand() < 0.9 ? `has(${key})` : 'global()';
      default:
        return `${key}${s()}==${s()}${value()}`;
    }
  };
  const expr = (depth: number): string => {
    if (depth <= 0 || rand() < 0.3) return leaf();
    switch (Math.floor(rand() * 4)) {
      case 0:
        return `${expr(depth - 1)}${s()}&&${s()}${expr(depth - 1)}`;
      case 1:
        return `${expr(depth - 1)}${s()}||${s()}${expr(depth - 1)}`;
      case 2:
        return `!${s()}(${s()}${expr(depth - 1)}${s()})`;
      default:
        return `(${s()}${expr(depth - 1)}${s()})`;
    }
  };
  return `${s()}${expr(opts.depth)}${s()}`;
}

/** A random label set drawn from the vocabulary (each key present with probability `density`). */
export function randomLabels(rand: Random, opts: { density?: number; vocabulary?: GeneratorVocabulary } = {}): Labels {
  const vocab = opts.vocabulary ?? DEFAULT_VOCABULARY;
  const density = opts.density ?? 0.5;
  const labels: Record<string, string> = {};
  for (const key of vocab.keys) if (rand() < density) labels[key] = pick(rand, vocab.values);
  return labels;
}
