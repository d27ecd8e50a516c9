/**
 * Rendezvous (highest random weight) hashing: each key goes to the acceptable server with the
 * highest score of hash(key, server). Adding or removing a server moves only the keys that
 * server wins or held (about 1/n of them); nothing else is remapped, unlike `hash mod n`.
 * Weighted with the logarithmic method (score = -w / ln(h)), so a server of weight 2 wins twice
 * as many keys as one of weight 1 (Schindelhauer & Schomaker, "Weighted distributed hash tables").
 */
export class RendezvousHasher {
  readonly #seeds: Uint32Array;
  readonly #weights: Float64Array;

  /** `ids` name the servers (their URLs): a server keeps its keys across reloads and reorderings. */
  constructor(ids: readonly string[], weights: readonly number[]) {
    this.#seeds = new Uint32Array(ids.length);
    this.#weights = Float64Array.from(weights);
    for (let i = 0; i < ids.length; i++) this.#seeds[i] = fnv1a(ids[i]!, 0x811c9dc5);
  }

  get size(): number {
    return this.#seeds.length;
  }

  /** Index of the winning server for `key`, or -1 when none is acceptable (weight 0 never wins). */
  pick(key: string, accept?: (index: number) => boolean): number {
    const base = fnv1a(key, 0x811c9dc5);
    let best = -1;
    let bestScore = -1;
    const seeds = this.#seeds;
    for (let i = 0; i < seeds.length; i++) {
      const w = this.#weights[i]!;
      if (w <= 0) continue;
      if (accept !== undefined && !accept(i)) continue;
      // (0, 1): never 0 (ln 0) nor 1 (ln 1 = 0 divides by zero).
      const h = (mix32(base ^ seeds[i]!) + 0.5) / 4294967296;
      const score = -w / Math.log(h);
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    return best;
  }
}

function fnv1a(s: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's finaliser: spreads every input bit over the output so near keys score apart. */
function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
