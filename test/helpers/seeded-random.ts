/**
 * Test and bench helper: a deterministic random source (mulberry32), so that a failing case is
 * reproducible from its seed. Small, fast and good
 * enough for distribution tests; not for anything security-related.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Test helper: a random source that replays `values` in order, then fails loudly. */
export function scriptedRandom(values: readonly number[]): () => number {
  let next = 0;
  return () => {
    const value = values[next++];
    if (value === undefined) throw new Error(`scripted random exhausted after ${values.length} values`);
    return value;
  };
}
