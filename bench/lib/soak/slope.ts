/**
 * Trend of a sampled series: the least-squares slope of value over time. A soak passes when the
 * slope after warm-up is ~0; its sign and size say whether something grows with traffic (a leak)
 * or only wobbles around a plateau (GC, pools filling and draining).
 */
export interface Fit {
  /** Units per second. */
  readonly slope: number;
  readonly intercept: number;
  /** Share of the variance the line explains (0–1); low = the series wobbles, it does not trend. */
  readonly r2: number;
}

export function leastSquares(t: readonly number[], v: readonly number[]): Fit {
  const n = Math.min(t.length, v.length);
  if (n < 2) return { slope: 0, intercept: v[0] ?? 0, r2: 0 };
  let st = 0;
  let sv = 0;
  for (let i = 0; i < n; i++) {
    st += t[i]!;
    sv += v[i]!;
  }
  const mt = st / n;
  const mv = sv / n;
  let stt = 0;
  let stv = 0;
  let svv = 0;
  for (let i = 0; i < n; i++) {
    const dt = t[i]! - mt;
    const dv = v[i]! - mv;
    stt += dt * dt;
    stv += dt * dv;
    svv += dv * dv;
  }
  if (stt === 0) return { slope: 0, intercept: mv, r2: 0 };
  const slope = stv / stt;
  return { slope, intercept: mv - slope * mt, r2: svv === 0 ? 0 : (stv * stv) / (stt * svv) };
}

export interface SeriesSummary {
  readonly name: string;
  readonly unit: string;
  readonly samples: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  /** Slope in units per minute, over the samples after warm-up. */
  readonly slopePerMinute: number;
  /** What the slope adds over the measured window (units). */
  readonly trendOverWindow: number;
  readonly r2: number;
}

/** Summarises `v` (sampled at `t` seconds) from `fromS` on. */
export function summarize(
  name: string,
  unit: string,
  t: readonly number[],
  v: readonly number[],
  fromS: number,
): SeriesSummary {
  const tt: number[] = [];
  const vv: number[] = [];
  for (let i = 0; i < t.length; i++) {
    if (t[i]! >= fromS) {
      tt.push(t[i]!);
      vv.push(v[i]!);
    }
  }
  const fit = leastSquares(tt, vv);
  const window = tt.length > 1 ? tt[tt.length - 1]! - tt[0]! : 0;
  return {
    name,
    unit,
    samples: tt.length,
    min: vv.length > 0 ? Math.min(...vv) : 0,
    max: vv.length > 0 ? Math.max(...vv) : 0,
    mean: vv.length > 0 ? vv.reduce((a, b) => a + b, 0) / vv.length : 0,
    slopePerMinute: fit.slope * 60,
    trendOverWindow: fit.slope * window,
    r2: fit.r2,
  };
}
