import type { ClientOutput, LoadStats } from './run-record.ts';

/** The client-independent numbers of one run (see LoadStats). */
export function loadStats(output: ClientOutput): LoadStats {
  switch (output.tool) {
    case 'wrk': {
      const w = output.result;
      return {
        completed: w.requests,
        durationS: w.durationS,
        // wrk's own figure, as the HTTP table always showed it.
        perSecond: w.rps,
        latencyMs: { p50: w.latencyMs.p50, p99: w.latencyMs.p99, mean: null, max: null },
        errors: { ...w.errors },
      };
    }
    case 'h2load': {
      const h = output.result;
      return {
        completed: h.requests.done,
        durationS: h.durationS,
        perSecond: h.durationS > 0 ? h.requests.done / h.durationS : 0,
        latencyMs: { p50: null, p99: null, mean: h.requestMs.mean, max: h.requestMs.max },
        // h2load's `failed` is `errored` plus the 4xx/5xx answers; timeouts are part of `errored`.
        errors: { errored: h.requests.errored, status4xx5xx: h.requests.failed - h.requests.errored },
      };
    }
    case 'l4-client':
    case 'ws-client': {
      const r = output.result;
      return {
        completed: r.completed,
        durationS: r.durationS,
        perSecond: r.durationS > 0 ? r.completed / r.durationS : 0,
        latencyMs: { p50: null, p99: null, mean: r.meanMs, max: r.maxMs },
        errors: { ...r.errors },
      };
    }
    case 'latency-client': {
      const r = output.result;
      return {
        completed: r.completed,
        durationS: r.durationS,
        perSecond: r.achievedRate,
        latencyMs: {
          p50: r.latency.p50Ms,
          p99: r.latency.p99Ms,
          mean: r.latency.meanMs,
          max: r.latency.maxMs,
        },
        errors: { ...r.errors },
      };
    }
    case 'handshake-client': {
      const r = output.result;
      return {
        completed: r.handshakes,
        durationS: r.durationS,
        perSecond: r.durationS > 0 ? r.handshakes / r.durationS : 0,
        latencyMs: { p50: null, p99: null, mean: r.meanMs, max: r.maxMs },
        errors: { ...r.errors },
      };
    }
  }
}

export function errorTotal(stats: LoadStats): number {
  let sum = 0;
  for (const n of Object.values(stats.errors)) sum += n;
  return sum;
}
