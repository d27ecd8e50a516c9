/**
 * Smooth weighted round robin among the servers tied for the best score, for the strategies
 * that pick by a score (leastConn, leasttime): `scores[i] === best` marks a tied server (NaN for
 * one that may not be picked never equals). `current` is the caller's running state, as in
 * smooth-weighted-round-robin.ts; `from` is the first tied index. Allocates nothing.
 */
export function pickAmongTied(
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
