import type { RunOk, RunRecord } from './run-record.ts';
import type { TlsFacts } from './tls-probe.ts';

/** Median of the values; null for none (even counts average the two middle values). */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A proxy's medians across its successful rounds. */
export interface ProxySummary {
  readonly name: string;
  readonly runs: number;
  readonly failedRuns: number;
  /** Requests per second (handshakes per second in handshake mode). */
  readonly rps: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly meanMs: number | null;
  readonly maxMs: number | null;
  readonly cpuUsPerRequest: number | null;
  readonly idleRssKb: number | null;
  readonly loadRssKb: number | null;
  /** Sum over all rounds, not a median: one bad round must stay visible. */
  readonly errors: number;
  /** nginx's median CPU µs/request divided by this proxy's: 0.5 means twice nginx's CPU per request. */
  readonly efficiencyVsNginx: number | null;
  /** This proxy's efficiency divided by Caddy's (= Caddy's CPU µs/request over this proxy's). */
  readonly efficiencyVsCaddy: number | null;
  /** HAProxy's median CPU µs per unit divided by this proxy's (the layer-4 modes' reference). */
  readonly efficiencyVsHaproxy: number | null;
  /** TLS modes: what the first successful run negotiated ("TLSv1.3 TLS_AES_128_GCM_SHA256 X25519 alpn=h2"). */
  readonly tls: TlsFacts | null;
}

function ratio(numerator: number | null | undefined, denominator: number | null | undefined): number | null {
  if (numerator == null || denominator == null || numerator <= 0 || denominator <= 0) return null;
  return numerator / denominator;
}

export function summarize(names: readonly string[], runs: readonly RunRecord[]): ProxySummary[] {
  const medians = names.map((name) => {
    const mine = runs.filter((r) => r.name === name);
    const ok = mine.filter((r): r is RunOk => r.ok);
    const m = (pick: (r: RunOk) => number | null) =>
      median(ok.map(pick).filter((v): v is number => v !== null));
    return {
      name,
      runs: mine.length,
      failedRuns: mine.length - ok.length,
      rps: m((r) => r.load.perSecond),
      p50Ms: m((r) => r.load.latencyMs.p50),
      p99Ms: m((r) => r.load.latencyMs.p99),
      meanMs: m((r) => r.load.latencyMs.mean),
      maxMs: m((r) => r.load.latencyMs.max),
      cpuUsPerRequest: m((r) => r.cpuUsPerRequest),
      idleRssKb: m((r) => r.idleRssKb),
      loadRssKb: m((r) => r.loadRssKb),
      errors: ok.reduce((sum, r) => sum + r.errorCount, 0),
      tls: ok.find((r) => r.tls !== undefined)?.tls ?? null,
    };
  });
  const cpuOf = (name: string) => medians.find((s) => s.name === name)?.cpuUsPerRequest;
  const nginx = cpuOf('nginx');
  const caddy = cpuOf('caddy');
  const haproxy = cpuOf('haproxy');
  return medians.map((s) => ({
    ...s,
    efficiencyVsNginx: ratio(nginx, s.cpuUsPerRequest),
    efficiencyVsCaddy: ratio(caddy, s.cpuUsPerRequest),
    efficiencyVsHaproxy: ratio(haproxy, s.cpuUsPerRequest),
  }));
}
