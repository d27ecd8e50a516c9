/**
 * A provider's state as an e2e test follows it: the log lines of its failure and recovery
 * (src/providers/supervisor.ts), and its phase in the admin API (`GET /api/providers`).
 */
import type { LogLine, ProxyProcess } from './proxy-process.ts';
import { waitForLogFrom } from './wait.ts';

/** Waits, from log index `from`, for `provider`'s failure (its last configuration keeps serving). */
export function providerFailed(proxy: ProxyProcess, from: number, provider: string): Promise<LogLine> {
  return waitForLogFrom(
    proxy,
    from,
    (l) => l.msg === 'provider failed: its last configuration keeps serving' && l.provider === provider,
  );
}

/** Waits, from log index `from`, for `provider` to recover (backoff may take a while). */
export function providerRecovered(proxy: ProxyProcess, from: number, provider: string): Promise<LogLine> {
  return waitForLogFrom(
    proxy,
    from,
    (l) => l.msg === 'provider recovered' && l.provider === provider,
    60_000,
  );
}

/** The phase the admin API on `adminPort` shows for `provider` (`ready`, `down`…). */
export async function providerPhase(adminPort: number, provider: string): Promise<string | undefined> {
  const states = (await (await fetch(`http://127.0.0.1:${adminPort}/api/providers`)).json()) as {
    name: string;
    phase: string;
  }[];
  return states.find((s) => s.name === provider)?.phase;
}
