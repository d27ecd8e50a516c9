/**
 * Log-scale latency bins: bin i ≥ 1 holds [MIN·G^(i-1), MIN·G^i) and reports its geometric
 * middle, so a quantile read off the bins is within √G − 1 ≈ 2.5 % of a value that was actually
 * recorded in that bin (oxy's HDR histogram keeps 2 significant figures, ~1 %; the breaker only
 * compares against whole milliseconds). Bin 0 holds everything under MIN_MS and reports 0; the last
 * bin everything from about MAX_MS up and reports its lower bound (oxy's histogram stops at one hour).
 */

const MIN_MS = 0.1;
const MAX_MS = 3_600_000;
const GROWTH = 1.05;
const LN_GROWTH = Math.log(GROWTH);

export const LATENCY_BINS = Math.ceil(Math.log(MAX_MS / MIN_MS) / LN_GROWTH) + 1;

const REPRESENTATIVE = new Float64Array(LATENCY_BINS);
REPRESENTATIVE[0] = 0;
for (let i = 1; i < LATENCY_BINS - 1; i++) REPRESENTATIVE[i] = MIN_MS * GROWTH ** (i - 0.5);
REPRESENTATIVE[LATENCY_BINS - 1] = MIN_MS * GROWTH ** (LATENCY_BINS - 2);

/** The bin of a latency in milliseconds; NaN and negative values land in bin 0. */
export function latencyBin(ms: number): number {
  if (!(ms >= MIN_MS)) return 0;
  const bin = 1 + Math.floor(Math.log(ms / MIN_MS) / LN_GROWTH);
  return bin < LATENCY_BINS ? bin : LATENCY_BINS - 1;
}

/** The latency a bin stands for when a quantile falls in it. */
export function binLatency(bin: number): number {
  return REPRESENTATIVE[bin] ?? 0;
}
