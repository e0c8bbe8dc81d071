// Randomized, seeded (so failures reproduce) tests:
//  - the parser, fed thousands of random token soups, random bytes and
//    mutations of valid selectors, only ever returns a Selector or throws a
//    SelectorParseError with an in-range position; never anything else, and
//    the per-test timeout catches a hang;
//  - round trip: parse(canonical(s)) has the same canonical form and matches
//    exactly the same random label sets as s; the rendered AST parses back to
//    the same AST; the compiled matcher agrees with a naive interpreter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSelector, renderSelector, SelectorParseError, type Labels, type Selector, type SelectorNode } from './index.js';
import { compileClosureMatcher, compileGeneratedMatcher } from './evaluate.js';
import { pick, randomLabels, randomSelectorText, seededRandom, type Random } from './selector-generator.js';

const HANG_GUARD = { timeout: 120_000 };

const SOUP = [
  'a', 'b.c/d-e_f', 'in', 'not', 'contains', 'starts', 'with', 'ends', 'has', 'all', 'global',
  '==', '!=', '!', '&&', '||', '(', ')', '{', '}', ',', '"x"', "'y'", '""', '"', "'", 'has(', 'has(a)',
  'all()', 'global()', 'all(', 'global(', ' ', '  ', '\t', '=', '&', '|', '%', '\n', 'ä', '🙂', 'not in',
  'starts with', 'ends with', '\\', '"a\'b"',
];

function tryParse(text: string): Selector | SelectorParseError {
  try {
    return parseSelector(text);
  } catch (err) {
    if (err instanceof SelectorParseError) return err;
    assert.fail(`parseSelector(${JSON.stringify(text)}) threw a non-SelectorParseError: ${String(err)}`);
  }
}

/** Checks the contract for one input; returns whether it was accepted. */
function checkContract(text: string): boolean {
  const result = tryParse(text);
  if (result instanceof SelectorParseError) {
    assert.ok(Number.isInteger(result.position) && result.position >= 0 && result.position <= text.length, text);
    assert.equal(result.kind, 'validation');
    assert.ok(result.reason.length > 0);
    return false;
  }
  const canonical = result.toString();
  assert.equal(parseSelector(canonical).toString(), canonical, `canonical form of ${JSON.stringify(text)} is stable`);
  assert.equal(typeof result.evaluate({ a: 'x' }), 'boolean');
  return true;
}

function soup(rand: Random): string {
  const n = 1 + Math.floor(rand() * 16);
  let out = '';
  for (let i = 0; i < n; i++) out += pick(rand, SOUP) + (rand() < 0.5 ? ' ' : '');
  return out;
}

function randomBytes(rand: Random): string {
  const n = Math.floor(rand() * 40);
  let out = '';
  for (let i = 0; i < n; i++) {
    const r = rand();
    // Mostly printable ASCII (where the grammar lives), some control and non-ASCII code units, lone surrogates included.
    out += String.fromCharCode(r < 0.8 ? 32 + Math.floor(rand() * 95) : r < 0.9 ? Math.floor(rand() * 32) : Math.floor(rand() * 0xffff));
  }
  return out;
}

function mutate(rand: Random, text: string): string {
  const at = Math.floor(rand() * (text.length + 1));
  const ch = pick(rand, ['(', ')', '"', "'", '!', '&', '|', '{', '}', ',', ' ', 'a', '=', '']);
  switch (Math.floor(rand() * 3)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1);
    case 1:
      return text.slice(0, at) + ch + text.slice(at);
    default:
      return text.slice(0, at) + ch + text.slice(at + 1);
  }
}

test('random token soups: only Selector or SelectorParseError', HANG_GUARD, () => {
  const rand = seededRandom(1);
  let accepted = 0;
  let rejected = 0;
  for (let i = 0; i < 5000; i++) (checkContract(soup(rand)) ? accepted++ : rejected++);
  // Both outcomes must occur, or the generator is not exercising the parser.
  assert.ok(accepted > 0 && rejected > 0, `accepted ${accepted}, rejected ${rejected}`);
});

test('random bytes: only Selector or SelectorParseError', HANG_GUARD, () => {
  const rand = seededRandom(2);
  let rejected = 0;
  for (let i = 0; i < 5000; i++) if (!checkContract(randomBytes(rand))) rejected++;
  assert.ok(rejected > 4000, `rejected ${rejected}`);
});

