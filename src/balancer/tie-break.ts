/**
 * For the strategies that pick by a score, lowest first (leastConn, leasttime): the index of the
 * lowest of `scores` (NaN: a server that may not be picked), or -1 when every one is NaN; servers
 * tied on it share the pick by smooth weighted round robin (`pickAmongTied`). Allocates nothing.
 */
export function pickLowest(weights: Float64Array, current: Float64Array, scores: Float64Array): number {
  let best = -1;
  let bestScore = 0;
  let tied = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (Number.isNaN(s)) continue;
    if (best === -1 || s < bestScore) {
      best = i;
      bestScore = s;
      tied = 1;
    } else if (s === bestScore) tied++;
  }
  return tied <= 1 ? best : pickAmongTied(weights, current, scores, bestScore, best);
}

/**
 * Smooth weighted round robin among the servers whose score is `best` (NaN never equals).
 * `current` is the caller's running state, as in smooth-weighted-round-robin.ts; `from` is the
 * first tied index.
 */
function pickAmongTied(
  weights: Float64Array,
  current: Float64Array,
  scores: Float64Array,
  best: number,
  from: number,
): number {
  let chosen = -1;
  let chosenCurrent = 0;
  let total = 0;
  for (let i = from; i < weights.length; i++) {
    if (scores[i] !== best) continue;
    const w = weights[i]!;
    const c = current[i]! + w;
    current[i] = c;
    total += w;
    if (chosen === -1 || c > chosenCurrent) {
      chosen = i;
      chosenCurrent = c;
    }
  }
  current[chosen] = chosenCurrent - total;
  return chosen;
}
