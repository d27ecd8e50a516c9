/**
 * Timing rules of the ACME client and manager, kept pure so that they are tested without time:
 * Retry-After parsing, the renewal point, and the backoff after failures.
 */

/** Waits `ms`; rejects with the signal's reason when it aborts first. */
export type Delay = (ms: number, signal?: AbortSignal) => Promise<void>;

export const timerDelay: Delay = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Retry-After (RFC 9110 §10.2.3) as milliseconds from `nowMs`: delay-seconds or an HTTP-date. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // An HTTP-date always names a weekday and a month; Date.parse alone accepts '-5' as a year.
  if (!/^[A-Za-z]{3},? /.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * How long before expiry a certificate is renewed, for Traefik's `certificatesDuration` (hours,
 * default 2160: 90 days), and how often Traefik looks: its table in
 * pkg/provider/acme/provider.go getCertificateRenewDurations (v3.6, unchanged in v3.7/v3.8).
 */
export function certificateRenewDurations(certificatesDurationHours = 2160): {
  readonly renewPeriodMs: number;
  readonly renewIntervalMs: number;
} {
  const h = certificatesDurationHours;
  if (h >= 365 * 24) return { renewPeriodMs: 4 * 30 * DAY_MS, renewIntervalMs: 7 * DAY_MS };
  if (h >= 3 * 30 * 24) return { renewPeriodMs: 30 * DAY_MS, renewIntervalMs: DAY_MS };
  if (h >= 30 * 24) return { renewPeriodMs: 10 * DAY_MS, renewIntervalMs: 12 * HOUR_MS };
  if (h >= 7 * 24) return { renewPeriodMs: DAY_MS, renewIntervalMs: HOUR_MS };
  if (h >= 24) return { renewPeriodMs: 6 * HOUR_MS, renewIntervalMs: 10 * 60_000 };
  return { renewPeriodMs: 20 * 60_000, renewIntervalMs: 60_000 };
}

/**
 * When to renew a certificate valid from `notBefore` to `notAfter` (ms since the epoch):
 * `renewPeriodMs` before expiry (Traefik's renew period, above: 30 days by default), but never
 * later than when a third of the lifetime is left (ours: Traefik renews a certificate living less
 * than its period at every check, see docs/migrating-from-traefik.md), so that short-lived
 * certificates get the same margin for retries as long ones.
 */
export function renewalTime(notBefore: number, notAfter: number, renewPeriodMs = 30 * DAY_MS): number {
  const lifetime = Math.max(0, notAfter - notBefore);
  const before = Math.min(renewPeriodMs, lifetime / 3);
  return Math.floor(notAfter - before);
}

/**
 * Delay before attempt number `failures + 1` after `failures` consecutive failures: doubling from
 * `initialMs`, capped at `capMs` (1 h). A CA that is down for a day sees one attempt per hour
 * per certificate, never a storm.
 */
export function backoffDelay(failures: number, initialMs = 60_000, capMs = 3_600_000): number {
  if (failures <= 0) return 0;
  const exp = Math.min(failures - 1, 30);
  return Math.min(initialMs * 2 ** exp, capMs);
}