test('mutated valid selectors: only Selector or SelectorParseError', HANG_GUARD, () => {
  const rand = seededRandom(3);
  let accepted = 0;
  let rejected = 0;
  for (let i = 0; i < 3000; i++) {
    let text = randomSelectorText(rand, { depth: 3 });
    for (let m = 1 + Math.floor(rand() * 3); m > 0; m--) text = mutate(rand, text);
    (checkContract(text) ? accepted++ : rejected++);
  }
  assert.ok(accepted > 0 && rejected > 0, `accepted ${accepted}, rejected ${rejected}`);
});

test('large inputs are handled without stack exhaustion', HANG_GUARD, () => {
  const wide = Array.from({ length: 20_000 }, (_, i) => `k${i} == "v${i}"`).join(' || ');
  assert.equal(parseSelector(wide).evaluate({ k19999: 'v19999' }), true);
  const deepNots = `${'!('.repeat(50)}has(a)${')'.repeat(50)}`;
  assert.equal(parseSelector(deepNots).toString(), 'has(a)');
  const deep = '('.repeat(100_000);
  assert.ok(tryParse(deep) instanceof SelectorParseError);
  assert.ok(tryParse('"'.repeat(100_001)) instanceof SelectorParseError);
  assert.ok(tryParse('a in {' + '"x",'.repeat(50_000)) instanceof SelectorParseError);
});

/** The obvious recursive interpreter, as a reference for the compiled closures. */
function reference(node: SelectorNode, labels: Labels): boolean {
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(labels, k);
  switch (node.kind) {
    case 'all':
    case 'global':
      return true;
    case 'has':
      return has(node.key);
    case 'eq':
      return has(node.key) && labels[node.key] === node.value;
    case 'ne':
      return !has(node.key) || labels[node.key] !== node.value;
    case 'contains':
      return has(node.key) && labels[node.key]!.includes(node.value);
    case 'startsWith':
      return has(node.key) && labels[node.key]!.startsWith(node.value);
    case 'endsWith':
      return has(node.key) && labels[node.key]!.endsWith(node.value);
    case 'in':
      return has(node.key) && node.values.includes(labels[node.key]!);
    case 'notIn':
      return !has(node.key) || !node.values.includes(labels[node.key]!);
    case 'not':
      return !reference(node.operand, labels);
    case 'and':
      return node.operands.every((o) => reference(o, labels));
    case 'or':
      return node.operands.some((o) => reference(o, labels));
  }
}

test('round trip: canonical form re-parses to itself and matches the same label sets', HANG_GUARD, () => {
  const rand = seededRandom(4);
  const labelSets = Array.from({ length: 60 }, (_, i) => randomLabels(rand, { density: (i % 6) / 5 }));
  let matched = 0;
  let checks = 0;
  for (let i = 0; i < 2000; i++) {
    const text = randomSelectorText(rand, { depth: 1 + (i % 5) });
    const sel = parseSelector(text);
    const canonical = sel.toString();
    const again = parseSelector(canonical);
    assert.equal(again.toString(), canonical, `idempotent: ${text}`);
    assert.equal(again.uniqueId, sel.uniqueId);
    assert.deepEqual(parseSelector(renderSelector(sel.ast)).ast, sel.ast, `render round trip: ${text}`);
    const closures = compileClosureMatcher(sel.ast);
    const generated = compileGeneratedMatcher(sel.ast)!;
    for (const labels of labelSets) {
      const expected = reference(sel.ast, labels);
      assert.equal(sel.evaluate(labels), expected, `compiled vs reference: ${text} on ${JSON.stringify(labels)}`);
      assert.equal(closures(labels), expected, `closures vs reference: ${text} on ${JSON.stringify(labels)}`);
      assert.equal(generated(labels), expected, `generated vs reference: ${text} on ${JSON.stringify(labels)}`);
      assert.equal(again.evaluate(labels), expected, `canonical ${canonical} of ${text} on ${JSON.stringify(labels)}`);
      if (expected) matched++;
      checks++;
    }
  }
  // The generated selectors must be neither all-matching nor all-rejecting.
  assert.ok(matched > checks * 0.1 && matched < checks * 0.9, `matched ${matched} of ${checks}`);
});
