// One seeded pseudo-random generator for every randomized test and generator
// (property tests, fuzzers, the compiler's differential test): a failure
// prints its seed, and the same seed gives the same sequence everywhere.

/** Returns a number in [0, 1). */
export type Random = () => number;

/** mulberry32: tiny, fast, and good enough for test data. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
